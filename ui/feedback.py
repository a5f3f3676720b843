"""Thumbs up/down from the chat, appended to a local JSONL file for later review.

One line per vote with the question, the answer and the passages it was based
on, so a reviewer can see why an answer was good or bad without re-running it.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from rag.config import REPO

DEFAULT_FEEDBACK = REPO / "var" / "feedback.jsonl"


class FeedbackLog:
    def __init__(self, path: Path = DEFAULT_FEEDBACK) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()  # votes from several browser tabs arrive on worker threads

    def record(self, liked: bool | None, entry: dict[str, Any]) -> dict[str, Any]:
        row = {"time": time.strftime("%Y-%m-%dT%H:%M:%S"), "liked": liked, **entry}
        line = json.dumps(row, ensure_ascii=False)
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as f:
                f.write(line + "\n")
        return row

    def read(self) -> list[dict[str, Any]]:
        if not self.path.is_file():
            return []
        return [json.loads(x) for x in self.path.read_text(encoding="utf-8").splitlines() if x.strip()]
