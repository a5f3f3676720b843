"""The retrieval store interface: what retrieval and the index builder need, whichever engine holds the index.

Two implementations: `FileStore` (a folder of versioned files: FAISS + bm25s,
index/store.py, the default; its opened version is index.store.HybridIndex) and `index.milvus_store.MilvusStore` (milvus-lite
file or Milvus server). Code above this line (rag/retrieve.py, the builder,
the pipeline) sees only `IndexStore` and `SearchIndex`, and one `Signals` per
question; the contract tests (tests/index/test_store_contract.py) hold both to
the same behaviour.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import faiss
import numpy as np

from rag.scope import allows, row_fields
from rag.types import Chunk, Document, Scope

if TYPE_CHECKING:
    from index.store import HybridIndex, Manifest
    from rag.config import Settings


@dataclass
class Signals:
    """One question's evidence, in positions of `SearchIndex.chunks`, all within the question's scope.

    `dense_ids` and `bm25_ids` are the two candidate rankings (best first; BM25
    only positive scores). `fused` is set when the engine fused them itself
    (Milvus hybrid_search with RRFRanker); otherwise retrieval fuses with its
    own weights. `dense_of`/`bm25_of` give exact scores of any positions, for
    the similarity floor and for ranking outlines, cards and articles.
    """

    dense_ids: np.ndarray
    bm25_ids: np.ndarray
    fused: list[tuple[int, float]] | None = None
    _dense: np.ndarray | None = None  # all chunks (file store)
    _bm25: np.ndarray | None = None
    _lookup: SignalLookup | None = None  # per-position scores fetched from an engine
    _cache: dict[str, dict[int, float]] = field(default_factory=lambda: {"dense": {}, "bm25": {}})

    def dense_of(self, ids: np.ndarray | list[int]) -> np.ndarray:
        return self._of("dense", np.asarray(ids, dtype=np.int64))

    def bm25_of(self, ids: np.ndarray | list[int]) -> np.ndarray:
        return self._of("bm25", np.asarray(ids, dtype=np.int64))

    def _of(self, kind: str, ids: np.ndarray) -> np.ndarray:
        full = self._dense if kind == "dense" else self._bm25
        if full is not None:
            return full[ids]
        cache = self._cache[kind]
        missing = [int(i) for i in ids if int(i) not in cache]
        if missing and self._lookup is not None:
            cache.update(self._lookup(kind, missing))
        return np.array([cache.get(int(i), 0.0) for i in ids], dtype=np.float32)

    def known(self, kind: str, scores: dict[int, float]) -> None:
        """Scores an engine returned with its hits: no second round trip for them."""
        self._cache[kind].update(scores)


class SignalLookup(Protocol):
    def __call__(self, kind: str, ids: list[int]) -> dict[int, float]: ...


class SearchIndex(Protocol):
    """An opened index version: its manifest, documents and chunks, and per-question signals."""

    manifest: Manifest
    docs: dict[str, Document]
    chunks: list[Chunk]  # position i is what Signals call i
    version: str

    def signals(self, qvec: np.ndarray, query: str, candidates: int, scope: Scope | None = None) -> Signals: ...


class IndexStore(Protocol):
    """Where an index lives; every write is all-or-nothing for readers (each implementation says how)."""

    spec: str

    def exists(self) -> bool: ...

    def read_manifest(self) -> Manifest: ...

    def current_version(self) -> str: ...

    def open(self, embedder: str | None = None, verify: bool = True) -> SearchIndex: ...

    def write_lock(self) -> AbstractContextManager[None]: ...

    def replace_all(
        self, manifest: Manifest, docs: dict[str, Document], chunks: list[Chunk], vectors: np.ndarray
    ) -> SearchIndex:
        """Make exactly these documents the index (a build)."""
        ...

    def apply(
        self,
        manifest: Manifest,
        new_docs: dict[str, Document],
        chunks: list[Chunk],
        vectors: np.ndarray,
        remove: set[str],
    ) -> tuple[SearchIndex, str]:
        """Remove documents and add (or replace) others in one visible step; returns the new index and version.

        Call inside write_lock, with the manifest read there (its embedder checked).
        """
        ...


# --- the file store ----------------------------------------------------------


def doc_mask(chunks: list[Chunk], docs: dict[str, Document], scope: Scope | None) -> np.ndarray | None:
    """Rows inside the scope (None: no scope, every row)."""
    if scope is None or scope.is_empty():
        return None
    inside = {d: allows(scope, row_fields(d, doc.meta)) for d, doc in docs.items()}
    return np.array([inside.get(c.doc_id, False) for c in chunks], dtype=bool)


def file_signals(index: HybridIndex, qvec: np.ndarray, query: str, candidates: int, scope: Scope | None) -> Signals:
    """FAISS restricted to the scope's rows by an IDSelector, BM25 scores of other rows set to 0."""
    from index.dense import search as dense_search

    mask = doc_mask(index.chunks, index.docs, scope)
    selector = faiss.IDSelectorBatch(np.flatnonzero(mask).astype(np.int64)) if mask is not None else None
    _, d_ids = dense_search(index.faiss_index, qvec, candidates, selector)
    all_dense = index.vectors @ qvec  # exact similarity for every chunk: cheap, used for the floor and display
    bm25 = index.bm25.scores(query)
    if mask is not None:
        bm25 = np.where(mask, bm25, np.float32(0.0))
    b_ids = np.argsort(-bm25)[:candidates]
    b_ids = b_ids[bm25[b_ids] > 0]
    return Signals(d_ids, b_ids, None, all_dense, bm25)


class FileStore:
    """The folder store of index/store.py: versioned folders, an atomic CURRENT switch, checksummed files."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.spec = str(self.root)

    def exists(self) -> bool:
        return (self.root / "CURRENT").exists()

    def read_manifest(self) -> Manifest:
        from index import store

        return store.read_manifest(self.root)

    def current_version(self) -> str:
        from index import store

        return store.current_version(self.root).name

    def open(self, embedder: str | None = None, verify: bool = True) -> HybridIndex:
        from index import store

        return store.load(self.root, embedder=embedder, verify=verify)

    def write_lock(self) -> AbstractContextManager[None]:
        from index import store

        return store.write_lock(self.root)

    def replace_all(
        self, manifest: Manifest, docs: dict[str, Document], chunks: list[Chunk], vectors: np.ndarray
    ) -> HybridIndex:
        from index import store
        from index.store import HybridIndex

        index = HybridIndex.create(manifest, docs, chunks, vectors)
        with store.write_lock(self.root):
            store.save(index, self.root)
        return index

    def apply(
        self,
        manifest: Manifest,
        new_docs: dict[str, Document],
        chunks: list[Chunk],
        vectors: np.ndarray,
        remove: set[str],
    ) -> tuple[HybridIndex, str]:
        """Rewrite the whole version from the current one: the others' vectors are reused, never re-embedded."""
        from index import store
        from index.store import HybridIndex

        if self.exists():
            current = store.load(self.root, embedder=manifest.embedder)
        else:
            current = HybridIndex.create(manifest, {}, [], np.zeros((0, manifest.dim), dtype=np.float32))
        base = current.without(remove | set(new_docs))
        updated = HybridIndex.create(
            base.manifest,
            {**base.docs, **new_docs},
            base.chunks + chunks,
            np.vstack([base.vectors, vectors]) if len(base.vectors) else vectors,
        )
        version = store.save(updated, self.root)
        return updated, version


# --- choosing a store --------------------------------------------------------

MILVUS_PREFIX = "milvus:"


def is_milvus(spec: str) -> bool:
    return spec.startswith((MILVUS_PREFIX, "http://", "https://", "tcp://", "grpc://")) or spec.endswith(".db")


def open_store(spec: str | Path, **milvus_options: object) -> IndexStore:
    """`milvus:var/index.db`, `http(s)://host:19530` or a `.db` path: Milvus; anything else: a file-store folder."""
    text = str(spec)
    if is_milvus(text):
        from index.milvus_store import MilvusStore

        return MilvusStore(text, **milvus_options)  # type: ignore[arg-type]
    return FileStore(Path(text))


def store_for(settings: Settings) -> IndexStore:
    """The store Settings name: `settings.store` when set, else the file store at `settings.index_dir`."""
    spec = settings.store or str(settings.index_dir)
    if not is_milvus(spec):
        return FileStore(Path(spec))
    from index.milvus_store import MilvusStore

    return MilvusStore.from_settings(spec, settings)


def as_store(target: Path | str | IndexStore) -> IndexStore:
    """A builder target given as a folder, a store spec or a store."""
    if isinstance(target, Path | str):
        return open_store(target)
    return target
