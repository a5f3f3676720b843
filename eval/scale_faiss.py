"""FAISS at scale: exact (IndexFlatIP) and HNSW (IndexHNSWFlat) with index/dense.py's parameters, plus the
product's BM25 and hybrid retriever over the same chunks.

Ground truth for recall@10 is the flat index's own top 10 (exact inner product).
HNSW is searched at several efSearch values; the report picks the smallest one
whose recall@10 reaches the target, so its p95 is the latency at that recall.
Other efConstruction values can be built alongside for comparison (`hnsw_row`, recall only).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import faiss
import numpy as np
from tqdm import tqdm

from eval.scale_data import Collection
from eval.scale_measure import measured, one_thread, pct, size_mb, timed_ms
from index.dense import EF_CONSTRUCTION, HNSW_M
from index.dense import EF_SEARCH as PRODUCT_EF_SEARCH

EF_SEARCH = (16, 32, 64, 128, 256, 512)  # the sweep (eval/scale_milvus.py sweeps the same values)
K = 10


def build(vectors: np.ndarray, kind: str, ef_construction: int = EF_CONSTRUCTION) -> faiss.Index:
    """As index/dense.build_faiss (same M, efConstruction unless given), added in batches with progress."""
    dim = vectors.shape[1]
    if kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = ef_construction
        index.hnsw.efSearch = PRODUCT_EF_SEARCH
    else:
        index = faiss.IndexFlatIP(dim)
    add_batch = 50_000
    for i in tqdm(range(0, len(vectors), add_batch), desc=f"faiss {kind}", unit="x50k", leave=False):
        index.add(vectors[i : i + add_batch])
    return index


def latencies(index: faiss.Index, queries: np.ndarray, k: int = K) -> tuple[np.ndarray, list[float]]:
    """One query at a time, as a server answers them: (ids of every query, ms per query)."""
    ids = np.zeros((len(queries), k), dtype=np.int64)
    ms = []
    with one_thread():
        for i, q in enumerate(queries):
            (_, found), t = timed_ms(lambda q=q: index.search(q.reshape(1, -1), k))  # type: ignore[misc]
            ids[i] = found[0]
            ms.append(t)
    return ids, ms


def ef_sweep(
    search: Callable[[int], tuple[np.ndarray, list[float]]], truth: np.ndarray, target: float
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Recall and latency at each efSearch of `search(ef) -> (ids, ms)`, and the first setting reaching `target`."""
    sweep = []
    for ef in EF_SEARCH:
        found, ms = search(ef)
        sweep.append(
            {
                "efSearch": ef,
                "recall@10": recall_at_k(found, truth),
                "query_p50_ms": pct(ms, 50),
                "query_p95_ms": pct(ms, 95),
            }
        )
    return sweep, next((s for s in sweep if s["recall@10"] >= target), sweep[-1])


def recall_at_k(found: np.ndarray, truth: np.ndarray) -> float:
    """Share of the exact top k that the approximate top k holds, averaged over queries."""
    hits = [len(set(f[f >= 0].tolist()) & set(t.tolist())) / len(t) for f, t in zip(found, truth, strict=True)]
    return round(float(np.mean(hits)), 4)


def index_disk_mb(index: faiss.Index) -> float:
    with tempfile.TemporaryDirectory(prefix="rag-scale-") as tmp:
        path = Path(tmp) / "dense.faiss"
        faiss.write_index(index, str(path))
        return size_mb(path)


def measure(
    col: Collection, queries: np.ndarray, target: float
) -> tuple[dict[str, Any], dict[str, faiss.Index], np.ndarray]:
    """Flat and HNSW rows of the report (build, memory, disk, latency, recall); also the indexes and the
    exact top 10 of every query (the ground truth)."""
    out: dict[str, Any] = {}
    with measured() as step:
        flat = build(col.vectors, "flat")
    truth, ms = latencies(flat, queries)
    out["faiss_flat"] = {
        **step.as_dict("build"),
        "disk_mb": index_disk_mb(flat),
        "query_p50_ms": pct(ms, 50),
        "query_p95_ms": pct(ms, 95),
        "recall@10": recall_at_k(truth, truth),
    }
    out["faiss_hnsw"], hnsw = hnsw_row(col.vectors, queries, truth, target, EF_CONSTRUCTION)
    return out, {"flat": flat, "hnsw": hnsw}, truth


def hnsw_row(
    vectors: np.ndarray, queries: np.ndarray, truth: np.ndarray, target: float, ef_construction: int
) -> tuple[dict[str, Any], faiss.Index]:
    """One HNSW build and its efSearch sweep; the index is left at the chosen efSearch."""
    with measured() as step:
        hnsw = build(vectors, "hnsw", ef_construction)

    def search(ef: int) -> tuple[np.ndarray, list[float]]:
        hnsw.hnsw.efSearch = ef
        return latencies(hnsw, queries)

    sweep, chosen = ef_sweep(search, truth, target)
    hnsw.hnsw.efSearch = chosen["efSearch"]
    at_default = next((s for s in sweep if s["efSearch"] == PRODUCT_EF_SEARCH), None)
    return {
        **step.as_dict("build"),
        "disk_mb": index_disk_mb(hnsw),
        "M": HNSW_M,
        "efConstruction": ef_construction,
        **chosen,
        "meets_target": chosen["recall@10"] >= target,
        "product_efSearch": PRODUCT_EF_SEARCH,
        "recall@10_at_product_efSearch": at_default["recall@10"] if at_default else None,
        "sweep": sweep,
    }, hnsw
