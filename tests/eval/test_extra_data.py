"""The second gold set, eval/data/extra.jsonl: questions over the corpus-extra laws, checked against the laws.

Every evidence string and every key fact must occur in the named law file
(after whitespace is removed: the laws separate 第X条 from its text with a
full-width space and end lines with CRLF). The laws live in the shared folder
(`$RAG_SHARED`, else ../shared next to the repo).
"""

from __future__ import annotations

import json
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

from eval.common import extra_docs_dir
from eval.dataset import load_dataset, not_in_documents, squashed

REPO = Path(__file__).resolve().parents[2]
EXTRA = REPO / "eval" / "data" / "extra.jsonl"
ROWS = [json.loads(line) for line in EXTRA.read_text(encoding="utf-8").splitlines() if line.strip()]
SINGLE = [r for r in ROWS if not r.get("history")]
KEYS = {"id", "question", "lang", "type", "answer", "must_include", "must_include_alt", "doc", "evidence", "split"}

needs_laws = pytest.mark.skipif(
    not extra_docs_dir().is_dir(), reason=f"no {extra_docs_dir()} (set RAG_SHARED to the shared folder)"
)


@cache
def law(name: str) -> str:
    return squashed((extra_docs_dir() / name).read_text(encoding="utf-8-sig"))


def test_loads_and_size():
    questions = load_dataset(EXTRA)
    assert len(SINGLE) >= 40 and len(questions) == len(ROWS)
    assert len({r["id"] for r in ROWS}) == len(ROWS)
    for r in ROWS:
        assert set(KEYS) <= set(r) <= KEYS | {"history"}, r["id"]


def test_mix_of_scripts_types_and_unanswerable():
    langs = Counter(r["lang"] for r in ROWS)
    assert 0.5 <= langs["zh-Hans"] / len(ROWS) <= 0.7
    assert langs["zh-Hant"] / len(ROWS) >= 0.15 and langs["en"] / len(ROWS) >= 0.15
    types = Counter(r["type"] for r in SINGLE)
    assert all(types[t] >= 3 for t in ("fact", "number", "list", "multi_doc", "summary"))
    assert 0.12 <= types["unanswerable"] / len(ROWS) <= 0.2


@needs_laws
def test_every_law_is_asked_about():
    asked = Counter(name for r in ROWS for name in r["doc"])
    laws = {p.name for p in extra_docs_dir().glob("*.txt")}
    assert set(asked) == laws and len(laws) == 6
    assert min(asked.values()) >= 6


def test_followups_have_history():
    followups = [r for r in ROWS if r.get("history")]
    assert len(followups) >= 3
    for r in followups:
        assert all(isinstance(t, list) and len(t) == 2 and all(isinstance(x, str) for x in t) for t in r["history"])


@needs_laws
@pytest.mark.parametrize("row", ROWS, ids=[r["id"] for r in ROWS])
def test_evidence_and_key_facts_are_in_the_law(row):
    if row["type"] == "unanswerable":
        assert row["doc"] == [] and row["evidence"] == [] and row["must_include"] == []
        return
    assert row["doc"] and row["evidence"] and row["must_include"]
    assert len(row["must_include_alt"]) == len(row["must_include"])
    assert not_in_documents(row, law) == [], f"evidence or key facts not in {row['doc']}"
    if row["type"] == "multi_doc":
        assert len(set(row["doc"])) >= 2
        for name in row["doc"]:
            assert any(squashed(ev) in law(name) for ev in row["evidence"]), f"no evidence from {name}"


@needs_laws
def test_unanswerable_questions_are_close_to_the_laws():
    """Each names something the laws do regulate (so retrieval finds a near passage), yet has no answer there."""
    near = {
        "extra-050": "价格调节基金",
        "extra-051": "理事长",
        "extra-052": "农业技术推广机构",
        "extra-053": "图书馆",
        "extra-054": "成员出资",
        "extra-057": "价格监测制度",
        "extra-058": "三分之二以上",
    }
    everything = "".join(law(p.name) for p in extra_docs_dir().glob("*.txt"))
    for qid, term in near.items():
        row = next(r for r in ROWS if r["id"] == qid)
        assert row["type"] == "unanswerable", qid
        assert term in everything, (qid, term)
