"""Scoring end to end: a hand-written answers file in the CLI JSON shape → results, summary, report, plots."""

from __future__ import annotations

import json

import pytest

from eval.__main__ import main

GOLD_A = "寿光市GDP目标是1100亿元以上"
DATASET = [
    {"id": "n1", "question": "寿光市2025年的GDP目标是多少？", "lang": "zh-Hans", "type": "number",
     "answer": "1100亿元以上", "must_include": ["1100亿元"], "doc": ["a.txt"], "evidence": [GOLD_A]},
    {"id": "n2", "question": "臨沂哪個縣連續三年被評為先進縣？", "lang": "zh-Hant", "type": "fact", "answer": "沂水縣",
     "must_include": ["沂水县", "先进县"], "doc": ["b.txt"], "evidence": ["沂水县连续三年荣获先进县"]},
    {"id": "u1", "question": "青岛市2025年的GDP目标是多少？", "lang": "zh-Hans", "type": "unanswerable",
     "answer": "", "must_include": [], "doc": [], "evidence": []},
    {"id": "n3", "question": "What is Shouguang's GDP target?", "lang": "en", "type": "number",
     "answer": "110 billion yuan", "must_include": ["1100亿元"], "must_include_alt": [["110 billion"]],
     "doc": ["a.txt"], "evidence": [GOLD_A]},
]  # fmt: skip


def p(rank, doc, text):
    return {"rank": rank, "doc": doc, "chunk_id": f"{doc}:{rank}", "score": 0.5, "text": text}


def c(n, doc, text):
    return {"n": n, "doc": doc, "title": "", "chunk_id": f"{doc}:{n}", "text": text}


def rec(qid, answer, refused, citations, passages, first, total):
    row = next(r for r in DATASET if r["id"] == qid)
    return {
        "id": qid, "question": row["question"], "answer": answer, "refused": refused, "citations": citations,
        "passages": passages, "timings_ms": {"retrieve": 50.0, "first_token": first, "total": total},
        "model": {"embedder": "test", "llm": "test"},
    }  # fmt: skip


ANSWERS = [
    # retrieved at rank 1, full key, cites the gold passage
    rec("n1", "寿光市的GDP目标是1100亿元以上[1]。", False, [c(1, "a.txt", GOLD_A + "。")],
        [p(1, "a.txt", GOLD_A + "。"), p(2, "b.txt", "其他")], 1000.0, 2000.0),
    # rank 2, half the keys, traditional script
    rec("n2", "沂水縣[2]", False, [c(2, "b.txt", "我市沂水县连续三年荣获“先进县”")],
        [p(1, "a.txt", "其他"), p(2, "b.txt", "我市沂水县连续三年荣获“先进县”")], 2000.0, 4000.0),
    # correct refusal
    rec("u1", "资料中没有找到这个问题的答案。", True, [], [p(1, "a.txt", GOLD_A)], 500.0, 500.0),
    # rank 2, wrong figure, cites a passage without gold, dangling [3]
    rec("n3", "The target is 120 billion yuan [1] [3].", False, [c(1, "c.txt", "其他内容")],
        [p(1, "c.txt", "其他内容"), p(2, "a.txt", GOLD_A)], 3000.0, 6000.0),
]  # fmt: skip


@pytest.fixture()
def scored(tmp_path):
    ds = tmp_path / "dataset.jsonl"
    ds.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in DATASET) + "\n", encoding="utf-8")
    ans = tmp_path / "answers.jsonl"
    ans.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in ANSWERS) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["score", "--dataset", str(ds), "--answers", str(ans), "--out", str(out)]) == 0
    return out


def test_summary_values(scored, capsys):
    s = json.loads((scored / "summary.json").read_text(encoding="utf-8"))
    expected = {
        "n": 4, "n_answerable": 3, "n_unanswerable": 1, "hit@1": 0.3333, "hit@5": 1.0, "mrr": 0.6667,
        "keyfact": 0.5, "refusal_acc": 1.0, "false_refusal": 0.0, "cite_precision": 0.6667, "cite_valid": 0.6667,
        "unsupported": 0.3333, "lang_match": 1.0, "ttft_p50_ms": 1500.0, "total_p50_ms": 3000.0,
        "total_p95_ms": 5700.0,
    }  # fmt: skip
    assert {k: s[k] for k in expected} == expected
    assert s["by_type"]["number"]["keyfact"] == 0.5
    assert s["by_type"]["unanswerable"]["refusal_acc"] == 1.0
    assert s["by_lang"]["en"]["keyfact"] == 0.0
    assert s["by_lang"]["zh-Hant"]["hit@1"] == 0.0
    assert s["by_lang"]["zh-Hans"]["hit@1"] == 1.0


def test_results_rows(scored):
    rows = {r["id"]: r for r in map(json.loads, (scored / "results.jsonl").read_text("utf-8").splitlines())}
    assert [rows[i]["hit_rank"] for i in ("n1", "n2", "u1", "n3")] == [1, 2, None, 2]
    assert rows["n2"]["keyfact"] == 0.5
    assert rows["u1"]["correct_refusal"] is True
    assert rows["n3"]["cite_valid"] is False
    assert rows["n3"]["unsupported_items"] == ["120 billion"]
    for key in ("id", "type", "lang", "hit_rank", "keyfact", "refused", "correct_refusal", "cite_valid",
                "cite_precision", "unsupported", "lang_match", "first_token_ms", "total_ms"):  # fmt: skip
        assert key in rows["n1"]


def test_report_and_plots(scored):
    report = (scored / "report.md").read_text(encoding="utf-8")
    assert "## By question type" in report and "`n3`" in report
    for name in ("scores_by_type.png", "scores_by_lang.png", "latency.png"):
        assert (scored / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_missing_answer_counts_as_error(tmp_path):
    from eval.dataset import parse_lines
    from eval.score import score

    questions = parse_lines([json.dumps(r, ensure_ascii=False) for r in DATASET])
    rows, summary = score(questions, {a["id"]: a for a in ANSWERS if a["id"] != "n1"})
    assert summary["n_errors"] == 1
    assert next(r for r in rows if r["id"] == "n1")["keyfact"] == 0.0


def test_splits_and_followups_are_reported_apart(tmp_path):
    """Per split and per group (followup) summaries, a folder per split, and no test question listed by id."""
    split_of = {"n1": "tune", "n2": "test", "u1": "test", "n3": "tune"}
    history = [["寿光市2025年的GDP目标是多少？", "1100亿元以上[1]。"]]
    rows = [{**r, "split": split_of[r["id"]], **({"history": history} if r["id"] == "n2" else {})} for r in DATASET]
    ds = tmp_path / "dataset.jsonl"
    ds.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    ans = tmp_path / "answers.jsonl"
    ans.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in ANSWERS) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["score", "--dataset", str(ds), "--answers", str(ans), "--out", str(out)]) == 0
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["by_split"]["tune"]["n"] == 2 and s["by_split"]["test"]["n"] == 2
    assert s["by_split"]["test"]["keyfact"] == 0.5 and s["by_split"]["tune"]["keyfact"] == 0.5
    assert s["by_group"]["followup"] == {**s["by_group"]["followup"], "n": 1, "keyfact": 0.5}
    assert s["by_group"]["single"]["n"] == 3
    assert {"by_type", "by_lang"} <= set(s)  # the old breakdowns stay
    for split in ("tune", "test"):
        sub = json.loads((out / f"split-{split}" / "summary.json").read_text(encoding="utf-8"))
        assert sub["n"] == 2 and sub["meta"]["split"] == split and set(sub["by_split"]) == {split}
        assert (out / f"split-{split}" / "report.md").is_file()
        assert (out / f"split-{split}" / "scores_by_type.png").is_file()
        assert not (out / f"split-{split}" / f"split-{split}").exists()
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "## By split" in report and "## Follow-ups" in report
    assert "`n3`" in report  # a tune question that did not score fully is listed
    assert "`n2`" not in report and "2 test-split questions are not listed" in report
    test_report = (out / "split-test" / "report.md").read_text(encoding="utf-8")
    assert "`n2`" not in test_report and "沂水縣" not in test_report


def test_headline_of_several_datasets(tmp_path, capsys):
    """The multi-dataset summary: test split of every dataset first (with its follow-ups), tune for reference."""
    from eval.dataset import parse_lines
    from eval.headline import print_headline, write_headline
    from eval.score import score

    split_of = {"n1": "tune", "n2": "test", "u1": "test", "n3": "test"}
    history = [["寿光市2025年的GDP目标是多少？", "1100亿元以上[1]。"]]
    rows = [{**r, "split": split_of[r["id"]], **({"history": history} if r["id"] == "n3" else {})} for r in DATASET]
    answers = {a["id"]: a for a in ANSWERS}
    _, dev = score(parse_lines([json.dumps(r, ensure_ascii=False) for r in rows]), answers)
    only_test = [{**r, "split": "test"} for r in DATASET if r["id"] in ("n1", "u1")]
    _, extra = score(parse_lines([json.dumps(r, ensure_ascii=False) for r in only_test]), answers)
    result = write_headline(tmp_path, {"dev": dev, "extra": extra}, {"index": "x", "indexed": ["a.txt", "b.txt"]})
    assert list(result["headline"]) == ["dev · test", "dev · test · followup", "extra · test"]
    assert result["headline"]["dev · test"]["n"] == 3 and result["headline"]["extra · test"]["n"] == 2
    assert result["headline"]["dev · test · followup"]["keyfact"] == 0.0
    assert list(result["tune"]) == ["dev · tune"]
    saved = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert saved["headline"] == result["headline"] and set(saved["datasets"]) == {"dev", "extra"}
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert report.index("## Headline: test split") < report.index("## Tune split")
    assert "[test](dev/split-test/report.md)" in report and "Index: 2 files" in report
    assert (tmp_path / "headline.png").read_bytes()[:4] == b"\x89PNG"
    print_headline(result)
    assert "test split (headline)" in capsys.readouterr().out
