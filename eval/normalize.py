"""Text normalisation shared by every metric, so evidence, passages, keys and answers compare like with like.

Gold evidence is copied from the raw source files (pinyin annotations, full-width
characters, traditional script, odd spacing); passages are cleaned chunks in
their original script; answers may be traditional or English. All of them go
through the same folding before comparison.
"""

from __future__ import annotations

import re
import unicodedata
from difflib import SequenceMatcher
from functools import lru_cache

from rag.clean import PINYIN_RE
from rag.script import to_simplified

_CITE_MARK = re.compile(r"[\[【［]\s*\d{1,2}(?:\s*[,，、]\s*\d{1,2})*\s*[\]】］]")
_THOUSANDS = re.compile(r"(?<=\d)[,，](?=\d{3}(?!\d))")
_WS = re.compile(r"\s+")

# Evidence matching: a passage holds the evidence if the normalised evidence is a substring of it, or if
# their longest common substring covers LCS_SHARE of the evidence or LCS_CHARS characters (an evidence
# sentence cut by a chunk boundary, or altered by cleaning, still leaves a long verbatim run).
LCS_SHARE = 0.8
LCS_CHARS = 30


def _drop_punct(text: str) -> str:
    return "".join(ch for ch in text if not ch.isspace() and unicodedata.category(ch)[0] not in "PS")


@lru_cache(maxsize=20000)
def norm_match(text: str) -> str:
    """For evidence ↔ passage matching: NFKC, no pinyin readings, simplified, no whitespace/punctuation, case-folded."""
    text = unicodedata.normalize("NFKC", text or "")
    text = PINYIN_RE.sub("", text)
    return _drop_punct(to_simplified(text)).casefold()


def strip_citations(text: str) -> str:
    """Citation markers ([1], 【2】, [1,2]) are not content: their digits must not count as figures or keys."""
    return _CITE_MARK.sub("", text or "")


def norm_answer(text: str) -> str:
    """For key facts: simplified, NFKC, no whitespace, case-folded, thousands separators dropped, no [n] markers."""
    text = unicodedata.normalize("NFKC", strip_citations(text))
    text = _THOUSANDS.sub("", to_simplified(text))
    return _WS.sub("", text).casefold()


def longest_common(a: str, b: str) -> int:
    if not a or not b:
        return 0
    m = SequenceMatcher(None, a, b, autojunk=False).find_longest_match(0, len(a), 0, len(b))
    return m.size


def evidence_in(evidence: str, passage: str) -> bool:
    """Does the passage hold this piece of gold evidence (see LCS_SHARE / LCS_CHARS)?"""
    e, p = norm_match(evidence), norm_match(passage)
    if not e or not p:
        return False
    if e in p:
        return True
    return longest_common(e, p) >= min(LCS_SHARE * len(e), LCS_CHARS)


def any_evidence_in(evidence: list[str], passage: str) -> bool:
    return any(evidence_in(e, passage) for e in evidence)
