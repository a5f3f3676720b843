"""Speed and memory: index build time, retrieval latency, time to first token, whole answer, tokens/s, peak RSS.

Everything is measured in this one process on a private index of the bundled
corpus (var/index is never touched), so peak RSS is what one server process
holding the embedder, the index and the LLM needs.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil
from tqdm import tqdm

from eval.common import benchmarks_dir, build_corpus_index, peak_rss_mb
from eval.dataset import load_dataset
from eval.metrics import percentile
from eval.report import console_table, hist_plot, md_table


def run(
    out: Path,
    dataset: str,
    limit: int | None,
    settings: Any,
    bench: str | None = None,
    skip_cmrc: bool = False,
) -> dict[str, Any]:
    from rag.pipeline import Pipeline

    out.mkdir(parents=True, exist_ok=True)
    questions = load_dataset(dataset, limit)
    s = settings
    summary: dict[str, Any] = {"questions": len(questions), "embedder": s.embedder, "llm": s.llm}
    with tempfile.TemporaryDirectory(prefix="rag-bench-") as tmp:
        root = Path(tmp) / "corpus-index"
        print("timing the index build of the bundled corpus")
        summary["build_corpus_s"] = round(
            build_corpus_index(root, s.docs_dir, s.embedder, s.chunk_size, s.chunk_overlap), 2
        )
        if not skip_cmrc:
            from eval import cmrc

            paras, _ = cmrc.load(benchmarks_dir(bench) / "cmrc2018" / "cmrc2018_dev.json")
            summary["build_cmrc_s"] = round(cmrc.build_index(Path(tmp) / "cmrc-index", paras, s.embedder), 2)
            summary["cmrc_paragraphs"] = len(paras)
        pipe = Pipeline(s.model_copy(update={"index_dir": root}), generator=_LazyTimed(s))
        retrieve_ms = []
        pipe.retrieve(questions[0].question)  # first call loads jieba's dictionary: not a query's cost
        for q in tqdm(questions, desc="retrieval", unit="q"):
            t0 = time.perf_counter()
            pipe.retrieve(q.question)
            retrieve_ms.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        pipe.warmup()
        summary["llm_load_warmup_s"] = round(time.perf_counter() - t0, 2)
        gen = pipe.generator
        gen.runs.clear()  # decode speed from the answers only, not the warm-up
        rows = []
        for q in tqdm(questions, desc="answering", unit="q"):
            raw, answer = "", None
            for ev in pipe.stream(q.question, q.history_pairs() or None, qid=q.id):
                if ev.kind == "answer":
                    answer, raw = ev.data, ev.extra.get("raw", "")
            assert answer is not None
            t = answer.timings_ms
            tokens = gen.count_tokens(raw) if raw else 0
            rows.append(
                {
                    "id": q.id,
                    "first_token_ms": t.first_token,
                    "total_ms": t.total,
                    "tokens": tokens,
                    "after_first_token_ms": round(max(t.total - t.first_token, 0.0), 1),
                }
            )
    runs = [(n, dt) for n, dt in gen.runs if n > 1 and dt > 0]
    summary.update(
        retrieve_p50_ms=percentile(retrieve_ms, 50),
        retrieve_p95_ms=percentile(retrieve_ms, 95),
        ttft_p50_ms=percentile([r["first_token_ms"] for r in rows], 50),
        ttft_p95_ms=percentile([r["first_token_ms"] for r in rows], 95),
        total_p50_ms=percentile([r["total_ms"] for r in rows], 50),
        total_p95_ms=percentile([r["total_ms"] for r in rows], 95),
        # tokens after the first over the time from the first to the last token: decode speed, prefill excluded
        tokens_per_s=round(sum(n - 1 for n, _ in runs) / sum(dt for _, dt in runs), 1) if runs else None,
        peak_rss_mb=peak_rss_mb(),
        rss_now_mb=round(psutil.Process().memory_info().rss / 2**20, 1),
    )
    with (out / "results.jsonl").open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    hist_plot(
        out / "latency.png",
        {
            "retrieval": retrieve_ms,
            "first token": [r["first_token_ms"] for r in rows],
            "total": [r["total_ms"] for r in rows],
        },
        "latency on the dev set",
        "ms",
    )
    lines = [
        "# Speed and memory",
        "",
        f"{len(questions)} dev questions; embedder `{s.embedder}`, LLM `{s.llm}`, {s.n_threads} threads. "
        "Latencies are per question in one process; `tokens_per_s` is decode speed (tokens after the first "
        "divided by the time from the first to the last token of each generator call); peak RSS is `ru_maxrss` of this process.",
        "",
        md_table([{"_name": "bench", **summary}], [k for k in summary if k not in ("embedder", "llm")], "run"),
        "",
        "![latency](latency.png)",
        "",
    ]
    (out / "report.md").write_text("\n".join(lines), encoding="utf-8")
    return summary


class _LazyTimed:
    """The real generator, loaded on first use, recording (tokens, first-to-last-token seconds) per call."""

    def __init__(self, settings: Any) -> None:
        self._s = settings
        self._gen: Any = None
        self.runs: list[tuple[int, float]] = []

    @property
    def _g(self) -> Any:
        if self._gen is None:
            from rag.generate import generator_for

            s = self._s
            self._gen = generator_for(s)
        return self._gen

    @property
    def name(self) -> str:
        return self._g.name

    def count_tokens(self, text: str) -> int:
        return self._g.count_tokens(text)

    def stream(self, messages: list[dict[str, str]], max_tokens: int):
        first = last = 0.0
        n = 0
        for tok in self._g.stream(messages, max_tokens):
            last = time.perf_counter()
            first = first or last
            n += 1
            yield tok
        self.runs.append((n, last - first))


def print_summary(out: Path, summary: dict[str, Any]) -> None:
    rows = [{"_name": k, "value": v} for k, v in summary.items()]
    print(console_table(rows, ["value"], "metric"))
    print(f"wrote {out}/summary.json, results.jsonl, report.md, latency.png")
