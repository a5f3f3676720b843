"""Chinese-aware BM25: jieba search-mode words over simplified text, scored by bm25s.

Search mode emits both a compound (县域经济) and its parts (县域, 经济), so a
question that words a concept differently from the document still matches.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import bm25s
import jieba
import numpy as np

from rag.law import canonical_references
from rag.script import to_simplified

jieba.setLogLevel(logging.WARNING)

_TOKEN_OK = re.compile(r"[\u3400-\u9fffa-z0-9]")
STOPWORDS = frozenset(
    "的 了 和 与 及 或 是 在 对 为 以 等 有 中 上 下 而 并 将 把 被 从 到 于 其 之 这 那 个 们 也 都 就 要 会 能 可 吗 呢 吧 啊 么 什么 哪些 哪个 多少 怎么 如何 为什么 是否 "
    "请问 请 关于 方面 问 the a an of and or to in on for is are was were what which who how does do did by with".split()
)


@lru_cache(maxsize=4096)
def tokenize(text: str) -> tuple[str, ...]:
    """Words, plus one token per article/chapter reference in a single spelling (第十四条, 第14条 → 第14条).

    A chunk's heading path is part of its indexed text (Chunk.embed_text), so a
    question naming an article matches that article's chunk whichever numerals it uses.
    """
    simp = to_simplified(text).lower()
    words = tuple(t for t in jieba.lcut_for_search(simp) if _TOKEN_OK.search(t) and t not in STOPWORDS)
    return words + tuple(canonical_references(simp))


class BM25Index:
    def __init__(self, corpus_tokens: Sequence[Sequence[str]]) -> None:
        self.size = len(corpus_tokens)
        self._bm25 = bm25s.BM25()
        if self.size:
            # bm25s rejects empty documents; a placeholder token keeps positions aligned.
            self._bm25.index([list(t) or ["\u0000"] for t in corpus_tokens], show_progress=False)

    def scores(self, query: str) -> np.ndarray:
        tokens = [t for t in tokenize(query) if t in self.vocab]
        if not self.size or not tokens:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)

    @property
    def vocab(self) -> dict[str, int]:
        return self._bm25.vocab_dict if self.size else {}

    def save(self, folder: Path) -> None:
        self._bm25.save(str(folder))

    @classmethod
    def load(cls, folder: Path, size: int) -> BM25Index:
        obj = cls.__new__(cls)
        obj.size = size
        obj._bm25 = bm25s.BM25.load(str(folder)) if size else bm25s.BM25()
        return obj
