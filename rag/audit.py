"""Who changed the indexed documents, when, and what went in: one JSON line per add, replace or remove.

Every route that changes the index (chat, HTTP API, command line) records
here, so an administrator can answer "who added this file, and was any of it
lost in cleaning" without the server's logs.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from rag.config import REPO
from rag.jsonl import AppendLog
from rag.types import Document

DEFAULT_AUDIT = REPO / "var" / "audit.jsonl"


class AuditLog:
    def __init__(self, path: Path = DEFAULT_AUDIT) -> None:
        self._log = AppendLog(path)
        self.path = self._log.path

    def record(self, user: str, via: str, action: str, doc_id: str, doc: Document | None = None) -> dict[str, Any]:
        """`action` is add, replace or remove; `via` is chat, api or cli; `doc` gives hash and cleaning figures."""
        row: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "user": user or "-",
            "via": via,
            "action": action,
            "file": doc_id,
        }
        if doc is not None:
            row["sha256"] = doc.content_hash
            row["chars_kept"] = doc.report.chars_after
            row["chars_removed"] = doc.report.chars_removed
        return self._log.append(row)

    def record_update(self, user: str, via: str, docs: list[Document], added: list[str], replaced: list[str]) -> None:
        by_id = {d.doc_id: d for d in docs}
        for doc_id in added:
            self.record(user, via, "add", doc_id, by_id.get(doc_id))
        for doc_id in replaced:
            self.record(user, via, "replace", doc_id, by_id.get(doc_id))

    def read(self) -> list[dict[str, Any]]:
        return self._log.read()
