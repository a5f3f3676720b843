"""HTML and Markdown for the chat: answers, the sources panel, the documents table.

Everything that came from a user or a document goes through html.escape here:
the chat renders Markdown/HTML, and a question such as `<script>…</script>`
or a document with markup in it must show as text, never run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

from rag.types import Answer, Citation, Passage


def esc(text: object) -> str:
    return escape(str(text or ""), quote=True)


def user_message(question: str) -> str:
    """The user's text for the chat bubble, shown literally (Markdown would swallow tags)."""
    return esc(question)


def status_line(text: str) -> str:
    return f"<small>⏳ {esc(text)}</small>"


def answer_message(text: str, answer: Answer | None = None, streaming: bool = False) -> str:
    """The bot bubble: answer text, then the notice and the rewritten question when there are any."""
    body = esc(text).strip() or ("…" if streaming else "")
    if streaming:
        body += " ▌"
    extra = []
    if answer is not None:
        if answer.notice:
            extra.append(f"⚠️ {esc(answer.notice)}")
        if answer.standalone_question:
            extra.append(f"检索问题：{esc(answer.standalone_question)}")
        if answer.refused:
            extra.append("右侧列出了最接近的段落，供您自行查阅。")
    if extra:
        body += "\n\n" + "\n".join(f"<small>{line}</small><br>" for line in extra)
    return body


def error_message(text: str) -> str:
    return f"⚠️ {esc(text)}"


def _highlight(text: str, sentence: str) -> str:
    """Escape `text` and wrap the cited sentence in <mark> (matched on the raw text, then escaped piecewise)."""
    sentence = (sentence or "").strip()
    if sentence and sentence in text:
        i = text.index(sentence)
        return esc(text[:i]) + "<mark>" + esc(sentence) + "</mark>" + esc(text[i + len(sentence) :])
    return esc(text)


def _meta_line(p: Passage) -> str:
    m = p.meta
    parts = [m.issuer, m.doc_number, m.date] if m else []
    if m:  # a law's history: 通过 / 修改 / 施行
        parts += [f"{m.adopted}通过" if m.adopted else "", *(f"{d}修改" for d in m.amended)]
        parts.append(f"{m.effective}施行" if m.effective else "")
    parts = [esc(x) for x in parts if x]
    parts.append(f"<code>{esc(p.chunk.doc_id)}</code>")
    if p.chunk.page:
        parts.append(f"第{p.chunk.page}页")
    return " · ".join(parts)


def sources_panel(
    passages: Sequence[Passage],
    citations: Iterable[Citation] = (),
    refused: bool = False,
    pending: bool = False,
) -> str:
    """The panel beside the chat; passage [n] is the passage the answer's `[n]` points to."""
    if not passages:
        return '<div class="src-panel src-empty">提问后，检索到的文件段落会显示在这里。</div>'
    cited = {c.n: c for c in citations}
    if refused:
        head = "资料中没有找到答案。以下是最接近的段落，供您继续查阅："
    elif pending:
        head = f"已检索到 {len(passages)} 个段落，正在生成回答…"
    elif cited:
        head = f"回答引用了 {len(cited)} 个段落（共检索到 {len(passages)} 个）："
    else:
        head = f"检索到 {len(passages)} 个段落："
    items = []
    for p in passages:
        n = p.rank
        c = cited.get(n)
        title = (p.meta.title if p.meta else "") or p.chunk.title or p.chunk.doc_id
        heading = f'<div class="src-heading">{esc(p.chunk.heading)}</div>' if p.chunk.heading else ""
        text = _highlight(p.chunk.text, c.sentence if c else "")
        cls = "src-item cited" if c else "src-item"
        badge = '<span class="src-badge">已引用</span>' if c else ""
        items.append(
            f'<div class="{cls}" id="src-{n}" data-n="{n}">'
            f'<div class="src-title"><span class="src-n">[{n}]</span> {esc(title)} {badge}</div>'
            f'<div class="src-meta">{_meta_line(p)} · 相似度 {p.dense_score:.2f}</div>'
            f"{heading}"
            f'<div class="src-text">{text}</div>'
            "</div>"
        )
    return f'<div class="src-panel"><div class="src-head">{esc(head)}</div>{"".join(items)}</div>'


CSS = """
.src-panel { font-size: 0.92em; line-height: 1.55; max-height: 72vh; overflow-y: auto; }
.src-empty { color: #777; padding: 1em 0.5em; }
.src-head { font-weight: 600; margin-bottom: 0.5em; }
.src-item { border: 1px solid #ddd; border-radius: 6px; padding: 0.5em 0.7em; margin-bottom: 0.6em; }
.src-item.cited { border-color: #e0a800; background: #fffbea; }
.src-title { font-weight: 600; }
.src-n { color: #b36b00; margin-right: 0.2em; }
.src-badge { font-size: 0.8em; color: #fff; background: #e0a800; border-radius: 4px; padding: 0 0.35em; }
.src-meta { color: #666; font-size: 0.85em; }
.src-heading { color: #355; font-size: 0.85em; margin-top: 0.2em; }
.src-text { margin-top: 0.3em; white-space: pre-wrap; }
.src-text mark { background: #ffe066; padding: 0 0.1em; }
@media (prefers-color-scheme: dark) {
  .src-item { border-color: #444; }
  .src-item.cited { background: #3a3200; }
  .src-meta, .src-empty { color: #aaa; }
  .src-heading { color: #9cc; }
  .src-text mark { background: #806000; color: #fff; }
}
"""
