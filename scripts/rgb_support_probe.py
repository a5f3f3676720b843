"""Probe two sentence-level support signals on RGB's development questions (README, round 10; not built).

For each reply that was not refused (stored runs of `eval rgb`), outside the
reported sample (100 drawn with seed 0), it prints one tab-separated row:
noise, correct, score, question, answer. `coverage` is the share of the
question's words (by length) in the cited sentence that holds most of the
answer's item, with its neighbours, followed by the best such share of any
shown sentence (what a re-ask on that sentence could use); `verifier` is the local model's
log P(是) − log P(否) for "do the cited sentences give this answer?".

    python scripts/rgb_support_probe.py coverage artifacts/rgb-04-s9 artifacts/rgb-10-dev-s10 > coverage.tsv
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import jieba

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eval import rgb
from eval.common import benchmarks_dir, sample
from rag.cite import _overlap, cited_numbers
from rag.config import Settings
from rag.generate import generator_for
from rag.prompt import SYSTEM
from rag.script import to_simplified
from rag.select import split_sentences

QUESTION_WORDS = set("哪 谁 几 多少 什么 哪里 哪个 哪些 何 是 的 了 吗 呢 在 年 会 将 为 有".split())
VERIFY = "资料：{src}\n问题：{q}\n回答：{a}\n资料是否明确给出了这个问题的这个答案？只回答“是”或“否”。"


def _words(question: str) -> list[str]:
    return [
        w
        for w in dict.fromkeys(jieba.lcut(to_simplified(question)))
        if re.search(r"[\u3400-\u9fff0-9a-zA-Z]", w) and w not in QUESTION_WORDS
    ]


def best_coverage(question: str, context) -> float:
    """The highest share of the question's words in any shown sentence (±1 sentence): what a re-ask could use."""
    words = _words(question)
    total = max(1, sum(len(w) for w in words))
    best = 0.0
    for c in context:
        sents = split_sentences(to_simplified(c.passage.chunk.text)) or [c.passage.chunk.text]
        for i in range(len(sents)):
            window = "".join(sents[max(0, i - 1) : i + 2])
            best = max(best, sum(len(w) for w in words if w in window) / total)
    return best


def coverage(question: str, answer: str, context) -> float:
    words = _words(question)
    body = to_simplified(re.sub(r"\[\d+\]", "", answer))
    item = "".join(ch for ch in body if ch not in to_simplified(question))
    cited = cited_numbers(answer) or [c.n for c in context]
    best = (-1, 0.0)
    for c in context:
        if c.n not in cited:
            continue
        sents = split_sentences(to_simplified(c.passage.chunk.text)) or [c.passage.chunk.text]
        for i, sent in enumerate(sents):
            near = _overlap(item, sent) if len(item) > 1 else int(item in sent)
            window = "".join(sents[max(0, i - 1) : i + 2])
            share = sum(len(w) for w in words if w in window) / max(1, sum(len(w) for w in words))
            best = max(best, (near, share))
    return best[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("method", choices=["coverage", "verifier"])
    ap.add_argument("runs", nargs="+", help="folders of `eval rgb` runs (results.jsonl)")
    args = ap.parse_args()
    s = Settings()
    gen = generator_for(s)
    items = rgb.load(benchmarks_dir(None) / "rgb" / "zh_refine.json")
    reported = {str(i["id"]) for i in sample(items, 100, 0)}
    by_id = {str(i["id"]): i for i in items}
    for run in args.runs:
        for line in (Path(run) / "results.jsonl").open(encoding="utf-8"):
            r = json.loads(line)
            if str(r["id"]) in reported or r["refused"]:
                continue
            item = by_id[str(r["id"])]
            texts = [t for t, _ in rgb.pick_passages(item, r["noise"])]
            ctx = rgb.shown_context(item["query"], texts, item["id"], gen, s)
            if args.method == "coverage":
                score = coverage(item["query"], r["answer"], ctx)
                extra = f"\t{best_coverage(item['query'], ctx):.2f}"
            else:
                extra = ""
                cited = cited_numbers(r["answer"]) or [c.n for c in ctx]
                src = "\n".join("".join(c.sentences) for c in ctx if c.n in cited)[:600]
                answer = re.sub(r"\[\d+\]", "", r["answer"])
                user = VERIFY.format(src=src, q=item["query"], a=answer)
                score = gen.yes_no_logodds(
                    [[{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]]
                )[0]
            print(
                f"{r['noise']}\t{int(r['correct'])}\t{score:.2f}{extra}\t{item['query'][:30]}\t{answer_text(r)}",
                flush=True,
            )
    return 0


def answer_text(row: dict) -> str:
    return re.sub(r"\s+", " ", row["answer"])[:40]


if __name__ == "__main__":
    sys.exit(main())
