"""The HTTP API on a real server (real index copy, real embedder and LLM), driven by the `openai` client."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import openai
import pytest

pytestmark = pytest.mark.llm


def rag_field(obj: Any) -> dict:
    """The extra "rag" field of an OpenAI response object (the client keeps unknown fields)."""
    extra = getattr(obj, "model_extra", None) or {}
    return extra["rag"] if "rag" in extra else obj.to_dict()["rag"]


@pytest.fixture(scope="module")
def client(server) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key=server.api_key, max_retries=0, timeout=300)


def _check_cited(rag: dict, figure: str) -> None:
    assert not rag["refused"]
    assert rag["citations"], rag
    for c in rag["citations"]:
        assert rag["passages"][c["n"] - 1]["chunk_id"] == c["chunk_id"]
        assert rag["passages"][c["n"] - 1]["text"] == c["text"]
    assert any(figure in c["text"] for c in rag["citations"]), "the figure must come from a cited passage"


def test_chat_completion_cited(client):
    resp = client.chat.completions.create(
        model="local", messages=[{"role": "user", "content": "寿光市2025年的GDP目标是多少？"}]
    )
    assert resp.object == "chat.completion"
    assert resp.choices[0].finish_reason == "stop"
    content = resp.choices[0].message.content
    rag = rag_field(resp)
    assert "1100亿元" in content and rag["answer"] == content
    _check_cited(rag, "1100亿元")
    assert rag["citations"][0]["doc"] == "002_78ad54bd58fc9a9e.txt"
    assert set(rag["timings_ms"]) == {"retrieve", "first_token", "total"}
    assert resp.usage.total_tokens > 0


def test_chat_completion_streaming(client):
    stream = client.chat.completions.create(
        model="local",
        messages=[{"role": "user", "content": "潍坊市县域经济实施方案的文号是什么？"}],
        stream=True,
    )
    deltas, rag, finish = [], None, None
    for chunk in stream:
        assert chunk.object == "chat.completion.chunk"
        choice = chunk.choices[0]
        if choice.delta.content:
            deltas.append(choice.delta.content)
        if choice.finish_reason:
            finish = choice.finish_reason
            rag = rag_field(chunk)
    assert finish == "stop" and rag is not None
    assert "".join(deltas) == rag["answer"], "the stream carries exactly the checked answer"
    assert "潍政字〔2024〕12号" in "".join(deltas)
    assert "潍政字〔2024〕12号" in rag["answer"]
    _check_cited(rag, "潍政字〔2024〕12号")


def test_follow_up_uses_history(client):
    resp = client.chat.completions.create(
        model="local",
        messages=[
            {"role": "system", "content": "ignored"},
            {"role": "user", "content": "寿光市2025年的GDP目标是多少？"},
            {"role": "assistant", "content": "寿光市2025年的GDP目标是1100亿元以上。[1]"},
            {"role": "user", "content": "那青州市呢？"},
        ],
    )
    rag = rag_field(resp)
    assert "800亿元" in rag["answer"] and not rag["refused"]


def test_unanswerable_is_refused(client):
    resp = client.chat.completions.create(
        model="local", messages=[{"role": "user", "content": "青岛市2024年县域经济GDP是多少？"}]
    )
    rag = rag_field(resp)
    assert rag["refused"] is True and rag["citations"] == []
    assert rag["passages"], "the nearest passages are still returned"
    assert resp.choices[0].message.content == rag["answer"]


def test_wrong_api_key_is_401(server):
    bad = openai.OpenAI(base_url=f"{server.url}/v1", api_key="wrong", max_retries=0, timeout=30)
    with pytest.raises(openai.AuthenticationError):
        bad.chat.completions.create(model="local", messages=[{"role": "user", "content": "寿光市的GDP目标？"}])
    r = httpx.post(f"{server.url}/v1/retrieve", json={"question": "寿光"}, timeout=30)  # no header at all
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"


def test_empty_question_is_400(client, server):
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(model="local", messages=[{"role": "user", "content": "   "}])
    assert "问题为空" in str(err.value)
    for stream in (False, True):
        r = httpx.post(
            f"{server.url}/v1/chat/completions",
            json={"messages": [{"role": "user", "content": "？？？"}], "stream": stream},
            headers={"Authorization": f"Bearer {server.api_key}"},
            timeout=30,
        )
        assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_request_error"


def test_bad_body_is_422(server):
    headers = {"Authorization": f"Bearer {server.api_key}"}
    for body in ({"messages": []}, {"model": "x"}, {"messages": [{"role": "robot", "content": "hi"}]}):
        r = httpx.post(f"{server.url}/v1/chat/completions", json=body, headers=headers, timeout=30)
        assert r.status_code == 422 and "error" in r.json(), body
    r = httpx.post(
        f"{server.url}/v1/chat/completions",
        json={"messages": [{"role": "assistant", "content": "hi"}]},
        headers=headers,
        timeout=30,
    )
    assert r.status_code == 400


def test_retrieve_documents_health(server):
    headers = {"Authorization": f"Bearer {server.api_key}"}
    r = httpx.post(
        f"{server.url}/v1/retrieve", json={"question": "寿光市GDP目标", "top_k": 3}, headers=headers, timeout=60
    )
    assert r.status_code == 200
    passages = r.json()["passages"]
    assert len(passages) == 3 and {"rank", "doc", "chunk_id", "score", "text"} <= set(passages[0])
    assert any("寿光" in p["text"] for p in passages)

    r = httpx.get(f"{server.url}/v1/documents", headers=headers, timeout=30)
    docs = {d["doc"]: d for d in r.json()["data"]}
    assert len(docs) == 5
    weifang = docs["002_78ad54bd58fc9a9e.txt"]
    assert weifang["doc_number"] == "潍政字〔2024〕12号" and weifang["chunks"] > 0

    r = httpx.get(f"{server.url}/health", timeout=30)  # open without a key
    h = r.json()
    assert h["status"] == "ok" and h["docs"] == 5 and h["chunks"] > 0 and h["index_version"].startswith("v-")
    assert set(h["model"]) == {"embedder", "llm"}


def _headers(server) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.api_key}"}


def _wait_model_free(server, seconds: float = 10.0) -> dict:
    """Poll /health until no call holds the model; return the last report."""
    end = time.monotonic() + seconds
    while True:
        h = httpx.get(f"{server.url}/health", timeout=30).json()
        if h["llm"].get("active") == 0 and h["llm"].get("held_s") == 0.0:
            return h
        if time.monotonic() > end:
            return h
        time.sleep(0.1)


def test_a_client_that_hangs_up_mid_stream_frees_the_model(server, client):
    body = {"messages": [{"role": "user", "content": "潍坊市县域经济到2025年的发展目标是什么？"}], "stream": True}
    calls = httpx.get(f"{server.url}/health", timeout=30).json()["llm"]["calls"]
    with httpx.Client(timeout=120) as c:
        with c.stream("POST", f"{server.url}/v1/chat/completions", json=body, headers=_headers(server)) as r:
            assert r.status_code == 200
            for line in r.iter_lines():
                if line.startswith("data: {") and json.loads(line[6:])["choices"][0]["delta"].get("content"):
                    break  # the first token: hang up now
            else:
                pytest.fail("no token was streamed")
    h = _wait_model_free(server)
    assert h["llm"]["active"] == 0 and h["status"] == "ok", h
    assert h["llm"]["calls"] > calls
    resp = client.chat.completions.create(
        model="local", messages=[{"role": "user", "content": "寿光市2025年的GDP目标是多少？"}]
    )
    assert "1100亿元" in resp.choices[0].message.content


def test_long_history_is_fitted_not_a_500(server):
    """200 history messages with 5,500-character user turns, then a follow-up: answered, within the context."""
    messages = []
    for i in range(100):
        messages.append({"role": "user", "content": ("寿光市的发展情况如何？" * 500)[:5500] if i > 95 else f"问题{i}"})
        messages.append({"role": "assistant", "content": "寿光市2025年的GDP目标是1100亿元以上。[1]"})
    messages.append({"role": "user", "content": "那青州市呢？"})
    r = httpx.post(
        f"{server.url}/v1/chat/completions", json={"messages": messages}, headers=_headers(server), timeout=300
    )
    assert r.status_code == 200, r.text
    rag = r.json()["rag"]
    assert rag["question"] == "那青州市呢？" and isinstance(rag["refused"], bool)


def test_an_internal_error_is_a_json_500_and_the_connection_stays_usable(server, monkeypatch):
    def broken(*_args, **_kwargs):  # a fault that the real retriever cannot be made to raise on purpose
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(server.pipe, "retrieve", broken)
    with httpx.Client(timeout=30) as c:
        r = c.post(f"{server.url}/v1/retrieve", json={"question": "寿光"}, headers=_headers(server))
        assert r.status_code == 500
        err = r.json()["error"]
        assert err["type"] == "server_error" and "RuntimeError" in err["message"]
        assert "disk on fire" not in err["message"]  # internals stay in the server log
        assert c.get(f"{server.url}/v1/models", headers=_headers(server)).status_code == 200


def test_oversized_bodies_are_refused_with_413(server):
    big = {"messages": [{"role": "user", "content": "寿" * (2 * 1024 * 1024)}]}
    r = httpx.post(f"{server.url}/v1/chat/completions", json=big, headers=_headers(server), timeout=60)
    assert r.status_code == 413 and r.json()["error"]["code"] == "body_too_large"

    def chunks():  # no Content-Length: the size is counted as the body arrives
        yield b'{"messages": [{"role": "user", "content": "'
        for _ in range(40):
            yield b"x" * 65536
        yield b'"}]}'

    r = httpx.post(
        f"{server.url}/v1/chat/completions",
        content=chunks(),
        headers={**_headers(server), "Content-Type": "application/json"},
        timeout=60,
    )
    assert r.status_code == 413 and r.json()["error"]["code"] == "body_too_large"


def test_api_description_is_behind_the_key_and_loads_nothing_from_a_cdn(server):
    assert httpx.get(f"{server.url}/v1/openapi.json", timeout=30).status_code == 401
    spec = httpx.get(f"{server.url}/v1/openapi.json", headers=_headers(server), timeout=30).json()
    assert "/v1/chat/completions" in spec["paths"]
    for path in ("/v1/docs", "/docs", "/redoc"):
        r = httpx.get(f"{server.url}{path}", headers=_headers(server), timeout=30)
        assert "swagger-ui" not in r.text and "cdn.jsdelivr" not in r.text, path


def test_health_reports_a_model_held_past_its_deadline(server):
    gen = server.pipe.generator
    assert httpx.get(f"{server.url}/health", timeout=30).status_code == 200
    # A stuck call cannot be produced on purpose any more (that is the point); pretend one started long ago.
    with gen._lock:
        gen.held_since = time.monotonic() - 10 * server.pipe.settings.generation_timeout_s
        try:
            r = httpx.get(f"{server.url}/health", timeout=30)
        finally:
            gen.held_since = None
    assert r.status_code == 503 and r.json()["status"] == "unhealthy" and "deadline" in r.json()["problem"]
