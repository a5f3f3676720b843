"""Build and update the hybrid index: prepare → chunk → embed → persist.

Updates re-embed only new or changed documents; vectors of the others are
reused from the current version, and FAISS/BM25 are rebuilt from stored
vectors and tokens (milliseconds), never from the model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from index import calibrate, store
from index.embed import Embedder
from index.store import Manifest
from index.stores import IndexStore, SearchIndex, as_store
from rag.chunk import ChunkSettings, chunk_document
from rag.errors import IndexStoreError, RagError
from rag.types import Document

Progress = Callable[[float, str], None]


def prep_version() -> str:
    """Fingerprint of the code that turns files into chunks: a change there makes an index stale."""
    import hashlib

    import index.bm25
    import rag.chunk
    import rag.clean
    import rag.law
    import rag.load
    import rag.metadata

    h = hashlib.sha256()
    for mod in (rag.load, rag.clean, rag.metadata, rag.law, rag.chunk, index.bm25):
        h.update(Path(mod.__file__).read_bytes())
    return h.hexdigest()[:16]


@dataclass
class UpdateReport:
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # reason strings
    version: str = ""


def _embed_docs(docs: list[Document], embedder: Embedder, settings: ChunkSettings, progress: Progress | None):
    chunks = [
        c
        for d in tqdm(docs, desc="chunking", unit="doc", disable=progress is not None)
        for c in chunk_document(d, settings)
    ]
    texts = [c.embed_text() for c in chunks]
    if progress is None:
        vectors = embedder.embed_passages(texts, progress=True)
    else:
        rows = []
        for i in range(0, len(texts), 16):
            rows.append(embedder.embed_passages(texts[i : i + 16]))
            progress(min(1.0, (i + 16) / max(len(texts), 1)), f"embedding {min(i + 16, len(texts))}/{len(texts)}")
        vectors = np.vstack(rows) if rows else np.zeros((0, embedder.dim), dtype=np.float32)
    return chunks, vectors


def build(
    docs: list[Document],
    root: Path | str | IndexStore,
    embedder: Embedder,
    settings: ChunkSettings | None = None,
    index_type: str = "flat",
    progress: Progress | None = None,
) -> SearchIndex:
    """Index exactly these documents (a duplicate by content once) into a folder or any IndexStore."""
    target = as_store(root)
    settings = settings or ChunkSettings()
    unique: dict[str, Document] = {}
    hashes: set[str] = set()
    for d in docs:
        if d.content_hash not in hashes:
            unique[d.doc_id] = d
            hashes.add(d.content_hash)
    chunks, vectors = _embed_docs(list(unique.values()), embedder, settings, progress)
    manifest = Manifest(store.FORMAT_VERSION, embedder.name, embedder.dim, settings.size, settings.overlap, index_type)
    manifest.prep_version = prep_version()
    _set_floor(manifest, calibrate.best_in_vectors(vectors, calibrate.probe_vectors(embedder)))
    return target.replace_all(manifest, unique, chunks, vectors)


def _set_floor(manifest: Manifest, best: np.ndarray | None) -> None:
    """Store the refusal floor with the index it was measured on (None: left to the reader to measure)."""
    manifest.refuse_below = None if best is None else calibrate.floor_of(best)
    manifest.calibration = calibrate.METHOD if manifest.refuse_below is not None else ""


def _kept_best(target: IndexStore, manifest: Manifest, probes: np.ndarray, leaving: set[str]) -> np.ndarray:
    """The probes' best similarities among the documents an update keeps, read through the store's search."""
    keep = set(manifest.documents) - leaving
    if not keep:
        return np.full(len(probes), -1.0, dtype=np.float32)
    return calibrate.best_in_index(target.open(verify=False), probes, keep)


def _current_manifest(target: IndexStore, embedder: Embedder) -> Manifest:
    """The manifest to update, with the embedder guard; a new one when the store is still empty."""
    if not target.exists():
        manifest = Manifest(
            store.FORMAT_VERSION, embedder.name, embedder.dim, ChunkSettings.size, ChunkSettings.overlap, "flat"
        )
        return manifest
    manifest = target.read_manifest()
    if manifest.embedder != embedder.name:
        raise IndexStoreError(
            f"index at {target.spec} was built with embedder '{manifest.embedder}' (dim {manifest.dim}), "
            f"but '{embedder.name}' is configured; its vectors are not comparable. "
            + store.REBUILD_HINT.format(path=target.spec)
        )
    return manifest


def add(
    docs: Iterable[Document],
    root: Path | str | IndexStore,
    embedder: Embedder,
    progress: Progress | None = None,
) -> tuple[SearchIndex | None, UpdateReport]:
    """Add new documents and replace changed ones; only they are embedded. Returns (index or None, report)."""
    target = as_store(root)
    report = UpdateReport()
    with target.write_lock():
        manifest = _current_manifest(target, embedder)
        settings = ChunkSettings(manifest.chunk_size, manifest.chunk_overlap)
        known = {v["content_hash"]: k for k, v in manifest.documents.items()}
        new: dict[str, Document] = {}
        for d in docs:
            if d.content_hash in known:
                report.skipped.append(f"{d.doc_id}: same content as {known[d.content_hash]}, not indexed twice")
                continue
            (report.replaced if d.doc_id in manifest.documents else report.added).append(d.doc_id)
            new[d.doc_id] = d
            known[d.content_hash] = d.doc_id
        if not new:
            return None, report
        chunks, vectors = _embed_docs(list(new.values()), embedder, settings, progress)
        probes = calibrate.probe_vectors(embedder)
        kept = _kept_best(target, manifest, probes, set(new)) if target.exists() else None
        new_best = calibrate.best_in_vectors(vectors, probes)
        _set_floor(manifest, new_best if kept is None else np.maximum(kept, new_best))
        updated, report.version = target.apply(manifest, new, chunks, vectors, set())
    return updated, report


def remove(
    doc_ids: Iterable[str], root: Path | str | IndexStore, embedder: Embedder | None = None
) -> tuple[SearchIndex, UpdateReport]:
    """Remove documents. With the index's embedder the refusal floor is measured again on what stays;
    without it the floor is dropped from the manifest and measured when the index is next opened."""
    target = as_store(root)
    report = UpdateReport()
    with target.write_lock():
        manifest = target.read_manifest()
        if embedder is not None and manifest.embedder != embedder.name:
            target.open(embedder=embedder.name)  # raises the embedder guard's error
        wanted = set(doc_ids)
        missing = wanted - set(manifest.documents)
        if missing:
            raise RagError(f"not in the index: {', '.join(sorted(missing))}")
        probes = calibrate.probe_vectors(embedder) if embedder is not None else None
        _set_floor(manifest, None if probes is None else _kept_best(target, manifest, probes, wanted))
        empty = np.zeros((0, manifest.dim), dtype=np.float32)
        updated, report.version = target.apply(manifest, {}, [], empty, wanted)
        report.removed = sorted(wanted)
    return updated, report
