"""Formats as users bring them: .docx tables with their headers, PDF pages, a government web page's article.

Every file is generated here with a maintained library (python-docx, matplotlib's PdfPages) and
read back by the real loader, cleaner and chunker; the end-to-end test builds a real index and
asks the real LLM through the CLI (marked llm).
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from rag.chunk import chunk_document
from rag.document import prepare_bytes
from rag.load import load_bytes

REPO = Path(__file__).resolve().parents[2]

ROWS = [["指标", "2024年", "2025年目标"], ["地区生产总值", "980亿元", "1100亿元"], ["规上工业增加值增速", "7.5%", "8%"]]


def docx_bytes(rows: list[list[str]] = ROWS) -> bytes:
    from docx import Document

    d = Document()
    d.add_paragraph("潍河县县域经济发展主要指标")
    d.add_paragraph("全县主要经济指标如下表。")
    table = d.add_table(rows=len(rows), cols=len(rows[0]))
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            table.cell(i, j).text = value
    d.add_paragraph("以上指标由县统计局核定，每年公布一次。")
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


PAGES = [
    "County plan for renewable energy. Chapter one describes the general goals of the county.",
    "The county solar target is 12.5 MW of new capacity by 2026, built on public roofs.",
    "Wind power: two pilot turbines near the river, with 4 MW in total, are planned for 2027.",
]


def pdf_bytes(pages: list[str] = PAGES) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    buf = io.BytesIO()
    with PdfPages(buf) as pdf:
        for text in pages:
            fig = Figure()
            fig.text(0.05, 0.5, text, fontsize=7)
            pdf.savefig(fig)
    return buf.getvalue()


ARTICLE = (
    "<p>各乡镇人民政府，县政府各部门：</p>"
    "<p>为加快县域经济高质量发展，力争到2025年全县地区生产总值突破500亿元，现提出如下意见。</p>"
    '<p>一、总体要求。坚持创新驱动，推动产业集群发展，具体安排详见<a href="f.pdf">附件</a>。</p>'
    "<p>二、重点任务。实施产业升级行动，建设产业园区，培育壮大主导产业，完善配套服务体系。</p>"
)
PAGE_HTML = f"""<html><head><title>某某县人民政府</title></head><body>
<div class="top"><a href="/">首页</a> <a href="/a">政务公开</a> <a href="/b">新闻中心</a> <a href="/c">互动交流</a></div>
<div class="wrap">
 <div class="side"><h3>相关文件</h3><ul><li><a href="1">关于做好春耕生产工作的通知</a></li>
  <li><a href="2">关于印发乡村振兴规划的通知</a></li><li><a href="3">县政府常务会议召开</a></li></ul></div>
 <div class="main"><h1>关于推进县域经济高质量发展的实施意见</h1>
  <div class="info">发布日期：2024-03-01 来源：县政府办公室</div>
  <div class="content">{ARTICLE}</div>
  <div class="share">分享到：<a>微信</a><a>微博</a><a>QQ空间</a></div></div>
</div>
<div class="foot">版权所有：某某县人民政府 地址：某某县人民路1号 电话：0536-1234567</div></body></html>"""


def test_docx_table_rows_keep_their_headers_in_document_order():
    text = load_bytes(docx_bytes(), "plan.docx").text
    lines = [x for x in text.split("\n") if x]
    assert lines == [
        "潍河县县域经济发展主要指标",
        "全县主要经济指标如下表。",
        "指标：地区生产总值；2024年：980亿元；2025年目标：1100亿元。",
        "指标：规上工业增加值增速；2024年：7.5%；2025年目标：8%。",
        "以上指标由县统计局核定，每年公布一次。",
    ]


def test_docx_table_without_a_header_row_is_not_labelled_by_its_first_row():
    """A first row of figures is data, not a header; a cell merged across columns is read once."""
    from docx import Document

    d = Document()
    table = d.add_table(rows=2, cols=3)
    for i, row in enumerate([["2023", "870", "5.1%"], ["2024", "980", "6.0%"]]):
        for j, value in enumerate(row):
            table.cell(i, j).text = value
    merged = d.add_table(rows=2, cols=3)
    merged.cell(0, 0).text = "项目"
    merged.cell(0, 1).merge(merged.cell(0, 2)).text = "说明"
    merged.cell(1, 0).text = "产业园区"
    merged.cell(1, 1).merge(merged.cell(1, 2)).text = "新建3个省级园区"
    buf = io.BytesIO()
    d.save(buf)
    lines = [x for x in load_bytes(buf.getvalue(), "t.docx").text.split("\n") if x]
    assert lines == ["2023；870；5.1%。", "2024；980；6.0%。", "项目：产业园区；说明：新建3个省级园区。"]


def test_pdf_chunks_carry_their_page():
    doc = prepare_bytes(pdf_bytes(), "plan.pdf")
    assert doc.text.count("\f") == 2  # the cleaner keeps the loader's page breaks
    chunks = [c for c in chunk_document(doc) if not (c.is_card or c.is_outline)]
    assert all("\f" not in c.text for c in chunks)
    pages = {c.page for c in chunks if "12.5 MW" in c.text} | {c.page for c in chunks if "4 MW" in c.text}
    assert pages == {2, 3}, [(c.page, c.text) for c in chunks]
    # one page of text needs no page breaks: nothing else is numbered
    plain = prepare_bytes("力争到2025年，全县地区生产总值突破500亿元。".encode(), "a.txt")
    assert {c.page for c in chunk_document(plain)} == {None}


def test_web_page_keeps_its_article_and_drops_menus_sidebar_and_footer():
    text = load_bytes(PAGE_HTML.encode(), "notice.html").text
    lines = [x.strip() for x in text.split("\n") if x.strip()]
    assert lines[0] == "关于推进县域经济高质量发展的实施意见"
    assert "发布日期：2024-03-01 来源：县政府办公室" in lines
    assert "一、总体要求。坚持创新驱动，推动产业集群发展，具体安排详见附件。" in lines  # a link inside a sentence stays
    assert "二、重点任务。实施产业升级行动，建设产业园区，培育壮大主导产业，完善配套服务体系。" in lines
    for chrome in ("首页", "春耕生产", "常务会议", "版权所有", "人民路1号", "微博"):
        assert chrome not in text, chrome


def test_short_web_page_is_kept_whole():
    html = "<html><body><div><p>县政府召开常务会议。</p><p>会议研究了春耕生产。</p></div></body></html>"
    assert "县政府召开常务会议。" in load_bytes(html.encode(), "a.html").text


@pytest.mark.llm
def test_cli_answers_cite_the_pdf_page_and_the_table_cell(tmp_path):
    """End to end: `index add` of a PDF and a .docx, then `ask --json`: citations and passages carry `page`."""
    (tmp_path / "energy.pdf").write_bytes(pdf_bytes())
    (tmp_path / "indicators.docx").write_bytes(docx_bytes())
    index = tmp_path / "index"

    def rag(*args: str) -> subprocess.CompletedProcess:
        run = subprocess.run(
            [sys.executable, "-m", "rag", *args], cwd=REPO, capture_output=True, text=True, timeout=600
        )
        assert run.returncode == 0, run.stderr[-2000:]
        return run

    rag("index", "add", str(tmp_path / "energy.pdf"), str(tmp_path / "indicators.docx"), "--index", str(index))
    solar = json.loads(rag("ask", "--json", "--index", str(index), "What is the county solar target for 2026?").stdout)
    assert "12.5" in solar["answer"] and not solar["refused"], solar["answer"]
    assert [c["page"] for c in solar["citations"]] and all(c["page"] == 2 for c in solar["citations"]), solar
    assert all("page" in p for p in solar["passages"])
    gdp = json.loads(rag("ask", "--json", "--index", str(index), "2025年地区生产总值目标是多少？").stdout)
    assert "1100亿元" in gdp["answer"], gdp["answer"]
    (cited,) = {c["text"] for c in gdp["citations"]}
    assert "2025年目标：1100亿元" in cited and all(c["page"] is None for c in gdp["citations"])
