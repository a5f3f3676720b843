"""The chat's download buttons in a real headless Chromium: both formats download and hold the answer and sources.

The conversation and one chosen answer alike; the page stays open across the tests of this module.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator

import pytest

from tests.ui.test_browser import ANSWER_TIMEOUT_MS, CHROMIUM, DONE_JS, LAUNCH_ARGS, SHOTS

pytestmark = [pytest.mark.browser, pytest.mark.llm, pytest.mark.slow]
QUESTION = "寿光市2025年的GDP目标是多少？"
FOLLOW_UP = "那青州市呢？"
WEIFANG_PLAN = re.compile(r"^1\. 《[^》]*潍坊市县域经济高质量发展实施方案[^》]*》", re.M)


@pytest.fixture(scope="module")
def page(server) -> Iterator:
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is missing (scripts/setup.sh --dev installs it as root)")
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        pg = browser.new_page(viewport={"width": 1400, "height": 950}, locale="zh-CN", accept_downloads=True)
        pg.set_default_timeout(60_000)
        pg.goto(server.url + "/", wait_until="load")
        pg.wait_for_selector("#question textarea")
        yield pg
        browser.close()


def _download(pg, elem_id: str, tmp_path) -> tuple[str, bytes]:
    button = pg.locator(f"#{elem_id}")
    pg.wait_for_function(f"() => !document.querySelector('#{elem_id}').disabled", timeout=60_000)
    with pg.expect_download(timeout=60_000) as info:
        button.click()
    download = info.value
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    return download.suggested_filename, path.read_bytes()


def test_the_conversation_downloads_as_docx_and_markdown(page, tmp_path):
    assert page.locator("#export-docx").is_disabled()  # nothing to export yet
    page.locator("#question textarea").fill(QUESTION)
    page.locator("#question textarea").press("Enter")
    page.wait_for_function(DONE_JS, arg=1, timeout=ANSWER_TIMEOUT_MS, polling=200)
    answer = page.locator('#chat [data-testid="bot"]').last.inner_text()
    assert "1100亿元" in answer

    name, data = _download(page, "export-docx", tmp_path)
    assert name.endswith(".docx")
    from docx import Document

    text = "\n".join(p.text for p in Document(io.BytesIO(data)).paragraphs)
    assert QUESTION in text and "1100亿元" in text and "[1]" in text
    assert "潍坊市县域经济高质量发展实施方案" in text and "引用原文" in text and "模型：" in text

    name, data = _download(page, "export-md", tmp_path)
    md = data.decode("utf-8")
    assert name.endswith(".md") and md.startswith("# 政策文件问答记录")
    assert QUESTION in md and WEIFANG_PLAN.search(md), md
    page.screenshot(path=str(SHOTS / "08_export_buttons.png"))


def _ask(pg, question: str) -> None:
    n = pg.locator('#chat [data-testid="bot"]').count()
    pg.locator("#question textarea").fill(question)
    pg.locator("#question textarea").press("Enter")
    pg.wait_for_function(DONE_JS, arg=n + 1, timeout=ANSWER_TIMEOUT_MS, polling=200)


def _docx_text(data: bytes) -> str:
    from docx import Document

    return "\n".join(p.text for p in Document(io.BytesIO(data)).paragraphs)


def _download_turn(pg, elem_id: str, turn: int, tmp_path) -> tuple[str, bytes]:
    """The button's file once it is answer `turn`'s: the selector's change rewrites the file a moment later."""
    for _ in range(20):
        name, data = _download(pg, elem_id, tmp_path)
        if f"第{turn}问" in name:
            return name, data
        time.sleep(0.5)
    raise AssertionError(f"#{elem_id} never offered answer {turn}: last file {name}")


def test_one_answer_downloads_as_docx_and_markdown(page, tmp_path):
    """The selector offers the latest answer; choosing the first downloads that one alone, under its own number."""
    if page.locator('#chat [data-testid="bot"]').count() == 0:  # run on its own: the first question first
        _ask(page, QUESTION)
    _ask(page, FOLLOW_UP)
    assert "800亿元" in page.locator('#chat [data-testid="bot"]').last.inner_text()
    page.wait_for_function("() => /第 2 问/.test(document.querySelector('#export-turn input').value)", timeout=60_000)

    name, data = _download_turn(page, "export-one-docx", 2, tmp_path)  # the latest, without choosing
    text = _docx_text(data)
    assert name.endswith("第2问.docx")
    assert f"问题 2：{FOLLOW_UP}" in text and "问题 1：" not in text and QUESTION not in text
    assert "800亿元" in text and "[1]" in text and "引用原文" in text and "模型：" in text

    page.locator("#export-turn input").click()
    page.get_by_role("option", name=re.compile("第 1 问")).click()
    name, data = _download_turn(page, "export-one-docx", 1, tmp_path)
    text = _docx_text(data)
    assert f"问题 1：{QUESTION}" in text and "问题 2：" not in text and FOLLOW_UP not in text
    assert "1100亿元" in text and "潍坊市县域经济高质量发展实施方案" in text and "提问时间：" in text

    name, data = _download_turn(page, "export-one-md", 1, tmp_path)
    md = data.decode("utf-8")
    assert name.endswith("第1问.md") and md.startswith("# 政策文件问答记录")
    assert f"## 问题 1：{QUESTION}" in md and "## 问题 2" not in md and "1100亿元" in md
    assert WEIFANG_PLAN.search(md), md
    page.screenshot(path=str(SHOTS / "08_export_one_answer.png"))
