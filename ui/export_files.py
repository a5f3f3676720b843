"""The chat's download buttons: the session's answers written as .docx and .md files for Gradio to serve.

A DownloadButton downloads the file its value names, so after every answer
both files are written anew and the buttons pointed at them; Gradio copies
them into its own cache to serve them. The same goes for one answer: a
selector names which (the latest by default), and its two buttons point at
that answer's files, rewritten when the selection changes. They go to one temporary folder per
process, and files older than an hour are removed when new ones are written.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import gradio as gr

from ui.export import Turn, filename, render

MAX_AGE_S = 3600


def _folder() -> Path:
    folder = Path(tempfile.gettempdir()) / "rag-exports"
    folder.mkdir(exist_ok=True)
    cutoff = time.time() - MAX_AGE_S
    for old in folder.glob("*/*"):
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
            if not any(old.parent.iterdir()):
                old.parent.rmdir()
    return folder


def turns_of(records: dict[Any, dict[str, Any]] | None) -> list[Turn]:
    """The answered turns in the order shown (records are keyed by the bot message's index)."""
    rows = sorted((records or {}).items(), key=lambda kv: int(kv[0]))
    return [Turn.from_json(r["turn"]) for _, r in rows if r.get("turn")]


def write_exports(records: dict[Any, dict[str, Any]] | None, turn: int | None = None) -> tuple[Path, Path] | None:
    """The conversation (or only its answer `turn`, 1-based) as a .docx and a .md file; None when nothing to export."""
    turns = turns_of(records)
    if not turns or (turn is not None and not 1 <= turn <= len(turns)):
        return None
    target = _folder() / uuid.uuid4().hex[:12]
    target.mkdir()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    paths = []
    for fmt in ("docx", "md"):
        path = target / filename(fmt, stamp, turn)
        path.write_bytes(render(turns, fmt, turn=turn))
        paths.append(path)
    return paths[0], paths[1]


def _buttons(paths: tuple[Path, Path] | None) -> tuple[Any, Any]:
    if paths is None:
        return gr.update(value=None, interactive=False), gr.update(value=None, interactive=False)
    return gr.update(value=str(paths[0]), interactive=True), gr.update(value=str(paths[1]), interactive=True)


def export_buttons_update(records: dict[Any, dict[str, Any]] | None) -> tuple[Any, Any]:
    """Both buttons pointed at fresh files, or disabled while there is no answer to export."""
    return _buttons(write_exports(records))


def answer_label(n: int, question: str, width: int = 24) -> str:
    """`第 2 问：那青州市呢？`, the question cut to fit the selector."""
    question = " ".join(question.split())
    return f"第 {n} 问：{question[:width]}{'…' if len(question) > width else ''}"


def answer_exports_update(records: dict[Any, dict[str, Any]] | None) -> tuple[Any, Any, Any]:
    """After an answer or a new chat: the selector lists the answers with the latest chosen, its buttons point at it."""
    turns = turns_of(records)
    choices = [(answer_label(i, t.question), i) for i, t in enumerate(turns, 1)]
    latest = len(turns) or None
    picker = gr.update(choices=choices, value=latest, interactive=bool(turns))
    return picker, *answer_buttons_update(records, latest)


def answer_buttons_update(records: dict[Any, dict[str, Any]] | None, turn: int | str | None) -> tuple[Any, Any]:
    """The one-answer buttons pointed at fresh files of answer `turn`, or disabled when there is none."""
    try:
        n = int(turn) if turn is not None else None
    except (TypeError, ValueError):
        n = None
    return _buttons(write_exports(records, n) if n else None)


def exports_update(records: dict[Any, dict[str, Any]] | None) -> tuple[Any, ...]:
    """Every download control after an answer or a new chat: conversation buttons, answer selector, answer buttons."""
    return (*export_buttons_update(records), *answer_exports_update(records))
