"""The structure of laws and regulations: 第X编 / 第X章 / 第X节 / 第X条, and references to them.

Laws are cited by article number, and a question may write it in Chinese
numerals (第十四条) or digits (第14条); numbers are therefore compared as
integers, and references get one canonical spelling (第14条) for search.
"""

from __future__ import annotations

import re

NUM = r"[零〇一二三四五六七八九十百千两\d]+"
# Rank of each unit in a law's hierarchy: a 章 holds 节, a 节 holds 条.
RANK = {"编": 0, "章": 1, "节": 2, "条": 3}
ARTICLE_RANK = RANK["条"]
# An article starts a line with its number and a space (第十四条　国家…); a reference inside a
# sentence (依照本法第十四条规定) never starts a line with a space after it.
_ARTICLE = re.compile(rf"^第({NUM})条(?:之({NUM}))?(?=[\s:：]|$)")
# 编/章/节 headings are short title lines: 第二章　产业发展
_DIVISION = re.compile(rf"^第({NUM})(编|章|节)(?=\s|$|[\u4e00-\u9fff])")
REFERENCE = re.compile(rf"第({NUM})(编|章|节|条)")

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000}


def cn_number(s: str) -> int | None:
    """十四 → 14, 一百零五 → 105, 14 → 14; None when `s` is not a number."""
    if s.isdigit():
        return int(s)
    total, digit = 0, 0
    for ch in s:
        if ch in _DIGITS:
            digit = _DIGITS[ch]
        elif ch in _UNITS:
            total += (digit or 1) * _UNITS[ch]
            digit = 0
        else:
            return None
    return total + digit


def law_heading(line: str) -> tuple[int, str] | None:
    """(rank, label) of a 第X编/章/节/条 line, else None. An article's label is its number only (第十四条)."""
    s = line.strip()
    m = _ARTICLE.match(s)
    if m:
        return ARTICLE_RANK, m.group(0)
    m = _DIVISION.match(s)
    if m and len(s) <= 40 and not re.search(r"[。；;，,]", s):
        number, title = m.group(0), s[m.end() :].strip()
        # 总　　则 is spaced out for print: 总则
        title = re.sub(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])", "", title)
        return RANK[m.group(2)], f"{number} {title}".strip()
    return None


def is_law(text: str, min_articles: int = 3) -> bool:
    """A text structured by articles (a law, regulation or 办法): at least three distinct 第X条 lines."""
    numbers = set()
    for line in text.split("\n"):
        m = _ARTICLE.match(line.strip())
        if m:
            numbers.add(m.group(0))
            if len(numbers) >= min_articles:
                return True
    return False


def canonical_references(text: str) -> list[str]:
    """第十四条 / 第14条 → "第14条" for every reference to an article, section, chapter or part in `text`."""
    out = []
    for m in REFERENCE.finditer(text):
        n = cn_number(m.group(1))
        if n is not None:
            out.append(f"第{n}{m.group(2)}")
    return out


def article_number(heading: str) -> int | None:
    """The article a chunk's heading path ends in (… > 第十四条), else None."""
    last = heading.rsplit(" > ", 1)[-1]
    m = _ARTICLE.match(last)
    return cn_number(m.group(1)) if m and not m.group(2) else None
