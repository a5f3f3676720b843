"""Thumbs up/down from the chat, appended to a local JSONL file for later review.

One line per vote with the question, the answer and the passages it was based
on, so a reviewer can see why an answer was good or bad without re-running it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from rag.config import REPO
from rag.jsonl import AppendLog

DEFAULT_FEEDBACK = REPO / "var" / "feedback.jsonl"


class FeedbackLog:
    def __init__(self, path: Path = DEFAULT_FEEDBACK) -> None:
        self._log = AppendLog(path)  # votes from several browser tabs arrive on worker threads
        self.path = self._log.path

    def record(self, liked: bool | None, entry: dict[str, Any]) -> dict[str, Any]:
        return self._log.append({"time": time.strftime("%Y-%m-%dT%H:%M:%S"), "liked": liked, **entry})

    def read(self) -> list[dict[str, Any]]:
        return self._log.read()
