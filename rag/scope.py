"""Scope rules, defined once: which documents a Scope admits, and what a question merely suggests.

Both stores use `row_fields` to get the values they filter on (the file store
per document in memory, Milvus as scalar fields of every row), so the two
cannot disagree on what 潍坊 or 2024 means.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Mapping
from typing import Any

from rag.errors import RagError
from rag.metadata import place_stem
from rag.script import to_simplified
from rag.types import DocMeta, Scope

# Document types, told apart by the end of the title (the last matching word wins over earlier ones).
DOC_TYPES = ("法律", "条例", "办法", "通知", "意见", "答复", "方案", "规划", "新闻", "其他")
_TYPE_WORDS = (
    ("答记者问", "新闻"),
    ("新闻发布", "新闻"),
    ("提案", "答复"),
    ("建议", "答复"),
    ("答复", "答复"),
    ("规划", "规划"),
    ("方案", "方案"),
    ("意见", "意见"),
    ("通知", "通知"),
    ("办法", "办法"),
    ("条例", "条例"),
)
_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")


def doc_type(meta: DocMeta) -> str:
    """One of DOC_TYPES from the title: a law ends in 法; otherwise the type word standing last in the title."""
    title = to_simplified(meta.title or "").strip().rstrip("）)》")
    if re.search(r"法(?:（[^）]*）)?$", title):
        return "法律"
    best, pos = "其他", -1
    for word, kind in _TYPE_WORDS:
        at = title.rfind(word)
        if at > pos:
            best, pos = kind, at
    return best


def place_key(place: str) -> str:
    """潍坊市, 潍坊 → 潍坊: the form places are compared in."""
    return place_stem(to_simplified(place or "").strip())


def row_fields(doc_id: str, meta: DocMeta | None) -> dict[str, str]:
    """The scalar values a scope filters on, for one document (Milvus stores them with every row)."""
    meta = meta or DocMeta()
    return {
        "doc_id": doc_id,
        "issuer": to_simplified(meta.issuer or ""),
        "place": place_key(meta.place),
        "doc_type": doc_type(meta),
        "date": meta.date or "",
    }


def allows(scope: Scope | None, fields: Mapping[str, str]) -> bool:
    """Whether a document (its row_fields) is inside the scope. Milvus's filter expression says the same."""
    if scope is None or scope.is_empty():
        return True
    if scope.docs and fields["doc_id"] not in scope.docs:
        return False
    if scope.issuers and not any(i and i in fields["issuer"] for i in scope.issuers):
        return False
    if scope.places and fields["place"] not in {place_key(p) for p in scope.places}:
        return False
    if scope.doc_types and fields["doc_type"] not in scope.doc_types:
        return False
    if scope.since and not (fields["date"] and fields["date"] >= scope.since):
        return False
    return not (scope.until and not (fields["date"] and fields["date"] <= scope.until))


def iso_bound(value: str, end: bool = False) -> str:
    """2024 → 2024-01-01 (or 2024-12-31 as an upper bound); 2024-3 → 2024-03-01 / 2024-03-31; else an error."""
    value = (value or "").strip()
    if not value:
        return ""
    m = _DATE.match(value)
    if not m:
        raise RagError(f"{value!r}: write a date as YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = m.group(1), m.group(2), m.group(3)
    if day:
        return f"{year}-{int(month):02d}-{int(day):02d}"
    if month:
        last = calendar.monthrange(int(year), int(month))[1] if 1 <= int(month) <= 12 else 31
        return f"{year}-{int(month):02d}-{last if end else 1:02d}"
    return f"{year}-{'12-31' if end else '01-01'}"


def _strings(value: Any, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not all(isinstance(x, str) for x in value):
        raise RagError(f"scope.{name} must be a string or a list of strings")
    return tuple(x.strip() for x in value if x.strip())


def make_scope(
    docs: Iterable[str] | str | None = None,
    issuers: Iterable[str] | str | None = None,
    places: Iterable[str] | str | None = None,
    doc_types: Iterable[str] | str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> Scope:
    """A validated Scope: unknown document types and malformed dates are errors, never silently ignored."""
    kinds = _strings(list(doc_types) if doc_types and not isinstance(doc_types, str) else doc_types, "doc_types")
    unknown = [k for k in kinds if k not in DOC_TYPES]
    if unknown:
        raise RagError(f"unknown document type {', '.join(unknown)}; choose from {', '.join(DOC_TYPES)}")
    scope = Scope(
        docs=_strings(list(docs) if docs and not isinstance(docs, str) else docs, "docs"),
        issuers=tuple(
            to_simplified(i)
            for i in _strings(list(issuers) if issuers and not isinstance(issuers, str) else issuers, "issuers")
        ),
        places=_strings(list(places) if places and not isinstance(places, str) else places, "places"),
        doc_types=kinds,
        since=iso_bound(since or ""),
        until=iso_bound(until or "", end=True),
    )
    if scope.since and scope.until and scope.since > scope.until:
        raise RagError(f"scope: since {scope.since} is after until {scope.until}")
    return scope


SCOPE_KEYS = ("docs", "issuers", "places", "doc_types", "since", "until")


def scope_from_json(data: Any) -> Scope | None:
    """The `scope` field of an API request or a batch line: an object with SCOPE_KEYS; null means none."""
    if data is None:
        return None
    if not isinstance(data, dict):
        raise RagError("scope must be an object with keys " + ", ".join(SCOPE_KEYS))
    extra = set(data) - set(SCOPE_KEYS)
    if extra:
        raise RagError(f"unknown scope key(s) {', '.join(sorted(extra))}; use {', '.join(SCOPE_KEYS)}")
    for key in ("since", "until"):
        if data.get(key) is not None and not isinstance(data[key], str):
            raise RagError(f"scope.{key} must be a date string")
    scope = make_scope(**{k: data.get(k) for k in SCOPE_KEYS})
    return None if scope.is_empty() else scope


def describe(scope: Scope | None) -> str:
    """A short Chinese description for notes and the chat: 地点 潍坊；2024-01-01 起."""
    if scope is None or scope.is_empty():
        return "全部文件"
    parts = []
    if scope.docs:
        parts.append("文件 " + "、".join(scope.docs))
    if scope.issuers:
        parts.append("发文机关 " + "、".join(scope.issuers))
    if scope.places:
        parts.append("地点 " + "、".join(scope.places))
    if scope.doc_types:
        parts.append("类型 " + "、".join(scope.doc_types))
    if scope.since or scope.until:
        parts.append(f"日期 {scope.since or '…'} 至 {scope.until or '…'}")
    return "；".join(parts)


def suggest(question: str, places: Iterable[str]) -> Scope | None:
    """A scope the question hints at (a place among the documents' places, a year), offered, never applied.

    `places` are the place keys of the indexed documents: 潍坊 in the question
    suggests 潍坊 only when some document is about 潍坊.
    """
    q = to_simplified(question or "")
    named = [p for p in sorted(set(places), key=len, reverse=True) if p and p in q]
    # A year suggests a date range only as the date a document was issued (2024年印发的…), not a target year.
    years = sorted(set(re.findall(r"((?:19|20)\d\d)年(?:\d{1,2}月)?(?:\d{1,2}日)?(?:发布|印发|出台|发文|下发)", q)))
    if not named and len(years) != 1:
        return None
    year = years[0] if len(years) == 1 else ""
    scope = Scope(places=tuple(named), since=f"{year}-01-01" if year else "", until=f"{year}-12-31" if year else "")
    return None if scope.is_empty() else scope
