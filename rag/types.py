"""The few types passed between stages, defined once.

Documents flow load → clean → chunk; chunks are indexed; retrieval returns
Passages; the generator and citation checker turn them into an Answer whose
JSON shape is the stable contract for evaluation scripts.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from pydantic import BaseModel, Field


@dataclass
class DocMeta:
    """Metadata officials quote: where a passage came from and how to cite it."""

    title: str = ""
    issuer: str = ""
    doc_number: str = ""  # 文号, e.g. 潍政字〔2024〕12号
    date: str = ""  # ISO yyyy-mm-dd when known
    place: str = ""
    signer: str = ""  # the signature block (落款) of a letter or notice: body and date
    signed_date: str = ""  # ISO yyyy-mm-dd
    source: str = ""  # the page's 来源 line: the site or outlet it was published by
    # A law's history, from the parenthesis under its title and its last article (ISO dates).
    adopted: str = ""  # 通过
    amended: list[str] = field(default_factory=list)  # 修正 / 修订, oldest first
    effective: str = ""  # 自…起施行

    def law_dates(self) -> dict[str, Any]:
        """The known dates of a law's history, for the JSON of passages and citations."""
        dates = {"adopted": self.adopted, "amended": self.amended, "effective": self.effective}
        return {k: v for k, v in dates.items() if v}


@dataclass(frozen=True)
class Scope:
    """Which documents a question may be answered from; empty fields do not restrict.

    Applied inside each store's search (not by dropping hits after top-k), so a
    narrow scope still returns k passages. Matching rules live in rag.scope.
    """

    docs: tuple[str, ...] = ()  # document ids (source file names)
    issuers: tuple[str, ...] = ()  # a document matches when its issuer (simplified script) contains one of these
    places: tuple[str, ...] = ()  # place names; 潍坊 and 潍坊市 are one place
    doc_types: tuple[str, ...] = ()  # rag.scope.DOC_TYPES, derived from the title
    since: str = ""  # ISO date, inclusive; a document without a date is outside a dated scope
    until: str = ""  # ISO date, inclusive

    def is_empty(self) -> bool:
        return not (self.docs or self.issuers or self.places or self.doc_types or self.since or self.until)

    def to_json(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items() if v}


@dataclass
class RemovedLine:
    """One line cleaning removed, and the rule that removed it."""

    kind: str  # rule name, e.g. "tail_block", "navigation"
    text: str


REMOVED_WARN_SHARE = 0.02  # more than this share of a document removed by cleaning: say so, loudly


@dataclass
class CleanReport:
    """What cleaning did to one document, so nothing is lost silently and damage left behind is visible."""

    chars_before: int = 0  # the loaded text
    chars_after: int = 0  # the cleaned text that is chunked and indexed
    chars_removed: int = 0  # characters of removed lines and dropped garbage (repairs such as pinyin not counted)
    removed: dict[str, int] = field(default_factory=dict)  # rule -> lines/spans removed
    repaired: dict[str, int] = field(default_factory=dict)  # rule -> spans repaired
    residual_damage: float = 0.0  # share of characters still suspicious after cleaning
    removed_lines: list[RemovedLine] = field(default_factory=list)

    @property
    def removed_share(self) -> float:
        """Share of the document's text that cleaning removed (kept + removed = the whole)."""
        whole = self.chars_after + self.chars_removed
        return self.chars_removed / whole if whole else 0.0

    @property
    def warn(self) -> bool:
        return self.removed_share > REMOVED_WARN_SHARE

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CleanReport:
        """Read a persisted report; fields an older index lacks take their defaults."""
        known = {f.name for f in fields(cls)} - {"removed_lines"}
        report = cls(**{k: v for k, v in data.items() if k in known})
        report.removed_lines = [RemovedLine(**x) for x in data.get("removed_lines", [])]
        return report


@dataclass
class Document:
    """One source file after loading and cleaning; the original file is never touched."""

    doc_id: str  # the source file name, used in citations
    text: str  # cleaned text (original script)
    meta: DocMeta
    content_hash: str  # sha256 of the raw bytes
    report: CleanReport = field(default_factory=CleanReport)


OUTLINE_SUFFIX = ":outline"
CARD_SUFFIX = ":card"
# A card's lines are "label：value": rag.chunk writes them, rag.select keeps the ones a question asks for.
CARD_ISSUER, CARD_NUMBER, CARD_DATE = "发文机关", "文号", "发布日期"
CARD_SIGNER, CARD_SIGNED, CARD_SOURCE = "落款单位", "落款日期", "来源"
CARD_ADOPTED, CARD_AMENDED, CARD_EFFECTIVE = "通过日期", "修改日期", "施行日期"


@dataclass
class Chunk:
    """A retrievable unit; `id` is stable across rebuilds of the same content."""

    id: str
    doc_id: str
    text: str  # original script, for display and the prompt
    heading: str  # heading path, e.g. "二、重点任务 > （一）突出经济强县引领"
    start: int  # character offsets in the cleaned document text
    end: int
    title: str = ""
    page: int | None = None  # the PDF page the chunk starts on; None when the source has no pages

    @property
    def is_outline(self) -> bool:
        """The per-document chunk listing its main headings (rag.chunk adds it)."""
        return self.id.endswith(OUTLINE_SUFFIX)

    @property
    def is_card(self) -> bool:
        """The per-document chunk holding its metadata: issuer, 文号, dates, 落款, source (rag.chunk adds it)."""
        return self.id.endswith(CARD_SUFFIX)

    def embed_text(self) -> str:
        """Headings carry the topic that a chunk's body often omits."""
        parts = [p for p in (self.title, self.heading) if p]
        return (" > ".join(parts) + "\n" + self.text) if parts else self.text


@dataclass(frozen=True)
class Asked:
    """A question as read once (`rag.question.analyse`) and handed to retrieval, selection, prompt and checks,
    so that every stage recognises the same wording the same way.

    `text` is the question in the asker's words (standalone after a follow-up is rewritten); `search` is what
    is searched and held against the sources: the Chinese of an English question, else `text`. The kinds
    are read from both, so an English wording and its translation count alike.
    """

    text: str
    search: str
    wants_list: bool = False  # several items: every item of the list is the answer
    wants_goal: bool = False  # a target: its figures, not only its wording
    wants_number: bool = False  # a quantity: sentences with figures are preferred
    wants_metadata: bool = False  # who issued a document, when, its number: metadata in the prompt
    wants_document_facts: bool = False  # about a document itself: its card is retrieved
    wants_overview: bool = False  # what a document covers: its outline is retrieved
    card_fields: frozenset[str] = frozenset()  # the card lines asked for (发文机关, 发布日期, ...)
    terms: tuple[str, ...] = ()  # names and years of `search` the sources must mention

    @property
    def years(self) -> tuple[str, ...]:
        """The years among `terms` (the answer's year check reads them)."""
        return tuple(t for t in self.terms if t.isdigit())

    @property
    def wording(self) -> str:
        """Both forms, one per line (the text an answer's checks read as the question)."""
        return self.text if self.text == self.search else f"{self.text}\n{self.search}"

    @property
    def prompt_text(self) -> str:
        """How the question is put to the model: an English one with its Chinese in brackets."""
        return self.text if self.text == self.search else f"{self.text}（{self.search}）"


@dataclass
class Passage:
    """A retrieved chunk with its rank and fused score."""

    chunk: Chunk
    rank: int
    score: float
    dense_score: float = 0.0
    bm25_score: float = 0.0
    meta: DocMeta = field(default_factory=DocMeta)

    def to_json(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "doc": self.chunk.doc_id,
            "chunk_id": self.chunk.id,
            "score": round(float(self.score), 6),
            "text": self.chunk.text,
            "page": self.chunk.page,
            "dates": self.meta.law_dates() if self.meta else {},
        }


class Citation(BaseModel):
    n: int
    doc: str
    title: str
    chunk_id: str
    text: str
    page: int | None = None  # PDF page of the passage, when known
    dates: dict[str, Any] = Field(default_factory=dict)  # a law's adopted / amended / effective dates
    sentence: str = Field(default="", exclude=True)  # the cited sentence, for highlighting


class Timings(BaseModel):
    retrieve: float = 0.0
    first_token: float = 0.0
    total: float = 0.0


class ModelInfo(BaseModel):
    embedder: str
    llm: str


class Answer(BaseModel):
    """The stable answer record: CLI --json, batch output and the HTTP extra field."""

    id: str | None = None
    question: str
    answer: str
    refused: bool
    citations: list[Citation]
    passages: list[dict[str, Any]]
    timings_ms: Timings
    model: ModelInfo
    checks: list[dict[str, str]] = Field(default_factory=list)  # [{name, result, detail}] in the order run
    # Not part of the JSON contract: for the chat UI.
    standalone_question: str = Field(default="", exclude=True)
    notice: str = Field(default="", exclude=True)
    passage_objs: list[Passage] = Field(default_factory=list, exclude=True)

    model_config = {"arbitrary_types_allowed": True}

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
