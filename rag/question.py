"""What kind of answer a question asks for, decided once from its wording (any script or English)."""

from __future__ import annotations

import re

from rag.script import to_simplified

_LIST_Q = re.compile(r"哪些|哪几|哪[两三四五六七八九十]|几个方面|几件|列举|概括|what are|list|main areas", re.I)


def is_list_question(question: str) -> bool:
    """Asks for several items ("有哪些…", "从哪几个方面…", "what are…"): every item of the list is the answer."""
    return bool(_LIST_Q.search(to_simplified(question)))
