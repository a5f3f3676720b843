"""Generation on OpenAI-compatible model servers (llama.cpp's, vLLM, Ollama…), behind the same Generator protocol.

Several servers may share the load: a call goes to the endpoint with the
fewest calls in flight, and waits in order (`WaitQueue`, so the chat can show
each user's place) while every endpoint is full; an endpoint serves `slots`
calls at once (1 for llama-cpp-python's server, whose default is to cut off a
running answer when a second request arrives). A server that fails before its
first token (connection refused, 5xx or 429, no token within
`first_token_s`) is marked down for a few seconds and the call is retried on
another one; a failure after tokens were passed on is a ModelError, as it is
locally.

The HTTP work runs on one asyncio loop in a background thread: a pending read
can be cancelled there at once, whereas a blocking httpx read cannot be
interrupted from another thread, and servers that send SSE keep-alive pings
never trip a read timeout. So the generation deadline, a reader that hangs up
and a server that stalls all end the request and free the endpoint.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import queue
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from rag.errors import ModelError
from rag.waitqueue import WaitListener, WaitQueue, current_listener
from rag.worker import drain

log = logging.getLogger(__name__)
PREFIX = "openai:"
DOWN_FOR_S = 10.0  # a failed endpoint is tried again after this, or earlier when no other is left
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[A-Za-z]+|\d+|[^\sA-Za-z\d\u3400-\u9fff\uf900-\ufaff]")


def is_remote(spec: str | None) -> bool:
    return bool(spec) and str(spec).startswith(PREFIX)


def parse_urls(specs: str | list[str]) -> list[str]:
    """`openai:http://a/v1,http://b/v1` or a list of such (a repeated --llm): the endpoints' base URLs, in order."""
    items = [specs] if isinstance(specs, str) else list(specs)
    urls: list[str] = []
    for item in items:
        for part in str(item).split(","):
            part = part.strip()
            part = part[len(PREFIX) :] if part.startswith(PREFIX) else part
            if not part:
                continue
            if not re.match(r"^https?://[^/\s]+", part):
                raise ModelError(f"LLM server {part!r}: expected openai:http://host:port/v1")
            url = part.rstrip("/")
            if url not in urls:
                urls.append(url)
    if not urls:
        raise ModelError("no LLM server URL given after 'openai:'")
    return urls


class _Retry(Exception):
    """This endpoint failed before any token was passed on: another may answer."""


@dataclass
class Endpoint:
    url: str
    slots: int = 1
    inflight: int = 0
    calls: int = 0
    failures: int = 0
    max_inflight: int = 0
    down_until: float = 0.0
    last_error: str = ""
    client: Any = field(default=None, repr=False)

    def stats(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "inflight": self.inflight,
            "max_inflight": self.max_inflight,
            "calls": self.calls,
            "failures": self.failures,
            "down": self.down_until > time.monotonic(),
            "last_error": self.last_error,
        }


class EndpointPool:
    """Least busy first; a call waits in order while no endpoint it may use has a free slot."""

    def __init__(self, urls: list[str], slots: int = 1) -> None:
        self.endpoints = [Endpoint(u, max(1, slots)) for u in urls]
        self.queue = WaitQueue(sum(e.slots for e in self.endpoints))
        self._lock = threading.Lock()

    def _choice(self, exclude: set[str]) -> Endpoint | None:
        now = time.monotonic()
        usable = [e for e in self.endpoints if e.url not in exclude]
        up = [e for e in usable if e.down_until <= now] or usable  # down ones only when nothing else is left
        free = [e for e in up if e.inflight < e.slots]
        return min(free, key=lambda e: (e.inflight, e.calls), default=None)

    def acquire(
        self, stop: threading.Event | None = None, listener: WaitListener | None = None, exclude: set[str] | None = None
    ) -> Endpoint | None:
        """The least busy endpoint not in `exclude`, counted as in flight; None if `stop` was set while waiting."""
        exclude = exclude or set()

        def can_enter() -> bool:
            with self._lock:
                return self._choice(exclude) is not None

        if not self.queue.acquire(stop, listener, can_enter):
            return None
        with self._lock:
            ep = self._choice(exclude)
            assert ep is not None  # admission is serialised by the queue, which just saw one
            ep.inflight += 1
            ep.calls += 1
            ep.max_inflight = max(ep.max_inflight, ep.inflight)
            return ep

    def release(self, ep: Endpoint) -> None:
        with self._lock:
            ep.inflight -= 1
        self.queue.release()

    def mark_down(self, ep: Endpoint, reason: str) -> None:
        with self._lock:
            ep.failures += 1
            ep.last_error = reason
            ep.down_until = time.monotonic() + DOWN_FOR_S
        self.queue.notify()

    def mark_up(self, ep: Endpoint) -> None:
        ep.down_until = 0.0


class TokenCounter:
    """Token counts for the prompt budget without asking the server (select_context counts many times a question).

    With a local GGUF of the same model family (the bundled Qwen2.5 by
    default, when it is on disk) only its vocabulary is loaded (~0.4 s, ~90 MB)
    and counts are exact for a server running that model. Otherwise a rule of
    thumb for Qwen-like tokenizers: one token per CJK character, per run of
    Latin letters or digits, and per other symbol; an approximation, good for
    a budget.
    """

    def __init__(self, gguf: str | None = None) -> None:
        self._vocab = None
        self.kind = "approximate (1 token per CJK character, word, number or symbol)"
        path = self._local_gguf(gguf)
        if path is not None:
            from llama_cpp import Llama

            self._vocab = Llama(model_path=str(path), vocab_only=True, verbose=False)
            self.kind = f"vocabulary of {path.name}"

    @staticmethod
    def _local_gguf(gguf: str | None):
        from pathlib import Path

        from rag.models import DEFAULT_LLM, MODELS, model_path

        if gguf == "":
            return None
        if gguf and gguf not in MODELS:
            path = Path(gguf).expanduser()
            if not path.is_file():
                raise ModelError(f"tokenizer {gguf!r}: not a bundled model key nor an existing .gguf file")
            return path
        path = model_path(gguf or DEFAULT_LLM)
        return path if path.is_file() else None  # never downloads 1 GB just to count

    def __call__(self, text: str) -> int:
        if self._vocab is not None:
            return len(self._vocab.tokenize(text.encode("utf-8"), add_bos=False, special=False))
        return len(_WORD.findall(_CJK.sub(" x ", text))) if text else 0


class OpenAIGenerator:
    """A Generator whose model runs on one or more OpenAI-compatible servers."""

    def __init__(
        self,
        urls: list[str],
        model: str = "",
        api_key: str = "",
        slots: int = 1,
        seed: int = 42,
        deadline_s: float = 120.0,
        first_token_s: float = 60.0,
        connect_s: float = 5.0,
        tokenizer: str | None = None,
    ) -> None:
        self.pool = EndpointPool(urls, slots)
        self.model = model or "default"
        self.name = f"{model or 'remote'} @ {', '.join(urls)}"
        self.api_key = api_key or "none"  # the client insists on a key; servers without auth ignore it
        self.seed = seed
        self.deadline_s = deadline_s
        self.first_token_s = first_token_s
        self.connect_s = connect_s
        self.count_tokens = TokenCounter(tokenizer)
        self.calls = 0
        self.retries = 0
        self.deadlines_hit = 0
        self.last_wait_ms = 0.0
        self._started: dict[int, float] = {}  # call id -> monotonic start, for held_for()
        self._ids = iter(range(1 << 62))
        self._loop = asyncio.new_event_loop()
        threading.Thread(target=self._loop.run_forever, name="llm-http", daemon=True).start()

    # --- figures for /health and the chat -------------------------------------
    @property
    def active(self) -> int:
        return sum(e.inflight for e in self.pool.endpoints)

    @property
    def max_active(self) -> int:
        """The most calls one endpoint ever had at once: must not exceed its slots."""
        return max(e.max_inflight for e in self.pool.endpoints)

    @property
    def waiting(self) -> int:
        return self.pool.queue.waiting

    def held_for(self) -> float:
        started = list(self._started.values())
        return time.monotonic() - min(started) if started else 0.0

    def endpoint_stats(self) -> list[dict[str, Any]]:
        return [e.stats() for e in self.pool.endpoints]

    # --- generation ------------------------------------------------------------
    def stream(self, messages: list[dict[str, str]], max_tokens: int) -> Iterator[str]:
        """Tokens as the server sends them; closing this generator cancels the HTTP request at once."""
        out: queue.Queue[tuple[str, object]] = queue.Queue()
        stop = threading.Event()
        running: list[concurrent.futures.Future] = []
        worker = threading.Thread(
            target=self._produce,
            args=(messages, max_tokens, out, stop, running, current_listener()),
            name="llm-remote",
            daemon=True,
        )
        worker.start()
        try:
            yield from (str(v) for v in drain(out, "token"))
        finally:
            stop.set()
            for fut in running:
                fut.cancel()  # cancels the task on the loop: the HTTP stream is closed, the endpoint freed

    def _produce(
        self,
        messages: list[dict[str, str]],
        max_tokens: int,
        out: queue.Queue,
        stop: threading.Event,
        running: list[concurrent.futures.Future],
        listener: WaitListener | None,
    ) -> None:
        t0 = time.perf_counter()
        tried: set[str] = set()
        deadline: float | None = None
        try:
            while True:
                ep = self.pool.acquire(stop, listener, tried)
                if ep is None:
                    return
                last = len(tried) + 1 == len(self.pool.endpoints)  # no other server left to try
                cid = next(self._ids)
                self._started[cid] = time.monotonic()
                if deadline is None:
                    self.last_wait_ms = (time.perf_counter() - t0) * 1000
                    self.calls += 1
                    deadline = time.monotonic() + self.deadline_s
                try:
                    fut = asyncio.run_coroutine_threadsafe(
                        self._call(ep, messages, max_tokens, out, stop, deadline, last), self._loop
                    )
                    running.append(fut)
                    if stop.is_set():
                        fut.cancel()
                    try:
                        fut.result()
                    except concurrent.futures.CancelledError:
                        return  # the reader hung up
                    self.pool.mark_up(ep)
                    return
                except _Retry as exc:
                    self.pool.mark_down(ep, str(exc))
                    tried.add(ep.url)
                    log.warning("LLM server %s failed before its first token (%s)", ep.url, exc)
                    if len(tried) == len(self.pool.endpoints):
                        raise ModelError(
                            f"模型服务器不可用：{len(tried)} 个服务器都没有回答。(No LLM server answered: {exc})"
                        ) from exc
                    self.retries += 1
                finally:
                    self._started.pop(cid, None)
                    self.pool.release(ep)
        except Exception as exc:
            out.put(("error", exc))
        finally:
            out.put(("end", None))

    def _client(self, ep: Endpoint):
        """One AsyncOpenAI client per endpoint, made on the loop thread; its own retries are off (ours decide)."""
        if ep.client is None:
            from openai import AsyncOpenAI

            ep.client = AsyncOpenAI(base_url=ep.url, api_key=self.api_key, max_retries=0, timeout=None)
        return ep.client

    async def _call(
        self,
        ep: Endpoint,
        messages: list[dict[str, str]],
        max_tokens: int,
        out: queue.Queue,
        stop: threading.Event,
        deadline: float,
        last: bool = False,
    ) -> None:
        """One request to one server; `last`: no other server is left, so only the deadline limits its first token."""
        import openai

        sent = False
        first_by = deadline if last else min(deadline, time.monotonic() + self.first_token_s)
        try:
            async with asyncio.timeout_at(self._loop.time() + (first_by - time.monotonic())) as limit:
                stream = await self._client(ep).chat.completions.create(
                    model=self.model,
                    messages=messages,  # type: ignore[arg-type]
                    max_tokens=max_tokens,
                    temperature=0.0,
                    seed=self.seed,
                    stream=True,
                    # llama.cpp's and vLLM's sampling options, as the local model decodes; others ignore them
                    extra_body={"top_k": 1, "repeat_penalty": 1.05},
                )
                try:
                    async for chunk in stream:
                        delta = chunk.choices[0].delta.content if chunk.choices else None
                        if delta:
                            if not sent:
                                sent = True
                                limit.reschedule(self._loop.time() + (deadline - time.monotonic()))
                            out.put(("token", delta))
                        if stop.is_set():
                            return
                finally:
                    await stream.close()
        except TimeoutError as exc:
            if not sent and first_by < deadline:  # this server is slow to start: another may be quicker
                raise _Retry(f"no token within {self.first_token_s:.0f} s") from exc
            self.deadlines_hit += 1
            raise ModelError(
                f"生成超时：模型 {self.deadline_s:.0f} 秒内没有完成回答，已停止。"
                f"(Generation stopped after {self.deadline_s:.0f} s.)"
            ) from exc
        except (openai.APIConnectionError, openai.APIStatusError) as exc:
            status = getattr(exc, "status_code", None)
            retryable = status is None or status >= 500 or status == 429
            reason = f"HTTP {status}: {exc}" if status else f"{type(exc).__name__}: {exc}"
            if retryable and not sent:
                raise _Retry(reason) from exc
            raise ModelError(f"模型服务器出错：{ep.url}（{reason}）" + ("，回答已中断。" if sent else "。")) from exc
        except (ModelError, _Retry):
            raise
        except Exception as exc:  # the transport broke mid-stream (server killed, connection reset)
            reason = f"{type(exc).__name__}: {exc}"
            if not sent:
                raise _Retry(reason) from exc
            raise ModelError(f"模型服务器出错：{ep.url}（{reason}），回答已中断。") from exc

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
