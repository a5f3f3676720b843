"""The chat's download buttons in a real headless Chromium: both formats download and hold the answer and sources."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import pytest

from tests.ui.test_browser import ANSWER_TIMEOUT_MS, CHROMIUM, DONE_JS, LAUNCH_ARGS, SHOTS

pytestmark = [pytest.mark.browser, pytest.mark.llm, pytest.mark.slow]
QUESTION = "寿光市2025年的GDP目标是多少？"


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
    assert QUESTION in md and re.search(r"^1\. 《[^》]*潍坊市县域经济高质量发展实施方案[^》]*》", md, re.M), md
    page.screenshot(path=str(SHOTS / "08_export_buttons.png"))
