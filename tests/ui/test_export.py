"""Export of a conversation, or one answer of it, as .docx and Markdown: through the HTTP API (auth as for /v1), read back with python-docx."""

from __future__ import annotations

import io
import json
import re

import httpx
import pytest

from ui.export import Source, Turn, TurnNotFound, to_markdown

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


def _export_turn(server, cid: str, fmt: str, turn: object) -> httpx.Response:
    return httpx.get(
        f"{server.url}/v1/conversations/{cid}/export",
        params={"format": fmt, "turn": turn},
        headers=_headers(server),
        timeout=60,
    )


def test_one_answer_as_docx_holds_that_answer_and_its_sources_only(server, conversation):
    cid, (first, second) = conversation
    r = _export_turn(server, cid, "docx", 2)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "%E7%AC%AC2%E9%97%AE.docx" in r.headers["content-disposition"]  # 问答记录-…-第2问.docx
    text = _docx_text(r.content)
    assert f"问题 2：{Q2}" in text and "问题 1：" not in text  # numbered as in the conversation
    assert second["answer"] in text.replace("回答：", ""), second["answer"]
    assert first["answer"] not in text
    assert second["citations"], second
    for c in second["citations"]:
        assert f"[{c['n']}]" in text and c["title"] in text
    assert re.search(r"提问时间：\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", text)
    assert f"模型：{second['model']['llm']}" in text and "引用原文：「" in text and "仅含第 2 问" in text


def test_one_answer_as_markdown_keeps_its_own_source_numbers(server, conversation):
    cid, (first, second) = conversation
    r = _export_turn(server, cid, "md", 1)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/markdown")
    md = r.text
    assert md.startswith("# 政策文件问答记录") and f"## 问题 1：{Q1}" in md and "## 问题 2" not in md
    assert "1100亿元" in md and second["answer"] not in md
    assert first["citations"], first
    for c in first["citations"]:
        assert f"{c['n']}. 《{c['title']}》" in md
    assert "模型：" + first["model"]["llm"].replace("_", r"\_") in md  # Markdown escapes the name's `_`


def test_a_turn_outside_the_conversation_is_a_clear_error(server, conversation):
    cid, _ = conversation
    r = _export_turn(server, cid, "docx", 3)
    assert r.status_code == 404
    err = r.json()["error"]
    assert err["code"] == "turn_not_found" and "2 answer(s)" in err["message"], err
    for bad in (0, -1, "abc", "1.5"):
        r = _export_turn(server, cid, "md", bad)
        assert r.status_code == 422 and "turn" in r.json()["error"]["message"], (bad, r.text)


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


def test_one_answer_is_the_same_rendering_under_its_own_numbers():
    """No model needed: the one-answer file is the conversation's rendering of that answer, numbers kept."""
    turns = [
        Turn("问一", "答一[1]。", False, "2026-11-26 10:00:00", "m", sources=[Source(1, "甲文件")]),
        Turn(
            "问二",
            "答二[1][2]。",
            False,
            "2026-11-26 10:01:00",
            "m",
            sources=[Source(1, "乙文件"), Source(2, "丙文件")],
        ),
    ]
    whole = to_markdown(turns, "conv-x", "2026-11-26 10:02:00")
    one = to_markdown(turns, "conv-x", "2026-11-26 10:02:00", turn=2)
    assert one.split("## 问题 2：", 1)[1] == whole.split("## 问题 2：", 1)[1]
    assert "问一" not in one and "甲文件" not in one and "1. 《乙文件》" in one and "2. 《丙文件》" in one
    with pytest.raises(TurnNotFound, match="1 to 2"):
        to_markdown(turns, turn=3)
