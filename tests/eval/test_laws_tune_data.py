"""The law design set, eval/data/laws-tune.jsonl: tune-only questions over three corpus-large laws.

The extra set is all test split, so nothing of the laws genre could be looked at while changing the system;
this set is where law-shaped failures may be studied. Its laws are not among the corpus-extra six.
"""

from __future__ import annotations

import json
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

from eval.common import extra_docs_dir, shared_dir
from eval.dataset import load_dataset, not_in_documents

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "eval" / "data" / "laws-tune.jsonl"
ROWS = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]
LAWS = shared_dir() / "corpus-large" / "laws"

needs_laws = pytest.mark.skipif(not LAWS.is_dir(), reason=f"no {LAWS} (set RAG_SHARED to the shared folder)")


@cache
def law(name: str) -> str:
    return (LAWS / name).read_text(encoding="utf-8-sig")


def test_all_tune_with_scripts_types_and_unanswerable():
    questions = load_dataset(DATA)
    assert len(questions) == len(ROWS) >= 36 and len({r["id"] for r in ROWS}) == len(ROWS)
    assert {r["split"] for r in ROWS} == {"tune"}
    langs = Counter(r["lang"] for r in ROWS)
    assert langs["zh-Hant"] >= 6 and langs["en"] >= 6
    assert 0.12 <= sum(r["type"] == "unanswerable" for r in ROWS) / len(ROWS) <= 0.2
    assert sum(q.group == "followup" for q in questions) >= 3


@needs_laws
def test_laws_are_not_the_extra_sets():
    asked = {name for r in ROWS for name in r["doc"]}
    assert len(asked) >= 3 and all((LAWS / name).is_file() for name in asked)
    if extra_docs_dir().is_dir():
        assert not asked & {p.name for p in extra_docs_dir().iterdir()}


@needs_laws
@pytest.mark.parametrize("row", ROWS, ids=[r["id"] for r in ROWS])
def test_evidence_and_key_facts_are_in_the_law(row):
    if row["type"] == "unanswerable":
        assert row["doc"] == [] and row["evidence"] == [] and row["must_include"] == []
        return
    assert len(row["must_include_alt"]) == len(row["must_include"])
    assert not_in_documents(row, law) == [], f"evidence or key facts not in {row['doc']}"
