"""Local LLM generation behind a small interface; llama-cpp-python is the default backend.

Greedy decoding with a fixed seed makes answers reproducible. One lock
serialises calls: llama.cpp contexts are not thread-safe, and a second
context would double memory on an office PC. Waiting time is reported so a
busy server is visible rather than mysterious.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from rag.errors import ModelError
from rag.models import resolve_llm
from rag.waitqueue import WaitListener, WaitQueue, current_listener
from rag.worker import drain

if TYPE_CHECKING:
    from rag.config import Settings


class Generator(Protocol):
    name: str

    def stream(self, messages: list[dict[str, str]], max_tokens: int) -> Iterator[str]: ...

    def count_tokens(self, text: str) -> int: ...


class LlamaCppGenerator:
    def __init__(
        self,
        model: str | None = None,
        n_ctx: int = 2048,
        n_threads: int = 2,
        seed: int = 42,
        deadline_s: float = 120.0,
    ) -> None:
        from llama_cpp import Llama

        path = resolve_llm(model)
        self.name = Path(path).name
        self.seed = seed
        self.n_ctx = n_ctx
        self.deadline_s = deadline_s
        self._llm = Llama(
            model_path=str(path),
            n_ctx=n_ctx,
            n_threads=n_threads,
            n_threads_batch=n_threads,
            n_batch=512,
            seed=seed,
            verbose=False,
        )
        self._lock = WaitQueue(1)  # one call in the model; the others wait in order and know their place
        self.last_wait_ms = 0.0
        self.calls = 0
        self.active = 0  # threads inside the model right now
        self.max_active = 0  # >1 would mean two threads inside the model at once: the load test asserts it never is
        self.held_since: float | None = None  # monotonic time the model was taken, while it is held
        self.deadlines_hit = 0
        self._formatter = None  # the GGUF's chat template, for scoring (built on first use)

    @property
    def waiting(self) -> int:
        """Calls queued for the model behind the one it is answering."""
        return self._lock.waiting

    def count_tokens(self, text: str) -> int:
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def held_for(self) -> float:
        """Seconds the model has been held by the current call (0 when idle)."""
        since = self.held_since
        return time.monotonic() - since if since is not None else 0.0

    def stream(self, messages: list[dict[str, str]], max_tokens: int) -> Iterator[str]:
        """Yield tokens produced by a worker thread that alone takes and releases the model.

        A reader may stop reading at any point: an HTTP client that hangs up, a
        chat tab that is closed, a caller that breaks out of the loop without
        closing the generator. Had the reader held the lock itself, one such
        reader would lock the model for everyone. The worker stops at the first
        of: `max_tokens`, the deadline (`deadline_s` after it got the model), or
        the reader closing this generator (a stop flag checked after every
        token). Errors in the worker are raised here.
        """
        out: queue.Queue[tuple[str, object]] = queue.Queue()
        stop = threading.Event()
        listener = current_listener()
        worker = threading.Thread(
            target=self._produce, args=(messages, max_tokens, out, stop, listener), name="llm", daemon=True
        )
        worker.start()
        try:
            yield from (str(v) for v in drain(out, "token"))
        finally:
            stop.set()

    def _produce(
        self,
        messages: list[dict[str, str]],
        max_tokens: int,
        out: queue.Queue,
        stop: threading.Event,
        listener: WaitListener | None = None,
    ) -> None:
        try:
            with self._holding(stop, listener) as deadline:
                if deadline is None:  # the reader left while this call waited in the queue
                    return
                self._reuse_only_system_prefix(messages)
                parts = self._llm.create_chat_completion(
                    messages=messages,
                    max_tokens=max_tokens,
                    temperature=0.0,
                    top_k=1,
                    seed=self.seed,
                    repeat_penalty=1.05,
                    stream=True,
                )
                # llama-cpp-python computes a token only when the stream is advanced, so leaving the
                # loop and closing the stream is its abort path (its chat API has no stopping criteria)
                timed_out = False
                with closing(parts):
                    for part in parts:
                        delta = part["choices"][0].get("delta", {}).get("content")
                        if delta:
                            out.put(("token", delta))
                        if stop.is_set():
                            break
                        if time.monotonic() > deadline:
                            timed_out = True
                            break
                if timed_out:
                    raise self._timed_out()
        except Exception as exc:
            out.put(("error", exc))
        finally:
            out.put(("end", None))

    @contextmanager
    def _holding(self, stop: threading.Event, listener: WaitListener | None) -> Iterator[float | None]:
        """Hold the model (waiting in line for it) and yield the monotonic deadline; None if `stop` came first.

        Every call into the model, generation or scoring, goes through here, so
        one thread at a time is inside it and `/health` sees each call.
        """
        t0 = time.perf_counter()
        if not self._lock.acquire(stop, listener):
            yield None
            return
        try:
            self.last_wait_ms = (time.perf_counter() - t0) * 1000
            self.active += 1
            self.max_active = max(self.max_active, self.active)
            self.calls += 1
            self.held_since = time.monotonic()
            try:
                yield self.held_since + self.deadline_s
            finally:
                self.active -= 1
                self.held_since = None
        finally:
            self._lock.release()

    def _timed_out(self) -> ModelError:
        self.deadlines_hit += 1
        return ModelError(
            f"生成超时：模型 {self.deadline_s:.0f} 秒内没有完成回答，已停止。"
            f"(Generation stopped after {self.deadline_s:.0f} s.)"
        )

    def yes_no_logodds(self, prompts: list[list[dict[str, str]]], yes: str = "是", no: str = "否") -> list[float]:
        """log P(yes) - log P(no) of the first reply token, for each chat; in one hold of the model.

        The same worker-thread discipline as `stream`: a worker takes the model
        in its turn, scores every chat, and stops at the deadline or when the
        caller goes away. The prompts should start with the shared system text:
        its cached prefix is reused, and the answer that follows still finds it.
        """
        out: queue.Queue[tuple[str, object]] = queue.Queue()
        stop = threading.Event()
        worker = threading.Thread(
            target=self._score, args=(prompts, yes, no, out, stop, current_listener()), name="llm-score", daemon=True
        )
        worker.start()
        try:
            return [float(v) for v in drain(out, "score")]  # type: ignore[arg-type]
        finally:
            stop.set()

    def _score(
        self,
        prompts: list[list[dict[str, str]]],
        yes: str,
        no: str,
        out: queue.Queue,
        stop: threading.Event,
        listener: WaitListener | None,
    ) -> None:
        import numpy as np
        from llama_cpp import llama_cpp as low

        try:
            yes_id, no_id = (self._single_token(w) for w in (yes, no))
            with self._holding(stop, listener) as deadline:
                if deadline is None:
                    return
                n_vocab = self._llm.n_vocab()
                for messages in prompts:
                    if stop.is_set():
                        return
                    if time.monotonic() > deadline:
                        raise self._timed_out()
                    self._reuse_only_system_prefix(messages)  # the system text cached, nothing of another chat
                    tokens = self._chat_tokens(messages)
                    keep = self._llm.n_tokens
                    if tokens[:keep] != self._llm._input_ids.tolist():
                        keep = 0  # the cache holds another prefix (no system message): evaluate from scratch
                    self._llm.n_tokens = keep
                    self._llm.eval(tokens[keep:])
                    # Llama.eval keeps no logits unless logits_all=True (a 1.2 GB array at this context size);
                    # the last token's row is read from the context through the low-level API instead.
                    row = low.llama_get_logits_ith(self._llm.ctx, -1)
                    logits = np.ctypeslib.as_array(row, shape=(n_vocab,)).astype(np.float64)
                    out.put(("score", float(logits[yes_id] - logits[no_id])))  # the softmax's norm cancels
        except Exception as exc:
            out.put(("error", exc))
        finally:
            out.put(("end", None))

    def _single_token(self, word: str) -> int:
        ids = self._llm.tokenize(word.encode("utf-8"), add_bos=False, special=False)
        if len(ids) != 1:
            raise ModelError(f"{word!r} is {len(ids)} tokens for {self.name}: a yes/no score needs one token each")
        return ids[0]

    def _chat_tokens(self, messages: list[dict[str, str]]) -> list[int]:
        """The chat as the model's own template renders it, ending where the reply starts (as chat completion)."""
        if self._formatter is None:
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            template = self._llm.metadata.get("tokenizer.chat_template")
            if not template:
                raise ModelError(f"{self.name} has no chat template: it cannot score yes/no replies")
            eos = self._llm.detokenize([self._llm.token_eos()], special=True).decode("utf-8", "replace")
            bos_id = self._llm.token_bos()
            bos = self._llm.detokenize([bos_id], special=True).decode("utf-8", "replace") if bos_id != -1 else ""
            self._formatter = Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos)
        prompt = self._formatter(messages=messages).prompt
        return self._llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)

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
    model: str | None = None,
    n_ctx: int = 2048,
    n_threads: int | None = None,
    seed: int = 42,
    deadline_s: float = 120.0,
) -> LlamaCppGenerator:
    """One generator per model per process: loading costs ~1 s and 2 GB."""
    threads = n_threads or min(4, os.cpu_count() or 2)
    key = (model, n_ctx, threads, seed)
    with _CACHE_LOCK:
        if key not in _CACHE:
            _CACHE[key] = LlamaCppGenerator(model, n_ctx, threads, seed, deadline_s)
        _CACHE[key].deadline_s = deadline_s
        return _CACHE[key]


def unload_generator(generator: Generator) -> None:
    """Free a local model: out of load_generator's cache, its llama.cpp memory released. Whoever still holds
    the object must not use it again (eval scale frees the LLM before building its largest indexes)."""
    with _CACHE_LOCK:
        for key in [k for k, g in _CACHE.items() if g is generator]:
            del _CACHE[key]
    llm = getattr(generator, "_llm", None)
    if llm is not None:
        llm.close()


_REMOTE: dict[tuple, Generator] = {}


def generator_for(settings: Settings) -> Generator:
    """The generator the settings name: a local GGUF (bundled key or path) or OpenAI-compatible servers (openai:URL)."""
    from rag.remote import OpenAIGenerator, is_remote, parse_urls

    s = settings
    if not is_remote(s.llm):
        return load_generator(s.llm, s.n_ctx, s.n_threads, s.seed, s.generation_timeout_s)
    urls = parse_urls(s.llm)
    key = (tuple(urls), s.llm_model, s.llm_api_key, s.llm_slots, s.seed)
    with _CACHE_LOCK:  # one pool per set of servers per process, so in-flight counts are shared
        if key not in _REMOTE:
            _REMOTE[key] = OpenAIGenerator(
                urls, s.llm_model, s.llm_api_key, s.llm_slots, s.seed, s.generation_timeout_s, s.llm_first_token_s
            )
        gen = _REMOTE[key]
        gen.deadline_s = s.generation_timeout_s  # type: ignore[attr-defined]
        return gen
