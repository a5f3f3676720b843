"""Hybrid retrieval: dense (FAISS) and BM25 rankings fused by weighted reciprocal rank.

RRF needs no score calibration between the two retrievers. English questions
skip BM25: Chinese word tokens cannot match them and would only add noise.
"""

from __future__ import annotations

import re

import numpy as np

from index.dense import search as dense_search
from index.embed import Embedder
from index.store import HybridIndex
from rag.config import Settings
from rag.script import to_simplified
from rag.types import Passage

_CJK = re.compile(r"[\u3400-\u9fff]")


class Retriever:
    def __init__(self, index: HybridIndex, embedder: Embedder, settings: Settings) -> None:
        self.index = index
        self.embedder = embedder
        self.settings = settings

    def search(self, question: str, top_k: int | None = None, mode: str = "hybrid") -> list[Passage]:
        """Ranked passages; mode is hybrid, dense or bm25 (the latter two for ablations)."""
        s = self.settings
        top_k = top_k or s.top_k
        idx = self.index
        if not idx.chunks:
            return []
        query = to_simplified(question)
        qvec = self.embedder.embed_queries([query])[0]
        d_scores, d_ids = dense_search(idx.faiss_index, qvec, s.candidates)
        all_dense = idx.vectors @ qvec  # exact similarity for every chunk: cheap, used for the floor and display
        bm25 = idx.bm25.scores(query)
        use_bm25 = mode != "dense" and bool(_CJK.search(query)) and bm25.max(initial=0) > 0
        fused: dict[int, float] = {}
        if mode != "bm25":
            for rank, i in enumerate(d_ids):
                fused[int(i)] = fused.get(int(i), 0.0) + s.dense_weight / (s.rrf_k + rank + 1)
        if use_bm25:
            b_ids = np.argsort(-bm25)[: s.candidates]
            for rank, i in enumerate(b_ids):
                if bm25[i] <= 0:
                    break
                fused[int(i)] = fused.get(int(i), 0.0) + (s.bm25_weight if mode != "bm25" else 1.0) / (
                    s.rrf_k + rank + 1
                )
        ranked = sorted(fused.items(), key=lambda kv: -kv[1])
        passages: list[Passage] = []
        for i, score in ranked:
            if float(all_dense[i]) < s.min_score:
                continue
            chunk = idx.chunks[i]
            doc = idx.docs.get(chunk.doc_id)
            passages.append(
                Passage(
                    chunk=chunk,
                    rank=len(passages) + 1,
                    score=score,
                    dense_score=float(all_dense[i]),
                    bm25_score=float(bm25[i]),
                    meta=doc.meta if doc else None,
                )
            )
            if len(passages) >= top_k:
                break
        del d_scores
        return passages
