"""The dataset loader rejects bad lines with the file and line number; good lines load."""

from __future__ import annotations

import json

import pytest

from eval.dataset import DatasetError, load_dataset

GOOD = {
    "id": "q1",
    "question": "寿光市2025年的GDP目标是多少？",
    "lang": "zh-Hans",
    "type": "number",
    "answer": "1100亿元以上",
    "must_include": ["1100亿元"],
    "must_include_alt": [["110 billion"]],
    "doc": ["a.txt"],
    "evidence": ["GDP目标是1100亿元"],
}


def write(tmp_path, rows):
    p = tmp_path / "d.jsonl"
    p.write_text("\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows), "utf-8")
    return p


def test_loads_and_limits(tmp_path):
    p = write(tmp_path, [GOOD, {**GOOD, "id": "q2"}, "", {**GOOD, "id": "q3", "type": "unanswerable"}])
    qs = load_dataset(p)
    assert [x.id for x in qs] == ["q1", "q2", "q3"]
    assert qs[0].keys() == [["1100亿元", "110 billion"]]
    assert qs[2].answerable is False
    assert [x.id for x in load_dataset(p, limit=2)] == ["q1", "q2"]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("{not json", "d.jsonl:2: not valid JSON"),
        ({**GOOD, "id": "q9", "lang": "fr"}, "d.jsonl:2 (id q9): lang"),
        ({**GOOD, "id": "q9", "type": "trivia"}, "d.jsonl:2 (id q9): type"),
        ({**GOOD, "id": "q9", "must_include_alt": [[], []]}, "parallel"),
        ({k: v for k, v in GOOD.items() if k != "question"}, "question: Field required"),
        (GOOD, "duplicate id 'q1' (first on line 1)"),
        ("[1, 2]", "expected a JSON object"),
    ],
)
def test_bad_line_names_its_line(tmp_path, bad, message):
    with pytest.raises(DatasetError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        load_dataset(write(tmp_path, [GOOD, bad]))


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(DatasetError, match="no such dataset file"):
        load_dataset(tmp_path / "none.jsonl")
    with pytest.raises(DatasetError, match="no questions"):
        load_dataset(write(tmp_path, ["", " "]))
