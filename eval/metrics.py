"""Per-question metrics on one answer record (the CLI JSON shape), and percentiles.

Each function takes plain dicts and strings, not pipeline objects, so answers
from any other system written in the same JSON shape are scored identically.
Functions return None when a metric does not apply to the question (e.g. hit
rank of an unanswerable question); aggregates skip None.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Any

import numpy as np

from eval.dataset import Question
from eval.normalize import any_evidence_in, norm_answer, strip_citations
from rag.cite import normalize_citations
from rag.numerals import with_digits
from rag.question import question_terms
from rag.script import detect_lang, to_simplified

Record = dict[str, Any]

# Figures: digit runs with an optional decimal part, after thousands separators are dropped.
_FIGURE = re.compile(r"\d+(?:\.\d+)?")
_FIG_UNIT = re.compile(r"(\d+(?:\.\d+)?)\s*(亿|万|千|billion|million|thousand)?", re.I)
_UNIT = {"亿": 1e8, "万": 1e4, "千": 1e3, "billion": 1e9, "million": 1e6, "thousand": 1e3}


# --- retrieval ---------------------------------------------------------------


def _doc_ok(doc: str, docs: Sequence[str]) -> bool:
    return not docs or doc in docs


def passage_has_gold(q: Question, passage: Record) -> bool:
    """A passage holds gold evidence: from one of the question's documents and matching one evidence string."""
    return _doc_ok(str(passage.get("doc", "")), q.doc) and any_evidence_in(q.evidence, str(passage.get("text", "")))


def hit_rank(q: Question, passages: Sequence[Record]) -> int | None:
    """1-based rank at which the gold evidence is retrieved; 0 when it is not; None when not applicable.

    multi_doc questions (several `doc`s): the rank at which evidence from EVERY
    one of the documents has appeared, i.e. the max over documents of the first
    rank holding a matching passage from that document.
    """
    if not q.answerable or not q.evidence:
        return None
    ordered = sorted(passages, key=lambda p: int(p.get("rank", 0) or 0)) if passages else []
    if len(q.doc) > 1 and q.type == "multi_doc":
        worst = 0
        for d in q.doc:
            first = next((i for i, p in enumerate(ordered, 1) if p.get("doc") == d and passage_has_gold(q, p)), 0)
            if not first:
                return 0
            worst = max(worst, first)
        return worst
    return next((i for i, p in enumerate(ordered, 1) if passage_has_gold(q, p)), 0)


# --- answer content ----------------------------------------------------------


def key_found(answer_norm: str, alternatives: Sequence[str]) -> bool:
    return any((k := norm_answer(a)) and k in answer_norm for a in alternatives)


def keyfact(q: Question, answer: str) -> float | None:
    """Share of must_include keys (any alternative) found in the answer; answerable questions only."""
    if not q.answerable or not q.must_include:
        return None
    a = norm_answer(answer)
    keys = q.keys()
    return sum(key_found(a, alts) for alts in keys) / len(keys)


def cited_numbers(answer: str) -> list[int]:
    out: list[int] = []
    for m in re.finditer(r"\[(\d+)\]", normalize_citations(answer or "")):
        n = int(m.group(1))
        if n not in out:
            out.append(n)
    return out


def cited_passages(record: Record) -> list[Record]:
    """The passages the answer cites: its `citations`, else the retrieved passages its [n] markers name."""
    cites = record.get("citations") or []
    if cites:
        return list(cites)
    by_rank = {int(p.get("rank", i + 1)): p for i, p in enumerate(record.get("passages") or [])}
    return [by_rank[n] for n in cited_numbers(record.get("answer", "")) if n in by_rank]


def cite_valid(record: Record) -> bool | None:
    """Every [n] in the answer maps to a citation (or, for systems without citations, a passage rank)."""
    if record.get("refused"):
        return None
    ns = cited_numbers(record.get("answer", ""))
    cites = {int(c.get("n", -1)) for c in record.get("citations") or []}
    ranks = {int(p.get("rank", i + 1)) for i, p in enumerate(record.get("passages") or [])}
    valid = cites or ranks
    return all(n in valid for n in ns)


def cite_hits(q: Question, record: Record) -> tuple[int, int] | None:
    """(cited passages holding gold evidence, cited passages) for answerable non-refused answers."""
    if not q.answerable or record.get("refused") or not q.evidence:
        return None
    cited = cited_passages(record)
    return sum(passage_has_gold(q, c) for c in cited), len(cited)


def _figures(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"(?<=\d)[,，](?=\d{3}(?!\d))", "", text)
    return _FIGURE.findall(text)


def _values(text: str) -> set[float]:
    """Figures with the magnitudes their units give: 1100亿 and 110 billion are one value."""
    text = re.sub(r"(?<=\d)[,，](?=\d{3}(?!\d))", "", unicodedata.normalize("NFKC", text))
    out: set[float] = set()
    for m in _FIG_UNIT.finditer(text):
        v = float(m.group(1))
        out.add(v)
        unit = (m.group(2) or "").lower()
        if unit:
            out.add(round(v * _UNIT[unit], 3))
    return out


def _mentions(place: str, text: str) -> bool:
    stem = re.sub(r"(省|市|县|区|镇|乡|村|自治区)$", "", place)
    return place in text or (len(stem) >= 2 and stem in text)


def unsupported_items(record: Record, question: str = "") -> list[str] | None:
    """Figures and place names the answer states that no cited passage holds; None for refusals.

    Support for figures is the cited passages plus the question (restating a
    year from the question is not invention); support for places is the cited
    passages and their titles only (answering about 青岛 from 青州's passage is
    the failure to catch). An answer that cites nothing is checked against all
    retrieved passages, so systems without citations are still measured.
    """
    if record.get("refused"):
        return None
    body = strip_citations(record.get("answer", ""))
    cited = cited_passages(record)
    if not cited and not cited_numbers(record.get("answer", "")):
        cited = list(record.get("passages") or [])
    support = "\n".join(f"{c.get('title', '')}\n{c.get('text', '')}" for c in cited)
    # a figure the passage writes in Chinese numerals (三十日, 二万元) is supported by its digits (30日, 2万元)
    support_simpl = with_digits(to_simplified(unicodedata.normalize("NFKC", support)))
    nums_src = set(_figures(support_simpl + "\n" + question))
    vals_src = _values(to_simplified(support_simpl + "\n" + question))
    missing: list[str] = []
    for m in _FIG_UNIT.finditer(re.sub(r"(?<=\d)[,，](?=\d{3}(?!\d))", "", unicodedata.normalize("NFKC", body))):
        fig = m.group(1)
        if fig in nums_src or (_values(m.group(0)) & vals_src):
            continue
        missing.append(m.group(0).strip())
    places = [t for t in question_terms(body) if not t.isdigit()] if re.search(r"[\u3400-\u9fff]", body) else []
    missing += [p for p in places if not _mentions(p, support_simpl)]
    return missing


def lang_match(q: Question, answer: str) -> bool:
    """The answer is in the question's language and script (refusals too)."""
    body = strip_citations(answer).strip()
    if not body:
        return False
    return detect_lang(body) == q.lang


# --- aggregation -------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float | None:
    """Linear-interpolated percentile (numpy's default); None for no values."""
    vals = [float(v) for v in values if v is not None]
    return round(float(np.percentile(vals, p)), 1) if vals else None


def mean(values: Sequence[float | bool | None]) -> float | None:
    vals = [float(v) for v in values if v is not None]
    return round(sum(vals) / len(vals), 4) if vals else None
