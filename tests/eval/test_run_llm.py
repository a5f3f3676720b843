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


DEV_LIKE = [
    {
        "id": "d1",
        "question": "潍坊每年开展市级融链固链相关活动多少次以上？",
        "lang": "zh-Hans",
        "type": "number",
        "answer": "10次以上",
        "must_include": ["10次"],
        "doc": ["002_78ad54bd58fc9a9e.txt"],
        "evidence": ["每年开展市级融链固链相关活动10次以上"],
        "split": "tune",
    },
    {
        "id": "d2",
        "question": "那工业技改项目呢？",
        "lang": "zh-Hans",
        "type": "number",
        "answer": "600项以上",
        "must_include": ["600项"],
        "doc": ["002_78ad54bd58fc9a9e.txt"],
        "evidence": ["年均滚动实施工业技改项目600项以上"],
        "history": [["潍坊年均完成工业技改投资多少？", "年均完成工业技改投资480亿元以上[1]。"]],
        "split": "test",
    },
]
OTHER = [
    {"id": "o1", "question": "烟台市2025年县域经济目标是多少？", "lang": "zh-Hans", "type": "unanswerable",
     "answer": "", "must_include": [], "doc": [], "evidence": [], "split": "test"},
]  # fmt: skip


@pytest.mark.llm
def test_eval_run_two_datasets_reports_splits_and_followups(index_dir, tmp_path, capsys):
    paths = []
    for name, rows in (("devlike", DEV_LIKE), ("other", OTHER)):
        paths.append(tmp_path / f"{name}.jsonl")
        paths[-1].write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    out = tmp_path / "run"
    args = ["run", "--dataset", str(paths[0]), "--dataset", str(paths[1]), "--out", str(out), "--index", str(index_dir)]
    assert main(args) == 0
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert set(summary["headline"]) == {"devlike · test", "devlike · test · followup", "other · test"}
    assert set(summary["tune"]) == {"devlike · tune"}
    assert summary["headline"]["devlike · test · followup"]["n"] == 1
    for name in ("devlike", "other"):
        for f in ("answers.jsonl", "results.jsonl", "summary.json", "report.md", "split-test/report.md"):
            assert (out / name / f).is_file(), (name, f)
    assert (out / "devlike" / "split-tune" / "scores_by_lang.png").is_file()
    assert (out / "report.md").is_file() and (out / "headline.png").is_file()
    answers = [json.loads(x) for x in (out / "devlike" / "answers.jsonl").read_text("utf-8").splitlines()]
    assert [a["id"] for a in answers] == ["d1", "d2"] and all("error" not in a for a in answers)
    assert "test split (headline)" in capsys.readouterr().out


@pytest.mark.llm
def test_a_stalled_answer_is_scored_as_an_error_and_the_run_goes_on(index_dir, tmp_path):
    """A generation deadline no answer can meet: every question fails with the model's error, none is lost."""
    from eval.dataset import Question
    from eval.runner import answer_all
    from rag.config import Settings

    settings = Settings(index_dir=index_dir, generation_timeout_s=0.001)
    out = answer_all([Question(**r) for r in TINY[:2]], settings, tmp_path / "answers.jsonl", warmup=False)
    answers = [json.loads(x) for x in out.read_text("utf-8").splitlines()]
    assert [a["id"] for a in answers] == ["t-yishui", "t-shouguang"]
    assert all(a["error"] and "answer" not in a for a in answers)


@pytest.mark.llm
def test_eval_run_answers_only_the_class_asked_for(index_dir, tmp_path):
    ds = tmp_path / "devlike.jsonl"
    ds.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in DEV_LIKE + OTHER) + "\n", encoding="utf-8")
    out = tmp_path / "run"
    args = ["run", "--dataset", str(ds), "--out", str(out), "--index", str(index_dir), "--group", "followup"]
    assert main([*args, "--lang", "zh-Hans"]) == 0
    answers = [json.loads(x) for x in (out / "answers.jsonl").read_text("utf-8").splitlines()]
    assert [a["id"] for a in answers] == ["d2"]  # the one follow-up; the single questions are not asked
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert summary["meta"]["group"] == "followup" and summary["meta"]["lang"] == "zh-Hans"
