"""English answers rendered from checked Chinese ones (generation rule answer_in_chinese).

The small model reads Chinese passages best when it answers in Chinese: asked
in English it converts amounts (76633元 as "766,333 yuan"), names places that
are in no passage, or gives up. So an English question whose Chinese search
wording is known is answered in Chinese, that answer is checked as any Chinese
answer is, and only then rendered in English. The rendering is checked again
(figures, places and citations against the passages) and must keep every
figure of the Chinese answer; one that fails is not shown, the checked Chinese
answer is, said to be in Chinese.
"""

from __future__ import annotations

import re
from contextlib import closing

from rag.cite import Check, Grounding, ground, unsupported_numbers
from rag.generate import Generator
from rag.prompt import render_messages
from rag.select import ContextPassage
from rag.types import Asked

IN_CHINESE = "(In Chinese, as checked against the sources) "
_CJK = re.compile(r"[\u3400-\u9fff]")


def render(generator: Generator, answer: str, max_tokens: int) -> str:
    """The model's English rendering of a checked Chinese answer, as written."""
    with closing(generator.stream(render_messages(answer), max_tokens)) as out:
        return "".join(out).strip()


def checked_rendering(
    grounded: Grounding, rendered: str, context: list[ContextPassage], question: Asked | str
) -> Grounding:
    """The English answer to show for a checked Chinese one (`grounded`, not refused) and its rendering."""
    text = re.sub(r"^(英文译文|译文|English)\s*[:：]\s*", "", rendered).strip()
    checked = ground(text, context, "en", question)
    lost = unsupported_numbers(grounded.answer, text)
    if len(_CJK.findall(text)) * 3 > len(re.findall(r"[A-Za-z]", text)):
        why = "the rendering is not English"
    elif lost:
        why = f"the rendering lost figures: {', '.join(lost)}"
    else:
        why = checked.reason if checked.refused else ""
    if why:
        checks = [*grounded.checks, Check("in_english", "fail", why)]
        return Grounding(f"{IN_CHINESE}{grounded.answer}", False, "", checks)
    return Grounding(checked.answer, False, "", [*grounded.checks, Check("in_english", "pass")])
