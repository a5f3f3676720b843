"""Replies that reproduce the prompt's passages instead of answering from them.

The prompt shows each passage as "[n]《title》text". A small model sometimes
answers in that format: it copies several passages line by line, each line
opened by its number, and leaves choosing to the reader. Two repairs follow:

- `trail_lead_citations` (form): a number opening a line cites that line, so it
  is moved after each sentence of the line. Read as written, "[1] A；\n[2] B"
  would credit A with [2], since a citation after a line break closes the line
  before it.
- `keep_asked_passage` (content): when such a reply copies two or more
  passages, only the lines copied from the passage that shares most of the
  question's wording stay; the other passages were shown, not chosen.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher

from rag.numerals import digit_form
from rag.script import to_simplified
from rag.select import ContextPassage, header_for
from rag.types import Asked

_MARKS = r"(?:[\[【［]\d{1,2}[\]】］][ \t]*)+"
_LEAD = re.compile(rf"^([ \t]*)({_MARKS})(?=\S)(.*)$", re.M)
# within such a line, a number after a sentence end and before words opens the next passage's text
_NEXT_LEAD = re.compile(rf"(?<=[。！？!?；;.])([ \t]*)({_MARKS})(?=[^\s\[【［])")
# a sentence end inside a line, not already followed by a citation ("No. 5", "e.g. at" end nothing)
_END = re.compile(r"(?:[。！？!?；;]|(?<=[a-z)])\.(?=\s+[A-Z]))(?![ \t]*[\[【［]\d)")
COPIED_SHARE = 0.8  # share of a line found in a passage, in runs of 4+ characters, for the line to be a copy of it
_MIN_LINE = 5  # shorter lines are too short to tell a copy from the model's own words ("此外：")
_QUOTES = ("《》", "“”", "「」", "『』")


def trail_lead_citations(text: str) -> str:
    """ "[2] A；B" on a line of its own → "A；[2]B[2]": the line's number cites each of its sentences.

    On such a line, a number written after a sentence end and before words
    ("[1] A。[2] B。") opens the next passage's text, as it did the line.
    """

    def cite(marks: str, body: str) -> str:
        marks = re.sub(r"\s", "", marks)
        body = body.rstrip()
        body = _END.sub(lambda e: e.group(0) + marks if _outside_quotes(body, e.start()) else e.group(0), body)
        return body if re.search(r"[\]】］]\s*$", body) else body + marks

    def repl(m: re.Match[str]) -> str:
        if not re.search(r"[\u3400-\u9fffA-Za-z0-9]", re.sub(r"[\[【［]\d+[\]】］]", "", m.group(3))):
            return m.group(0)  # nothing but citations on the line
        parts = _NEXT_LEAD.split(m.group(3))  # body, space, marks, body, space, marks, body ...
        out = cite(m.group(2), parts[0])
        for space, marks, body in zip(parts[1::3], parts[2::3], parts[3::3], strict=True):
            out += space + cite(marks, body)
        return m.group(1) + out

    return _LEAD.sub(repl, text)


def _outside_quotes(text: str, at: int) -> bool:
    """No title (《…》) or quotation (“…”, 「…」) is open at `at`: a "!" in a title ends no sentence."""
    before = text[:at]
    return all(before.count(a) <= before.count(b) for a, b in _QUOTES)


def opens_with_citation(text: str) -> bool:
    """The reply starts the way the prompt lists a passage: with its number."""
    return bool(re.match(r"\s*[\[【［]\d{1,2}[\]】］]", text))


def _plain(text: str) -> str:
    return re.sub(r"\[\d+\]|[\s…]", "", to_simplified(text))


def copied_from(line: str, context: list[ContextPassage]) -> set[int]:
    """The passages a line of the reply copies (most of it, in runs of four or more characters): several when
    they share the line's text (overlapping chunks, an item two articles both end with)."""
    body = _plain(line)
    if len(body) < _MIN_LINE:
        return set()
    out = set()
    for c in context:
        source = _plain(f"{c.text}\n{c.passage.chunk.text}")
        blocks = SequenceMatcher(None, body, source, autojunk=False).get_matching_blocks()
        if sum(b.size for b in blocks if b.size >= 4) >= COPIED_SHARE * len(body):
            out.add(c.n)
    return out


def _pairs(text: str) -> set[str]:
    t = _plain(text)
    return {t[i : i + 2] for i in range(len(t) - 1)}


def _same_text(a: ContextPassage, b: ContextPassage) -> bool:
    """Two chunks of one stretch of a document (one article or section split into overlapping chunks): one
    source. Neighbouring articles are not one: they touch but do not overlap."""
    x, y = a.passage.chunk, b.passage.chunk
    return x.doc_id == y.doc_id and ((x.heading and x.heading == y.heading) or (x.start < y.end and y.start < x.end))


def keep_asked_passage(raw: str, text: str, context: list[ContextPassage], question: Asked) -> str:
    """`text` (the normalised reply) without the lines it copies only from passages the question is not
    about, when the reply `raw` opens like a prompt passage and copies two or more passages; else `text`.

    Kept: the copied passage holding most of the question's character pairs
    (for an English question, of its Chinese search text; the better-ranked on
    a tie), and every other copied passage that holds two or more pairs no kept
    one holds (a question in two parts needs both) or whose lines name a place
    or year of the question that the kept lines do not ("甲市和乙市…"). Chunks of
    one stretch of a document count as one passage. Lines in the model's own
    words stay, and so do lines with figures when a quantity is asked.
    """
    if not opens_with_citation(raw) or not question.search:
        return text
    group = {c.n: min(d.n for d in context if d.n == c.n or _same_text(c, d)) for c in context}
    lines = text.split("\n")
    sources = [{group[n] for n in copied_from(line, context)} for line in lines]
    sole = {next(iter(g)) for g in sources if len(g) == 1}
    if len(sole) < 2:
        return text
    asked_pairs = _pairs(question.search)
    holds = {
        g: asked_pairs
        & set().union(
            *(_pairs(header_for(c.passage, c.with_meta) + c.passage.chunk.text) for c in context if group[c.n] == g)
        )
        for g in sole
    }
    ranked = sorted(sorted(sole), key=lambda g: -len(holds[g]))
    keep = ranked[:1]
    for g in ranked[1:]:
        if len(holds[g] - set().union(*(holds[k] for k in keep))) >= 2:
            keep.append(g)

    def kept(i: int) -> bool:
        return not sources[i] or bool(sources[i] & set(keep))

    for g in ranked:
        named = "".join(to_simplified(lines[i]) for i in range(len(lines)) if kept(i))
        if g not in keep and any(
            t not in named and any(g in sources[i] and t in to_simplified(lines[i]) for i in range(len(lines)))
            for t in question.terms
        ):
            keep.append(g)
    figures = question.wants_number
    out = [line for i, line in enumerate(lines) if kept(i) or (figures and re.search(r"\d", digit_form(line)))]
    return "\n".join(out).strip()
