"""Milvus (lite) at scale, through pymilvus's MilvusClient: the schema of /work/shared/engines.md.

One collection: INT64 id (the row), VARCHAR text with jieba in search mode and
the product's stop words (as index/milvus_store.py on the `store` branch has
it), a BM25 function into a sparse field (SPARSE_INVERTED_INDEX, metric BM25)
and the dense vectors (HNSW, IP, M=32, efConstruction=200, also as that store).
Hybrid search is a dense and a BM25 request fused by RRFRanker(k=10, Settings.rrf_k) in Milvus:
Milvus's own fusion, not the product's weighted RRF with its article, outline
and card rules, so its hit@5 is Milvus's hybrid, not ours moved onto Milvus.
The same code talks to a Milvus server or cluster with uri http://host:19530.
milvus-lite 3.x runs in this process (threads), so its memory is in this
process's RSS.

Build order: create the collection without indexes, insert, flush, then
create_index and load. With the indexes given at create_collection (as before),
milvus-lite builds each sealed segment's HNSW graph in a background thread after
the flush, so the first search (which ended the timed build) ran before the
graph existed and the efSearch sweep could start on an unindexed (brute-force)
segment. Now the graph is built inside `fill`: the build time includes it. The
throughput is the same either way (scripts/milvus_build_bench.py, 20,000 law
chunks: ~870-890 rows/s on a shared 2-core machine, of which per row ~0.69 ms is
the insert, ~85% of it Milvus's in-process jieba BM25 function, ~0.35 ms the
HNSW build and ~0.09 ms the flush); batch size (500-10,000) does not matter.
milvus-lite has no bulk import (no Import RPC). At 10^6 rows that is about
1.1 ms a row, ~19 minutes (linear in rows from the 20,000-row figures; HNSW per
row grows slowly with the ~49,000-row segments a 128 MB memtable flush makes).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from eval.dataset import Question
from eval.metrics import hit_rank
from eval.scale_data import Collection
from eval.scale_faiss import EF_SEARCH, HNSW_M, K, ef_sweep
from eval.scale_hybrid import hit_summary, scored_questions
from eval.scale_measure import measured, one_thread, size_mb, timed_ms
from index.bm25 import STOPWORDS
from rag.law import canonical_references
from rag.script import to_simplified

NAME = "scale"
INSERT_BATCH = 2000  # rows per insert call: well under the gRPC message limit at 384 dims and ~1 kB of text
CANDIDATES = 50  # per request of a hybrid search, as Settings.candidates
RRF_K = 10  # Settings.rrf_k, which the store branch passes to RRFRanker
EF_CONSTRUCTION = 200
ANALYZER = {
    "tokenizer": {"type": "jieba", "mode": "search"},
    "filter": ["lowercase", {"type": "stop", "stop_words": sorted(STOPWORDS)}],
}


def bm25_text(text: str) -> str:
    """Simplified, lower-case, article references in one spelling: for rows and queries alike."""
    simp = to_simplified(text).lower()
    refs = " ".join(canonical_references(simp))
    return f"{simp} {refs}" if refs else simp


def create(client: Any, dim: int) -> None:
    """The collection without indexes: `fill` creates them after the last insert (see the module docstring)."""
    from pymilvus import DataType, Function, FunctionType

    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("text", DataType.VARCHAR, max_length=65535, enable_analyzer=True, analyzer_params=ANALYZER)
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_field("dense", DataType.FLOAT_VECTOR, dim=dim)
    schema.add_function(
        Function(
            name="bm25", function_type=FunctionType.BM25, input_field_names=["text"], output_field_names=["sparse"]
        )
    )
    client.create_collection(NAME, schema=schema, consistency_level="Strong")


def index_params(client: Any) -> Any:
    params = client.prepare_index_params()
    params.add_index(
        field_name="dense",
        index_type="HNSW",
        metric_type="IP",
        params={"M": HNSW_M, "efConstruction": EF_CONSTRUCTION},
    )
    params.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
    return params


def fill(client: Any, col: Collection) -> None:
    """Insert every row, seal (flush), then build the indexes and load: when this returns, every segment has
    its HNSW graph, so the build time includes it and no query runs against a half-indexed collection."""
    for i in tqdm(range(0, col.size, INSERT_BATCH), desc="milvus insert", unit=f"x{INSERT_BATCH}", leave=False):
        rows = [
            {"id": j, "text": bm25_text(col.chunks[j].embed_text()), "dense": col.vectors[j].tolist()}
            for j in range(i, min(i + INSERT_BATCH, col.size))
        ]
        client.insert(NAME, rows)
    client.flush(NAME)
    try:
        client.create_index(NAME, index_params(client))
    except Exception as exc:  # pymilvus retries a call cut off by the transport; the first one may have built it
        if "already exists" not in str(exc):
            raise
    client.load_collection(NAME)


def dense_search(client: Any, queries: np.ndarray, ef: int) -> tuple[np.ndarray, list[float]]:
    ids = np.full((len(queries), K), -1, dtype=np.int64)
    ms = []
    params = {"metric_type": "IP", "params": {"ef": ef}}
    for i, q in enumerate(queries):
        res, t = timed_ms(
            lambda q=q: client.search(NAME, data=[q.tolist()], anns_field="dense", limit=K, search_params=params)
        )
        hits = [int(h["id"]) for h in res[0]]  # type: ignore[index]
        ids[i, : len(hits)] = hits
        ms.append(t)
    return ids, ms


def hybrid(client: Any, qvec: np.ndarray, question: str, ef: int, top_k: int = 5) -> list[int]:
    from pymilvus import AnnSearchRequest, RRFRanker

    reqs = [
        AnnSearchRequest(
            [qvec.tolist()], "dense", {"metric_type": "IP", "params": {"ef": max(ef, CANDIDATES)}}, CANDIDATES
        ),
        AnnSearchRequest([bm25_text(question)], "sparse", {"metric_type": "BM25"}, CANDIDATES),
    ]
    res = client.hybrid_search(NAME, reqs, ranker=RRFRanker(RRF_K), limit=top_k)
    return [int(h["id"]) for h in res[0]]


def measure(
    col: Collection,
    queries: np.ndarray,
    truth: np.ndarray,
    target: float,
    questions: list[Question],
    qvec_of: dict[str, np.ndarray],
    workdir: Path | None = None,
) -> dict[str, Any]:
    """Build, memory, disk; dense latency and recall@10 over efSearch (the smallest reaching `target` is
    reported, as for FAISS); hybrid hit@5 and latency at that ef."""
    from pymilvus import MilvusClient

    with tempfile.TemporaryDirectory(prefix="rag-scale-milvus-", dir=workdir) as tmp:
        db = Path(tmp) / "scale.db"
        with measured() as step:
            client = MilvusClient(str(db))
            create(client, col.vectors.shape[1])
            fill(client, col)
            dense_search(client, queries[:1], EF_SEARCH[0])  # the first search answers
        disk = size_mb(db)

        def search(ef: int) -> tuple[np.ndarray, list[float]]:
            with one_thread():
                return dense_search(client, queries, ef)

        sweep, chosen = ef_sweep(search, truth, target)
        ef = chosen["efSearch"]
        asked = scored_questions(questions)
        ranks, hms = [], []
        with one_thread():
            for q in tqdm(asked, desc="milvus hybrid", unit="q", leave=False):
                qvec = qvec_of[to_simplified(q.question)]
                ids, t = timed_ms(lambda q=q, qvec=qvec: hybrid(client, qvec, q.question, ef))
                ranks.append(hit_rank(q, [{"rank": r, **_record(col, i)} for r, i in enumerate(ids, 1)]))  # type: ignore[arg-type]
                hms.append(t)
        client.close()
    return {
        **step.as_dict("build"),
        "disk_mb": disk,
        "M": HNSW_M,
        "efConstruction": EF_CONSTRUCTION,
        **chosen,
        "meets_target": chosen["recall@10"] >= target,
        "sweep": sweep,
        "hybrid": hit_summary(asked, ranks, hms),
    }


def _record(col: Collection, i: int) -> dict[str, Any]:
    c = col.chunks[i]
    return {"doc": c.doc_id, "text": c.text, "chunk_id": c.id}
