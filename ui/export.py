"""A conversation as a Word document or Markdown, both rendered from one record per answer.

An official who files an answer needs it with its sources as one would cite
them: title, issuing body, 文号, date, heading path and the sentence the
answer rests on, plus when it was asked and which model answered. The chat's
download buttons and `GET /v1/conversations/{id}/export` use the same
functions, so the two exports cannot drift apart; one answer (`turn`) is the
same rendering of a one-item slice, numbered as in the conversation.
"""

from __future__ import annotations

import io
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from rag.types import Answer

FORMATS = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "md": "text/markdown; charset=utf-8",
}
TITLE = "政策文件问答记录"


@dataclass
class Source:
    n: int
    title: str
    issuer: str = ""
    doc_number: str = ""
    date: str = ""
    heading: str = ""
    sentence: str = ""  # the cited sentence of the passage (the passage's start when none was found)
    doc: str = ""  # the source file
    page: int | None = None


@dataclass
class Turn:
    question: str
    answer: str
    refused: bool
    asked_at: str  # local time, "YYYY-MM-DD HH:MM:SS"
    model: str
    embedder: str = ""
    standalone_question: str = ""
    sources: list[Source] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Turn:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__ and k != "sources"}
        return cls(**known, sources=[Source(**s) for s in data.get("sources", [])])


class TurnNotFound(ValueError):
    """A 1-based answer number outside the conversation."""


def pick(turns: list[Turn], turn: int | None) -> tuple[list[Turn], int]:
    """The answers to render and the number of the first: all from 1, or only answer `turn` under its own number."""
    if turn is None:
        return turns, 1
    if not 1 <= turn <= len(turns):
        raise TurnNotFound(
            f"turn {turn} is out of range: this conversation has {len(turns)} answer(s), 1 to {len(turns)}"
        )
    return [turns[turn - 1]], turn


def now() -> str:
    return datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S")


def turn_from_answer(answer: Answer, asked_at: str | None = None) -> Turn:
    """The record of one answer: each cited source with the metadata of its document and the cited sentence."""
    by_chunk = {p.chunk.id: p for p in answer.passage_objs}
    sources = []
    for c in answer.citations:
        p = by_chunk.get(c.chunk_id)
        meta = p.meta if p is not None else None
        sentence = c.sentence or _first_sentence(c.text)
        sources.append(
            Source(
                n=c.n,
                title=c.title,
                issuer=meta.issuer if meta else "",
                doc_number=meta.doc_number if meta else "",
                date=meta.date if meta else "",
                heading=p.chunk.heading if p is not None else "",
                sentence=sentence,
                doc=c.doc,
                page=c.page,
            )
        )
    return Turn(
        question=answer.question,
        answer=answer.answer,
        refused=answer.refused,
        asked_at=asked_at or now(),
        model=answer.model.llm,
        embedder=answer.model.embedder,
        standalone_question=answer.standalone_question,
        sources=sources,
    )


def _first_sentence(text: str) -> str:
    m = re.match(r".+?[。！？；]", text.replace("\n", ""))
    return (m.group(0) if m else text)[:200]


def _source_line(s: Source) -> str:
    """`《title》 issuer 文号 date`, then where in the document."""
    parts = [f"《{s.title}》" if s.title else s.doc]
    parts += [x for x in (s.issuer, s.doc_number, s.date) if x]
    line = "　".join(parts)
    where = [x for x in (s.heading, f"第 {s.page} 页" if s.page else "") if x]
    return line + (f"　位置：{' · '.join(where)}" if where else "")


def _head(conversation_id: str, exported_at: str | None, only: int | None) -> str:
    """Export time, conversation id and, for one answer, which answer of the conversation it is."""
    head = f"导出时间：{exported_at or now()}" + (f"　对话编号：{conversation_id}" if conversation_id else "")
    return head + (f"　仅含第 {only} 问及其回答" if only else "")


def _meta_line(t: Turn) -> str:
    return f"提问时间：{t.asked_at}　模型：{t.model}" + (f"　检索：{t.embedder}" if t.embedder else "")


# --- Markdown ----------------------------------------------------------------------------------------------------
def _md_escape(text: str) -> str:
    """Text as it reads, never as markup: a question may hold `*`, `#` or HTML."""
    text = re.sub(r"([\\`*_{}\[\]<>#|])", r"\\\1", text)
    return re.sub(r"^(\s*)([-+]|\d+\.)(\s)", r"\1\\\2\3", text, flags=re.M)


def _md_answer(text: str) -> str:
    """The answer escaped, with its citation marks kept as plain [n]."""
    return re.sub(r"\\\[(\d+)\\\]", r"[\1]", _md_escape(text))


def to_markdown(
    turns: list[Turn], conversation_id: str = "", exported_at: str | None = None, turn: int | None = None
) -> str:
    """The conversation, or only its answer number `turn` (1-based), as Markdown."""
    shown, first = pick(turns, turn)
    lines = [f"# {TITLE}", "", _head(conversation_id, exported_at, turn), ""]
    for i, t in enumerate(shown, first):
        lines += [f"## 问题 {i}：{_md_escape(t.question)}", ""]
        if t.standalone_question:
            lines += [f"检索问题：{_md_escape(t.standalone_question)}", ""]
        lines += [f"*{_md_escape(_meta_line(t))}*", "", "**回答**", "", _md_answer(t.answer), ""]
        if t.sources:
            lines += ["**来源**", ""]
            for s in t.sources:
                lines.append(f"{s.n}. {_md_escape(_source_line(s))}  ")
                lines.append(f"   引用原文：「{_md_escape(s.sentence)}」")
            lines.append("")
        elif t.refused:
            lines += ["（资料中没有找到答案，未引用来源。）", ""]
    return "\n".join(lines).rstrip() + "\n"


# --- Word --------------------------------------------------------------------------------------------------------
_FONT = "Microsoft YaHei"  # Word on Windows has it; LibreOffice falls back to a CJK font it has


def _cjk_font(
    run: Any, size: float | None = None, bold: bool = False, color: tuple[int, int, int] | None = None
) -> Any:
    """Set the East Asian font too: without it Word shows Chinese in its Latin fallback font."""
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    run.font.name = _FONT
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), _FONT)
    if size:
        run.font.size = Pt(size)
    run.bold = bold
    if color:
        run.font.color.rgb = RGBColor(*color)
    return run


def to_docx(
    turns: list[Turn], conversation_id: str = "", exported_at: str | None = None, turn: int | None = None
) -> bytes:
    """The conversation, or only its answer number `turn` (1-based), as a Word document."""
    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Pt

    shown, first = pick(turns, turn)
    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.size = Pt(11)
    for style in ("Normal", "Title", "Heading 1", "Heading 2"):
        s = doc.styles[style]
        s.font.name = _FONT
        s.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), _FONT)
    doc.core_properties.title = TITLE
    doc.core_properties.author = "政策文件问答"
    doc.add_heading(TITLE, level=0)
    _cjk_font(doc.add_paragraph().add_run(_head(conversation_id, exported_at, turn)), 9, color=(0x66, 0x66, 0x66))
    for i, t in enumerate(shown, first):
        doc.add_heading(f"问题 {i}：{t.question}", level=1)
        if t.standalone_question:
            _cjk_font(doc.add_paragraph().add_run(f"检索问题：{t.standalone_question}"), 9, color=(0x66, 0x66, 0x66))
        _cjk_font(doc.add_paragraph().add_run(_meta_line(t)), 9, color=(0x66, 0x66, 0x66))
        answer = doc.add_paragraph()
        _cjk_font(answer.add_run("回答："), bold=True)
        for piece in re.split(r"(\[\d+\])", t.answer):
            if piece:
                run = _cjk_font(answer.add_run(piece))
                run.font.superscript = bool(re.fullmatch(r"\[\d+\]", piece))
        if t.sources:
            _cjk_font(doc.add_paragraph().add_run("来源"), bold=True)
            for s in t.sources:
                p = doc.add_paragraph()
                p.paragraph_format.left_indent = Pt(18)
                p.paragraph_format.first_line_indent = Pt(-18)
                _cjk_font(p.add_run(f"[{s.n}] "), bold=True)
                _cjk_font(p.add_run(_source_line(s)))
                quote = doc.add_paragraph()
                quote.paragraph_format.left_indent = Pt(18)
                _cjk_font(quote.add_run(f"引用原文：「{s.sentence}」"), 10, color=(0x44, 0x44, 0x44))
        elif t.refused:
            _cjk_font(doc.add_paragraph().add_run("（资料中没有找到答案，未引用来源。）"), 10)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def render(turns: list[Turn], fmt: str, conversation_id: str = "", turn: int | None = None) -> bytes:
    """The export in `fmt` ("docx" or "md") as bytes; `turn` (1-based) keeps only that answer (TurnNotFound if none)."""
    if fmt == "docx":
        return to_docx(turns, conversation_id, turn=turn)
    if fmt == "md":
        return to_markdown(turns, conversation_id, turn=turn).encode("utf-8")
    raise ValueError(f"unknown export format {fmt!r}; use docx or md")


def filename(fmt: str, stamp: str | None = None, turn: int | None = None) -> str:
    """A file name that sorts by time: 问答记录-20261126-190512.docx, one answer 问答记录-20261126-190512-第2问.docx."""
    stamp = stamp or datetime.now().strftime("%Y%m%d-%H%M%S")
    return f"问答记录-{stamp}{f'-第{turn}问' if turn else ''}.{fmt}"
