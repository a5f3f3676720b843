"""index/dense.py: HNSW's efSearch follows the index size (eval scale measured where 128 stops holding recall@10)."""

from __future__ import annotations

import numpy as np

from index import dense


def test_ef_search_grows_with_the_index_size():
    assert dense.ef_search_for(0) == dense.ef_search_for(10_000) == dense.EF_SEARCH == 128
    sizes = [10_000, 10_001, 100_000, 100_001, 1_000_000, 5_000_000]
    efs = [dense.ef_search_for(n) for n in sizes]
    assert efs == sorted(efs) and efs[-1] == efs[-2] == dense.EF_SEARCH_BY_SIZE[-1][1] > efs[2] > efs[0]


def _vectors(n: int, dim: int = 16) -> np.ndarray:
    v = np.random.default_rng(0).standard_normal((n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_build_faiss_sets_the_size_dependent_ef_search(monkeypatch):
    small = dense.build_faiss(_vectors(200), "hnsw")
    assert small.hnsw.efSearch == 128 and (small.hnsw.efConstruction, small.ntotal) == (dense.EF_CONSTRUCTION, 200)
    table = ((100, 128), (1_000, 512))  # thresholds lowered so a real index of 200 vectors is "large"
    monkeypatch.setattr(dense, "EF_SEARCH_BY_SIZE", table)
    large = dense.build_faiss(_vectors(200), "hnsw")
    assert large.hnsw.efSearch == 512
    _, ids = dense.search(large, _vectors(1)[0], 5)
    assert len(ids) == 5
