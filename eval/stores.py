"""Retrieval only, no LLM: hit@1/hit@5/mrr of the same questions on the file store and on Milvus.

Both stores hold the same chunks and the same vectors: the evaluation index
(index/stores.FileStore, built or reused from the eval cache) is copied into a
milvus-lite file with MilvusStore.bulk_add, so only the stores differ: FAISS
exact search vs Milvus HNSW, bm25s with this project's jieba tokens vs Milvus's
BM25 Function with its jieba analyzer, and this program's weighted RRF vs
Milvus's RRFRanker (fusion=engine; the BM25 request sent twice gives it the
weight 2, as Settings.bm25_weight; also measured unweighted), or the same
weighted RRF over Milvus's two candidate lists in Python (fusion=client).
Questions as in `python -m eval ablate --retrieval-only`: answerable, with
evidence, not follow-ups (those need the LLM's rewrite); each is searched once
per store and scored for the whole set and for its test split.

    python -m eval stores --out artifacts/stores [--dataset eval/data/dev.jsonl] [--no-extra]
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from tqdm import tqdm

from eval.common import cache_root, eval_index
from eval.dataset import load_dataset
from eval.metrics import hit_rank, mean
from eval.report import console_table, md_table

COLS = ["hit@1", "hit@5", "mrr", "n", "ms_per_q"]


def _scores(ranks: list[int]) -> dict[str, Any]:
    """hit@1, hit@5 and mrr as eval.ablate.retrieval_scores computes them, from 1-based ranks (0: not found)."""
    return {
        "hit@1": mean([k == 1 for k in ranks]),
        "hit@5": mean([0 < k <= 5 for k in ranks]),
        "mrr": mean([1 / k if k else 0.0 for k in ranks]),
        "n": len(ranks),
    }


def milvus_copy(file_root: Path, db: Path, fusion: str, rrf_k: int, weights: tuple[float, float]) -> Any:
    """The file index's chunks and vectors in a milvus-lite file (built once per file index version)."""
    from index import store
    from index.milvus_store import MilvusStore

    index = store.load(file_root)
    target = MilvusStore(f"milvus:{db}", collection="chunks", fusion=fusion, rrf_k=rrf_k, weights=weights)
    if not target.exists() or target.read_manifest().documents.keys() != index.manifest.documents.keys():
        target.drop()
        target.bulk_add(index.docs, index.chunks, index.vectors, index.manifest.embedder, index.manifest.dim)
    return target


def run(out: Path, datasets: list[str], settings: Any, with_extra: bool = True) -> dict[str, Any]:
    from index.embed import load_embedder
    from index.stores import FileStore
    from rag.retrieve import Retriever

    out.mkdir(parents=True, exist_ok=True)
    (out / "ranks.jsonl").unlink(missing_ok=True)
    root, files = eval_index(settings, with_extra=with_extra)
    embedder = load_embedder(settings.embedder)
    db = cache_root() / f"milvus-{root.name}.db"
    indexes = {"file (FAISS flat + bm25s, weighted RRF)": FileStore(root).open(embedder.name)}
    weights = (settings.dense_weight, settings.bm25_weight)
    variants = [
        ("engine", weights, "milvus-lite (HNSW + BM25 Function, RRFRanker, BM25 request x2 = weighted; default)"),
        ("engine", (1.0, 1.0), "milvus-lite (HNSW + BM25 Function, RRFRanker unweighted)"),
        ("client", weights, "milvus-lite (HNSW + BM25 Function, weighted RRF in Python)"),
    ]
    for fusion, w, label in variants:
        indexes[label] = milvus_copy(root, db, fusion, settings.rrf_k, w).open(embedder.name)
    rows: dict[str, dict[str, Any]] = {}
    for path in datasets:
        questions = [q for q in load_dataset(path) if q.answerable and q.evidence and not q.history]
        for label, index in indexes.items():
            retriever = Retriever(index, embedder, settings)
            retriever.search("预热")  # the first Milvus search loads its analyzer: not a question's cost
            ranks: dict[str, int] = {}
            t0 = time.perf_counter()
            for q in tqdm(questions, desc=label.split(" ")[0], unit="q", leave=False):
                ranks[q.id] = hit_rank(q, [p.to_json() for p in retriever.search(q.question, settings.top_k)]) or 0
            ms = round((time.perf_counter() - t0) * 1000 / max(len(questions), 1), 1)
            for split in ("all", "test"):
                picked = [ranks[q.id] for q in questions if split == "all" or q.split == split]
                rows[f"{Path(path).stem}/{split} · {label}"] = {**_scores(picked), "ms_per_q": ms}
            with (out / "ranks.jsonl").open("a", encoding="utf-8") as f:  # kept as each store finishes
                f.write(json.dumps({"dataset": path, "store": label, "ranks": ranks}, ensure_ascii=False) + "\n")
            tqdm.write(f"{Path(path).stem} · {label}: {rows[f'{Path(path).stem}/all · {label}']}")
    summary = {"datasets": datasets, "index": str(root), "files": files, "milvus": str(db), "rows": rows}
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    table = [{"_name": k, **v} for k, v in rows.items()]
    (out / "report.md").write_text(
        "# Stores: the same questions on both\n\n" + md_table(table, COLS, "dataset/split · store") + "\n\n" + __doc__,
        encoding="utf-8",
    )
    return summary


def print_summary(out: Path, summary: dict[str, Any]) -> None:
    print(console_table([{"_name": k, **v} for k, v in summary["rows"].items()], COLS, "dataset/split · store"))
    print(f"wrote {out}/summary.json, report.md")
