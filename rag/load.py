"""Load .txt/.md/.html/.pdf/.docx files as text, detecting legacy Chinese encodings.

Government sites still serve GB18030/GBK and Big5 files; charset-normalizer
decides when the bytes are not valid UTF-8.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

from charset_normalizer import from_bytes

from rag.errors import LoadError

SUPPORTED = (".txt", ".md", ".html", ".htm", ".pdf", ".docx")
MAX_BYTES = 20 * 1024 * 1024


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


def _html_to_text(raw: bytes, name: str) -> str:
    from bs4 import BeautifulSoup

    html, _ = decode_bytes(raw, name)
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "noscript", "nav", "header", "footer", "aside", "form", "iframe"]):
        tag.decompose()
    return soup.get_text("\n")


def _pdf_to_text(raw: bytes, name: str) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(raw))
        return "\n".join(page.extract_text() or "" for page in reader.pages)
    except (PdfReadError, ValueError, KeyError) as exc:
        raise LoadError(f"{name}: not a readable PDF ({exc})") from exc


def _docx_to_text(raw: bytes, name: str) -> str:
    import zipfile

    from docx import Document as Docx

    try:
        doc = Docx(io.BytesIO(raw))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise LoadError(f"{name}: not a readable .docx file ({exc})") from exc
    lines = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            lines.append(" | ".join(cell.text for cell in row.cells))
    return "\n".join(lines)


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
