"""The chat's scope selector: choices from the indexed documents, how many are in scope, and suggestions.

A place or issuing year named in the question is only ever offered as a
one-click suggestion; the chat never narrows a search on its own.
"""

from __future__ import annotations

from rag.errors import RagError
from rag.pipeline import Pipeline
from rag.scope import allows, describe, make_scope, row_fields, suggest
from rag.types import Scope


def _fields(pipe: Pipeline) -> list[dict[str, str]]:
    return [row_fields(d, doc.meta) for d, doc in sorted(pipe.index.docs.items())]


def choices(pipe: Pipeline) -> dict[str, list]:
    """Selector choices from what is indexed: places, document types, issuers, documents (title, id)."""
    rows = _fields(pipe)
    docs = [((doc.meta.title or d)[:40] + f"（{d}）", d) for d, doc in sorted(pipe.index.docs.items())]
    return {
        "places": sorted({r["place"] for r in rows if r["place"]}),
        "doc_types": sorted({r["doc_type"] for r in rows}),
        "issuers": sorted({r["issuer"] for r in rows if r["issuer"]}),
        "docs": docs,
    }


def from_inputs(
    places: list[str] | None,
    doc_types: list[str] | None,
    issuers: list[str] | None,
    docs: list[str] | None,
    since: str | None,
    until: str | None,
) -> Scope | None:
    """The selector's values as a Scope (None when nothing is chosen); a malformed date raises RagError."""
    scope = make_scope(docs or None, issuers or None, places or None, doc_types or None, since, until)
    return None if scope.is_empty() else scope


def count_line(pipe: Pipeline, scope: Scope | None) -> str:
    rows = _fields(pipe)
    inside = sum(allows(scope, r) for r in rows)
    if scope is None:
        return f"检索范围：全部 {len(rows)} 份文件"
    warn = "　⚠ 范围内没有文件" if not inside else ""
    return f"检索范围：{inside} / {len(rows)} 份文件（{describe(scope)}）{warn}"


def count_for_inputs(pipe: Pipeline, *values) -> str:
    try:
        return count_line(pipe, from_inputs(*values))
    except RagError as exc:
        return f"❌ {exc}"


def suggestion(pipe: Pipeline, question: str) -> Scope | None:
    """What the question hints at (a place of the indexed documents, an issuing year), or None."""
    places = {r["place"] for r in _fields(pipe) if r["place"]}
    return suggest(question, places)


def suggestion_label(scope: Scope) -> str:
    return f"只在此范围内检索：{describe(scope)}"
