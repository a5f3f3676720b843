"""How close in meaning an answer sentence is to each passage shown: the embedder reads across languages.

An English answer shares no words with the Chinese passage it draws on, so the
word overlap that re-cites a Chinese sentence (`cite.recite`) is blind there; the
multilingual embedder that retrieved the passages can still tell which one says
what the sentence says. A passage counts as close as its closest sentence.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

import numpy as np

from index.embed import Embedder
from rag.select import ContextPassage, split_sentences

# {passage number: similarity of the sentence to that passage}, for the passages shown
Closeness = Callable[[str, list[ContextPassage]], dict[int, float]]


class SentenceCloseness:
    """`Closeness` by the embedder, the passages' sentence vectors kept for the latest passages seen
    (a streamed answer asks once per sentence about the same passages)."""

    def __init__(self, embedder: Embedder, keep: int = 64) -> None:
        self.embedder = embedder
        self.keep = keep
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()  # the server answers on several threads

    def _sentences(self, c: ContextPassage) -> np.ndarray:
        key = c.passage.chunk.id
        with self._lock:
            if key in self._vectors:
                self._vectors.move_to_end(key)
                return self._vectors[key]
        text = c.passage.chunk.text
        sentences = [s for s in split_sentences(text, max_chars=200) if len(s) >= 4] or [text]
        vectors = self.embedder.embed_passages(sentences)
        with self._lock:
            self._vectors[key] = vectors
            while len(self._vectors) > self.keep:
                self._vectors.popitem(last=False)
        return vectors

    def __call__(self, sentence: str, context: list[ContextPassage]) -> dict[int, float]:
        query = self.embedder.embed_queries([sentence])[0]
        return {c.n: float(np.max(self._sentences(c) @ query)) for c in context}
