"""Script and language handling: match in simplified Chinese, answer in the asker's script.

Indexing and search both go through `to_simplified` so that a traditional-script
question finds a simplified passage and vice versa; display text keeps its
original script.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

import opencc

Lang = Literal["zh-Hans", "zh-Hant", "en"]

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


@lru_cache(maxsize=4)
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


def to_simplified(text: str) -> str:
    return _converter("t2s").convert(text)


def to_traditional(text: str) -> str:
    return _converter("s2t").convert(text)


def detect_lang(text: str) -> Lang:
    """Classify a question by script: traditional if converting it to simplified changes enough characters."""
    cjk = _CJK.findall(text)
    if not cjk or (len(_LATIN_WORD.findall(text)) > len(cjk)):
        return "en"
    simplified = to_simplified("".join(cjk))
    changed = sum(1 for a, b in zip(cjk, simplified, strict=False) if a != b)
    # A single traditional character in a long simplified question is usually a quoted name.
    if changed >= 2 or (changed == 1 and len(cjk) <= 8):
        return "zh-Hant"
    return "zh-Hans"


def to_script(text: str, lang: Lang) -> str:
    """Render generated Chinese text in the question's script."""
    return to_traditional(text) if lang == "zh-Hant" else text
