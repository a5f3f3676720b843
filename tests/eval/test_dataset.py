"""Sanity checks for the hand-written evaluation dev set (eval/data/dev.jsonl); its split: test_split.py."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DEV = REPO / "eval" / "data" / "dev.jsonl"
CORPUS = REPO / "corpus"

KEYS = {
    "id": str,
    "question": str,
    "lang": str,
    "type": str,
    "answer": str,
    "must_include": list,
    "must_include_alt": list,
    "doc": list,
    "evidence": list,
    "split": str,
}
OPTIONAL = {"history": list}  # two-turn conversations only
LANGS = {"zh-Hans", "zh-Hant", "en"}
TYPES = {"fact", "number", "list", "multi_doc", "summary", "unanswerable"}


def load_rows() -> list[dict]:
    rows = []
    with DEV.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                row = json.loads(line)
                assert isinstance(row, dict), f"line {n} is not an object"
                rows.append(row)
    return rows


ROWS = load_rows()


@cache
def corpus_text(name: str) -> str:
    return (CORPUS / name).read_bytes().decode("utf-8")


def test_dataset_size_and_unique_ids():
    assert len(ROWS) >= 66
    ids = [row["id"] for row in ROWS]
    assert len(ids) == len(set(ids)), "duplicate ids"


def test_mix_has_enough_unanswerable():
    assert sum(row["type"] == "unanswerable" for row in ROWS) >= 10


def test_followups_spread_over_the_corpus_and_scripts():
    followups = [row for row in ROWS if row.get("history")]
    assert len(followups) >= 15
    assert {row["lang"] for row in followups} == LANGS
    assert len({name for row in followups for name in row["doc"]}) >= 4


def test_dataset_loads_with_the_eval_loader():
    from eval.dataset import load_dataset

    questions = load_dataset(DEV)
    assert len(questions) == len(ROWS)
    assert sum(q.group == "followup" for q in questions) == sum(bool(r.get("history")) for r in ROWS)


@pytest.mark.parametrize("row", ROWS, ids=[row.get("id", "?") for row in ROWS])
def test_row(row):
    assert set(KEYS) <= set(row) <= set(KEYS) | set(OPTIONAL), f"keys differ: {sorted(set(row) ^ set(KEYS))}"
    for key, typ in {**KEYS, **OPTIONAL}.items():
        if key in row:
            assert isinstance(row[key], typ), f"{key} should be {typ.__name__}"
    assert row["split"] in ("tune", "test")
    if "history" in row:
        assert row["history"], "history, when present, holds at least one earlier turn"
        for turn in row["history"]:
            assert isinstance(turn, list) and len(turn) == 2, "a turn is [question, answer]"
            assert all(isinstance(x, str) and x.strip() for x in turn)
    assert row["question"].strip() and row["answer"].strip()
    assert row["lang"] in LANGS
    assert row["type"] in TYPES

    for key in ("must_include", "doc", "evidence"):
        assert all(isinstance(x, str) and x for x in row[key]), f"{key} must hold non-empty strings"
    alts = row["must_include_alt"]
    assert len(alts) == len(row["must_include"]), "must_include_alt must be parallel to must_include"
    assert all(isinstance(a, list) and all(isinstance(x, str) and x for x in a) for a in alts)

    if row["type"] == "unanswerable":
        assert row["doc"] == [] and row["evidence"] == [] and row["must_include"] == []
        return

    assert row["must_include"], "answerable items need at least one must_include"
    assert row["evidence"], "answerable items need at least one evidence"
    assert row["doc"], "answerable items need a source doc"
    for name in row["doc"]:
        assert (CORPUS / name).is_file(), f"missing corpus file {name}"
    if row["type"] == "multi_doc":
        assert len(set(row["doc"])) >= 2
    texts = [corpus_text(name) for name in row["doc"]]
    for ev in row["evidence"]:
        assert any(ev in text for text in texts), f"evidence not verbatim in {row['doc']}: {ev!r}"
    if row["type"] == "multi_doc":
        for name, text in zip(row["doc"], texts, strict=True):
            assert any(ev in text for ev in row["evidence"]), f"no evidence from {name}"
