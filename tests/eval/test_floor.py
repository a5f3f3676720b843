"""`python -m eval floor` on a made-up regulation: the stored floor, and what it refuses per set."""

from __future__ import annotations

import json

from eval.__main__ import main

DOC = "某县河道保洁办法\n第一条 为保持河道整洁，制定本办法。\n第九条 向河道倾倒垃圾的，处五百元以上二千元以下罚款。\n"
QUESTIONS = [
    {"id": "a1", "question": "向河道倾倒垃圾罚多少钱？", "lang": "zh-Hans", "type": "number", "split": "test",
     "answer": "500元以上2000元以下", "must_include": ["500元"], "doc": ["rules.txt"]},
    {"id": "a2", "question": "How much is the fine for dumping rubbish into a river?", "lang": "en", "type": "number",
     "split": "test", "answer": "500 to 2000 yuan", "must_include": ["500"], "doc": ["rules.txt"]},
]  # fmt: skip


def test_floor_report(tmp_path, embedder):
    from index import builder
    from rag.document import prepare_file

    (tmp_path / "rules.txt").write_text(DOC, encoding="utf-8")
    index_dir = tmp_path / "index"
    built = builder.build([prepare_file(tmp_path / "rules.txt")], index_dir, embedder)
    dataset = tmp_path / "set.jsonl"
    dataset.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in QUESTIONS), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["floor", "--index", str(index_dir), "--dataset", str(dataset), "--out", str(out)]) == 0
    summary = json.loads((out / "floor.json").read_text(encoding="utf-8"))
    assert summary["floor"] == built.manifest.refuse_below and summary["stored"]
    assert summary["sets"]["set answerable"] == {"n": 1, "refused": 0, "share_refused": 0.0}  # English left out
    assert summary["sets"]["unrelated probes"]["n"] == 16
    assert (out / "floor.png").exists() and (out / "floor.md").exists()
