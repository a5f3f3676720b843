"""JSONL read the same way everywhere (blank lines skipped, a bad line named by its number) and appended safely."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any


def parse_jsonl(lines: Iterable[str], source: str, error: type[Exception]) -> Iterator[tuple[int, Any]]:
    """(line number, parsed value) for each non-blank line; `error` is raised for a line that is not JSON."""
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            yield n, json.loads(line)
        except json.JSONDecodeError as exc:
            raise error(f"{source}:{n}: not valid JSON ({exc.msg} at column {exc.colno})") from exc


class AppendLog:
    """An append-only JSONL file written from several threads: one whole line per record, never interleaved."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def append(self, row: dict[str, Any]) -> dict[str, Any]:
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
