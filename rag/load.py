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
MAX_BYTES = 20 * 1024 * 1024  # a file as uploaded
# What a file may expand to. A few kB of zip or Flate data can unpack to gigabytes; the upload
# size alone bounds nothing. 300 pages of a dense plan are about 0.5 M characters and 8 MB of docx XML.
MAX_CHARS = 5_000_000  # extracted text of one document
MAX_UNPACKED = 60 * 1024 * 1024  # all members of a .docx together, unpacked
MAX_RATIO = 100  # a .docx member over 1 MB unpacked may be at most this many times its packed size
MAX_PAGES = 2000  # pages of a PDF
MAX_PDF_STREAM = 32 * 1024 * 1024  # one decompressed PDF stream


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


def _too_long(name: str, what: str) -> LoadError:
    return LoadError(
        f"{name}: {what}; the limit is {MAX_CHARS:,} characters of text a document. Split it into smaller files."
    )


def _pdf_to_text(raw: bytes, name: str) -> str:
    from pypdf import apply_configuration

    # pypdf's own guard against Flate bombs, set to what one page of a real document never needs
    # (pypdf 7 replaced the module constant filters.ZLIB_MAX_OUTPUT_LENGTH by a configuration)
    with apply_configuration(zlib_maximum_output_length=MAX_PDF_STREAM):
        return _read_pdf(raw, name)


def _read_pdf(raw: bytes, name: str) -> str:
    from pypdf import PdfReader
    from pypdf.errors import LimitReachedError, PdfReadError

    try:
        reader = PdfReader(io.BytesIO(raw))
        if len(reader.pages) > MAX_PAGES:
            raise LoadError(f"{name}: {len(reader.pages)} pages, over the limit of {MAX_PAGES}; split the PDF")
        parts, total = [], 0
        for page in reader.pages:
            parts.append(page.extract_text() or "")
            total += len(parts[-1])
            if total > MAX_CHARS:
                raise _too_long(name, "the PDF holds more text than one document may")
        return "\n".join(parts)
    except LimitReachedError as exc:
        raise LoadError(f"{name}: a PDF stream unpacks to more than {MAX_PDF_STREAM // 2**20} MB ({exc})") from exc
    except (PdfReadError, ValueError, KeyError) as exc:
        raise LoadError(f"{name}: not a readable PDF ({exc})") from exc


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

    check_zip_expansion(raw, name)
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
