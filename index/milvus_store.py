"""Milvus as the retrieval store, through pymilvus.MilvusClient: a milvus-lite file or a Milvus server/cluster.

`MilvusStore("milvus:var/index.db")` (or a `.db` path) is embedded milvus-lite;
`MilvusStore("http://host:19530", token=…)` is a server; the code is the same.
One collection holds a row per chunk: the chunk's JSON, a dense vector (HNSW,
inner product), its simplified text analysed by Milvus's jieba tokenizer into a
BM25 sparse vector (a `BM25` Function), and the scalar fields a Scope filters on
(doc_id, issuer, place, doc_type, date). A second collection (`<name>_meta`)
holds the manifest and the documents as JSON, split into rows. Engine-side fusion is `hybrid_search` with `RRFRanker`;
the fusion weights (dense 1, BM25 2 by default) are given by repeating a request.

What Milvus guarantees and what this store adds (README "Stores"):
- Milvus has no transaction over several requests; an insert or delete request
  is applied as a whole, and with consistency level Strong a search sees every
  request acknowledged before it.
- Every row carries the `batch` of the write that inserted it. The manifest
  (a `state/<version>` blob) lists the live batches; a single-row upsert of
  `HEAD` switches to it. That upsert is the commit point of build/add/remove.
- Readers filter every search by the live batches (`batch in [...]`), so rows of
  an unfinished add are never served, and a replaced document's old rows are
  excluded by name (`retired`) from the commit on, until they are deleted.
- A writer (under `write_lock`) first calls `recover()`: rows whose batch is
  not live (a crashed add or build) and retired rows (a crashed replace or
  remove) are deleted. Readers never delete: a writer may be mid-add.
- One writer at a time: a file lock for milvus-lite; on a server nothing stops
  two writers, so run document changes from one place.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from index.bm25 import STOPWORDS
from index.store import FORMAT_VERSION, REBUILD_HINT, Manifest, doc_from_json, doc_to_json, manifest_documents
from index.stores import MILVUS_PREFIX, Signals
from rag.errors import IndexStoreError
from rag.law import canonical_references
from rag.scope import place_key, row_fields
from rag.script import to_simplified
from rag.types import Chunk, Document, Scope

if TYPE_CHECKING:
    from pymilvus import MilvusClient

    from rag.config import Settings

VARCHAR_MAX = 65535  # bytes
PART_CHARS = 16000  # a blob part: at most 3 bytes a character in UTF-8, well under VARCHAR_MAX
# Chunk rows a page when a version is opened. milvus-lite answers every page of a query_iterator by
# assembling and sorting all rows of the collection, so opening costs pages x rows: fewer, larger pages
# (chunk rows are ~0.7 kB, 2 kB at most on corpus-large; Milvus caps a page at 16384 rows).
SCAN_ROWS = 5000
ANALYZER = {
    # jieba in search mode (compounds and their parts, like index/bm25.py) with the same stop words.
    "tokenizer": {"type": "jieba", "mode": "search"},
    "filter": ["lowercase", {"type": "stop", "stop_words": sorted(STOPWORDS)}],
}
FUSIONS = ("engine", "client")
_CLIENTS: dict[tuple[str, str, str], MilvusClient] = {}
_CLIENTS_LOCK = threading.Lock()
_LOADED: set[tuple[str, str]] = set()  # (uri, collection) loaded into memory by this process
# milvus-lite has no MVCC timestamp service; pymilvus warns about it on every query_iterator.
logging.getLogger("pymilvus").setLevel(logging.ERROR)


def local_path(spec: str) -> str | None:
    """The milvus-lite file a spec names (`milvus:var/index.db`, `x.db`), None for a server URI."""
    if spec.startswith(MILVUS_PREFIX):
        spec = spec[len(MILVUS_PREFIX) :]
    if spec.startswith(("http://", "https://", "tcp://", "grpc://")):
        return None
    return str(Path(spec).expanduser().resolve())


def bm25_text(text: str) -> str:
    """What Milvus's analyzer reads, for rows and queries alike: simplified, lower-case, article references once."""
    simp = to_simplified(text).lower()
    refs = " ".join(canonical_references(simp))
    return f"{simp} {refs}" if refs else simp


def _clip(text: str, limit: int = VARCHAR_MAX - 16) -> str:
    data = text.encode("utf-8")
    return text if len(data) <= limit else data[:limit].decode("utf-8", "ignore")


def _lit(value: str) -> str:
    """A string literal in a Milvus filter expression."""
    return json.dumps(value, ensure_ascii=False)


def _list(values: list[str] | tuple[str, ...]) -> str:
    return "[" + ", ".join(_lit(v) for v in values) + "]"


def scope_expr(scope: Scope | None) -> str:
    """The Milvus filter of a Scope: the same rules as rag.scope.allows, on the row's scalar fields."""
    if scope is None or scope.is_empty():
        return ""
    parts = []
    if scope.docs:
        parts.append(f"doc_id in {_list(scope.docs)}")
    if scope.issuers:
        likes = [f"issuer like {_lit('%' + i.replace('%', '') + '%')}" for i in scope.issuers if i]
        parts.append("(" + " or ".join(likes) + ")")
    if scope.places:
        parts.append(f"place in {_list(sorted({place_key(p) for p in scope.places}))}")
    if scope.doc_types:
        parts.append(f"doc_type in {_list(scope.doc_types)}")
    if scope.since:
        parts.append(f"date >= {_lit(scope.since)}")
    if scope.until:
        parts.append(f'(date != "" and date <= {_lit(scope.until)})')
    return " and ".join(parts)


def _new_id(prefix: str) -> str:
    return time.strftime(f"{prefix}%Y%m%dT%H%M%S") + f"-{time.time_ns() % 1_000_000_000:09d}"


class MilvusStore:
    """An IndexStore on Milvus. `uri`: `milvus:path.db` / `path.db` (milvus-lite) or `http(s)://host:19530`."""

    def __init__(
        self,
        uri: str,
        token: str | None = None,
        collection: str = "chunks",
        *,
        fusion: str = "engine",
        rrf_k: int = 60,
        weights: tuple[float, float] = (1.0, 1.0),
        db_name: str = "",
        tls: dict[str, Any] | None = None,
    ) -> None:
        if fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {FUSIONS}")
        self.spec = uri
        self.path = local_path(uri)
        self.uri = self.path if self.path else uri
        self.token = token or ""
        self.collection = collection
        self.meta = f"{collection}_meta"
        self.rrf_k = rrf_k
        self.weights = weights
        # RRFRanker has no per-request weights; a whole-number weight w is given by sending that request w times
        # (RRF adds 1/(k+rank) per request). Other weights cannot be expressed there: fuse in this program then.
        whole = all(float(w).is_integer() and 1 <= w <= 8 for w in weights)
        self.fusion = fusion if whole else "client"
        self._tls = {k: v for k, v in (tls or {}).items() if v not in (None, "")}
        self._db_name = db_name
        self.after_rows: Callable[[], None] | None = None  # test hook: a fault between row write and commit
        if self.path:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)

    @classmethod
    def from_settings(cls, spec: str, settings: Settings) -> MilvusStore:
        tls = {
            "server_pem_path": settings.milvus_server_pem,
            "server_name": settings.milvus_server_name,
            "ca_pem_path": settings.milvus_ca_pem,
            "client_pem_path": settings.milvus_client_pem,
            "client_key_path": settings.milvus_client_key,
        }
        if any(tls.values()):
            tls["secure"] = True
        return cls(
            spec,
            token=settings.milvus_token or None,
            collection=settings.milvus_collection,
            fusion=settings.milvus_fusion,
            rrf_k=settings.rrf_k,
            weights=(settings.dense_weight, settings.bm25_weight),
            tls=tls,
        )

    # --- connection ------------------------------------------------------------
    @property
    def client(self) -> MilvusClient:
        """One client per URI and token in a process: milvus-lite lets only one process (and client) hold a file."""
        from pymilvus import MilvusClient

        key = (self.uri, self.token, self._db_name)
        with _CLIENTS_LOCK:
            if key not in _CLIENTS:
                _CLIENTS[key] = MilvusClient(uri=self.uri, token=self.token, db_name=self._db_name, **self._tls)
            return _CLIENTS[key]

    def _loaded(self, name: str) -> bool:
        """Whether the collection exists; a collection must be loaded before any query, also after a restart."""
        key = (self.uri, name)
        if key in _LOADED:
            return True
        if not self.client.has_collection(name):
            return False
        self.client.load_collection(name)
        _LOADED.add(key)
        return True

    def _scan(self, collection: str, expr: str, fields: list[str], page: int = 1000) -> Iterator[dict[str, Any]]:
        it = self.client.query_iterator(collection, batch_size=page, filter=expr, output_fields=fields)
        try:
            while True:
                rows = it.next()
                if not rows:
                    return
                yield from rows
        finally:
            it.close()

    # --- meta: blobs, HEAD and state -------------------------------------------
    def _ensure_meta(self) -> None:
        from pymilvus import DataType, MilvusClient

        if self.client.has_collection(self.meta):
            return
        schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("key", DataType.VARCHAR, is_primary=True, max_length=1024)
        schema.add_field("value", DataType.VARCHAR, max_length=VARCHAR_MAX)
        schema.add_field("v", DataType.FLOAT_VECTOR, dim=2)  # Milvus needs a vector field in every collection
        index = self.client.prepare_index_params()
        index.add_index("v", index_type="FLAT", metric_type="L2")
        self.client.create_collection(self.meta, schema=schema, index_params=index, consistency_level="Strong")

    def _put_blob(self, key: str, text: str) -> None:
        parts = [text[i : i + PART_CHARS] for i in range(0, len(text), PART_CHARS)] or [""]
        rows = [{"key": f"{key}#{n:05d}", "value": p, "v": [0.0, 0.0]} for n, p in enumerate(parts)]
        self.client.insert(self.meta, rows)

    def _blob_keys(self, prefix: str) -> set[str]:
        return {r["key"].rpartition("#")[0] for r in self._scan(self.meta, f"key like {_lit(prefix + '%')}", ["key"])}

    def _blobs(self, prefix: str) -> dict[str, str]:
        """Every blob whose key starts with prefix, joined from its parts."""
        parts: dict[str, list[tuple[str, str]]] = {}
        for row in self._scan(self.meta, f"key like {_lit(prefix + '%')}", ["key", "value"]):
            name, _, n = row["key"].rpartition("#")
            parts.setdefault(name, []).append((n, row["value"]))
        return {k: "".join(v for _, v in sorted(p)) for k, p in parts.items()}

    def _head(self) -> str | None:
        if not self._loaded(self.meta):
            return None
        rows = self.client.query(self.meta, filter='key == "HEAD"', output_fields=["value"])
        return rows[0]["value"] if rows else None

    def _state(self) -> dict[str, Any] | None:
        """The committed state: {version, manifest, batches, retired}; None for an empty store."""
        for _ in range(3):  # HEAD may move on between reading it and reading its blob
            head = self._head()
            if head is None:
                return None
            blob = self._blobs(f"state/{head}").get(f"state/{head}")
            if blob is not None:
                return json.loads(blob)
        raise IndexStoreError(f"Milvus store {self.spec}: HEAD names a missing state; " + self._hint())

    def _commit(self, manifest: Manifest, batches: list[str], retired: list[list[str]]) -> str:
        """Write a new state and switch HEAD to it in one single-row upsert: the commit point."""
        version = _new_id("v-")
        manifest.updated = time.strftime("%Y-%m-%dT%H:%M:%S")
        state = {"version": version, "manifest": dataclasses.asdict(manifest), "batches": batches, "retired": retired}
        self._put_blob(f"state/{version}", json.dumps(state, ensure_ascii=False))
        previous = self._head()
        self.client.upsert(self.meta, [{"key": "HEAD", "value": version, "v": [0.0, 0.0]}])
        keep = {f"state/{version}", f"state/{previous}"}  # a reader may still be reading the previous one
        for k in self._blob_keys("state/") - keep:
            self.client.delete(self.meta, filter=f"key like {_lit(k + '#%')}")
        return version

    def _hint(self) -> str:
        return REBUILD_HINT.format(path=self.spec).replace("--index", "--store")

    # --- IndexStore ----------------------------------------------------------
    def exists(self) -> bool:
        return self._head() is not None

    def read_manifest(self) -> Manifest:
        state = self._state()
        if state is None:
            raise IndexStoreError(f"no index in Milvus store {self.spec}; " + self._hint())
        data = state["manifest"]
        if data.get("format_version") != FORMAT_VERSION:
            raise IndexStoreError(
                f"index in {self.spec} has format version {data.get('format_version')}, this program reads "
                f"{FORMAT_VERSION}; " + self._hint()
            )
        return Manifest(**data)

    def current_version(self) -> str:
        head = self._head()
        if head is None:
            raise IndexStoreError(f"no index in Milvus store {self.spec}; " + self._hint())
        return head

    @contextmanager
    def write_lock(self) -> Iterator[None]:
        """One writer at a time (a file lock beside a milvus-lite file); leftovers of a crashed write go first."""
        if self.path:
            lock = Path(self.path + ".lock").open("w")
            fcntl.flock(lock, fcntl.LOCK_EX)
        else:
            lock = nullcontext()  # type: ignore[assignment]
        try:
            self.recover()
            yield
        finally:
            if self.path:
                fcntl.flock(lock, fcntl.LOCK_UN)
                lock.close()

    def recover(self) -> dict[str, int]:
        """Delete rows of batches the manifest does not list, and retired rows; report what was removed."""
        removed = {"uncommitted_rows": 0, "retired_rows": 0}
        if not self._loaded(self.collection):
            return removed
        state = self._state()
        live = state["batches"] if state else []
        expr = f"batch not in {_list(live)}" if live else 'batch != ""'
        removed["uncommitted_rows"] = self._count(expr)
        if removed["uncommitted_rows"]:
            self.client.delete(self.collection, filter=expr)
        self._drop_doc_blobs(keep=_doc_keys(state))
        if state and state["retired"]:
            removed["retired_rows"] = self._delete_retired(state["retired"])
            self._commit(Manifest(**state["manifest"]), state["batches"], [])
        return removed

    def _count(self, expr: str) -> int:
        rows = self.client.query(self.collection, filter=expr, output_fields=["count(*)"])
        return int(rows[0]["count(*)"]) if rows else 0

    def _delete_retired(self, retired: list[list[str]]) -> int:
        n = 0
        for doc_id, batch in retired:
            expr = f"doc_id == {_lit(doc_id)} and batch == {_lit(batch)}"
            n += self._count(expr)
            self.client.delete(self.collection, filter=expr)
            self.client.delete(self.meta, filter=f"key like {_lit(f'doc/{batch}/{doc_id}#%')}")
        return n

    def _drop_doc_blobs(self, keep: set[str]) -> None:
        for key in self._blob_keys("doc/"):
            if key not in keep:
                self.client.delete(self.meta, filter=f"key like {_lit(key + '#%')}")

    def _ensure_chunks(self, dim: int, rebuild: bool = False) -> None:
        """Create the chunk collection; one with another vector size is dropped by a rebuild, else an error."""
        from pymilvus import DataType, Function, FunctionType, MilvusClient

        c = self.client
        if c.has_collection(self.collection):
            fields = c.describe_collection(self.collection)["fields"]
            have = next((f.get("params", {}).get("dim") for f in fields if f["name"] == "vector"), None)
            if have is not None and int(have) == dim:
                return
            if not rebuild:
                raise IndexStoreError(f"{self.spec} holds vectors of size {have}, not {dim}; " + self._hint())
            c.drop_collection(self.collection)
            _LOADED.discard((self.uri, self.collection))
        s = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        s.add_field("pk", DataType.VARCHAR, is_primary=True, max_length=1024)
        s.add_field("chunk_id", DataType.VARCHAR, max_length=1024)
        s.add_field("doc_id", DataType.VARCHAR, max_length=1024)
        s.add_field("batch", DataType.VARCHAR, max_length=64)
        s.add_field("seq", DataType.INT64)
        s.add_field("text", DataType.VARCHAR, max_length=VARCHAR_MAX, enable_analyzer=True, analyzer_params=ANALYZER)
        s.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        s.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
        s.add_field("chunk", DataType.VARCHAR, max_length=VARCHAR_MAX)
        for name in ("issuer", "place", "doc_type", "date"):
            s.add_field(name, DataType.VARCHAR, max_length=1024)
        s.add_function(
            Function(
                name="bm25", function_type=FunctionType.BM25, input_field_names=["text"], output_field_names=["sparse"]
            )
        )
        index = c.prepare_index_params()
        index.add_index("vector", index_type="HNSW", metric_type="IP", params={"M": 32, "efConstruction": 200})
        index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
        c.create_collection(self.collection, schema=s, index_params=index, consistency_level="Strong")

    def _insert(self, batch: str, docs: dict[str, Document], chunks: list[Chunk], vectors: np.ndarray) -> None:
        """Rows and document blobs of one batch; invisible to readers until the batch is committed."""
        rows = []
        for seq, (chunk, vec) in enumerate(zip(chunks, vectors, strict=True)):
            doc = docs.get(chunk.doc_id)
            rows.append(
                {
                    "pk": f"{batch}/{chunk.id}",
                    "chunk_id": chunk.id,
                    "batch": batch,
                    "seq": seq,
                    "text": _clip(bm25_text(chunk.embed_text())),
                    "vector": np.asarray(vec, dtype=np.float32).tolist(),
                    "chunk": json.dumps(dataclasses.asdict(chunk), ensure_ascii=False),
                    **row_fields(chunk.doc_id, doc.meta if doc else None),
                }
            )
        for i in range(0, len(rows), 500):
            self.client.insert(self.collection, rows[i : i + 500])
        for d in docs.values():
            self._put_blob(f"doc/{batch}/{d.doc_id}", json.dumps(doc_to_json(d), ensure_ascii=False))

    def replace_all(
        self, manifest: Manifest, docs: dict[str, Document], chunks: list[Chunk], vectors: np.ndarray
    ) -> MilvusIndex:
        """A build: the new batch becomes the only live one at the commit; older rows are deleted after it."""
        with self.write_lock():
            self._ensure_meta()
            self._ensure_chunks(manifest.dim, rebuild=True)
            batch = _new_id("b")
            self._insert(batch, docs, chunks, vectors)
            if self.after_rows:
                self.after_rows()
            manifest.documents = _with_batch(manifest_documents(docs, chunks), batch)
            self._commit(manifest, [batch], [])
            self.client.delete(self.collection, filter=f"batch != {_lit(batch)}")
            self._drop_doc_blobs(keep={f"doc/{batch}/{d}" for d in docs})
        return self.open()

    def apply(
        self,
        manifest: Manifest,
        new_docs: dict[str, Document],
        chunks: list[Chunk],
        vectors: np.ndarray,
        remove: set[str],
    ) -> tuple[MilvusIndex, str]:
        """Add/replace/remove: insert the new batch, commit (old rows retired), then delete the retired rows."""
        self._ensure_meta()
        self._ensure_chunks(manifest.dim)
        state = self._state()
        documents = dict(manifest.documents)
        retired = [[d, documents[d]["batch"]] for d in sorted(remove | set(new_docs)) if d in documents]
        for d in remove:
            documents.pop(d, None)
        batch = _new_id("b")
        if new_docs:
            self._insert(batch, new_docs, chunks, vectors)
            if self.after_rows:
                self.after_rows()
            documents.update(_with_batch(manifest_documents(new_docs, chunks), batch))
        order = [*(state["batches"] if state else []), batch]
        live = {e["batch"] for e in documents.values()}
        manifest = dataclasses.replace(manifest, documents=documents)
        version = self._commit(manifest, [b for b in order if b in live], retired)
        if retired:
            self._delete_retired(retired)
            version = self._commit(manifest, [b for b in order if b in live], [])
        return self.open(), version

    def open(self, embedder: str | None = None, verify: bool = True) -> MilvusIndex:
        """The committed version: manifest (embedder guard), documents and chunk records; vectors stay in Milvus."""
        state = self._state()
        if state is None:
            raise IndexStoreError(f"no index in Milvus store {self.spec}; " + self._hint())
        manifest = self.read_manifest()
        if embedder is not None and manifest.embedder != embedder:
            raise IndexStoreError(
                f"index at {self.spec} was built with embedder '{manifest.embedder}' (dim {manifest.dim}), "
                f"but '{embedder}' is configured; its vectors are not comparable. " + self._hint()
            )
        if not self._loaded(self.collection):
            raise IndexStoreError(f"Milvus store {self.spec} has a manifest but no chunk collection; " + self._hint())
        return MilvusIndex(self, state, manifest)

    def visible(self, state: dict[str, Any]) -> str:
        """Rows of the committed batches, without retired ones: what readers of this state may see."""
        expr = f"batch in {_list(state['batches'])}" if state["batches"] else 'batch == "-"'
        for doc_id, batch in state["retired"]:
            expr += f" and not (doc_id == {_lit(doc_id)} and batch == {_lit(batch)})"
        return expr

    # --- for bulk loading and scale runs ---------------------------------------
    def bulk_add(
        self, docs: dict[str, Document], chunks: list[Chunk], vectors: np.ndarray, embedder: str, dim: int
    ) -> str:
        """Add documents with precomputed vectors (no embedder loaded), creating the index when empty."""
        from index.builder import prep_version
        from rag.chunk import ChunkSettings

        with self.write_lock():
            if self.exists():
                manifest = self.read_manifest()
                if manifest.embedder != embedder:
                    raise IndexStoreError(f"index at {self.spec} holds '{manifest.embedder}' vectors, not {embedder}")
            else:
                manifest = Manifest(FORMAT_VERSION, embedder, dim, ChunkSettings.size, ChunkSettings.overlap, "hnsw")
                manifest.prep_version = prep_version()
            _, version = self.apply(manifest, docs, chunks, vectors, set())
        return version

    def drop(self) -> None:
        """Delete both collections (tests and scale runs)."""
        for name in (self.collection, self.meta):
            if self.client.has_collection(name):
                self.client.drop_collection(name)
            _LOADED.discard((self.uri, name))


def _with_batch(entries: dict[str, dict[str, Any]], batch: str) -> dict[str, dict[str, Any]]:
    return {k: {**v, "batch": batch} for k, v in entries.items()}


def _doc_keys(state: dict[str, Any] | None) -> set[str]:
    if not state:
        return set()
    return {f"doc/{e['batch']}/{d}" for d, e in state["manifest"]["documents"].items()}


class MilvusIndex:
    """A committed version of a MilvusStore, through the SearchIndex protocol."""

    def __init__(self, store: MilvusStore, state: dict[str, Any], manifest: Manifest) -> None:
        self.store = store
        self.manifest = manifest
        self.version: str = state["version"]
        self._visible = store.visible(state)
        blobs = store._blobs("doc/")
        self.docs: dict[str, Document] = {}
        for doc_id, entry in manifest.documents.items():
            raw = blobs.get(f"doc/{entry['batch']}/{doc_id}")
            if raw is None:
                raise IndexStoreError(f"document {doc_id} is missing from {store.spec}; " + store._hint())
            self.docs[doc_id] = doc_from_json(json.loads(raw))
        order = {b: n for n, b in enumerate(state["batches"])}
        rows = sorted(
            store._scan(store.collection, self._visible, ["pk", "batch", "seq", "chunk"], SCAN_ROWS),
            key=lambda r: (order.get(r["batch"], len(order)), r["seq"]),
        )
        self.chunks: list[Chunk] = [Chunk(**json.loads(r["chunk"])) for r in rows]
        self._pks = [r["pk"] for r in rows]
        self._pos = {pk: i for i, pk in enumerate(self._pks)}
        self._vectors: dict[int, np.ndarray] = {}
        expected = sum(e["chunks"] for e in manifest.documents.values())
        if len(self.chunks) != expected:
            raise IndexStoreError(
                f"index in {store.spec} is inconsistent ({len(self.chunks)} rows, manifest says {expected}); "
                + store._hint()
            )

    def _where(self, scope: Scope | None) -> str:
        extra = scope_expr(scope)
        return f"({self._visible}) and ({extra})" if extra else self._visible

    def signals(self, qvec: np.ndarray, query: str, candidates: int, scope: Scope | None = None) -> Signals:
        """Dense and BM25 candidates in Milvus, filtered by the scope; with fusion=engine also RRFRanker's list."""
        from pymilvus import AnnSearchRequest, RRFRanker

        c, name = self.store.client, self.store.collection
        where = self._where(scope)
        vec = np.asarray(qvec, dtype=np.float32).tolist()
        text = bm25_text(query)
        dense_param = {"metric_type": "IP", "params": {"ef": max(128, candidates)}}
        hits = c.search(name, [vec], anns_field="vector", limit=candidates, filter=where,
                        search_params=dense_param, output_fields=["pk"])[0]  # fmt: skip
        dense = [(self._pos[h["entity"]["pk"]], float(h["distance"])) for h in hits if h["entity"]["pk"] in self._pos]
        bm25 = self._bm25(text, candidates, where)
        fused = None
        if self.store.fusion == "engine" and bm25:
            dense_w, bm25_w = (int(w) for w in self.store.weights)
            reqs = [AnnSearchRequest([vec], "vector", dense_param, limit=candidates, expr=where)] * dense_w + [
                AnnSearchRequest([text], "sparse", {"metric_type": "BM25"}, limit=candidates, expr=where)
            ] * bm25_w
            out = c.hybrid_search(
                name, reqs, ranker=RRFRanker(self.store.rrf_k), limit=candidates, output_fields=["pk"]
            )
            fused = [
                (self._pos[h["entity"]["pk"]], float(h["distance"])) for h in out[0] if h["entity"]["pk"] in self._pos
            ]
        sig = Signals(
            np.array([i for i, _ in dense], dtype=np.int64),
            np.array([i for i, _ in bm25], dtype=np.int64),
            fused,
            _lookup=lambda kind, ids: self._lookup(kind, ids, vec, text),
        )
        sig.known("dense", dict(dense))
        sig.known("bm25", dict(bm25))
        return sig

    def _bm25(self, text: str, limit: int, where: str) -> list[tuple[int, float]]:
        """BM25 hits with a positive score, best first (milvus-lite reports BM25 distances negated)."""
        try:
            out = self.store.client.search(self.store.collection, [text], anns_field="sparse", limit=limit,
                                           filter=where, search_params={"metric_type": "BM25"},
                                           output_fields=["pk"])[0]  # fmt: skip
        except Exception:  # a query with no token the analyzer keeps (English, punctuation): no BM25 evidence
            return []
        hits = [
            (self._pos[h["entity"]["pk"]], abs(float(h["distance"]))) for h in out if h["entity"]["pk"] in self._pos
        ]
        return sorted((h for h in hits if h[1] > 0), key=lambda h: -h[1])

    def _lookup(self, kind: str, ids: list[int], vec: list[float], text: str) -> dict[int, float]:
        """Exact scores of given rows: dense from their stored vectors, BM25 by a search limited to them."""
        pks = [self._pks[i] for i in ids]
        if kind == "dense":
            need = [i for i in ids if i not in self._vectors]
            for k in range(0, len(need), 500):
                part = [self._pks[i] for i in need[k : k + 500]]
                rows = self.store.client.query(
                    self.store.collection, filter=f"pk in {_list(part)}", output_fields=["pk", "vector"]
                )
                for r in rows:
                    self._vectors[self._pos[r["pk"]]] = np.asarray(r["vector"], dtype=np.float32)
            q = np.asarray(vec, dtype=np.float32)
            return {i: float(self._vectors[i] @ q) for i in ids if i in self._vectors}
        return dict(self._bm25(text, len(pks), f"pk in {_list(pks)}"))
