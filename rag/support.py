"""Word support of a Chinese claim: what it adds to the question must be written in the passages it cites.

The figure, place and pairing checks read one kind of item each; a claim naming
a director, a food, a colour or a requirement that no passage states slips past
all of them. The small model does this when the passages do not hold the answer
(it answers from its own memory) and when it misreads one. A claim's own wording
is compared with its passages as character pairs (Chinese has no spaces, and a
pair is the shortest unit that carries a word), leaving out the pairs the
question already holds (echoing the question is not evidence) and those with a
function character (的, 是, …), which carry the sentence's frame, not its content.
A paraphrase keeps most pairs; an invented claim keeps few.
"""

from __future__ import annotations

import re

from rag.numerals import without_figures
from rag.script import to_simplified

# At least this share of the content pairs a claim adds must be in its passages ("at least half").
MIN_SHARE = 0.5
# Characters that build the frame of a sentence rather than its content.
_FUNCTION = frozenset("的是了在和与及为有也都被将由于对从而或其之以")
_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")


def content_pairs(text: str) -> set[str]:
    """Adjacent pairs of word characters (simplified), leaving out citation marks, pairs with a function
    character, and quantities: figures are claim_figures' to judge, whichever way they are written (三十天 for
    a passage's 三十日 is the same figure)."""
    words = re.sub(r"[^\w]", " ", without_figures(to_simplified(re.sub(r"\[\d+\]", "", text))))
    pairs = (words[i : i + 2] for i in range(len(words) - 1))
    return {p for p in pairs if " " not in p and p[0] not in _FUNCTION and p[1] not in _FUNCTION}


def unsupported_words(claim: str, source: str, question: str = "") -> list[str]:
    """The pairs a Chinese `claim` adds to `question` that `source` lacks, when fewer than MIN_SHARE of them
    are in `source`; [] when the claim is supported, adds nothing, or is not Chinese (an English sentence
    quoting a Chinese title is read by the figure and place checks)."""
    if len(_CJK.findall(claim)) <= len(_LATIN.findall(claim)):
        return []
    added = content_pairs(claim) - content_pairs(question)
    if not added:
        return []
    missing = sorted(added - content_pairs(source))
    return missing if len(missing) > len(added) * (1 - MIN_SHARE) else []
