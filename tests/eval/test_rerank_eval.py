"""eval rerank: its scores, and a measurement on a small made-up index with the real embedder."""

from __future__ import annotations

import json

import pytest

from eval.rerank import _rows, dataset_items, measure, scores
from rag.rerank import reranker_for


def test_scores_count_only_the_top_k_shown():
    s = scores([1, 2, 6, 0], [10.0, 20.0, 30.0, 40.0], top_k=5)
    assert s["hit@1"] == 0.25 and s["hit@5"] == 0.5 and s["mrr"] == round((1 + 0.5) / 4, 4) and s["n"] == 4
    assert s["added_ms_p50"] == 25.0


def test_rows_compare_a_slow_reranker_on_its_own_sample():
    found = {
        "none": {"a": {"rank": 2, "ms": 0.0}, "b": {"rank": 1, "ms": 0.0}},
        "llm": {"a": {"rank": 1, "ms": 900.0}},
    }
    rows = _rows("set", found, 5)
    assert rows["set · none"]["n"] == 2 and "set · llm" not in rows
    assert rows["set (sample) · none"]["hit@1"] == 0.0 and rows["set (sample) · llm"]["hit@1"] == 1.0


MADE_UP = {
    "orchard.txt": "# 柳塘村果园\n\n柳塘村果园种植苹果树三千棵，去年苹果产量为四百吨。\n\n果园每年四月举办赏花节，吸引周边游客。",
    "bridge.txt": "# 石溪大桥\n\n石溪大桥全长八百米，双向四车道，于二〇二〇年建成通车。\n\n大桥两侧设有人行道和观景平台。",
    "school.txt": "# 云杉小学\n\n云杉小学现有学生六百名，教师四十二名。\n\n学校新建的图书馆藏书两万册。",
}


@pytest.fixture(scope="module")
def made_up_pipeline(tmp_path_factory, embedder):
    from index import builder
    from rag.config import Settings
    from rag.document import prepare_file
    from rag.pipeline import Pipeline

    docs_dir = tmp_path_factory.mktemp("docs")
    for name, text in MADE_UP.items():
        (docs_dir / name).write_text(text, encoding="utf-8")
    root = tmp_path_factory.mktemp("index")
    builder.build([prepare_file(p) for p in sorted(docs_dir.iterdir())], root, embedder)
    return Pipeline(Settings(index_dir=root, top_k=2, rerank_top=3))


def test_measure_scores_every_reranker_on_the_same_short_list(made_up_pipeline, tmp_path):
    rows = [
        {
            "id": "m1",
            "question": "柳塘村去年苹果产量是多少？",
            "lang": "zh-Hans",
            "type": "number",
            "doc": "orchard.txt",
            "evidence": "去年苹果产量为四百吨",
            "split": "test",
        },
        {
            "id": "m2",
            "question": "石溪大桥有多长？",
            "lang": "zh-Hans",
            "type": "number",
            "doc": "bridge.txt",
            "evidence": "全长八百米",
            "split": "test",
        },
        {
            "id": "m3",
            "question": "云杉小学有多少名教师？",
            "lang": "zh-Hans",
            "type": "number",
            "doc": "school.txt",
            "evidence": "教师四十二名",
            "split": "tune",
        },
    ]
    path = tmp_path / "made-up.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    items = dataset_items(path, "test")
    assert [i for i, _, _ in items] == ["m1", "m2"]  # the tune question is left out
    pipe = made_up_pipeline
    rerankers = {n: reranker_for(n, pipe.embedder, lambda: None) for n in ("none", "sentence")}
    found = measure(pipe, items, rerankers)
    assert set(found) == {"none", "sentence"} and set(found["none"]) == {"m1", "m2"}
    for qid, question, rank_of in items:  # `none` is retrieval's own ranking
        assert found["none"][qid]["rank"] == rank_of(pipe.retriever.search(question, 2))
    assert all(r["rank"] == 1 for r in found["sentence"].values())  # each question names its document plainly
