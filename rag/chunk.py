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

from rag.law import ARTICLE_RANK, is_law, law_heading
from rag.metadata import place_stem
from rag.script import to_simplified
from rag.types import (
    CARD_ADOPTED,
    CARD_AMENDED,
    CARD_DATE,
    CARD_EFFECTIVE,
    CARD_ISSUER,
    CARD_NUMBER,
    CARD_SIGNED,
    CARD_SIGNER,
    CARD_SOURCE,
    CARD_SUFFIX,
    OUTLINE_SUFFIX,
    Chunk,
    Document,
)

# The loader puts a form feed between the pages of a PDF; a chunk's page is the one it starts on.
PAGE_BREAK = "\f"
SEPARATORS = ["\n\n", "\n", "。", "；", "！", "？", "!", "?", ";", "，", ",", ""]

_LEVELS = [
    re.compile(r"^第[一二三四五六七八九十百零〇\d]+[章节部分篇]"),
    # 一、 and, in replies to proposals (答复), a point quoted from the proposal: 关于“建设产业园区”。
    re.compile(r"^(?:[一二三四五六七八九十]+、|关于[“\"][^”\"\n]{2,40}[”\"](?:[。：:]|$))"),
    re.compile(r"^[（(][一二三四五六七八九十]+[）)]"),
    re.compile(r"^\d{1,2}[.、．](?!\d)"),
    re.compile(r"^[（(]\d{1,2}[）)]"),
]


@dataclass
class ChunkSettings:
    size: int = 500  # chosen by the dev-set ablation (README): 300 loses list and multi-part answers
    overlap: int = 80
    min_section: int = 120  # shorter sections (a lone heading line) merge into the next one
    outline: bool = True  # add one chunk per document listing its main headings
    card: bool = True  # add one chunk per document holding its metadata (issuer, 文号, dates, 落款, source)


def heading_level(line: str) -> int | None:
    for level, pattern in enumerate(_LEVELS):
        if pattern.match(line):
            return level
    return None


def heading_label(line: str) -> str:
    """A heading line often runs on into its paragraph: keep the part up to the first full stop."""
    head = re.split(r"[。:：;；]", line, maxsplit=1)[0]
    return head if len(head) <= 40 else head[:40] + "…"


def _sections(text: str) -> list[tuple[str, int, int, bool]]:
    """(heading path, start, end, whole) spans covering the text; `whole` marks a law's article."""
    if is_law(text):
        return _law_sections(text)
    path: dict[int, str] = {}
    sections: list[tuple[str, int, int, bool]] = []
    cur_start, cur_path = 0, ""
    pos = 0
    for line in text.split("\n"):
        level = heading_level(line)
        if level is not None and pos > cur_start:
            sections.append((cur_path, cur_start, pos, False))
            cur_start = pos
        if level is not None:
            path = {k: v for k, v in path.items() if k < level}
            path[level] = heading_label(line)
            cur_path = " > ".join(path[k] for k in sorted(path))
        pos += len(line) + 1
    if len(text) > cur_start:
        sections.append((cur_path, cur_start, len(text), False))
    return sections


def _law_sections(text: str) -> list[tuple[str, int, int, bool]]:
    """A law is split at its 编/章/节/条 lines: one section per article, holding the article's items.

    Items (一、 （一） 1.) inside an article belong to it: "第十四条是关于什么的"
    is answered by the whole article. A 编/章/节 line with nothing of its own under
    it (the next line is a heading of the same or a higher rank) is an entry of
    the 目录, not the start of a division.
    """
    lines = text.split("\n")
    heads = [law_heading(line) for line in lines]
    nxt: list[tuple[int, str] | None] = [None] * len(lines)
    following: tuple[int, str] | None = None
    for i in range(len(lines) - 1, -1, -1):  # the next non-empty line's heading, for the 目录 test
        nxt[i] = following
        if lines[i].strip():
            following = heads[i]
    path: dict[int, str] = {}
    sections: list[tuple[str, int, int, bool]] = []
    cur_start, cur_path, cur_article = 0, "", False
    pos = 0
    for i, line in enumerate(lines):
        head = heads[i]
        if head is not None and head[0] < ARTICLE_RANK and (nxt[i] is None or nxt[i][0] <= head[0]):
            head = None  # a 目录 entry
        if head is not None:
            if pos > cur_start:
                sections.append((cur_path, cur_start, pos, cur_article))
                cur_start = pos
            rank, label = head
            path = {k: v for k, v in path.items() if k < rank}
            path[rank] = label
            cur_path = " > ".join(path[k] for k in sorted(path))
            cur_article = rank == ARTICLE_RANK
        pos += len(line) + 1
    if len(text) > cur_start:
        sections.append((cur_path, cur_start, len(text), cur_article))
    return sections


def _merge_small(sections: list[tuple[str, int, int, bool]], min_chars: int) -> list[tuple[str, int, int]]:
    """A heading line alone is no passage: join short sections to the next, keeping the deeper path.

    A law's article (`whole`) stays a passage of its own however short, so that its
    number in the heading path names exactly what the passage holds.
    """
    merged: list[tuple[str, int, int]] = []
    pending: tuple[str, int, int] | None = None
    for path, start, end, whole in sections:
        if pending is not None:
            start = pending[1]
            pending = None
        if end - start < min_chars and not whole:
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


def _merge_short(spans: list[tuple[int, int]], min_len: int) -> list[tuple[int, int]]:
    """Heading lines split off their paragraph, or a closing signature, join their neighbour."""
    out: list[tuple[int, int]] = []
    carry: int | None = None  # start of a short span waiting for the next one
    for start, end in spans:
        if carry is not None:
            start, carry = carry, None
        if end - start < min_len:
            carry = start
            continue
        out.append((start, end))
    if carry is not None:
        if out:
            out[-1] = (out[-1][0], spans[-1][1])
        else:
            out.append((carry, spans[-1][1]))
    return out


def search_title(doc: Document) -> str:
    """The title a chunk is embedded and searched with, naming the document's place if the title does not.

    A reply letter's title (对…第502号提案…的答复) rarely names its city, so
    "临沂这份答复…" would match no word of its chunks.
    """
    title, place = doc.meta.title, doc.meta.place
    stem = place_stem(place)
    return f"{title}（{place}）" if place and stem and stem not in to_simplified(title) else title


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
    paged = PAGE_BREAK in doc.text
    for heading, start, end in _merge_small(_sections(doc.text), settings.min_section):
        spans: list[tuple[int, int]] = []
        for part_start, part_end in _page_parts(doc.text, start, end):
            for piece in splitter.create_documents([doc.text[part_start:part_end]]):
                body = piece.page_content.strip()
                if len(body) < 2:
                    continue
                s0 = part_start + int(piece.metadata.get("start_index", 0))
                spans.append((s0, s0 + len(body)))
        for offset, stop in _merge_short(spans, settings.min_section // 3):
            body = _without_page_breaks(doc.text[offset:stop])
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
                    end=stop,
                    title=search_title(doc),
                    page=doc.text.count(PAGE_BREAK, 0, offset) + 1 if paged else None,
                )
            )
    if settings.outline:
        chunks.extend(_outline(doc, stem))
    if settings.card:
        chunks.extend(_card(doc, stem))
    return chunks


def _page_parts(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The span cut at each page break: a passage is cited by the page it is on, so it stays on one page.

    A fragment too short to stand alone (a sentence running over the page end)
    still joins its neighbour in `_merge_short`.
    """
    cuts = [i for i in range(start, end) if text[i] == PAGE_BREAK] if PAGE_BREAK in text[start:end] else []
    bounds = [start, *(c for cut in cuts for c in (cut, cut + 1)), end]
    return [(bounds[i], bounds[i + 1]) for i in range(0, len(bounds), 2)]


def _without_page_breaks(text: str) -> str:
    """A passage that runs over a page end reads on: the loader's page break is not text."""
    return re.sub(r"\n?\f\n?", "\n", text).strip()


def _chinese_date(iso: str) -> str:
    y, m, d = (int(x) for x in iso.split("-"))
    return f"{y}年{m}月{d}日"


def _card(doc: Document, stem: str) -> list[Chunk]:
    """The document's metadata as one searchable chunk: "这份意见哪天发布的？来源是哪里？", "两份答复的落款日期".

    Such facts sit in page headers and signature blocks that cleaning keeps out
    of the body or leaves in a paragraph of their own; a card puts them where
    retrieval and the model can find and cite them.
    """
    meta = doc.meta
    fields = [
        (CARD_ISSUER, meta.issuer),
        (CARD_NUMBER, meta.doc_number),
        (CARD_DATE, _chinese_date(meta.date) if meta.date else ""),
        (CARD_SIGNER, meta.signer),
        (CARD_SIGNED, _chinese_date(meta.signed_date) if meta.signed_date else ""),
        (CARD_SOURCE, meta.source),
        (CARD_ADOPTED, _chinese_date(meta.adopted) if meta.adopted else ""),
        (CARD_AMENDED, "、".join(_chinese_date(d) for d in meta.amended)),
        (CARD_EFFECTIVE, _chinese_date(meta.effective) if meta.effective else ""),
    ]
    lines = [f"{k}：{v}" for k, v in fields if v]
    if not lines:
        return []
    # Each field a sentence of its own, so passage selection keeps or drops whole fields.
    # The title is not repeated: it is the chunk's search title and shown with every citation.
    text = "；\n".join(lines) + "。"
    return [
        Chunk(
            id=f"{stem}{CARD_SUFFIX}",
            doc_id=doc.doc_id,
            text=text,
            heading="文件信息",
            start=0,
            end=0,
            title=search_title(doc),
        )
    ]


def _outline(doc: Document, stem: str, max_chars: int = 600) -> list[Chunk]:
    """The document's main headings as one chunk: answers "从哪几个方面…" / "主要举措有哪些" questions.

    Such overview questions have no single paragraph that answers them; the
    headings of a policy text are its own summary.
    """
    lines: list[str] = []
    first, last = None, 0
    law = is_law(doc.text)
    for m in re.finditer(r"[^\n]+", doc.text):
        line = m.group(0).strip()
        if law:  # a law's outline is its 编/章/节, listed once though the 目录 repeats them
            head = law_heading(line)
            if head is None or head[0] == ARTICLE_RANK or head[1] in lines:
                continue
            label = head[1]
        else:
            level = heading_level(line)
            if level is None or level > 2:
                continue
            label = heading_label(line)
        if sum(len(x) + 1 for x in lines) + len(label) > max_chars:
            break
        lines.append(label)
        first = m.start() if first is None else first
        last = m.end()
    if len(lines) < 2 or first is None:
        return []
    text = "\n".join(lines)
    return [
        Chunk(
            id=f"{stem}{OUTLINE_SUFFIX}",
            doc_id=doc.doc_id,
            text=text,
            heading="主要内容（标题）",
            start=first,
            end=last,
            title=search_title(doc),
        )
    ]
