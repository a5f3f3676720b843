"""Load .txt/.md/.html/.pdf/.docx files as text, detecting legacy Chinese encodings.

Government sites still serve GB18030/GBK and Big5 files; charset-normalizer
decides when the bytes are not valid UTF-8.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from charset_normalizer import from_bytes

from rag.errors import LoadError

if TYPE_CHECKING:
    from bs4 import Tag
    from docx.table import Table as DocxTable
    from pypdf import PdfReader

SUPPORTED = (".txt", ".md", ".html", ".htm", ".pdf", ".docx")
MAX_BYTES = 20 * 1024 * 1024  # a file as uploaded
# What a file may expand to. A few kB of zip or Flate data can unpack to gigabytes; the upload
# size alone bounds nothing. 300 pages of a dense plan are about 0.5 M characters and 8 MB of docx XML.
MAX_CHARS = 5_000_000  # extracted text of one document
MAX_UNPACKED = 60 * 1024 * 1024  # all members of a .docx together, unpacked
MAX_RATIO = 100  # a .docx member over 1 MB unpacked may be at most this many times its packed size
MAX_PAGES = 2000  # pages of a PDF
MAX_PDF_STREAM = 32 * 1024 * 1024  # one decompressed PDF stream
# Between the pages of a PDF, on a line of its own, so that a passage can cite its page (rag.chunk counts them).
PAGE_BREAK = "\n\f\n"


@dataclass
class RawDoc:
    name: str  # file name only: the citation key
    text: str
    content_hash: str
    encoding: str


def decode_bytes(raw: bytes, name: str = "") -> tuple[str, str]:
    """Decode text bytes; refuse binary data rather than index garbage."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    if b"\x00" in raw[:4096] and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise LoadError(f"{name}: looks like a binary file, not text")
    match = from_bytes(raw, cp_isolation=["gb18030", "big5", "utf_16", "cp1252"]).best()
    if match is None:
        raise LoadError(f"{name}: could not detect the text encoding (tried UTF-8, GB18030, Big5, UTF-16)")
    encoding = "gb18030" if match.encoding in ("gbk", "gb2312") else match.encoding
    text = raw.decode(encoding, errors="replace")
    if _control_share(text) > 0.05:
        raise LoadError(f"{name}: looks like a binary file, not text")
    return text, encoding


def _control_share(text: str) -> float:
    if not text:
        return 0.0
    bad = sum(1 for c in text if (ord(c) < 32 and c not in "\n\r\t\f") or c == "\ufffd")
    return bad / len(text)


_CHROME_TAGS = ["script", "style", "noscript", "nav", "header", "footer", "aside", "form", "iframe"]


def _own_text(el: Tag) -> int:
    """Characters of text `el` holds directly or in its paragraphs, links excluded: a body's density."""
    from bs4 import Comment, NavigableString, Tag

    n = 0
    for child in el.children:
        if isinstance(child, NavigableString):
            n += len(child.strip()) if not isinstance(child, Comment) else 0
        elif isinstance(child, Tag) and child.name in ("p", "span", "font", "strong", "b", "em", "u", "br"):
            n += len(child.get_text(strip=True)) - sum(len(a.get_text(strip=True)) for a in child.find_all("a"))
    return n


def _is_link_list(el: Tag) -> bool:
    """A menu, sidebar or related-reading block: several links that make up most of its text."""
    links = el.find_all("a")
    text = len(el.get_text(strip=True))
    return len(links) >= 3 and sum(len(a.get_text(strip=True)) for a in links) >= 0.5 * max(text, 1)


def _html_to_text(raw: bytes, name: str) -> str:
    """A web page's article: the element holding most paragraph text, widened to take in its headline.

    Government pages put the article in one container among menus, sidebars and
    footers. The container is found by structure (most text of its own), and the
    smallest element holding both it and the <h1> keeps the title and the
    date/文号 lines between them; link lists inside are dropped.
    """
    from bs4 import BeautifulSoup

    html, _ = decode_bytes(raw, name)
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(_CHROME_TAGS):
        tag.decompose()
    page = soup.body or soup
    tags = [page, *page.find_all(True)]
    main = max(tags, key=_own_text)
    if _own_text(main) < 80:  # no container stands out: a short page, keep all of it
        return _block_text(page)
    root, headline = main, soup.find("h1")
    if headline is not None and not _within(headline, main):
        around = next((a for a in main.parents if _within(headline, a)), None)
        if around is not None and around is not page and around.name != "html":
            root, headline = around, None
    for block in root.find_all(["ul", "ol", "div", "table", "dl", "p"]):
        if block.decomposed or _within(block, main) or _within(main, block):
            continue  # the article itself and the elements around it
        if _is_link_list(block):
            block.decompose()
    head = headline.get_text(" ", strip=True) + "\n" if headline is not None and not _within(headline, main) else ""
    return head + _block_text(root)


_BLOCK_TAGS = ["p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "section", "article", "dt", "dd"]


def _block_text(root: Tag) -> str:
    """Text with a line per block element; inline elements (a link in a sentence) stay in their line."""
    for br in root.find_all("br"):
        br.replace_with("\n")
    for cell in root.find_all(["td", "th"]):
        cell.append(" ")
    for block in root.find_all(_BLOCK_TAGS):
        block.append("\n")
    return root.get_text("")


def _within(el: Tag, container: Tag) -> bool:
    """`el` is `container` or inside it (by identity: bs4 compares tags by content)."""
    return el is container or any(p is container for p in el.parents)


def _too_long(name: str, what: str) -> LoadError:
    return LoadError(
        f"{name}: {what}; the limit is {MAX_CHARS:,} characters of text a document. Split it into smaller files."
    )


def _pdf_to_text(raw: bytes, name: str) -> str:
    from pypdf import PdfReader, apply_configuration
    from pypdf.errors import LimitReachedError, PdfReadError

    # pypdf's own guards against decompression bombs, set to what one page of a real document never needs
    limits = dict.fromkeys(
        ("zlib_maximum_output_length", "lzw_maximum_output_length", "run_length_maximum_output_length"), MAX_PDF_STREAM
    )
    try:
        with apply_configuration(**limits):
            return _pdf_pages(PdfReader(io.BytesIO(raw)), name)
    except LimitReachedError as exc:
        raise LoadError(f"{name}: a PDF stream unpacks to more than {MAX_PDF_STREAM // 2**20} MB ({exc})") from exc
    except (PdfReadError, ValueError, KeyError) as exc:
        raise LoadError(f"{name}: not a readable PDF ({exc})") from exc


def _pdf_pages(reader: PdfReader, name: str) -> str:
    if len(reader.pages) > MAX_PAGES:
        raise LoadError(f"{name}: {len(reader.pages)} pages, over the limit of {MAX_PAGES}; split the PDF")
    parts, total = [], 0
    for page in reader.pages:
        page.get_contents()  # raises LimitReachedError, which extract_text would swallow into an empty page
        parts.append(page.extract_text() or "")
        total += len(parts[-1])
        if total > MAX_CHARS:
            raise _too_long(name, "the PDF holds more text than one document may")
    return PAGE_BREAK.join(parts)  # page breaks survive cleaning and give each chunk its page


def check_zip_expansion(raw: bytes, name: str) -> None:
    """Refuse a zip container whose members unpack far beyond the file itself, before any is parsed.

    The sizes come from the zip directory; a member that lies about its size
    is caught by zipfile itself, which stops reading at the declared size.
    """
    import zipfile

    try:
        members = zipfile.ZipFile(io.BytesIO(raw)).infolist()
    except zipfile.BadZipFile as exc:
        raise LoadError(f"{name}: not a readable .docx file ({exc})") from exc
    total = sum(m.file_size for m in members)
    if total > MAX_UNPACKED:
        raise LoadError(
            f"{name}: unpacks to {total / 2**20:.0f} MB, over the {MAX_UNPACKED // 2**20} MB limit for a .docx"
        )
    for m in members:
        if m.file_size > 2**20 and m.file_size > MAX_RATIO * max(m.compress_size, 1):
            raise LoadError(
                f"{name}: part {m.filename} unpacks {m.file_size // max(m.compress_size, 1)}x "
                f"({m.compress_size / 1024:.0f} kB to {m.file_size / 2**20:.0f} MB); "
                f"more than {MAX_RATIO}x is refused as a compression bomb"
            )


def _docx_to_text(raw: bytes, name: str) -> str:
    import zipfile

    from docx import Document as Docx
    from docx.table import Table as DocxTable

    check_zip_expansion(raw, name)
    try:
        doc = Docx(io.BytesIO(raw))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise LoadError(f"{name}: not a readable .docx file ({exc})") from exc
    lines: list[str] = []
    for block in doc.iter_inner_content():  # paragraphs and tables in document order
        lines.extend(table_rows(block) if isinstance(block, DocxTable) else [block.text])
    return "\n".join(lines)


def table_rows(table: DocxTable) -> list[str]:
    """One line per table row, each cell labelled with its column header: "指标：地区生产总值；2025年：1100亿元".

    A figure read out of its table means nothing without its column and row;
    with the header beside each cell, a row is a sentence that retrieval can
    find and a citation can show. The first row is taken as the header unless it
    holds figures; a cell merged across columns is read once.
    """
    grid = [[(cell._tc, " ".join(cell.text.split())) for cell in row.cells] for row in table.rows]
    if not grid:
        return []
    first = [text for _, text in grid[0]]
    has_header = len(grid) > 1 and any(first) and not any(re.fullmatch(r"[\d.,%％\s-]+", t) for t in first if t)
    header, body = (first, grid[1:]) if has_header else ([], grid)
    lines = []
    for row in body:
        parts, previous = [], None
        for j, (tc, text) in enumerate(row):
            if tc is previous or not text:
                previous = tc
                continue
            previous = tc
            label = header[j] if j < len(header) else ""
            parts.append(f"{label}：{text}" if label and label != text else text)
        if parts:
            lines.append("；".join(parts) + "。")
    return lines


def load_bytes(raw: bytes, name: str) -> RawDoc:
    """Turn an uploaded or read file into text; raise LoadError with a reason otherwise."""
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED:
        raise LoadError(f"{name}: unsupported file type '{suffix or '(none)'}'; supported: {', '.join(SUPPORTED)}")
    if len(raw) > MAX_BYTES:
        raise LoadError(f"{name}: file is {len(raw) / 1e6:.1f} MB, over the {MAX_BYTES // 1_000_000} MB limit")
    if not raw.strip():
        raise LoadError(f"{name}: file is empty")
    encoding = "binary"
    if suffix in (".html", ".htm"):
        text = _html_to_text(raw, name)
    elif suffix == ".pdf":
        if not raw.startswith(b"%PDF"):
            raise LoadError(f"{name}: not a PDF file (no %PDF header)")
        text = _pdf_to_text(raw, name)
    elif suffix == ".docx":
        if not raw.startswith(b"PK"):
            raise LoadError(f"{name}: not a .docx file (not a zip container)")
        text = _docx_to_text(raw, name)
    else:
        text, encoding = decode_bytes(raw, name)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if len(text) > MAX_CHARS:
        raise _too_long(name, f"{len(text):,} characters of text")
    if not text.strip():
        raise LoadError(f"{name}: no text could be extracted")
    return RawDoc(name=name, text=text, content_hash=hashlib.sha256(raw).hexdigest(), encoding=encoding)


def load_file(path: str | Path) -> RawDoc:
    path = Path(path)
    if not path.is_file():
        raise LoadError(f"{path}: no such file")
    if path.stat().st_size > MAX_BYTES:
        raise LoadError(f"{path.name}: file is over the {MAX_BYTES // 1_000_000} MB limit")
    return load_bytes(path.read_bytes(), path.name)


def iter_dir(folder: str | Path) -> list[Path]:
    """Supported files of a folder, sorted so builds are deterministic."""
    folder = Path(folder)
    if not folder.is_dir():
        raise LoadError(f"{folder}: not a folder")
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in SUPPORTED)
