"""Incremental updates: only new documents are embedded, duplicates are indexed once."""

from __future__ import annotations

import numpy as np
import pytest

from index import builder, store
from rag.document import prepare_bytes
from rag.errors import RagError

NEW_TEXT = "某县关于加快光伏产业发展的通知\n力争到2026年，全县光伏装机容量达到12.5万千瓦，建成3个分布式光伏示范村。\n"
NEW_DOC = NEW_TEXT.encode("gbk")


def test_add_embeds_only_the_new_document(index_copy, embedder):
    before = store.load(index_copy)
    old_rows = {c.id: before.vectors[i] for i, c in enumerate(before.chunks)}
    doc = prepare_bytes(NEW_DOC, "光伏.txt")
    idx, report = builder.add([doc], index_copy, embedder)
    assert report.added == ["光伏.txt"] and report.version == idx.version
    after = store.load(index_copy)
    assert after.version == report.version != before.version
    assert set(after.docs) == set(before.docs) | {"光伏.txt"}
    for i, c in enumerate(after.chunks):
        if c.id in old_rows:
            assert np.array_equal(after.vectors[i], old_rows[c.id])  # reused, not re-embedded
    new_chunks = [c for c in after.chunks if c.doc_id == "光伏.txt"]
    assert new_chunks and "12.5万千瓦" in new_chunks[0].text


def test_same_content_twice_is_indexed_once(index_copy, embedder):
    builder.add([prepare_bytes(NEW_DOC, "a.txt")], index_copy, embedder)
    _, report = builder.add([prepare_bytes(NEW_DOC, "b.txt")], index_copy, embedder)
    assert report.added == [] and "same content as a.txt" in report.skipped[0]
    assert "b.txt" not in store.load(index_copy).docs


def test_replace_changed_document(index_copy, embedder):
    builder.add([prepare_bytes(NEW_DOC, "a.txt")], index_copy, embedder)
    changed = NEW_DOC.replace("12.5".encode("gbk"), "15.0".encode("gbk"))
    _, report = builder.add([prepare_bytes(changed, "a.txt")], index_copy, embedder)
    assert report.replaced == ["a.txt"]
    texts = [c.text for c in store.load(index_copy).chunks if c.doc_id == "a.txt"]
    assert any("15.0万千瓦" in t for t in texts) and not any("12.5万千瓦" in t for t in texts)


def test_remove(index_copy):
    idx, report = builder.remove(["004_9df9e4a75860d1fb.txt"], index_copy)
    assert report.removed == ["004_9df9e4a75860d1fb.txt"] and report.version == idx.version
    loaded = store.load(index_copy)
    assert "004_9df9e4a75860d1fb.txt" not in loaded.docs
    assert all(c.doc_id != "004_9df9e4a75860d1fb.txt" for c in loaded.chunks)
    assert len(loaded.chunks) == loaded.faiss_index.ntotal == len(loaded.vectors)


def test_remove_unknown_is_an_error(index_copy):
    with pytest.raises(RagError, match="not in the index"):
        builder.remove(["nope.txt"], index_copy)


def test_hnsw_index_type(tmp_path, corpus_docs, embedder):
    idx = builder.build(corpus_docs[:2], tmp_path / "h", embedder, index_type="hnsw")
    assert store.load(tmp_path / "h").manifest.index_type == "hnsw"
    assert idx.faiss_index.ntotal == len(idx.chunks)
