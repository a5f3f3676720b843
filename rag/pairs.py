"""Which place a passage gives a value to: in a parallel list ("甲市X、乙市Y") the value Y is 乙市's, not 甲市's.

The small model often reads the right passage and takes the wrong item: the
title, rank or figure the passage gives the place listed next to the one asked
about. A sentence that gives one place a value is held to the passage. Where the
passage writes that value, the nearest place before it in the same clause must be
that place, or one listed together with it ("甲市、乙市获评X" gives X to both).
A value whose clause names no place, or that the passage does not write verbatim,
is not judged here: only a passage that plainly pairs the value with another place
refutes the sentence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from difflib import SequenceMatcher

from rag.question import place_names
from rag.script import to_simplified

_ADMIN = r"(?:特别行政区|自治区|自治州|自治县|省|市|县|区|州|盟|旗)"
_STEM = re.compile(_ADMIN + "$")
_CLAUSE_END = re.compile(r"[，,；;。！？!?\n]")
_QUOTED = re.compile(r"[“\"「『‘]([^“”\"「」『』‘’\n]{2,30})[”\"」』’]")
# a figure with its magnitude and unit; a year (2025年) or an item number is no value of a place
_AMOUNT = re.compile(
    r"(?<![\d.])\d+(?:\.\d+)?\s*(?:万|亿|千|百)*\s*(?:%|元|家|个|项|亩|吨|人|户|座|所|公里|千米|平方公里)"
)
_LISTED_WITH = re.compile(r"[、，,和与及\s]|以及|并且")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]{4,}")
_MIN_SHARED = 4  # characters a value must share with the passage to be read as taken from it


def stem(name: str) -> str:
    """安丘市 → 安丘; a name compared with its suffix or without."""
    bare = _STEM.sub("", name)
    return bare if len(bare) >= 2 else name


def places_in(text: str, known: Iterable[str]) -> list[tuple[int, int, str]]:
    """(start, end, stem) of every administrative place `text` names: a known stem written with its suffix,
    or a name jieba tags as a place that carries one. Sorted by position; overlapping finds keep the longest."""
    found: list[tuple[int, int, str]] = []
    for s in sorted(set(known), key=len, reverse=True):
        for m in re.finditer(re.escape(s) + _ADMIN, text):
            found.append((m.start(), m.end(), s))
    for name in place_names(text):
        if _STEM.search(name):
            for m in re.finditer(re.escape(name), text):
                found.append((m.start(), m.end(), stem(name)))
    found.sort(key=lambda f: (f[0], -(f[1] - f[0])))
    out: list[tuple[int, int, str]] = []
    for f in found:
        if not out or f[0] >= out[-1][1]:
            out.append(f)
    return out


def values_of(sentence: str, passage: str, exclude: str = "") -> list[str]:
    """What a sentence says, as the passage would write it: its quoted phrases and amounts, else the longest
    run of four or more characters it shares with the passage that is not in `exclude` (the question: asking
    words are no answer)."""
    quoted = _QUOTED.findall(sentence)
    amounts = [re.sub(r"\s+", "", a) for a in _AMOUNT.findall(sentence)]
    if quoted or amounts:
        return [v for v in quoted + amounts if v in passage]
    best = ""
    for run in _CJK_RUN.findall(sentence):
        m = SequenceMatcher(None, run, passage, autojunk=False).find_longest_match(0, len(run), 0, len(passage))
        shared = run[m.a : m.a + m.size]
        if len(shared) >= _MIN_SHARED and not (exclude and shared in exclude) and len(shared) > len(best):
            best = shared
    return [best] if best else []


def _owner(passage: str, at: int, places: list[tuple[int, int, str]]) -> tuple[str, set[str]]:
    """The place a value written at `at` belongs to (the nearest place before it in its clause) and the places
    listed together with that one ("甲市、乙市获评…"); ("", set()) when the clause names no place before it."""
    start = max((m.end() for m in _CLAUSE_END.finditer(passage, 0, at)), default=0)
    before = [p for p in places if start <= p[0] and p[1] <= at]
    if not before:
        return "", set()
    owner = before[-1]
    listed = {owner[2]}
    end = owner[0]
    for p in reversed(before[:-1]):
        if _LISTED_WITH.fullmatch(passage[p[1] : end]) or not passage[p[1] : end].strip():
            listed.add(p[2])
            end = p[0]
        else:
            break
    return owner[2], listed


def misattributed(
    sentence: str, question: str, passages: list[str], known: Iterable[str], about: Iterable[str] = ()
) -> list[str]:
    """The values a Chinese sentence gives one place that every passage writing them pairs with another place
    ("乙市's Y"). `known` are place stems the passages and question name. A sentence naming several places, or
    the place the cited documents are about as a whole (`about`: a county's title is its city's too), is not
    judged. The place may come from the question when the sentence names none ("“Y”[1]" for "甲市的…是什么"),
    and the value from the question when the sentence is a bare place ("乙市[1]" for "哪个市是Y")."""
    known = set(known)
    body = to_simplified(re.sub(r"\[\d+\]", "", sentence))
    q = to_simplified(question)
    named = {p[2] for p in places_in(body, known)}
    asked = {p[2] for p in places_in(q, known)}
    subjects = named or asked
    if len(subjects) != 1:
        return []
    subject = next(iter(subjects))
    texts = [to_simplified(p) for p in passages]
    if any(stem(a) == subject for a in about) or not any(subject in t for t in texts):
        return []  # a place no passage names is the place check's to judge
    rest = re.sub(re.escape(subject) + _ADMIN + "?", "", body)
    verdict: dict[str, bool] = {}  # value -> every writing of it belongs to another place
    for text in texts:
        places = places_in(text, known | {subject})
        values = values_of(rest, text, q)
        if not values and named and not asked:
            values = values_of(q, text)  # a bare place answering "哪个市是Y": Y is the value
        for value in values:
            owners = [_owner(text, m.start(), places) for m in re.finditer(re.escape(value), text)]
            other = all(owner and subject not in listed for owner, listed in owners)
            verdict[value] = verdict.get(value, True) and other
    return [v for v, other in verdict.items() if other]
