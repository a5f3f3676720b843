"""Chinese numerals read as digits, so a figure is found whichever way a document writes it.

Laws and formal notices write 三十日, 二万元以上, 一九九八年五月一日, 百分之十五;
answers and questions write 30日, 2万元, 1998年, 15%. Comparing figures without
this reading refuses right answers and lets coverage checks miss a year.
cn2an does the conversion; the original text is always kept beside it.
"""

from __future__ import annotations

import re
import warnings

import cn2an

_CN_NUMERAL = re.compile(r"[〇零一二两三四五六七八九十百千万亿]")
# 千 as the kilo- of a unit (十千克, 五十千米, 二十万千瓦) is no numeral: read as one, 十千克 is no number at all
# and 五千克 becomes 5000克. It is set aside while the numerals are read.
_KILO = re.compile(r"千(?=[克米瓦伏帕焦卡赫])")
_KILO_MARK = "\ue000"


def digit_form(text: str) -> str:
    """`text` with its Chinese numerals written in digits ("" when it has none or cannot be read)."""
    if not _CN_NUMERAL.search(text):
        return ""
    try:
        with warnings.catch_warnings():  # cn2an warns on every lone 万/亿 it leaves as written
            warnings.simplefilter("ignore")
            out = cn2an.transform(_KILO.sub(_KILO_MARK, text), "cn2an").replace(_KILO_MARK, "千")
    except Exception:  # a numeral cn2an cannot parse: the original text still counts
        return ""
    return out if out != text else ""


def with_digits(text: str) -> str:
    """The text, followed by its digit form when that differs: evidence for either way of writing a figure."""
    digits = digit_form(text)
    return f"{text}\n{digits}" if digits else text
