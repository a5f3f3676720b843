"""Local LLM generation behind a small interface; llama-cpp-python is the default backend.

Greedy decoding with a fixed seed makes answers reproducible. One lock
serialises calls: llama.cpp contexts are not thread-safe, and a second
context would double memory on an office PC. Waiting time is reported so a
busy server is visible rather than mysterious.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from rag.models import resolve_llm


class Generator(Protocol):
    name: str

    def stream(self, messages: list[dict[str, str]], max_tokens: int) -> Iterator[str]: ...

    def count_tokens(self, text: str) -> int: ...


class LlamaCppGenerator:
    def __init__(self, model: str | None = None, n_ctx: int = 2048, n_threads: int = 2, seed: int = 42) -> None:
        from llama_cpp import Llama

        path = resolve_llm(model)
        self.name = Path(path).name
        self.seed = seed
        self._llm = Llama(
            model_path=str(path),
            n_ctx=n_ctx,
            n_threads=n_threads,
            n_threads_batch=n_threads,
            n_batch=512,
            seed=seed,
            verbose=False,
        )
        self._lock = threading.Lock()
        self.last_wait_ms = 0.0
        self.calls = 0
        self.active = 0  # threads inside the model right now
        self.max_active = 0  # >1 would mean two threads inside the model at once: the load test asserts it never is

    def count_tokens(self, text: str) -> int:
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def stream(self, messages: list[dict[str, str]], max_tokens: int) -> Iterator[str]:
        t0 = time.perf_counter()
        with self._lock:
            self.last_wait_ms = (time.perf_counter() - t0) * 1000
            self.active += 1
            self.max_active = max(self.max_active, self.active)
            self.calls += 1
            try:
                self._reuse_only_system_prefix(messages)
                for part in self._llm.create_chat_completion(
                    messages=messages,
                    max_tokens=max_tokens,
                    temperature=0.0,
                    top_k=1,
                    seed=self.seed,
                    repeat_penalty=1.05,
                    stream=True,
                ):
                    delta = part["choices"][0].get("delta", {}).get("content")
                    if delta:
                        yield delta
            finally:
                self.active -= 1

    def _reuse_only_system_prefix(self, messages: list[dict[str, str]]) -> None:
        """Let llama.cpp reuse the cached system prompt, never more.

        Its prefix cache would otherwise also reuse whatever the previous
        prompt happened to share (the same first passage, the same question),
        so the new tokens would be evaluated from a different position in a
        different batch, and a greedy answer could change with the questions
        asked before it. The system text's own token count is a safe bound: the
        chat template puts a header before it.
        """
        system = messages[0]["content"] if messages and messages[0].get("role") == "system" else ""
        keep = self.count_tokens(system) if system else 0
        if keep and self._llm.n_tokens < keep:
            # Nothing cached yet: prefill the system prompt on its own first, the same way every time,
            # so a process's first answer equals the answer after a warm-up (the KV values of a long
            # first batch differ in the last bits from those of a short one, enough to flip a greedy pick).
            self._llm.create_chat_completion(
                messages=[messages[0], {"role": "user", "content": "你好"}], max_tokens=1, temperature=0.0, top_k=1
            )
        if self._llm.n_tokens > keep:
            self._llm.n_tokens = keep


_CACHE: dict[tuple, LlamaCppGenerator] = {}
_CACHE_LOCK = threading.Lock()


def load_generator(
    model: str | None = None, n_ctx: int = 2048, n_threads: int | None = None, seed: int = 42
) -> LlamaCppGenerator:
    """One generator per model per process: loading costs ~1 s and 2 GB."""
    threads = n_threads or min(4, os.cpu_count() or 2)
    key = (model, n_ctx, threads, seed)
    with _CACHE_LOCK:
        if key not in _CACHE:
            _CACHE[key] = LlamaCppGenerator(model, n_ctx, threads, seed)
        return _CACHE[key]
