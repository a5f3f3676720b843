"""The chat's download buttons: the session's answers written as .docx and .md files for Gradio to serve.

A DownloadButton downloads the file its value names, so after every answer
both files are written anew and the buttons pointed at them; Gradio copies
them into its own cache to serve them. They go to one temporary folder per
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


def write_exports(records: dict[Any, dict[str, Any]] | None) -> tuple[Path, Path] | None:
    turns = turns_of(records)
    if not turns:
        return None
    target = _folder() / uuid.uuid4().hex[:12]
    target.mkdir()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    paths = []
    for fmt in ("docx", "md"):
        path = target / filename(fmt, stamp)
        path.write_bytes(render(turns, fmt))
        paths.append(path)
    return paths[0], paths[1]


def export_buttons_update(records: dict[Any, dict[str, Any]] | None) -> tuple[Any, Any]:
    """Both buttons pointed at fresh files, or disabled while there is no answer to export."""
    paths = write_exports(records)
    if paths is None:
        return gr.update(value=None, interactive=False), gr.update(value=None, interactive=False)
    return gr.update(value=str(paths[0]), interactive=True), gr.update(value=str(paths[1]), interactive=True)
