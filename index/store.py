"""The persisted hybrid index: documents, chunks, vectors, FAISS, BM25 and a manifest, written atomically.

Layout: each write goes to a fresh version folder `v-<time>`; only when every
file is on disk does the `CURRENT` pointer switch to it (os.replace), so a
build killed at any moment leaves the last good index serving. Files carry
sha256 sums in the manifest so damage is detected on load, not served.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from index.bm25 import BM25Index, tokenize
from index.dense import ADD_BATCH, build_faiss
from index.stores import Signals, file_signals
from rag.errors import IndexStoreError
from rag.types import Chunk, CleanReport, DocMeta, Document, Scope

FORMAT_VERSION = 1
REBUILD_HINT = "rebuild it with: python -m rag index build --index {path}"


@dataclass
class Manifest:
    format_version: int
    embedder: str
    dim: int
    chunk_size: int
    chunk_overlap: int
    index_type: str
    documents: dict[str, dict[str, Any]] = field(
        default_factory=dict
    )  # doc_id -> {content_hash, title, chunks, chars_…}
    files: dict[str, str] = field(default_factory=dict)  # file -> sha256
    updated: str = ""
    prep_version: str = ""  # fingerprint of the cleaning/chunking code that produced the chunks
    refuse_below: float | None = None  # refusal floor calibrated for this embedder and content (index/calibrate.py)
    calibration: str = ""  # how refuse_below was measured


@dataclass
class HybridIndex:
    """Everything retrieval needs, in memory. Chunk i ↔ vector row i ↔ FAISS id i ↔ BM25 doc i."""

    manifest: Manifest
    docs: dict[str, Document]
    chunks: list[Chunk]
    vectors: np.ndarray
    faiss_index: faiss.Index
    bm25: BM25Index
    version: str = ""

    @classmethod
    def create(
        cls,
        manifest: Manifest,
        docs: dict[str, Document],
        chunks: list[Chunk],
        vectors: np.ndarray,
    ) -> HybridIndex:
        manifest.documents = manifest_documents(docs, chunks)
        bm25 = BM25Index([tokenize(c.embed_text()) for c in chunks])
        dense = build_faiss(vectors, manifest.index_type, progress=len(vectors) > ADD_BATCH)  # a bar for long builds
        return cls(manifest, docs, chunks, vectors, dense, bm25)

    def signals(self, qvec: np.ndarray, query: str, candidates: int, scope: Scope | None = None) -> Signals:
        """The SearchIndex protocol (index/stores.py): FAISS and BM25 candidates within the scope."""
        return file_signals(self, qvec, query, candidates, scope)

    def without(self, doc_ids: set[str]) -> HybridIndex:
        keep = [i for i, c in enumerate(self.chunks) if c.doc_id not in doc_ids]
        docs = {k: v for k, v in self.docs.items() if k not in doc_ids}
        manifest = dataclasses.replace(self.manifest, documents={}, files={})
        vectors = self.vectors[keep] if len(keep) else np.zeros((0, self.manifest.dim), dtype=np.float32)
        return HybridIndex.create(manifest, docs, [self.chunks[i] for i in keep], vectors)


def manifest_documents(docs: dict[str, Document], chunks: list[Chunk]) -> dict[str, dict[str, Any]]:
    """The manifest's entry per document (both stores write the same): hash, title, chunk count, cleaning."""
    counts: dict[str, int] = {}
    for c in chunks:
        counts[c.doc_id] = counts.get(c.doc_id, 0) + 1
    return {
        d.doc_id: {
            "content_hash": d.content_hash,
            "title": d.meta.title,
            "chunks": counts.get(d.doc_id, 0),
            **clean_summary(d.report),
        }
        for d in docs.values()
    }


def clean_summary(report: CleanReport) -> dict[str, Any]:
    """What cleaning kept and removed of a document, for the manifest (the removed lines are in docs.jsonl)."""
    return {
        "chars_before": report.chars_before,
        "chars_kept": report.chars_after,
        "chars_removed": report.chars_removed,
        "removed_share": round(report.removed_share, 4),
        "removed_lines": len(report.removed_lines),
    }


# --- (de)serialisation -----------------------------------------------------


def file_sha256(path: Path) -> str:
    """sha256 of a file, read in 1 MB blocks."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def doc_to_json(d: Document) -> dict[str, Any]:
    return {
        "doc_id": d.doc_id,
        "text": d.text,
        "content_hash": d.content_hash,
        "meta": dataclasses.asdict(d.meta),
        "report": dataclasses.asdict(d.report),
    }


def doc_from_json(o: dict[str, Any]) -> Document:
    return Document(o["doc_id"], o["text"], DocMeta(**o["meta"]), o["content_hash"], CleanReport.from_json(o["report"]))


def _write_jsonl(path: Path, rows: Iterator[dict[str, Any]] | list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def _fsync_tree(folder: Path) -> None:
    for p in folder.rglob("*"):
        if p.is_file():
            with p.open("rb") as f:
                os.fsync(f.fileno())


def _write_version(index: HybridIndex, folder: Path) -> None:
    folder.mkdir(parents=True)
    _write_jsonl(folder / "docs.jsonl", [doc_to_json(d) for d in index.docs.values()])
    _write_jsonl(folder / "chunks.jsonl", [dataclasses.asdict(c) for c in index.chunks])
    np.save(folder / "vectors.npy", index.vectors.astype(np.float32))
    faiss.write_index(index.faiss_index, str(folder / "dense.faiss"))
    (folder / "bm25").mkdir()
    if index.chunks:
        index.bm25.save(folder / "bm25")
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    index.manifest.files = {str(p.relative_to(folder)): file_sha256(p) for p in files}
    index.manifest.updated = time.strftime("%Y-%m-%dT%H:%M:%S")
    (folder / "manifest.json").write_text(json.dumps(dataclasses.asdict(index.manifest), ensure_ascii=False, indent=1))
    _fsync_tree(folder)


@contextmanager
def write_lock(root: Path) -> Iterator[None]:
    """One writer at a time; readers never wait (they read the CURRENT version)."""
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".lock").open("w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def save(index: HybridIndex, root: Path, keep_versions: int = 2) -> str:
    """Write a new version and switch CURRENT to it atomically; prune old versions."""
    root.mkdir(parents=True, exist_ok=True)
    version = time.strftime("v-%Y%m%dT%H%M%S") + f"-{time.time_ns() % 1_000_000:06d}"
    staging = root / f".staging-{version}"
    _write_version(index, staging)
    staging.rename(root / version)
    pointer = root / "CURRENT.tmp"
    pointer.write_text(version)
    with pointer.open("rb") as f:
        os.fsync(f.fileno())
    os.replace(pointer, root / "CURRENT")
    dirfd = os.open(root, os.O_RDONLY)
    try:
        os.fsync(dirfd)
    finally:
        os.close(dirfd)
    index.version = version
    _prune(root, keep_versions)
    return version


def _prune(root: Path, keep: int) -> None:
    current = (root / "CURRENT").read_text().strip()
    versions = sorted(p for p in root.glob("v-*") if p.is_dir())
    for p in versions[:-keep]:
        if p.name != current:
            shutil.rmtree(p, ignore_errors=True)
    for p in root.glob(".staging-*"):  # left by a killed build
        shutil.rmtree(p, ignore_errors=True)


def current_version(root: Path) -> Path:
    pointer = root / "CURRENT"
    if not pointer.is_file():
        raise IndexStoreError(f"no index at {root}; " + REBUILD_HINT.format(path=root))
    folder = root / pointer.read_text().strip()
    if not folder.is_dir():
        raise IndexStoreError(f"index pointer at {root} names a missing version; " + REBUILD_HINT.format(path=root))
    return folder


def read_manifest(root: Path) -> Manifest:
    folder = current_version(root)
    try:
        data = json.loads((folder / "manifest.json").read_text())
        if data.get("format_version") != FORMAT_VERSION:
            raise IndexStoreError(
                f"index at {root} has format version {data.get('format_version')}, this program reads "
                f"{FORMAT_VERSION}; " + REBUILD_HINT.format(path=root)
            )
        return Manifest(**data)
    except (OSError, json.JSONDecodeError, TypeError) as exc:
        raise IndexStoreError(
            f"index manifest at {folder} is unreadable ({exc}); " + REBUILD_HINT.format(path=root)
        ) from exc


def load(root: Path, embedder: str | None = None, verify: bool = True) -> HybridIndex:
    """Load the CURRENT version; refuse an index built with another embedder or damaged on disk."""
    root = Path(root)
    folder = current_version(root)
    manifest = read_manifest(root)
    if embedder is not None and manifest.embedder != embedder:
        raise IndexStoreError(
            f"index at {root} was built with embedder '{manifest.embedder}' (dim {manifest.dim}), "
            f"but '{embedder}' is configured; its vectors are not comparable. " + REBUILD_HINT.format(path=root)
        )
    if verify:
        for name, digest in manifest.files.items():
            path = folder / name
            if not path.is_file() or file_sha256(path) != digest:
                raise IndexStoreError(f"index file {path} is missing or damaged; " + REBUILD_HINT.format(path=root))
    try:
        docs = {}
        for line in (folder / "docs.jsonl").read_text(encoding="utf-8").splitlines():
            d = doc_from_json(json.loads(line))
            docs[d.doc_id] = d
        chunks = [Chunk(**json.loads(x)) for x in (folder / "chunks.jsonl").read_text(encoding="utf-8").splitlines()]
        vectors = np.load(folder / "vectors.npy")
        dense = faiss.read_index(str(folder / "dense.faiss"))
        bm25 = BM25Index.load(folder / "bm25", len(chunks))
    except Exception as exc:
        raise IndexStoreError(
            f"index at {folder} could not be read ({exc}); " + REBUILD_HINT.format(path=root)
        ) from exc
    if not (len(chunks) == len(vectors) == dense.ntotal) or (len(vectors) and vectors.shape[1] != manifest.dim):
        raise IndexStoreError(
            f"index at {folder} is inconsistent (chunks/vectors differ); " + REBUILD_HINT.format(path=root)
        )
    return HybridIndex(manifest, docs, chunks, vectors, dense, bm25, version=folder.name)
