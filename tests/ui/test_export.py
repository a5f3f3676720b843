"""Export of a conversation as .docx and Markdown: through the HTTP API (auth as for /v1), read back with python-docx."""

from __future__ import annotations

import io
import json
import re

import httpx
import pytest

from ui.export import Source, Turn, to_markdown

pytestmark = pytest.mark.llm  # the `server` fixture runs the real model

Q1 = "寿光市2025年的GDP目标是多少？"
Q2 = "那青州市呢？"


def _headers(server) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.api_key}"}


def _ask(server, question: str, history: list[dict], conversation_id: str | None = None, stream: bool = False):
    body: dict = {"model": "rag", "messages": [*history, {"role": "user", "content": question}], "stream": stream}
    if conversation_id:
        body["conversation_id"] = conversation_id
    url = f"{server.url}/v1/chat/completions"
    if not stream:
        r = httpx.post(url, json=body, headers=_headers(server), timeout=600)
        assert r.status_code == 200, r.text
        data = r.json()
        return data["conversation_id"], data["rag"]
    last = None
    with httpx.stream("POST", url, json=body, headers=_headers(server), timeout=600) as r:
        for line in r.iter_lines():
            if line.startswith("data: {"):
                chunk = json.loads(line[6:])
                if "rag" in chunk:
                    last = chunk
    assert last is not None
    return last["conversation_id"], last["rag"]


@pytest.fixture(scope="module")
def conversation(server):
    """Two turns, the second a streamed follow-up in the same conversation."""
    cid, first = _ask(server, Q1, [])
    cid2, second = _ask(
        server, Q2, [{"role": "user", "content": Q1}, {"role": "assistant", "content": first["answer"]}], cid, True
    )
    assert cid2 == cid and cid.startswith("conv-")
    return cid, [first, second]


def _export(server, cid: str, fmt: str, headers: dict | None = None) -> httpx.Response:
    return httpx.get(
        f"{server.url}/v1/conversations/{cid}/export",
        params={"format": fmt},
        headers=_headers(server) if headers is None else headers,
        timeout=60,
    )


def _docx_text(data: bytes) -> str:
    from docx import Document

    return "\n".join(p.text for p in Document(io.BytesIO(data)).paragraphs)


def test_docx_holds_the_answers_every_citation_and_every_source(server, conversation):
    cid, answers = conversation
    r = _export(server, cid, "docx")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in r.headers["content-disposition"] and ".docx" in r.headers["content-disposition"]
    text = _docx_text(r.content)
    for a in answers:
        assert a["question"] in text
        assert a["answer"] in text.replace("回答：", ""), a["answer"]
        assert a["citations"], a
        for c in a["citations"]:
            assert f"[{c['n']}]" in text and c["title"] in text
    assert "1100亿元" in text and "800亿元" in text
    assert "潍坊市人民政府" in text  # the issuer of the cited plan
    assert re.search(r"提问时间：\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", text) and "模型：" in text
    assert "引用原文：「" in text and cid in text


def test_markdown_has_the_same_content(server, conversation):
    cid, answers = conversation
    r = _export(server, cid, "md")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/markdown")
    md = r.text
    assert md.startswith("# 政策文件问答记录")
    for a in answers:
        for c in a["citations"]:
            assert f"{c['n']}. 《{c['title']}》" in md
    assert "## 问题 2：那青州市呢？" in md and "800亿元" in md


def test_export_needs_the_key_and_the_owner(server, conversation):
    cid, _ = conversation
    assert _export(server, cid, "md", headers={}).status_code == 401
    assert _export(server, "conv-unknown", "md").status_code == 404
    r = httpx.get(
        f"{server.url}/v1/conversations/{cid}/export",
        params={"format": "md", "user": "someone-else"},
        headers=_headers(server),
        timeout=60,
    )
    assert r.status_code == 404 and r.json()["error"]["code"] == "conversation_not_found"
    assert _export(server, cid, "pdf").status_code == 422


def test_markdown_shows_a_question_as_text_never_as_markup():
    turn = Turn(
        question="# <b>粗体</b> *星号* [1]",
        answer="目标是1100亿元[1]。",
        refused=False,
        asked_at="2026-11-26 10:00:00",
        model="m",
        sources=[Source(1, "标题", "发文机关", "潍政字〔2024〕1号", "2024-01-02", "一、目标", "原句。")],
    )
    md = to_markdown([turn], "conv-x", "2026-11-26 10:00:01")
    assert r"\# \<b\>粗体\</b\> \*星号\* \[1\]" in md
    assert "目标是1100亿元[1]。" in md  # citation marks stay readable
    assert "1. 《标题》　发文机关　潍政字〔2024〕1号　2024-01-02　位置：一、目标" in md
