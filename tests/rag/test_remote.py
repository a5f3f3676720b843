"""Generation on real OpenAI-compatible servers (`python -m llama_cpp.server` on loopback, the bundled GGUF).

Faults that a real server cannot be made to produce on demand (a 503, a server
that accepts a request and then says nothing) come from a few lines of stdlib
HTTP server; a dead server is a port nobody listens on.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from rag.config import Settings
from rag.errors import ModelError
from rag.prompt import SYSTEM
from rag.remote import OpenAIGenerator, TokenCounter, parse_urls

pytestmark = [pytest.mark.llm, pytest.mark.slow]
QUESTION = "寿光市2025年的GDP目标是多少？"


def _msgs(question: str) -> list[dict[str, str]]:
    passage = "[1]《潍坊方案》力争到2025年,寿光市gdp完成1100亿元以上,青州市达到800亿元左右。"
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": f"资料：\n{passage}\n\n问题：{question}"},
    ]


LONG = _msgs("请逐字复述资料全文，然后再复述三遍。")


def _dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/v1"  # closed again: connections are refused


class _Faulty(BaseHTTPRequestHandler):
    mode = "503"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        if self.mode == "503":
            body = b'{"error": {"message": "overloaded"}}'
            self.send_response(503)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:  # headers of an event stream, then silence
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.end_headers()
            self.wfile.flush()
            time.sleep(30)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def faulty() -> Iterator:
    started = []

    def start(mode: str) -> str:
        handler = type("H", (_Faulty,), {"mode": mode})
        srv = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        srv.daemon_threads = True
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        started.append(srv)
        return f"http://127.0.0.1:{srv.server_address[1]}/v1"

    yield start
    for srv in started:
        srv.shutdown()


def _gen(urls: list[str], **kw) -> OpenAIGenerator:
    return OpenAIGenerator(urls, "qwen", **kw)


def _idle(gen: OpenAIGenerator, seconds: float = 10.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if gen.active == 0:
            return True
        time.sleep(0.05)
    return False


def test_urls_from_one_or_repeated_options():
    assert parse_urls("openai:http://a:1/v1,http://b:2/v1/") == ["http://a:1/v1", "http://b:2/v1"]
    assert parse_urls(["openai:http://a:1/v1", "openai:http://b:2/v1", "openai:http://a:1/v1"]) == [
        "http://a:1/v1",
        "http://b:2/v1",
    ]
    with pytest.raises(ModelError):
        parse_urls("openai:localhost:8000")


def test_token_counts_without_a_local_model_are_an_approximation():
    approx = TokenCounter("")  # "" = do not load a vocabulary
    assert approx("寿光市GDP完成1100亿元") == 9  # 7 CJK characters, one word, one number
    exact = TokenCounter(None)  # the bundled GGUF's vocabulary (on disk for the LLM tests)
    assert 0 < exact("寿光市GDP完成1100亿元") <= approx("寿光市GDP完成1100亿元") + 4


def test_a_question_answered_through_the_pipeline(index_dir, llama_servers):
    from rag.pipeline import Pipeline

    url = llama_servers[0].url
    pipe = Pipeline(Settings(index_dir=index_dir, llm=f"openai:{url}", llm_model="qwen", max_new_tokens=60))
    answer = pipe.ask(QUESTION)
    assert not answer.refused and "1100" in answer.answer, answer.answer
    assert answer.citations and answer.to_json()["model"]["llm"] == f"qwen @ {url}"
    assert [c["name"] for c in answer.to_json()["checks"]][:2] == ["coverage", "model_refusal"]
    assert pipe.generator.active == 0


def test_a_dead_server_is_skipped_for_a_live_one(llama_servers, monkeypatch):
    monkeypatch.setattr("rag.remote.DOWN_FOR_S", 600.0)  # marked down for longer than this slow machine needs here
    dead = _dead_url()
    gen = _gen([dead, llama_servers[0].url])
    assert "1100" in "".join(gen.stream(_msgs(QUESTION), 24))
    first, second = gen.endpoint_stats()
    assert first["failures"] == 1 and first["down"] and "Connection" in first["last_error"]
    assert second["calls"] == 1 and gen.retries == 1
    "".join(gen.stream(_msgs(QUESTION), 4))  # the dead one is now left alone while it is marked down
    assert gen.endpoint_stats()[0]["calls"] == 1 and gen.endpoint_stats()[1]["calls"] == 2


def test_a_503_and_a_silent_server_are_retried_elsewhere(llama_servers, faulty):
    gen = _gen([faulty("503"), faulty("silent"), llama_servers[1].url], first_token_s=2.0)
    assert "1100" in "".join(gen.stream(_msgs(QUESTION), 24))
    errors = [e["last_error"] for e in gen.endpoint_stats()]
    assert "503" in errors[0] and "no token within 2 s" in errors[1] and errors[2] == ""


def test_all_servers_failing_is_a_model_error():
    gen = _gen([_dead_url(), _dead_url()])
    with pytest.raises(ModelError, match="模型服务器不可用"):
        "".join(gen.stream(_msgs(QUESTION), 8))
    assert gen.active == 0


def test_the_least_busy_server_is_chosen_and_the_rest_wait_in_order(llama_servers):
    a, b = (s.url for s in llama_servers)
    gen = _gen([a, b])
    first = gen.stream(LONG, 200)
    next(first)
    second = gen.stream(LONG, 200)
    next(second)  # a is busy: b takes it
    stats = {e["url"]: e for e in gen.endpoint_stats()}
    assert stats[a]["inflight"] == 1 and stats[b]["inflight"] == 1

    places: list[int] = []
    result: list[str] = []

    def third() -> None:
        from rag.waitqueue import report_waits

        with report_waits(places.append):
            result.append("".join(gen.stream(_msgs(QUESTION), 24)))

    t = threading.Thread(target=third)
    t.start()
    end = time.monotonic() + 10
    while not places and time.monotonic() < end:
        time.sleep(0.05)
    assert places == [2] and gen.waiting == 1  # both servers answering, none free
    second.close()  # b is freed: the waiting call goes there
    t.join(timeout=120)
    assert places == [2, 0] and "1100" in result[0]
    stats = {e["url"]: e for e in gen.endpoint_stats()}
    assert stats[b]["calls"] == 2 and stats[a]["calls"] == 1 and gen.max_active == 1
    first.close()
    assert _idle(gen)


def test_a_reader_that_hangs_up_frees_the_server(llama_servers):
    gen = _gen([llama_servers[0].url])
    tokens = gen.stream(LONG, 400)
    next(tokens)
    assert gen.active == 1
    t0 = time.monotonic()
    tokens.close()
    assert _idle(gen, 5), "closing the stream must end the HTTP request"
    assert time.monotonic() - t0 < 5
    # the server stopped too: it takes the next request at once instead of finishing 400 tokens first
    start = time.monotonic()
    assert "1100" in "".join(gen.stream(_msgs(QUESTION), 24))
    assert time.monotonic() - start < 60


def test_the_deadline_ends_the_request(llama_servers):
    gen = _gen([llama_servers[0].url], deadline_s=3.0)
    with pytest.raises(ModelError, match="超时"):
        "".join(gen.stream(LONG, 1500))
    assert gen.deadlines_hit == 1 and _idle(gen)


def test_a_server_dying_mid_answer_is_a_model_error(llama_server_factory):
    (server,) = llama_server_factory(1)
    gen = _gen([server.url])
    tokens = gen.stream(LONG, 400)
    next(tokens)
    server.proc.kill()
    with pytest.raises(ModelError, match="回答已中断"):
        for _ in tokens:
            pass
    assert _idle(gen)
