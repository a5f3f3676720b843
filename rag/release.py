"""Sentence-by-sentence release of a streaming reply: show a sentence as soon as no later text can withdraw it.

The whole-answer check (`cite.ground`) stays the reference: the shown text is
always a prefix of what it returns for the finished reply. A sentence is released
only when (1) it is complete (its end mark and the citations after it have been
read), (2) it passes the per-sentence repairs (citations, units, a parallel list's item) and figure, place and pair checks
that `ground` would apply to it, (3) the text shown so far holds a cited statement, so a
failing later sentence is dropped rather than turning the answer into a refusal,
(4) the passages cited so far do not speak only of other years than the one asked
about (`ground` refuses such an answer; later citations can only lift that), and (5) the
reply can no longer read as the model's own refusal
(`cite.is_model_refusal` only looks at a short reply's first 80 characters).
Anything not yet released waits for the end of the reply, where `ground` decides.
If the finished answer were ever not to extend what was shown (a bug, not a
design case), the shown part stands alone: it passed every check on its own.
"""

from __future__ import annotations

import re

from rag.cite import (
    Check,
    Grounding,
    Reply,
    add_units,
    answer_sentences,
    cannot_become_refusal,
    cited_numbers,
    drop_invalid_citations,
    fix_wan_kilowatt,
    fix_yi_as_billion,
    normalize_citations,
    other_years,
    pair_values,
    prune_citations,
    recite,
)
from rag.script import Lang
from rag.select import ContextPassage

_CITATION_START = re.compile(r"\s*[\[【［]")
_CONTENT = re.compile(r"[\u3400-\u9fffA-Za-z0-9]")


def _body(text: str) -> str:
    return re.sub(r"\[\d+\]", "", text).strip()


def _has_cited_content(piece: str) -> bool:
    return bool(re.search(r"\[\d+\]", piece)) and bool(_CONTENT.search(_body(piece)))


class Release:
    """Feed the reply as it grows (`feed`); it returns the text that may be shown now. `finish` takes the
    whole-answer grounding and returns the final answer and what is left to show."""

    def __init__(
        self,
        context: list[ContextPassage],
        lang: Lang,
        question: str = "",
        years: tuple[str, ...] = (),
    ) -> None:
        self.context = context
        self.lang = lang
        self.question = question
        self.years = years  # asked about (`Asked.years`)
        self._other_years: dict[frozenset[int], bool] = {}  # the year check, by the passages cited so far
        self.valid = {c.n for c in context}
        self.sources = "\n".join(c.passage.chunk.text for c in context)
        self.shown = ""  # released text, its trailing whitespace held back (ground strips the end)
        self._pending_space = ""
        self._decided = 0  # complete sentences of the (repaired) reply already released or held
        self._held: list[str] = []  # passing sentences waiting for a cited statement or a safe prefix

    def _sentences(self, raw: str) -> list[str]:
        """The complete sentences of the reply so far, in the form `ground` reads them."""
        text = drop_invalid_citations(normalize_citations(raw).lstrip(), self.valid)
        if self.lang == "en":
            text = fix_wan_kilowatt(fix_yi_as_billion(text, self.sources), self.sources)
        parts = answer_sentences(text)
        complete, pos = [], 0
        for part in parts[:-1]:
            pos += len(part)
            rest = text[pos:]
            # complete when followed by text that is neither space nor a citation still being written
            if not rest.strip() or _CITATION_START.match(rest):
                break
            complete.append(part)
        return complete

    def feed(self, raw: str) -> str:
        """New text that may be shown, given the reply so far."""
        complete = self._sentences(raw)
        for seg in complete[self._decided :]:
            self._decided += 1
            seg = prune_citations(recite(seg, self.context), self.context)
            if self.lang != "en":
                seg = pair_values(add_units(seg, self.context), self.context, self.question)
            # a sentence with an unsupported figure, place or pairing is dropped, as ground drops it
            if not Reply(seg, self.context, self.question).unsupported_by_sentence[0]:
                self._held.append(seg)
        if not self._held or not (self.shown or any(_has_cited_content(p) for p in self._held)):
            return ""
        if self._cites_other_years(self.shown + "".join(self._held)):
            return ""
        if not cannot_become_refusal(raw):
            return ""
        piece = self._show("".join(self._held))
        self._held = []
        return piece

    def _cites_other_years(self, text: str) -> bool:
        """`cite.other_years` for the passages `text` cites, computed once per set of citations (not per token)."""
        cited = frozenset(cited_numbers(text))
        if cited not in self._other_years:
            self._other_years[cited] = bool(other_years(text, self.context, self.years))
        return self._other_years[cited]

    def _show(self, text: str) -> str:
        if not self.shown and not self._pending_space:
            text = text.lstrip()
        piece = self._pending_space + text.rstrip()
        self._pending_space = text[len(text.rstrip()) :]
        self.shown += piece
        return piece

    def finish(self, grounded: Grounding) -> tuple[Grounding, str]:
        """The final grounding (its answer extends what was shown) and the text still to show."""
        if not self.shown:
            return grounded, grounded.answer
        answer = grounded.answer.lstrip()
        if not grounded.refused and answer.startswith(self.shown):
            grounded.answer = answer
            return grounded, answer[len(self.shown) :]
        why = "the finished answer does not extend the text shown; the shown sentences stand"
        grounded.checks.append(Check("release", "repaired", why))
        grounded.answer, grounded.refused, grounded.reason = self.shown, False, ""
        return grounded, ""
