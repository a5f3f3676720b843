"""A small real run: `python -m eval run` answers 3 questions with the real index and LLM, then scores them."""

from __future__ import annotations

import json

import pytest

from eval.__main__ import main

TINY = [
    {"id": "t-yishui", "question": "临沂哪个县连续三年被评为全省县域经济高质量发展先进县？", "lang": "zh-Hans",
     "type": "fact", "answer": "沂水县", "must_include": ["沂水"], "doc": ["000_7b47e0ef960b77e7.txt"],
     "evidence": ["我市沂水县连续三年荣获“全省县域经济高质量发展先进县”"]},
    {"id": "t-shouguang", "question": "寿光市2025年的GDP目标是多少？", "lang": "zh-Hans", "type": "number",
     "answer": "1100亿元以上", "must_include": ["1100亿元"], "doc": ["002_78ad54bd58fc9a9e.txt"],
     "evidence": ["寿光市gdp完成1100亿元以上"]},
    {"id": "t-qingdao", "question": "青岛市2025年的GDP目标是多少？", "lang": "zh-Hans", "type": "unanswerable",
     "answer": "", "must_include": [], "doc": [], "evidence": []},
]  # fmt: skip


@pytest.mark.llm
def test_eval_run_on_three_questions(index_dir, tmp_path, capsys):
    ds = tmp_path / "tiny.jsonl"
    ds.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in TINY) + "\n", encoding="utf-8")
    out = tmp_path / "run"
    assert main(["run", "--dataset", str(ds), "--out", str(out), "--index", str(index_dir), "--limit", "3"]) == 0
    for name in ("answers.jsonl", "results.jsonl", "summary.json", "report.md", "scores_by_type.png", "latency.png"):
        assert (out / name).is_file(), name
    answers = [json.loads(x) for x in (out / "answers.jsonl").read_text("utf-8").splitlines()]
    assert [a["id"] for a in answers] == ["t-yishui", "t-shouguang", "t-qingdao"]
    assert all({"answer", "refused", "citations", "passages", "timings_ms"} <= set(a) for a in answers)
    rows = {r["id"]: r for r in map(json.loads, (out / "results.jsonl").read_text("utf-8").splitlines())}
    assert 1 <= rows["t-yishui"]["hit_rank"] <= 5
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert summary["by_type"]["fact"]["hit@5"] == 1.0
    assert summary["n"] == 3 and summary["total_p50_ms"] > 0
    assert "wrote" in capsys.readouterr().out
