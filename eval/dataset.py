"""The gold dataset: one JSON question a line, validated up front so a bad line fails with its line number.

A scorer that silently skipped a malformed question would report a better
score than the system earned; loading therefore stops at the first bad line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, model_validator

from rag.jsonl import parse_jsonl

QType = Literal["fact", "number", "list", "multi_doc", "summary", "unanswerable"]
QLang = Literal["zh-Hans", "zh-Hant", "en"]
QSplit = Literal["tune", "test"]


class DatasetError(ValueError):
    """A dataset file that cannot be used; the message names the file and line."""


class Question(BaseModel):
    id: str
    question: str = Field(min_length=1)
    lang: QLang
    type: QType
    answer: str = ""
    must_include: list[str] = Field(default_factory=list)
    must_include_alt: list[list[str]] | None = None
    doc: list[str] = Field(default_factory=list)
    evidence: list[str] = Field(default_factory=list)
    # earlier turns of a conversation, oldest first: [question, answer] pairs (a follow-up question)
    history: list[tuple[str, str]] = Field(default_factory=list)
    split: QSplit | None = None

    model_config = {"extra": "allow"}

    @model_validator(mode="before")
    @classmethod
    def _listify(cls, data: object) -> object:
        """`doc` and `evidence` may be given as one string."""
        if isinstance(data, dict):
            data = dict(data)
            for key in ("doc", "evidence", "must_include"):
                if isinstance(data.get(key), str):
                    data[key] = [data[key]]
            if isinstance(data.get("id"), int):
                data["id"] = str(data["id"])
        return data

    @model_validator(mode="after")
    def _check(self) -> Question:
        for i, (q, _a) in enumerate(self.history):
            if not q.strip():
                raise ValueError(f"history[{i}]: the earlier question is empty")
        if self.must_include_alt is not None and len(self.must_include_alt) != len(self.must_include):
            raise ValueError(
                f"must_include_alt has {len(self.must_include_alt)} entries but must_include has "
                f"{len(self.must_include)}: they are parallel lists"
            )
        return self

    @property
    def group(self) -> str:
        """ "followup" for a question asked after earlier turns, else "single"."""
        return "followup" if self.history else "single"

    def history_pairs(self) -> list[tuple[str, str]]:
        return [(q, a) for q, a in self.history]

    @property
    def answerable(self) -> bool:
        return self.type != "unanswerable"

    def keys(self) -> list[list[str]]:
        """Each key with its accepted alternatives, the key first."""
        alts = self.must_include_alt or [[] for _ in self.must_include]
        return [[k, *a] for k, a in zip(self.must_include, alts, strict=True)]


def _short(err: ValidationError) -> str:
    parts = []
    for e in err.errors():
        loc = ".".join(str(x) for x in e["loc"]) or "line"
        parts.append(f"{loc}: {e['msg']}")
    return "; ".join(parts)


def parse_lines(lines: list[str], source: str = "<dataset>") -> list[Question]:
    questions: list[Question] = []
    seen: dict[str, int] = {}
    for n, row in parse_jsonl(lines, source, DatasetError):
        if not isinstance(row, dict):
            raise DatasetError(f"{source}:{n}: expected a JSON object, got {type(row).__name__}")
        try:
            q = Question.model_validate(row)
        except ValidationError as exc:
            qid = row.get("id", "?")
            raise DatasetError(f"{source}:{n} (id {qid}): {_short(exc)}") from exc
        if q.id in seen:
            raise DatasetError(f"{source}:{n}: duplicate id {q.id!r} (first on line {seen[q.id]})")
        seen[q.id] = n
        questions.append(q)
    if not questions:
        raise DatasetError(f"{source}: no questions")
    return questions


def load_dataset(path: str | Path, limit: int | None = None) -> list[Question]:
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: no such dataset file")
    questions = parse_lines(path.read_text(encoding="utf-8").splitlines(), str(path))
    return questions[:limit] if limit else questions


def squashed(text: str) -> str:
    """Text without whitespace or byte-order mark: laws separate 第X条 from its text with a full-width space and
    end lines with CRLF, which a hand-copied evidence string does not reproduce."""
    return re.sub(r"\s+", "", text.replace("\ufeff", ""))


def not_in_documents(row: dict[str, Any], document: Callable[[str], str]) -> list[str]:
    """The evidence strings and key facts of a gold row that none of its documents holds (whitespace ignored);
    `document(name)` gives a named document's text."""
    texts = [squashed(document(name)) for name in row["doc"]]
    return [s for s in [*row["evidence"], *row["must_include"]] if not any(squashed(s) in t for t in texts)]
