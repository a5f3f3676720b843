"""Choose the sentences the LLM reads, within a token budget.

Prefill on 2 cores costs ~6.5 s per 1,000 prompt tokens, so the prompt gets
only the sentences most related to the question: IDF-weighted word overlap
plus the passage's retrieval rank, kept in document order per passage.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from index.bm25 import tokenize
from rag.question import CARD_LABELS, asked
from rag.types import Asked, Passage

_SENT = re.compile(r"(?<=[。！？；!?;])|\n")


@dataclass
class ContextPassage:
    n: int  # the passage's rank: the number the LLM cites
    passage: Passage
    sentences: list[str]
    with_meta: bool = False

    @property
    def text(self) -> str:
        return "".join(self.sentences)


def idf(token: str, df: dict[str, int], n_docs: int) -> float:
    """BM25-style inverse document frequency over the index's chunks: rare words say what a question is about."""
    return math.log(1 + (n_docs + 1) / (df.get(token, 0) + 0.5))


def split_sentences(text: str, max_chars: int = 0) -> list[str]:
    """Sentences; with max_chars, long ones are cut at clause boundaries so one sentence cannot fill the budget."""
    out = []
    for s in _SENT.split(text):
        s = (s or "").strip()
        if not s:
            continue
        if max_chars and len(s) > max_chars:
            piece = ""
            for clause in re.split(r"(?<=[，,、])", s):
                if piece and len(piece) + len(clause) > max_chars:
                    out.append(piece)
                    piece = ""
                piece += clause
            if piece:
                out.append(piece)
        else:
            out.append(s)
    return out


def select_context(
    question: Asked | str,
    passages: list[Passage],
    count_tokens: Callable[[str], int],
    budget: int,
    df: dict[str, int],
    n_docs: int,
) -> list[ContextPassage]:
    if not passages:
        return []
    q = asked(question)
    q_tokens = set(tokenize(q.search))
    with_meta, wants_number, overview = q.wants_metadata, q.wants_number, q.wants_overview

    def weight(t: str) -> float:  # figures and years in a question are what the answer must match
        return idf(t, df, n_docs) * (2.0 if any(ch.isdigit() for ch in t) else 1.0)

    q_weight = sum(weight(t) for t in q_tokens) or 1.0
    scored: list[tuple[float, int, int, str]] = []
    for pi, p in enumerate(passages):
        prior = 1.0 / (1 + 0.5 * pi)
        for si, sent in enumerate(split_sentences(p.chunk.text, max_chars=70)):
            overlap = sum(weight(t) for t in q_tokens & set(tokenize(sent))) / q_weight
            bonus = 0.15 if wants_number and re.search(r"\d", sent) else 0.0
            bonus += 0.3 if overview and p.chunk.is_outline else 0.0  # the headings are the answer
            if p.chunk.is_card:  # only the fields asked for: a publication date beside a 落款 date invites a mix-up
                if not card_field_wanted(q, sent):
                    continue
                bonus += 1.0
            scored.append((0.7 * overlap + 0.3 * prior + bonus, pi, si, sent))
    scored.sort(key=lambda x: -x[0])
    chosen: dict[int, dict[int, str]] = {}
    used = 0
    for _score, pi, si, sent in scored:
        header = 0 if pi in chosen else count_tokens(header_for(passages[pi], with_meta)) + 4
        cost = count_tokens(sent) + header
        if used + cost > budget:
            if used == 0:  # always give the model something: the best sentence, cut to fit
                chosen.setdefault(pi, {})[si] = sent[: max(20, budget)]
                used = budget
            continue
        chosen.setdefault(pi, {})[si] = sent
        used += cost
    out = []
    for pi in sorted(chosen):
        idxs = sorted(chosen[pi])
        sentences = []
        for j, si in enumerate(idxs):
            if j and si != idxs[j - 1] + 1:
                sentences.append("…")
            sentences.append(chosen[pi][si])
        out.append(ContextPassage(passages[pi].rank, passages[pi], sentences, with_meta))
    return out


def best_covering(
    question: str, context: list[ContextPassage], df: dict[str, int], n_docs: int
) -> tuple[float, ContextPassage | None]:
    """The passage (with its title and headings) holding the largest IDF-weighted share of the question's words.

    When the model says the sources do not answer, but one passage holds
    nearly every word of the question, the model has more likely overlooked
    the answer than the sources lacked it.
    """
    q_tokens = set(tokenize(question))
    if not q_tokens or not context:
        return 0.0, None
    total = sum(idf(t, df, n_docs) for t in q_tokens)
    scored = [
        (sum(idf(t, df, n_docs) for t in q_tokens & set(tokenize(c.passage.chunk.embed_text()))) / total, c)
        for c in context
    ]
    return max(scored, key=lambda x: x[0])


def card_field_wanted(question: Asked | str, line: str) -> bool:
    """Whether a document card's line is a field the question asks for (a line of no known field always is)."""
    label = line.split("：", 1)[0].strip()
    return label not in CARD_LABELS or label in asked(question).card_fields


def header_for(p: Passage, with_meta: bool = False) -> str:
    title = (p.meta.title if p.meta else "") or p.chunk.title
    title = title if len(title) <= 36 else title[:36] + "…"
    heading = p.chunk.heading.split(" > ")[-1] if p.chunk.heading else ""
    head = f"《{title}》"
    if with_meta and p.meta and not p.chunk.is_card:  # a card is the metadata already
        fields = [("发文", p.meta.issuer), ("文号", p.meta.doc_number), ("日期", p.meta.date)]
        meta = "；".join(f"{k}：{v}" for k, v in fields if v)
        head += f"（{meta}）" if meta else ""
    return head + (f"{heading}：" if heading and heading not in p.chunk.text[:60] else "")
