"""The product's own hybrid retrieval (rag.retrieve.Retriever: FAISS + jieba BM25, weighted RRF) over a
scale collection, scored with eval's hit@5 on the dev questions.

Questions are scored as `python -m eval ablate --retrieval-only` scores them:
answerable ones with evidence, follow-ups left out (they need the LLM's rewrite),
and searched as the pipeline searches them (eval/scale_queries.py: English ones
translated by the LLM beforehand). Query vectors come precomputed, so the
latency here is retrieval alone; embedding a question is reported apart.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import faiss
import numpy as np
from tqdm import tqdm

from eval.dataset import Question
from eval.metrics import hit_rank, mean
from eval.scale_data import Collection
from eval.scale_measure import measured, one_thread, pct, size_mb, timed_ms
from index.bm25 import BM25Index, tokenize
from index.store import FORMAT_VERSION, HybridIndex, Manifest
from rag.config import Settings
from rag.retrieve import Retriever


class PrecomputedQueries:
    """An Embedder whose query vectors were computed beforehand (keyed on the question text)."""

    def __init__(self, name: str, texts: Sequence[str], vectors: np.ndarray) -> None:
        self.name = name
        self.dim = vectors.shape[1]
        self._by_text = dict(zip(texts, vectors, strict=True))

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack([self._by_text[t] for t in texts])

    def embed_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        raise NotImplementedError("passages are embedded once, in eval.scale_data")


def collection_tokens(col: Collection, real_tokens: dict[str, tuple[str, ...]]) -> list[tuple[str, ...]]:
    """BM25 tokens of every chunk: a synthetic one has its source's tokens plus those of its marker."""
    marks: dict[int, tuple[str, ...]] = {}
    out = []
    for c, n in zip(col.chunks, col.copy_no.tolist(), strict=True):
        if n == 0:
            out.append(real_tokens[c.id])
        else:
            if n not in marks:
                marks[n] = tokenize(col.mark.format(n=n))
            out.append(real_tokens[c.id.rsplit("~", 1)[0]] + marks[n])
    return out


def real_tokens_of(chunks: Sequence[Any]) -> dict[str, tuple[str, ...]]:
    return {c.id: tokenize(c.embed_text()) for c in tqdm(chunks, desc="bm25 tokens", unit="chunk", leave=False)}


def build_bm25(
    col: Collection, real_tokens: dict[str, tuple[str, ...]], disk: bool = True
) -> tuple[BM25Index, dict[str, float]]:
    """The product's BM25 index of the collection, with its build cost and (saved as the file store saves
    it) its size on disk."""
    with measured() as step:
        bm25 = BM25Index(collection_tokens(col, real_tokens))
    cost = step.as_dict("bm25_build")
    if disk:
        with tempfile.TemporaryDirectory(prefix="rag-scale-bm25-") as tmp:
            bm25.save(Path(tmp))
            cost["bm25_disk_mb"] = size_mb(Path(tmp))
    return bm25, cost


def hybrid_scores(
    col: Collection,
    dense: faiss.Index,
    bm25: BM25Index,
    embedder: PrecomputedQueries,
    questions: list[Question],
    places: frozenset[str] | None = None,
) -> dict[str, Any]:
    """hit@5 of the dev questions and the latency of one retrieval (embedding excluded).

    `places`: the corpus's place names, computed once from the real chunks (copies add none). Retriever.places()
    would POS-tag every chunk on the first question about a document's facts: minutes at 10^5 chunks."""
    manifest = Manifest(FORMAT_VERSION, embedder.name, embedder.dim, 500, 80, "scale")
    index = HybridIndex(manifest, {}, col.chunks, col.vectors, dense, bm25)
    retriever = Retriever(index, embedder, Settings())
    if places is not None:
        retriever._places = places
    asked = scored_questions(questions)
    retriever.search(asked[0].question, 5)  # first call builds the article table: not a query's cost
    ranks, ms = [], []
    with one_thread():
        for q in tqdm(asked, desc="hybrid", unit="q", leave=False):
            found, t = timed_ms(lambda q=q: retriever.search(q.question, 5))  # type: ignore[misc]
            ranks.append(hit_rank(q, [p.to_json() for p in found]))  # type: ignore[attr-defined]
            ms.append(t)
    return hit_summary(asked, ranks, ms)


def scored_questions(questions: list[Question]) -> list[Question]:
    """As `eval ablate --retrieval-only`: answerable, with evidence, not a follow-up (that needs the LLM)."""
    return [q for q in questions if q.answerable and q.evidence and not q.history]


def hit_summary(asked: list[Question], ranks: list[int | None], ms: list[float]) -> dict[str, Any]:
    """hit@5 over all scored questions, the Chinese ones and the English ones (by the dataset's `lang`)."""
    zh = [k for q, k in zip(asked, ranks, strict=True) if q.lang.startswith("zh")]
    en = [k for q, k in zip(asked, ranks, strict=True) if q.lang == "en"]
    return {
        "hit@5": mean([0 < (k or 0) <= 5 for k in ranks]),
        "hit@1": mean([k == 1 for k in ranks]),
        "n_questions": len(ranks),
        "hit@5_zh": mean([0 < (k or 0) <= 5 for k in zh]),
        "n_zh": len(zh),
        "hit@5_en": mean([0 < (k or 0) <= 5 for k in en]),
        "n_en": len(en),
        "retrieve_p50_ms": pct(ms, 50),
        "retrieve_p95_ms": pct(ms, 95),
    }
