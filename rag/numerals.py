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
# 千 before a unit (十千克, 二十万千瓦) may be the unit's kilo-: 十千克 is no number to cn2an at all. A text
# with such a 千 is read both ways (五千克 as 5000克 and as 5千克; 三千米 as 3000米 and 3千米), since which one
# the writer meant only changes how the same quantity is written.
# (after 十/百/万/亿, or after a lone digit; 三万五千米 keeps its 千 as a numeral: 35000米)
_KILO = re.compile(
    r"(?:(?<=[十百万亿])|(?<![万亿][一二两三四五六七八九])(?<=[一二两三四五六七八九]))千(?=[克米瓦伏帕焦卡赫])"
)
_KILO_MARK = "\ue000"
# Chinese numerals that state a quantity: followed by what they count (三十日, 二人, 五倍) or a percentage
# (百分之十五). Numerals inside words (统一, 进一步, 十分) and item markers (一是) are none.
_CN_AMOUNT = re.compile(
    r"百分之[零一二两三四五六七八九十百点]+"
    r"|[〇零一二两三四五六七八九十百千万亿点]+(?:[日天年月个人元倍次家项名所座处岁吨亩米克瓦]|小时|公里|周岁)"
)
# a figure in digits and its magnitude
AMOUNT = re.compile(r"(\d+(?:[.,]\d+)*)\s*(亿|万|千|billion|million|thousand|%|percent)?", re.I)
_UNIT = {"亿": 1e8, "万": 1e4, "千": 1e3, "billion": 1e9, "million": 1e6, "thousand": 1e3, "%": 1.0, "percent": 1.0}


def _cn2an(text: str) -> str:
    with warnings.catch_warnings():  # cn2an warns on every lone 万/亿 it leaves as written
        warnings.simplefilter("ignore")
        return cn2an.transform(text, "cn2an")


def digit_form(text: str) -> str:
    """`text` with its Chinese numerals written in digits ("" when it has none or cannot be read); a text with a
    unit's kilo- gets both readings, one per line."""
    if not _CN_NUMERAL.search(text):
        return ""
    readings = []
    for variant in (text, _KILO.sub(_KILO_MARK, text) if _KILO.search(text) else None):
        if variant is None:
            continue
        try:
            out = _cn2an(variant).replace(_KILO_MARK, "千")
        except Exception:  # a numeral cn2an cannot parse: the other reading, or the original text, still counts
            continue
        if out != text and out not in readings:
            readings.append(out)
    return "\n".join(readings)


def with_digits(text: str) -> str:
    """The text, followed by its digit form when that differs: evidence for either way of writing a figure."""
    digits = digit_form(text)
    return f"{text}\n{digits}" if digits else text


def spoken_amounts(text: str) -> str:
    """The quantities `text` writes in Chinese numerals, in digits, one per line ("三十日内，二人" → "30日\n2人"):
    the figures an answer states that way, without the numerals of ordinary words."""
    out = []
    for m in _CN_AMOUNT.finditer(text):
        digits = digit_form(m.group(0))
        out += [d for d in digits.splitlines() if d]
    return "\n".join(out)


def amounts(text: str) -> set[float]:
    """Numbers with the magnitudes their units give (1100亿 and 110 billion are the same value)."""
    out: set[float] = set()
    for m in AMOUNT.finditer(text):
        raw = m.group(1).replace(",", "")
        try:
            v = float(raw)
        except ValueError:
            continue
        out.add(v)
        unit = (m.group(2) or "").lower()
        if unit in _UNIT:
            out.add(round(v * _UNIT[unit], 3))
    return out
