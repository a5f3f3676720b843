"""Split cleaned documents into chunks that keep their heading path.

Chinese policy texts are structured by numbered headings (一、 / （一） / 1.);
the heading path tells the embedder and the reader which task a paragraph
belongs to even when the paragraph itself never names it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from langchain_text_splitters import RecursiveCharacterTextSplitter

from rag.types import Chunk, Document

SEPARATORS = ["\n\n", "\n", "。", "；", "！", "？", "!", "?", ";", "，", ",", ""]

_LEVELS = [
    re.compile(r"^第[一二三四五六七八九十百零〇\d]+[章节部分篇]"),
    re.compile(r"^[一二三四五六七八九十]+、"),
    re.compile(r"^[（(][一二三四五六七八九十]+[）)]"),
    re.compile(r"^\d{1,2}[.、．](?!\d)"),
    re.compile(r"^[（(]\d{1,2}[）)]"),
]


@dataclass
class ChunkSettings:
    size: int = 300
    overlap: int = 60
    min_section: int = 120  # shorter sections (a lone heading line) merge into the next one


def heading_level(line: str) -> int | None:
    for level, pattern in enumerate(_LEVELS):
        if pattern.match(line):
            return level
    return None


def heading_label(line: str) -> str:
    """A heading line often runs on into its paragraph: keep the part up to the first full stop."""
    head = re.split(r"[。:：;；]", line, maxsplit=1)[0]
    return head if len(head) <= 40 else head[:40] + "…"


def _sections(text: str) -> list[tuple[str, int, int]]:
    """(heading path, start, end) spans covering the text."""
    path: dict[int, str] = {}
    sections: list[tuple[str, int, int]] = []
    cur_start, cur_path = 0, ""
    pos = 0
    for line in text.split("\n"):
        level = heading_level(line)
        if level is not None and pos > cur_start:
            sections.append((cur_path, cur_start, pos))
            cur_start = pos
        if level is not None:
            path = {k: v for k, v in path.items() if k < level}
            path[level] = heading_label(line)
            cur_path = " > ".join(path[k] for k in sorted(path))
        pos += len(line) + 1
    if len(text) > cur_start:
        sections.append((cur_path, cur_start, len(text)))
    return sections


def _merge_small(sections: list[tuple[str, int, int]], min_chars: int) -> list[tuple[str, int, int]]:
    """A heading line alone is no passage: join short sections to the next, keeping the deeper path."""
    merged: list[tuple[str, int, int]] = []
    pending: tuple[str, int, int] | None = None
    for path, start, end in sections:
        if pending is not None:
            start = pending[1]
            pending = None
        if end - start < min_chars:
            pending = (path, start, end)
            continue
        merged.append((path, start, end))
    if pending is not None:
        if merged:
            path, start, _ = merged[-1]
            merged[-1] = (path, start, pending[2])
        else:
            merged.append(pending)
    return merged


def chunk_document(doc: Document, settings: ChunkSettings | None = None) -> list[Chunk]:
    settings = settings or ChunkSettings()
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=settings.size,
        chunk_overlap=settings.overlap,
        separators=SEPARATORS,
        keep_separator="end",
        add_start_index=True,
        strip_whitespace=True,
    )
    stem = Path(doc.doc_id).stem
    chunks: list[Chunk] = []
    seen: dict[str, int] = {}
    for heading, start, end in _merge_small(_sections(doc.text), settings.min_section):
        section = doc.text[start:end]
        for piece in splitter.create_documents([section]):
            body = piece.page_content.strip()
            if len(body) < 2:
                continue
            offset = start + int(piece.metadata.get("start_index", 0))
            digest = hashlib.sha1(f"{doc.doc_id}\n{body}".encode()).hexdigest()[:10]
            n = seen.get(digest, 0)
            seen[digest] = n + 1
            chunk_id = f"{stem}:{digest}" + (f"-{n}" if n else "")
            chunks.append(
                Chunk(
                    id=chunk_id,
                    doc_id=doc.doc_id,
                    text=body,
                    heading=heading,
                    start=offset,
                    end=offset + len(body),
                    title=doc.meta.title,
                )
            )
    return chunks
