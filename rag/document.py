"""Turn a loaded file into a cleaned Document with metadata: the load → clean step of the flow."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from rag.clean import clean_text, normalize_chars, repair_line
from rag.errors import LoadError
from rag.load import RawDoc, load_bytes, load_file
from rag.metadata import extract_metadata
from rag.types import Document

_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]")


def safe_name(name: str) -> str:
    """A file name usable as a citation key: no path parts, no control or shell-special characters."""
    base = Path(unicodedata.normalize("NFC", name).replace("\\", "/")).name
    base = _UNSAFE.sub("_", base).strip(" .")
    if not base or base.startswith("."):
        raise LoadError(f"{name!r}: not a usable file name")
    return base[:150]


def prepare(raw: RawDoc) -> Document:
    repaired = "\n".join(repair_line(line) for line in normalize_chars(raw.text).split("\n"))
    body, report = clean_text(raw.text)
    if not body.strip():
        raise LoadError(f"{raw.name}: no body text left after removing page boilerplate")
    meta = extract_metadata(repaired, body)
    return Document(doc_id=safe_name(raw.name), text=body, meta=meta, content_hash=raw.content_hash, report=report)


def prepare_file(path: str | Path) -> Document:
    return prepare(load_file(path))


def prepare_bytes(data: bytes, name: str) -> Document:
    return prepare(load_bytes(data, safe_name(name)))
