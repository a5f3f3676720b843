"""Escaping in the rendered HTML, and the Documents tab handlers on a real index copy (embedder only, no LLM)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.types import Chunk, Citation, DocMeta, Passage
from ui import render


def _passage(text: str, rank: int = 1, title: str = "标题") -> Passage:
    chunk = Chunk(id=f"c{rank}", doc_id="d<1>.txt", text=text, heading="一、<b>总体</b>", start=0, end=len(text))
    return Passage(chunk=chunk, rank=rank, score=0.5, dense_score=0.9, meta=DocMeta(title=title, issuer="某<i>局"))


def test_user_and_document_text_is_escaped():
    assert render.user_message("<script>alert(1)</script>") == "&lt;script&gt;alert(1)&lt;/script&gt;"
    p = _passage("正文<img src=x onerror=alert(1)>。到2025年达到100亿元。", title="<script>t</script>")
    cite = Citation(n=1, doc="d", title="t", chunk_id="c1", text=p.chunk.text, sentence="到2025年达到100亿元。")
    html = render.sources_panel([p], [cite])
    assert "<script>" not in html and "<img" not in html and "<b>" not in html and "<i>" not in html
    assert "&lt;script&gt;t&lt;/script&gt;" in html
    assert "<mark>到2025年达到100亿元。</mark>" in html and "已引用" in html and "[1]" in html


def test_refusal_panel_offers_nearest_passages():
    html = render.sources_panel([_passage("甲"), _passage("乙", rank=2)], refused=True)
    assert "最接近的段落" in html and html.count('class="src-item"') == 2


class _Progress:
    def __init__(self) -> None:
        self.calls: list[tuple[float, str]] = []

    def __call__(self, fraction: float, desc: str = "") -> None:
        self.calls.append((fraction, desc))


@pytest.fixture(scope="module")
def docs_pipe(index_dir, tmp_path_factory):
    import shutil

    from rag.config import Settings
    from rag.pipeline import Pipeline

    copy = tmp_path_factory.mktemp("docs") / "index"
    shutil.copytree(index_dir, copy)
    return Pipeline(Settings(index_dir=copy))  # the LLM is loaded lazily: not needed here


def test_add_and_remove_documents(docs_pipe, tmp_path):
    from ui.chat import add_documents, remove_document, upload_folder

    tmp_path = upload_folder() / f"test-{tmp_path.name}"  # where the upload route puts files
    tmp_path.mkdir(parents=True, exist_ok=True)
    good = tmp_path / "test_doc.txt"
    good.write_text("白沙县2024年县域经济发展报告\n2024年，白沙县地区生产总值达到123.4亿元。\n", encoding="utf-8")
    bad_pdf = tmp_path / "broken.pdf"
    bad_pdf.write_bytes(b"this is not a pdf")
    exe = tmp_path / "tool.exe"
    exe.write_bytes(b"MZ")
    progress = _Progress()
    status, *_ = add_documents(docs_pipe, [str(good), str(bad_pdf), str(exe)], progress)
    assert "已添加：test_doc.txt" in status
    assert "broken.pdf" in status and "tool.exe" in status and status.count("❌") == 2
    assert progress.calls and "test_doc.txt" in docs_pipe.index.docs
    assert any("白沙县" in p.chunk.text for p in docs_pipe.retrieve("白沙县地区生产总值", 3))

    status, *_ = remove_document(docs_pipe, "test_doc.txt")
    assert "已从索引中删除" in status and "test_doc.txt" not in docs_pipe.index.docs
    status, *_ = remove_document(docs_pipe, "test_doc.txt")
    assert "删除失败" in status
    status, *_ = add_documents(docs_pipe, [], progress)
    assert "请先选择" in status


def test_feedback_log(tmp_path: Path):
    from ui.feedback import FeedbackLog

    log = FeedbackLog(tmp_path / "fb" / "feedback.jsonl")
    log.record(True, {"question": "问", "answer": "答", "passages": [{"doc": "d"}]})
    log.record(False, {"question": "问2", "answer": "答2", "passages": []})
    rows = log.read()
    assert [r["liked"] for r in rows] == [True, False] and rows[0]["passages"] == [{"doc": "d"}]


def test_login_required_when_credentials_given(docs_pipe, tmp_path):
    from fastapi.testclient import TestClient

    from ui.app import create_app

    app = create_app(docs_pipe, auth=[("amy", "s3cret")], api_key="k", feedback_path=tmp_path / "f.jsonl")
    with TestClient(app) as c:
        assert c.get("/health").status_code == 200  # open, for monitoring
        assert c.get("/config").status_code == 401
        assert c.get("/v1/documents").status_code == 401
        assert c.get("/v1/documents", headers={"Authorization": "Bearer k"}).status_code == 200
        assert c.post("/login", data={"username": "amy", "password": "wrong"}).status_code >= 400
        assert c.post("/login", data={"username": "amy", "password": "s3cret"}).status_code == 200
        assert c.get("/config").status_code == 200


def test_documents_tab_shows_what_cleaning_removed(docs_pipe, tmp_path):
    from ui.chat import _doc_table, add_documents, clean_report, remove_document, upload_folder

    folder = upload_folder() / f"test-report-{tmp_path.name}"
    folder.mkdir(parents=True, exist_ok=True)
    page = folder / "notice_page.txt"
    page.write_text(
        "首页 > 政务公开 > 通知公告\n绿川县关于做好秋季农业生产的通知\n各乡镇：\n"
        "今年秋季，全县计划播种小麦12万亩，推广节水灌溉技术。\n绿川县农业农村局\n2025年9月1日\n"
        "版权所有：绿川县人民政府　备案号：某ICP备12345678号\n",
        encoding="utf-8",
    )
    status, *_ = add_documents(docs_pipe, [str(page)], _Progress())
    assert "已添加：notice_page.txt（保留" in status and "删除" in status and "⚠" in status
    row = next(r for r in _doc_table(docs_pipe) if r[0] == "notice_page.txt")
    assert row[6].endswith("⚠")
    report = clean_report(docs_pipe, "notice_page.txt")
    assert "版权所有" in report and "12万亩" not in report  # the footer is listed, the body is not
    remove_document(docs_pipe, "notice_page.txt")
