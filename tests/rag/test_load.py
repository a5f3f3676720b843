"""Loaders on real file bytes: legacy encodings, every supported format, and clear errors for bad input."""

from __future__ import annotations

import io

import pytest

from rag.document import prepare_bytes, safe_name
from rag.errors import LoadError
from rag.load import MAX_BYTES, load_bytes, load_file

TEXT = "关于推进县域经济高质量发展的通知\n力争到2025年，全县地区生产总值突破500亿元。\n"


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030", "gbk"])
def test_simplified_encodings(encoding):
    doc = load_bytes(TEXT.encode(encoding), "a.txt")
    assert doc.text.strip() == TEXT.strip()


def test_big5_traditional():
    text = "關於推進縣域經濟高質量發展的通知，力爭到二零二五年，全縣地區生產總值突破五百億元。" * 3
    doc = load_bytes(text.encode("big5"), "tw.txt")
    assert doc.text == text
    assert doc.encoding.replace("_", "").lower().startswith("big5")


def test_utf8_bom_stripped():
    assert load_bytes(b"\xef\xbb\xbf" + TEXT.encode(), "a.md").text.startswith("关于")


def test_html_drops_scripts_and_nav():
    html = f"<html><head><script>var x=1;</script></head><body><nav>首页</nav><p>{TEXT}</p></body></html>"
    text = load_bytes(html.encode(), "a.html").text
    assert "500亿元" in text and "var x" not in text and "首页" not in text


def test_docx(tmp_path):
    from docx import Document

    d = Document()
    d.add_paragraph("县域经济实施方案")
    d.add_paragraph("力争到2025年，全县地区生产总值突破500亿元。")
    buf = io.BytesIO()
    d.save(buf)
    assert "500亿元" in load_bytes(buf.getvalue(), "plan.docx").text


def test_pdf(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure()
    fig.text(0.1, 0.5, "County solar target 12.5 MW in 2026")
    path = tmp_path / "plan.pdf"
    fig.savefig(path)
    plt.close(fig)
    assert "12.5 MW" in load_file(path).text


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "empty.txt", "empty"),
        (b"   \n\n", "blank.txt", "empty"),
        (bytes(range(256)) * 40, "binary.txt", "binary"),
        (b"\x89PNG\r\n\x1a\n" + bytes(2000), "image.txt", "binary"),
        (TEXT.encode(), "notes.xlsx", "unsupported file type"),
        (TEXT.encode(), "noext", "unsupported file type"),
        (b"not a pdf at all", "fake.pdf", "not a PDF"),
        (b"not a zip", "fake.docx", "not a .docx"),
    ],
)
def test_bad_files_get_clear_errors(data, name, message):
    with pytest.raises(LoadError, match=message):
        load_bytes(data, name)


def test_size_limit():
    with pytest.raises(LoadError, match="limit"):
        load_bytes(b"a" * (MAX_BYTES + 1), "big.txt")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("a/b\\c.txt", "c.txt"),
        ("报告 (1).txt", "报告 (1).txt"),
        ('x<y>|"z".md', "x_y___z_.md"),
        (".hidden.txt", "hidden.txt"),
    ],
)
def test_safe_names(name, expected):
    assert safe_name(name) == expected


@pytest.mark.parametrize("name", ["..", "/", " . "])
def test_unusable_names(name):
    with pytest.raises(LoadError):
        safe_name(name)


def test_prepare_bytes_uses_safe_name():
    doc = prepare_bytes(TEXT.encode("gbk"), "../../上传/县域.txt")
    assert doc.doc_id == "县域.txt"
    assert "500亿元" in doc.text


def _docx_bytes(paragraphs: list[str]) -> bytes:
    from docx import Document

    d = Document()
    for p in paragraphs:
        d.add_paragraph(p)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def test_docx_that_unpacks_large_is_refused_before_parsing():
    """A small file whose XML unpacks hundreds of times its size costs seconds and a GB to parse: refused at once."""
    import time

    raw = _docx_bytes(["发展县域经济。" * 2000] * 400)  # ~18 MB of document.xml, ~100 kB packed
    assert len(raw) < 300_000
    t0 = time.perf_counter()
    with pytest.raises(LoadError, match=r"compression bomb|unpacks to"):
        load_bytes(raw, "bomb.docx")
    assert time.perf_counter() - t0 < 2  # refused from the zip directory, not after parsing


def test_ordinary_docx_passes_the_expansion_check():
    raw = _docx_bytes([f"第{i}条 县级人民政府应当加强农业技术推广工作，所需经费列入预算。" for i in range(1, 400)])
    assert "第399条" in load_bytes(raw, "law.docx").text


def test_text_over_the_character_limit_is_refused(monkeypatch):
    import rag.load

    monkeypatch.setattr(rag.load, "MAX_CHARS", 1000)
    with pytest.raises(LoadError, match="characters"):
        load_bytes(("县域经济。" * 300).encode(), "long.txt")


def test_pdf_page_limit(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    import rag.load

    path = tmp_path / "pages.pdf"
    with PdfPages(path) as pdf:
        for i in range(3):
            fig = Figure()
            fig.text(0.1, 0.5, f"page {i + 1}")
            pdf.savefig(fig)
    assert "page 3" in load_file(path).text
    monkeypatch.setattr(rag.load, "MAX_PAGES", 2)
    with pytest.raises(LoadError, match="3 pages"):
        load_file(path)
