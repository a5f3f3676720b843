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


def test_a_saved_or_grown_hnsw_index_searches_with_the_ef_search_of_its_size_now(tmp_path, monkeypatch):
    """efSearch is stored in the file at build time; searches use the value for the index's current size."""
    import faiss

    index = dense.build_faiss(_vectors(200), "hnsw")
    index.hnsw.efSearch = 16  # as an older build would have saved it
    faiss.write_index(index, str(tmp_path / "d.faiss"))
    loaded = faiss.read_index(str(tmp_path / "d.faiss"))
    monkeypatch.setattr(dense, "EF_SEARCH_BY_SIZE", ((100, 128), (1_000, 512)))
    assert dense.search_params(loaded).efSearch == 512
    loaded.add(_vectors(900))  # grown past the next threshold by incremental adds
    assert dense.search_params(loaded).efSearch == 512 and loaded.ntotal == 1_100
    # a scope keeps its rows and the size's efSearch; a flat index needs no parameters unless scoped
    scoped = dense.search_params(loaded, faiss.IDSelectorBatch(np.arange(10, dtype=np.int64)))
    assert scoped.efSearch == 512
    _, ids = dense.search(loaded, _vectors(1)[0], 5, faiss.IDSelectorBatch(np.arange(10, dtype=np.int64)))
    assert set(ids) <= set(range(10)) and len(ids) == 5
    flat = dense.build_faiss(_vectors(50))
    assert dense.search_params(flat) is None
    assert set(dense.search(flat, _vectors(1)[0], 3, faiss.IDSelectorBatch(np.array([1, 2, 3])))[1]) == {1, 2, 3}
