"""English answers rendered from a checked Chinese answer, with the Chinese kept beside them.

The small model copies figures, names and units from Chinese passages far more
faithfully in Chinese than in English (it writes 500亿 as "1,000 billion", or
names an agency no passage names). So an English question is answered in
Chinese, that answer goes through every check, and only then is it translated.
The translation is shown only when each of its figures has the value of a
figure in the checked Chinese (500亿元 may become "50 billion yuan", never
"500 billion") and it cites nothing else; the checked Chinese follows it in any
case, so the words an official quotes are the documents' own.
"""

from __future__ import annotations

import re

from rag.cite import Check, _values, cited_numbers, normalize_citations
from rag.generate import Generator
from rag.numerals import with_digits
from rag.prompt import answer_translation_messages

_NUMBER = re.compile(r"(\d+(?:[.,]\d+)*)\s*(亿|万|千|billion|million|thousand|%|percent)?", re.I)
_MAGNITUDE_WORDS = {"billion", "million", "thousand"}
# units of measure whose English rendering a small model gets wrong (亩 as acres): they are copied as written
_MEASURE = re.compile(r"\d+(?:\.\d+)?(?:万|亿)?(?:亩|公顷|平方米|平方公里|千瓦时|千瓦|标准煤|吨)")
ORIGINAL = "In the documents' words: "
UNTRANSLATED = "The documents say (in Chinese): "


def translation_problems(english: str, chinese: str) -> list[str]:
    """Why `english` does not render `chinese` faithfully: a figure whose value the Chinese does not hold, or a
    citation the Chinese does not make. Empty when it does."""
    source = with_digits(chinese)
    values = _values(source)
    plain = re.sub(r"[,\s]", "", source)
    problems = []
    body = re.sub(r"\[\d+\]", "", english)
    for m in _NUMBER.finditer(body):
        raw, unit = m.group(1).replace(",", ""), (m.group(2) or "").lower()
        if unit in _MAGNITUDE_WORDS:  # "234.2 million" must be worth what the Chinese says, not merely share digits
            ok = bool(_values(m.group(0)) - {float(raw)} & values)
        else:
            ok = bool(re.search(rf"(?<![\d.]){re.escape(raw)}(?![\d]|\.\d)", plain)) or bool(
                _values(m.group(0)) & values
            )
        if not ok:
            problems.append(m.group(0).strip())
    for m in _MEASURE.finditer(source):  # 3000亩 is not 3000 acres: a small model cannot convert such units
        if m.group(0) not in with_digits(english):
            problems.append(f"{m.group(0)} not kept")
    extra = set(cited_numbers(english)) - set(cited_numbers(chinese))
    problems += [f"[{n}]" for n in sorted(extra)]
    return problems


def translate(chinese: str, generator: Generator, max_tokens: int = 200) -> str:
    """The model's English rendering of a checked Chinese answer, unchecked (first line only)."""
    out = "".join(generator.stream(answer_translation_messages(chinese), max_tokens)).strip()
    return normalize_citations(out.splitlines()[0].strip() if out else "")


def render_english(translation: str, chinese: str) -> tuple[str, Check]:
    """The answer an English asker sees: the translation when it is faithful, then the checked Chinese."""
    problems = translation_problems(translation, chinese) if translation else ["empty translation"]
    prose = re.sub(
        r"[（(][^）)]*[）)]|\d+(?:\.\d+)?\s*[\u3400-\u9fff]{1,3}", "", translation
    )  # "(铝业之都)", "500亿元"
    if re.search(r"[\u3400-\u9fff]{4,}", prose):
        problems.append("left in Chinese")
    if problems:
        return f"{UNTRANSLATED}{chinese}", Check("translation", "fail", "not shown: " + ", ".join(problems))
    if not cited_numbers(translation):
        translation += "".join(f"[{n}]" for n in cited_numbers(chinese))
    return f"{translation}\n{ORIGINAL}{chinese}", Check("translation", "pass")
