"""What the scale test searches for each dev question: what the product searches for it.

The pipeline turns a standalone question into its search query with
`rag.rewrite.to_search_query` (an English question gets the corpus's place
names back and is translated by the LLM); this module calls the same function,
with the bundled LLM behind a disk cache, so a rerun needs no model, and frees
the model before the large index builds.
"""

from __future__ import annotations

import gc
import hashlib
import json
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from eval.dataset import Question
from rag.config import Settings
from rag.generate import Generator


def llm_name(settings: Settings) -> str:
    """The model's name as its generator reports it (the GGUF file name), without loading it."""
    from rag.models import resolve_llm
    from rag.remote import is_remote

    return settings.llm if is_remote(settings.llm) else resolve_llm(settings.llm).name


def reply_key(model: str, messages: list[dict[str, str]], max_tokens: int) -> str:
    """Cache key of one LLM call: the model and the prompt (which holds the question)."""
    blob = json.dumps([model, messages, max_tokens], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


class CachedGenerator:
    """The settings' LLM behind a JSON file of its replies, keyed on model + prompt. Decoding is greedy with a
    fixed seed, so a cached reply is the reply the model gives; the model is loaded on the first miss only."""

    def __init__(self, path: Path, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self.name = llm_name(self.settings)
        self.path = path
        self.replies: dict[str, dict[str, Any]] = json.loads(path.read_text("utf-8")) if path.is_file() else {}
        self._gen: Generator | None = None
        self.hits = self.misses = 0
        self.llm_s = 0.0

    def _model(self) -> Generator:
        if self._gen is None:
            from rag.generate import generator_for

            self._gen = generator_for(self.settings)
        return self._gen

    def stream(self, messages: list[dict[str, str]], max_tokens: int) -> Iterator[str]:
        key = reply_key(self.name, messages, max_tokens)
        if key in self.replies:
            self.hits += 1
        else:
            t0 = time.perf_counter()
            reply = "".join(self._model().stream(messages, max_tokens))
            self.llm_s += time.perf_counter() - t0
            self.misses += 1
            self.replies[key] = {"model": self.name, "messages": messages, "max_tokens": max_tokens, "reply": reply}
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.replies, ensure_ascii=False, indent=0), encoding="utf-8")
            tmp.replace(self.path)
        yield self.replies[key]["reply"]

    def count_tokens(self, text: str) -> int:
        return self._model().count_tokens(text)

    @property
    def loaded(self) -> bool:
        return self._gen is not None

    def close(self) -> None:
        """Free the model (if a miss loaded it)."""
        if self._gen is not None:
            from rag.generate import unload_generator

            unload_generator(self._gen)
            self._gen = None
            gc.collect()


def search_queries(questions: Sequence[Question], place_counts: Mapping[str, int], llm: Generator) -> dict[str, str]:
    """{question id: search query}, by the pipeline's own `to_search_query`."""
    from rag.rewrite import to_search_query

    return {q.id: to_search_query(q.question, lambda: place_counts, lambda: llm) for q in questions}


def as_searched(questions: Sequence[Question], queries: Mapping[str, str]) -> list[Question]:
    """The questions with their text replaced by what is searched (gold evidence and language unchanged)."""
    return [q.model_copy(update={"question": queries.get(q.id, q.question)}) for q in questions]
