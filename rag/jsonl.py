"""JSONL input read the same way everywhere: blank lines skipped, a bad line named by its number."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
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
