"""`python -m eval rules`: a stored run's questions each generation rule acted on, asked again without it."""

from __future__ import annotations

import json

import pytest

from eval.__main__ import main
from eval.rules import fired_on

TWO = [
    {"id": "r-answerable", "question": "寿光市2025年的GDP目标是多少？", "lang": "zh-Hans", "type": "number",
     "answer": "1100亿元以上", "must_include": ["1100亿元"], "doc": ["002_78ad54bd58fc9a9e.txt"],
     "evidence": ["寿光市gdp完成1100亿元以上"], "split": "test"},
    {"id": "r-uncovered", "question": "乌鲁木齐市到2025年县域地区生产总值要达到多少？", "lang": "zh-Hans",
     "type": "unanswerable", "answer": "", "must_include": [], "doc": [], "evidence": [], "split": "test"},
]  # fmt: skip


def test_a_trace_without_rules_is_refused_not_read_as_no_rule_firing(tmp_path):
    (tmp_path / "trace.jsonl").write_text('{"id": "a", "raw": "x"}\n', encoding="utf-8")
    with pytest.raises(SystemExit, match="records no rules"):
        fired_on(tmp_path, ["recheck"])
    (tmp_path / "trace.jsonl").write_text('{"id": "a", "fired": ["recheck"]}\n{"id": "b", "fired": []}\n', "utf-8")
    assert fired_on(tmp_path, ["recheck", "list_hint"]) == {"recheck": {"a"}, "list_hint": set()}


@pytest.mark.llm
def test_only_the_questions_a_rule_acted_on_are_asked_again(index_dir, tmp_path, capsys):
    ds = tmp_path / "two.jsonl"
    ds.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in TWO) + "\n", encoding="utf-8")
    run, out = tmp_path / "run", tmp_path / "rules"
    assert main(["run", "--dataset", str(ds), "--out", str(run), "--index", str(index_dir)]) == 0
    args = ["rules", "--run", str(run), "--dataset", str(ds), "--out", str(out)]
    assert main([*args, "--rule", "coverage_terms", "--rule", "goal_hint", "--control"]) == 0
    table = json.loads((out / "rules.json").read_text("utf-8"))["two"]
    assert table["without coverage_terms"]["fired"] == 1 and table["without goal_hint"]["fired"] == 1
    asked = [json.loads(x) for x in (out / "coverage_terms" / "two" / "answers.jsonl").read_text("utf-8").splitlines()]
    assert [a["id"] for a in asked] == ["r-uncovered"]  # the other question is answered as stored
    assert asked[0]["checks"][0] == {"name": "coverage", "result": "pass", "detail": ""}
    assert table["all rules"]["n"] == table["without coverage_terms"]["n"] == 2
    # both questions asked again as they were, one of them by the model: the same answers
    assert table["control (nothing off)"]["fired"] == 2 and table["control (nothing off)"]["changed"] == 0
    with pytest.raises(SystemExit, match="no stored answer"):  # no tune question in the run: an error, not zeros
        main([*args, "--split", "tune", "--rule", "recheck"])
    assert (out / "rules.md").is_file() and (out / "rules-two.png").is_file()
    assert "without coverage_terms" in capsys.readouterr().out
