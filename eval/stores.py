"""Retrieval only, no LLM: hit@1/hit@5/mrr of the same questions on the file store and on Milvus.

Both stores hold the same chunks and the same vectors: the evaluation index
(index/stores.FileStore, built or reused from the eval cache) is copied into a
milvus-lite file with MilvusStore.bulk_add, so only the stores differ: FAISS
exact search vs Milvus HNSW, bm25s with this project's jieba tokens vs Milvus's
BM25 Function with its jieba analyzer, and this program's weighted RRF vs
Milvus's RRFRanker (fusion=engine) — or the same weighted RRF over Milvus's
two candidate lists (fusion=client), which separates the fusion from the rest.

    python -m eval stores --out artifacts/stores [--dataset eval/data/dev.jsonl] [--no-extra]
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from eval.ablate import retrieval_scores
from eval.common import cache_root, eval_index
from eval.dataset import load_dataset
from eval.report import console_table, md_table

COLS = ["hit@1", "hit@5", "mrr", "n", "ms_per_q"]


def milvus_copy(file_root: Path, db: Path, fusion: str, rrf_k: int) -> Any:
    """The file index's chunks and vectors in a milvus-lite file (built once per file index version)."""
    from index import store
    from index.milvus_store import MilvusStore

    index = store.load(file_root)
    target = MilvusStore(f"milvus:{db}", collection="chunks", fusion=fusion, rrf_k=rrf_k)
    if not target.exists() or target.read_manifest().documents.keys() != index.manifest.documents.keys():
        target.drop()
        target.bulk_add(index.docs, index.chunks, index.vectors, index.manifest.embedder, index.manifest.dim)
    return target


def run(out: Path, datasets: list[str], settings: Any, with_extra: bool = True) -> dict[str, Any]:
    from index.embed import load_embedder
    from index.stores import FileStore
    from rag.retrieve import Retriever

    out.mkdir(parents=True, exist_ok=True)
    root, files = eval_index(settings, with_extra=with_extra)
    embedder = load_embedder(settings.embedder)
    db = cache_root() / f"milvus-{root.name}.db"
    indexes = {"file (FAISS flat + bm25s, weighted RRF)": FileStore(root).open(embedder.name)}
    for fusion, label in (("engine", "milvus-lite (HNSW + BM25 Function, RRFRanker)"),
                          ("client", "milvus-lite (HNSW + BM25 Function, weighted RRF)")):  # fmt: skip
        indexes[label] = milvus_copy(root, db, fusion, settings.rrf_k).open(embedder.name)
    rows: dict[str, dict[str, Any]] = {}
    for path in datasets:
        questions = load_dataset(path)
        for split in ("all", "test"):
            qs = questions if split == "all" else [q for q in questions if q.split == "test"]
            for label, index in indexes.items():
                retriever = Retriever(index, embedder, settings)
                retriever.search("预热")  # the first Milvus search loads its analyzer: not a question's cost
                t0 = time.perf_counter()
                scores = retrieval_scores(SimpleNamespace(retriever=retriever), qs, "hybrid", settings.top_k)
                scores["ms_per_q"] = round((time.perf_counter() - t0) * 1000 / max(scores["n"], 1), 1)
                rows[f"{Path(path).stem}/{split} · {label}"] = scores
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
