"""Reranking: reorder retrieval's short list before sentence selection (retrieve → rerank → select).

No Chinese cross-encoder ships on PyPI, and nothing may be downloaded at run
time, so the rerankers use the two models the system already has:

- `none`: the retrieval order (the default; the identity).
- `sentence`: each passage scored by its best sentence's similarity to the
  question with the index's own embedder (a 500-character chunk embeds as an
  average of its topics; the one sentence that answers is a sharper signal),
  fused with the retrieval rank by reciprocal rank, so a passage the fused
  dense + BM25 ranking trusted is not thrown far down by one sentence.
- `llm`: the local LLM judges each (question, passage) pair; the score is
  log P("是") - log P("否") of its first reply token. It shares the model's
  lock with generation (one thread in the model at a time).

Every reranker keeps all passages it is given (only the order and `rank`
change); the pipeline cuts the list to top_k afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Protocol

import numpy as np

from rag.errors import RagError
from rag.script import to_simplified
from rag.types import Passage

if TYPE_CHECKING:
    from index.embed import Embedder
    from rag.generate import Generator


class RerankError(RagError):
    """A reranker that does not exist, or cannot run with the configured model."""


class Reranker(Protocol):
    name: str

    def rerank(self, question: str, passages: list[Passage]) -> list[Passage]:
        """The same passages, best first, ranked 1..n."""
        ...


def _ranked(passages: list[Passage], scores: list[float]) -> list[Passage]:
    """Passages sorted by score, best first (ties keep the retrieval order), with ranks renumbered."""
    order = sorted(range(len(passages)), key=lambda i: (-scores[i], i))
    return [replace(passages[i], rank=r) for r, i in enumerate(order, 1)]


class NoReranker:
    """The retrieval order, unchanged: what runs when reranking is off."""

    name = "none"

    def rerank(self, question: str, passages: list[Passage]) -> list[Passage]:
        return list(passages)


class SentenceReranker:
    """Best-sentence similarity with the index's embedder, fused with the retrieval rank (RRF).

    Sentence vectors are cached per chunk id: a corpus's passages come back
    again and again, and embedding them is the whole cost (~10 ms a sentence on
    2 cores).
    """

    name = "sentence"

    def __init__(self, embedder: Embedder, rrf_k: int = 10, max_chars: int = 120, cache_size: int = 20_000) -> None:
        self.embedder = embedder
        self.rrf_k = rrf_k
        self.max_chars = max_chars
        self.cache_size = cache_size
        self._vectors: dict[tuple[str, str], np.ndarray] = {}

    def _sentence_vectors(self, passages: list[Passage]) -> list[np.ndarray]:
        """Each passage's sentence vectors; the ones not cached yet are embedded in one batch."""
        from rag.select import split_sentences  # jieba and bm25s: not for a CLI that only parses --rerank

        missing: dict[tuple[str, str], list[str]] = {}
        for p in passages:
            key = (p.chunk.id, p.chunk.text)
            if key not in self._vectors and key not in missing:
                heading = " > ".join(x for x in (p.chunk.title, p.chunk.heading) if x)
                sentences = split_sentences(to_simplified(p.chunk.text), self.max_chars) or [p.chunk.text]
                # the heading path carries the topic a sentence leaves out ("目标" under "寿光市")
                missing[key] = [f"{heading}\n{s}" if heading else s for s in sentences]
        if missing:
            texts = [t for ts in missing.values() for t in ts]
            vecs = np.asarray(self.embedder.embed_passages(texts), dtype=np.float32)
            if len(self._vectors) + len(missing) > self.cache_size:
                self._vectors.clear()
            start = 0
            for key, ts in missing.items():
                self._vectors[key] = vecs[start : start + len(ts)]
                start += len(ts)
        return [self._vectors[(p.chunk.id, p.chunk.text)] for p in passages]

    def best_sentence_scores(self, question: str, passages: list[Passage]) -> list[float]:
        """Per passage, the largest cosine similarity of one of its sentences to the question."""
        if not passages:
            return []
        q = np.asarray(self.embedder.embed_queries([to_simplified(question)])[0], dtype=np.float32)
        return [float(np.max(v @ q)) for v in self._sentence_vectors(passages)]

    def rerank(self, question: str, passages: list[Passage]) -> list[Passage]:
        if len(passages) < 2:
            return list(passages)
        best = self.best_sentence_scores(question, passages)
        by_sentence = {i: r for r, i in enumerate(sorted(range(len(passages)), key=lambda i: (-best[i], i)))}
        fused = [1 / (self.rrf_k + 1 + i) + 1 / (self.rrf_k + 1 + by_sentence[i]) for i in range(len(passages))]
        return _ranked(passages, fused)


JUDGE = "问题：{question}\n资料：{passage}\n这段资料能回答这个问题吗？只回答“是”或“否”。"


class LlmReranker:
    """The local LLM's yes/no judgement of each pair, as log-odds of its first reply token.

    The prompt starts with the answer prompt's system text, so llama.cpp's
    cached prefix serves both and the answer after a rerank costs no extra
    prefill. A passage is cut to `max_chars` (heading path first): prefill is
    the cost, ~150 prompt tokens a second on 2 cores when the machine is idle.
    """

    name = "llm"

    def __init__(self, generator: Callable[[], Generator], max_chars: int = 240) -> None:
        self._generator = generator
        self.max_chars = max_chars

    def prompts(self, question: str, passages: list[Passage]) -> list[list[dict[str, str]]]:
        from rag.prompt import SYSTEM

        out = []
        for p in passages:
            heading = " > ".join(x for x in (p.chunk.title, p.chunk.heading) if x)
            text = to_simplified(f"{heading}\n{p.chunk.text}" if heading else p.chunk.text)[: self.max_chars]
            user = JUDGE.format(question=to_simplified(question), passage=text)
            out.append([{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}])
        return out

    def rerank(self, question: str, passages: list[Passage]) -> list[Passage]:
        if len(passages) < 2:
            return list(passages)
        gen = self._generator()
        score = getattr(gen, "yes_no_logodds", None)
        if score is None:
            raise RerankError(needs_local_model(gen.name))
        return _ranked(passages, score(self.prompts(question, passages)))


def needs_local_model(llm: str) -> str:
    return (
        f"the llm reranker needs the local model's token scores; {llm} is a remote server. "
        "Use --rerank sentence or none with a remote --llm."
    )


RERANKERS = ("none", "sentence", "llm")


def reranker_for(
    name: str, embedder: Embedder, generator: Callable[[], Generator], rrf_k: int = 10, llm_spec: str = ""
) -> Reranker:
    """The reranker called `name`; `generator` is called only when the LLM is needed (it loads 1 GB)."""
    from rag.remote import is_remote

    if name == "none":
        return NoReranker()
    if name == "sentence":
        return SentenceReranker(embedder, rrf_k)
    if name == "llm":
        if is_remote(llm_spec):
            raise RerankError(needs_local_model(llm_spec))
        return LlmReranker(generator)
    raise RerankError(f"unknown reranker {name!r}: choose one of {', '.join(RERANKERS)}")
