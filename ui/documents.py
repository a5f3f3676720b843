"""Adding and removing documents on behalf of a user: one path for the chat and the HTTP API.

Load → clean → index → reload, then one audit line per changed document, so
both routes report the same outcome and leave the same trace.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rag.audit import AuditLog
from rag.errors import RagError
from rag.load import SUPPORTED
from rag.pipeline import Pipeline
from rag.types import Document

log = logging.getLogger(__name__)
Progress = Callable[[float, str], None]


@dataclass
class AddResult:
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # reasons: same content as an indexed document
    errors: list[str] = field(default_factory=list)  # files that could not be read, with the reason
    docs: list[Document] = field(default_factory=list)


def add_files(
    pipe: Pipeline,
    files: list[tuple[str, bytes]],
    user: str,
    via: str,
    audit: AuditLog,
    progress: Progress | None = None,
) -> AddResult:
    """Index (name, content) pairs; unreadable files are reported, the others still go in.

    Raises RagError when the index itself cannot be updated (the last good one keeps serving).
    """
    from index import builder
    from rag.document import prepare_bytes

    result = AddResult()
    step = progress or (lambda _f, _m: None)
    for i, (name, data) in enumerate(files):
        step(0.05 + 0.15 * i / max(len(files), 1), f"读取 {name}")
        try:
            if Path(name).suffix.lower() not in SUPPORTED:
                raise RagError(f"{name}: 不支持的文件类型（支持 {' '.join(SUPPORTED)}）")
            result.docs.append(prepare_bytes(data, name))
        except RagError as exc:
            result.errors.append(str(exc))
        except Exception as exc:
            log.exception("loading %s failed", name)
            result.errors.append(f"{name}: 无法读取（{type(exc).__name__}）")
    if not result.docs:
        return result
    _, report = builder.add(
        result.docs,
        pipe.store,
        pipe.embedder,
        progress=lambda f, msg: step(0.2 + 0.75 * f, f"建立索引：{msg}"),
    )
    step(0.97, "加载新索引")
    pipe.reload()
    result.added, result.replaced, result.skipped = report.added, report.replaced, report.skipped
    audit.record_update(user, via, result.docs, report.added, report.replaced)
    return result


def remove_docs(pipe: Pipeline, doc_ids: list[str], user: str, via: str, audit: AuditLog) -> list[str]:
    """Remove documents by id; raises RagError naming any that is not indexed (nothing is removed then)."""
    from index import builder

    _, report = builder.remove(doc_ids, pipe.store, pipe.embedder)
    pipe.reload()
    for doc_id in report.removed:
        audit.record(user, via, "remove", doc_id)
    return report.removed
