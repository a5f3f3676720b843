"""FAISS inner-product index: exact by default, HNSW for corpora too large to scan."""

from __future__ import annotations

import faiss
import numpy as np
from tqdm import tqdm

INDEX_TYPES = ("flat", "hnsw")
HNSW_M = 32  # neighbours per node
EF_CONSTRUCTION = 40  # FAISS's default (eval scale measures recall against it)
EF_SEARCH = 128  # up to 10^4 chunks
# (up to this many vectors, efSearch): the smallest efSearch of eval scale's sweep keeping recall@10 >= 0.95 at
# that size (10^4: real chunks; 10^5 and 10^6: real chunks plus mixtures of two; README "Scale")
EF_SEARCH_BY_SIZE = ((10_000, EF_SEARCH), (100_000, 256), (1_000_000, 1024))


def ef_search_for(ntotal: int) -> int:
    """HNSW efSearch for an index of `ntotal` vectors: the value measured at the next measured size up (above
    10^6, the 10^6 value: not measured there)."""
    return next((ef for n, ef in EF_SEARCH_BY_SIZE if ntotal <= n), EF_SEARCH_BY_SIZE[-1][1])


ADD_BATCH = 50_000  # vectors added at a time: a progress bar for large builds


def build_faiss(
    vectors: np.ndarray,
    kind: str = "flat",
    ef_construction: int = EF_CONSTRUCTION,
    m: int = HNSW_M,
    progress: bool = False,
) -> faiss.Index:
    """A flat or HNSW inner-product index of `vectors` (M and efConstruction other than the product's only for
    eval scale's comparisons); with `progress`, a bar over the batches added."""
    if kind not in INDEX_TYPES:
        raise ValueError(f"unknown index type {kind!r}; choose one of {INDEX_TYPES}")
    dim = vectors.shape[1]
    if kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = ef_construction
        index.hnsw.efSearch = ef_search_for(len(vectors))
    else:
        index = faiss.IndexFlatIP(dim)
    starts = range(0, len(vectors), ADD_BATCH)
    for i in tqdm(starts, desc=f"faiss {kind}", unit="batch", leave=False, disable=not progress):
        index.add(np.ascontiguousarray(vectors[i : i + ADD_BATCH], dtype=np.float32))
    return index


def search_params(index: faiss.Index, selector: faiss.IDSelector | None = None) -> faiss.SearchParameters | None:
    """What a search passes: an HNSW index searches with the efSearch of its size now (`ef_search_for`), not the
    one stored when it was built or saved, since incremental adds grow it; `selector` limits the rows (a scope)."""
    if isinstance(index, faiss.IndexHNSW):
        params = faiss.SearchParametersHNSW(efSearch=ef_search_for(index.ntotal))
    elif selector is not None:
        params = faiss.SearchParameters()
    else:
        return None
    if selector is not None:
        params.sel = selector
    return params


def search(
    index: faiss.Index, query: np.ndarray, k: int, selector: faiss.IDSelector | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Top-k (scores, positions) for one L2-normalised query vector; -1 positions dropped.

    `selector` limits the search to those rows (a scope), so k stays k.
    """
    if index.ntotal == 0:
        return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
    q = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
    params = search_params(index, selector)
    if params is None:
        scores, ids = index.search(q, min(k, index.ntotal))
    else:
        scores, ids = index.search(q, min(k, index.ntotal), params=params)
    keep = ids[0] >= 0
    return scores[0][keep], ids[0][keep]
