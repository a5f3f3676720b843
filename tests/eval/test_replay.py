"""Replaying the answer checks on stored replies: one rule off at a time, no model.

The document and replies are made up (no bundled text): a regulation with one
fine; a reply quoting it, and a reply with an invented figure.
"""

from __future__ import annotations

import json

from eval.__main__ import main
from rag.cite import RULES

DOC = "某县河道保洁办法\n第一条 为保持河道整洁，制定本办法。\n第九条 向河道倾倒垃圾的，处五百元以上二千元以下罚款。\n"
QUESTIONS = [
    {"id": "q1", "question": "向河道倾倒垃圾罚多少？", "lang": "zh-Hans", "type": "number", "split": "test", "answer": "500元以上2000元以下",
     "must_include": ["500元", "2000元"], "doc": ["rules.txt"]},
    {"id": "q2", "question": "河道保洁办法第九条罚款上限是多少？", "lang": "zh-Hans", "type": "number", "split": "test", "answer": "2000元",
     "must_include": ["2000元"], "doc": ["rules.txt"]},
]  # fmt: skip


def test_replay_switches_off_one_rule_at_a_time(tmp_path, embedder, capsys):
    from index import builder, store
    from rag.document import prepare_file

    (tmp_path / "rules.txt").write_text(DOC, encoding="utf-8")
    index_dir = tmp_path / "index"
    builder.build([prepare_file(tmp_path / "rules.txt")], index_dir, embedder)
    article = next(c for c in store.load(index_dir).chunks if "倾倒" in c.text)
    dataset = tmp_path / "set.jsonl"
    dataset.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in QUESTIONS), encoding="utf-8")
    run = tmp_path / "run"
    run.mkdir()
    # q1 is two sentences (the first can be shown early); q2 invents its figure
    replies = {"q1": "处500元以上2000元以下罚款[1]。依据是第九条[1]。", "q2": "罚款上限是5000元[1]。"}
    with (run / "answers.jsonl").open("w", encoding="utf-8") as a, (run / "trace.jsonl").open("w") as t:
        for q in QUESTIONS:
            a.write(json.dumps({"id": q["id"], "question": q["question"], "answer": "", "refused": True,
                                "citations": [], "passages": [{"doc": "rules.txt", "chunk_id": article.id}]},
                               ensure_ascii=False) + "\n")  # fmt: skip
            context = [{"n": 1, "chunk_id": article.id, "with_meta": False}]
            t.write(json.dumps({"id": q["id"], "raw": replies[q["id"]], "lang": "zh-Hans",
                                "checked_question": q["question"], "context": context}, ensure_ascii=False) + "\n")  # fmt: skip
    (run / "summary.json").write_text(json.dumps({"meta": {"index": str(index_dir)}}), encoding="utf-8")

    assert main(["replay", "--run", str(run), "--dataset", str(dataset), "--out", str(tmp_path / "out")]) == 0
    tables = json.loads((tmp_path / "out" / "replay.json").read_text(encoding="utf-8"))
    variants = tables["set · test"]
    # All rules on: q1 is answered from the Chinese numerals (500 and 2000), q2's invented 5000 is refused.
    assert variants["all rules"]["keyfact"] == 0.5 and variants["all rules"]["false_refusal"] == 0.5
    # Without the figure check, q2's invented figure passes (and still scores no key fact).
    assert variants["without claim_figures"]["false_refusal"] == 0.0
    assert set(variants) == {"all rules", *(f"without {rule}" for rule in RULES)}
    assert (tmp_path / "out" / "replay-set · test.png").exists()
    assert "without claim_figures" in capsys.readouterr().out
    # Sentence-by-sentence release gives the answers of the whole-answer check; q1's first sentence went early.
    release = json.loads((tmp_path / "out" / "release.json").read_text(encoding="utf-8"))["set · test"]
    assert (release["replies"], release["mismatches"], release["released_early"]) == (2, 0, 1)
    assert release["median_share_read_before_first_release"] < 1
    # The passages are rebuilt with the retrieval scores stored beside them (0 in traces written before that).
    from eval.replay import _context

    index = store.load(index_dir)
    by_id = {c.id: i for i, c in enumerate(index.chunks)}
    stored = {"n": 1, "chunk_id": article.id, "with_meta": False, "fused": 0.5, "dense": 0.91, "bm25": 3.2}
    (scored,) = _context({"context": [stored]}, index, by_id)
    assert (scored.passage.score, scored.passage.dense_score, scored.passage.bm25_score) == (0.5, 0.91, 3.2)
    (old,) = _context({"context": context}, index, by_id)
    assert (old.passage.score, old.passage.dense_score) == (0.0, 0.0) and old.passage.chunk.id == article.id
