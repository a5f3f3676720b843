"""FAISS at scale: exact (IndexFlatIP) and HNSW (IndexHNSWFlat) with index/dense.py's parameters, plus the
product's BM25 and hybrid retriever over the same chunks.

Ground truth for recall@10 is the flat index's own top 10 (exact inner product).
HNSW is searched at several efSearch values; the report picks the smallest one
whose recall@10 reaches the target, so its p95 is the latency at that recall.
Other efConstruction and M values can be built alongside for comparison (`hnsw_row`).

recall@10 (the exact top-10 ids) is the acceptance figure. Beside it, as a
secondary figure, each sweep row has `recall@10_tied`, as ann-benchmarks counts:
a returned neighbour counts when its similarity is within TIE_EPS of the exact
10th similarity or above, so near-ties (noisy copies of one chunk) do not count as misses.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from eval.scale_data import Collection
from eval.scale_measure import measured, one_thread, pct, size_mb, timed_ms
from index.dense import EF_CONSTRUCTION, HNSW_M, build_faiss, ef_search_for

EF_SEARCH = (16, 32, 64, 128, 256, 512, 768, 1024)  # the sweep (eval/scale_milvus.py sweeps the same values)
K = 10
TIE_EPS = 1e-3  # recall@10_tied: similarity slack below the exact 10th


def build(vectors: np.ndarray, kind: str, ef_construction: int = EF_CONSTRUCTION, m: int = HNSW_M) -> faiss.Index:
    """index/dense.build_faiss (same M and efConstruction unless given), with a progress bar."""
    return build_faiss(vectors, kind, ef_construction, m, progress=True)


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
    search: Callable[[int], tuple[np.ndarray, list[float]]],
    truth: np.ndarray,
    target: float,
    tied: Callable[[np.ndarray], float] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Recall and latency at each efSearch of `search(ef) -> (ids, ms)`, and the first setting reaching `target`
    (by strict recall@10); `tied(ids)`, when given, adds the secondary recall@10_tied."""
    sweep = []
    for ef in EF_SEARCH:
        found, ms = search(ef)
        row = {
            "efSearch": ef,
            "recall@10": recall_at_k(found, truth),
            "query_p50_ms": pct(ms, 50),
            "query_p95_ms": pct(ms, 95),
        }
        if tied is not None:
            row["recall@10_tied"] = tied(found)
        sweep.append(row)
    return sweep, next((s for s in sweep if s["recall@10"] >= target), sweep[-1])


def recall_at_k(found: np.ndarray, truth: np.ndarray) -> float:
    """Share of the exact top k that the approximate top k holds, averaged over queries."""
    hits = [len(set(f[f >= 0].tolist()) & set(t.tolist())) / len(t) for f, t in zip(found, truth, strict=True)]
    return round(float(np.mean(hits)), 4)


def recall_tied(found: np.ndarray, truth: np.ndarray, vectors: np.ndarray, queries: np.ndarray) -> float:
    """Secondary (ann-benchmarks style): share of the k returned neighbours whose similarity is at least the
    exact k-th similarity minus TIE_EPS, averaged over queries."""
    kth = np.einsum("ij,ij->i", queries, vectors[truth[:, -1]])
    hits = []
    for q, f, t in zip(queries, found, kth, strict=True):
        f = f[f >= 0]
        hits.append(float((vectors[f] @ q >= t - TIE_EPS).sum()) / truth.shape[1])
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
    vectors: np.ndarray,
    queries: np.ndarray,
    truth: np.ndarray,
    target: float,
    ef_construction: int,
    m: int = HNSW_M,
) -> tuple[dict[str, Any], faiss.Index]:
    """One HNSW build and its efSearch sweep; the index is left at the chosen efSearch. `build_threads`: the
    OpenMP threads FAISS may use to build (set OMP_NUM_THREADS=1 on a shared machine)."""
    threads = faiss.omp_get_max_threads()
    with measured() as step:
        hnsw = build(vectors, "hnsw", ef_construction, m)

    def search(ef: int) -> tuple[np.ndarray, list[float]]:
        hnsw.hnsw.efSearch = ef
        return latencies(hnsw, queries)

    sweep, chosen = ef_sweep(search, truth, target, lambda found: recall_tied(found, truth, vectors, queries))
    hnsw.hnsw.efSearch = chosen["efSearch"]
    product_ef = ef_search_for(len(vectors))
    at_default = next((s for s in sweep if s["efSearch"] == product_ef), None)
    return {
        **step.as_dict("build"),
        "build_threads": threads,
        "disk_mb": index_disk_mb(hnsw),
        "M": m,
        "efConstruction": ef_construction,
        **chosen,
        "meets_target": chosen["recall@10"] >= target,
        "product_efSearch": product_ef,
        "recall@10_at_product_efSearch": at_default["recall@10"] if at_default else None,
        "sweep": sweep,
    }, hnsw
