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

from rag.script import to_simplified
from rag.select import ContextPassage, header_for

_LEAD = re.compile(r"^([ \t]*)((?:\[\d{1,2}\][ \t]*)+)(?=\S)(.*)$", re.M)
# a sentence end inside a line, not already followed by a citation
_END = re.compile(r"(?:[。！？!?；;]|(?<=[a-z)])\.(?=\s))(?![ \t]*\[\d)")
COPIED_SHARE = 0.8  # share of a line found in a passage, in runs of 4+ characters, for the line to be a copy of it
_MIN_LINE = 5  # shorter lines are too short to tell a copy from the model's own words ("此外：")


def trail_lead_citations(text: str) -> str:
    """ "[2] A；B" on a line of its own → "A；[2]B[2]": the line's number cites each of its sentences."""

    def repl(m: re.Match[str]) -> str:
        marks, body = re.sub(r"\s", "", m.group(2)), m.group(3).rstrip()
        if not re.search(r"[\u3400-\u9fffA-Za-z0-9]", re.sub(r"\[\d+\]", "", body)):
            return m.group(0)  # nothing but citations on the line
        body = _END.sub(lambda e: e.group(0) + marks if _outside_quotes(body, e.start()) else e.group(0), body)
        if not re.search(r"\]\s*$", body):
            body += marks
        return m.group(1) + body

    return _LEAD.sub(repl, text)


def _outside_quotes(text: str, at: int) -> bool:
    """No title (《…》) or quotation (“…”) is open at `at`: a "!" in a title ends no sentence."""
    before = text[:at]
    return before.count("《") <= before.count("》") and before.count("“") <= before.count("”")


def opens_with_citation(text: str) -> bool:
    """The reply starts the way the prompt lists a passage: with its number."""
    return bool(re.match(r"\s*\[\d{1,2}\]", text))


def _plain(text: str) -> str:
    return re.sub(r"\[\d+\]|[\s…]", "", to_simplified(text))


def copied_from(line: str, context: list[ContextPassage]) -> int | None:
    """The passage a line of the reply copies (most of it, in runs of four or more characters), if any."""
    body = _plain(line)
    if len(body) < _MIN_LINE:
        return None
    best, share = None, 0.0
    for c in context:
        source = _plain(f"{c.text}\n{c.passage.chunk.text}")
        blocks = SequenceMatcher(None, body, source, autojunk=False).get_matching_blocks()
        got = sum(b.size for b in blocks if b.size >= 4) / len(body)
        if got > share:
            best, share = c.n, got
    return best if share >= COPIED_SHARE else None


def _shared_wording(question: str, text: str) -> int:
    """The question's distinct character pairs that the passage holds."""
    q, t = _plain(question), _plain(text)
    return len({q[i : i + 2] for i in range(len(q) - 1)} & {t[i : i + 2] for i in range(len(t) - 1)})


def keep_asked_passage(
    raw: str, text: str, context: list[ContextPassage], question: str, terms: tuple[str, ...] = ()
) -> str:
    """`text` (the normalised reply) without the lines it copies from passages other than the one closest to
    the question, when the reply `raw` opens like a prompt passage and copies two or more passages; else `text`.

    Closest: the most of the question's character pairs in the passage (for an
    English question, its Chinese search text), the better-ranked on a tie. A
    question naming several places or years ("甲市和乙市…") needs a passage for
    each: a copied passage also stays when it names one of `terms` that the
    passages kept so far do not.
    """
    if not opens_with_citation(raw) or not question:
        return text
    lines = text.split("\n")
    sources = [copied_from(line, context) for line in lines]
    copied = {n for n in sources if n is not None}
    if len(copied) < 2:
        return text
    source = {c.n: to_simplified(f"{header_for(c.passage, c.with_meta)}{c.passage.chunk.text}") for c in context}
    ranked = sorted(sorted(copied), key=lambda n: -_shared_wording(question, source[n]))
    keep = ranked[:1]
    for n in ranked[1:]:
        if any(t in source[n] and not any(t in source[k] for k in keep) for t in terms):
            keep.append(n)
    return "\n".join(line for line, n in zip(lines, sources, strict=True) if n is None or n in keep).strip()
