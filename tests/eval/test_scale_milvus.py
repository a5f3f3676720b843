"""eval/scale_milvus.py's build: indexes created after the inserts, every segment indexed when `fill` returns."""

from __future__ import annotations

import numpy as np
import pytest

from eval.scale_data import Collection
from rag.types import Chunk

pytest.importorskip("milvus_lite")


def _collection(n: int = 300, dim: int = 16) -> Collection:
    rng = np.random.default_rng(0)
    vecs = rng.standard_normal((n, dim)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    words = ["近零碳城市", "财政补贴", "排污许可", "数据安全", "住房公积金"]
    chunks = [Chunk(f"d:{i}", f"d{i}.txt", f"第{i}条 {words[i % 5]}的规定{i}", "", 0, 1) for i in range(n)]
    return Collection(chunks, vecs, np.arange(n), np.zeros(n, dtype=np.int64), 0, n)


def test_fill_builds_the_indexes_after_the_inserts(tmp_path):
    from pymilvus import MilvusClient

    from eval import scale_milvus as sm

    col = _collection()
    client = MilvusClient(str(tmp_path / "s.db"))
    try:
        sm.create(client, col.vectors.shape[1])
        assert client.list_indexes(sm.NAME) == []  # no index while rows go in
        sm.fill(client, col)
        assert {client.describe_index(sm.NAME, n)["index_type"] for n in client.list_indexes(sm.NAME)} == {
            "HNSW",
            "SPARSE_INVERTED_INDEX",
        }
        ids, _ = sm.dense_search(client, col.vectors[:5], 64)
        assert ids[:, 0].tolist() == [0, 1, 2, 3, 4]  # each vector finds itself
        res = client.search(sm.NAME, data=[sm.bm25_text("排污许可")], anns_field="sparse", limit=5,
                            search_params={"metric_type": "BM25"})[0]  # fmt: skip
        assert res and all(int(h["id"]) % 5 == 2 for h in res)
    finally:
        client.close()
