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
from dataclasses import dataclass
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
_ITEM_END = re.compile(r"[、，,；;：:（(]|等")
_LISTED_WITH = re.compile(r"[、，,和与及\s]|以及|并且")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]{4,}")
_WHICH = re.compile(r"[哪那这各每某][个些几两]?" + _ADMIN)  # 哪个市: asking words, no value
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


def _owner(passage: str, at: int, places: list[tuple[int, int, str]]) -> tuple[tuple[int, int, str] | None, set[str]]:
    """The place a value written at `at` belongs to (the nearest place before it in its clause) and the places
    listed together with that one ("甲市、乙市获评…"); (None, set()) when the clause names no place before it."""
    start = max((m.end() for m in _CLAUSE_END.finditer(passage, 0, at)), default=0)
    before = [p for p in places if start <= p[0] < at]  # a value may begin inside a name (…市获评…)
    if not before:
        return None, set()
    owner = before[-1]
    listed = {owner[2]}
    end = owner[0]
    for p in reversed(before[:-1]):
        if _LISTED_WITH.fullmatch(passage[p[1] : end]) or not passage[p[1] : end].strip():
            listed.add(p[2])
            end = p[0]
        else:
            break
    return owner, listed


def _own_item(passage: str, subject: str, value: str, places: list[tuple[int, int, str]]) -> str:
    """What the passage gives `subject` where it gives `value` to another place: the words after the place's one
    mention, up to the next separator or place. A title or phrase must sit in the same clause, as items of one
    list do ("甲市X、乙市Y" → Y for 乙市); an amount may sit in the next clause of the sentence, in the same unit
    ("甲市达到7亿元，乙市突破5亿元" → 5亿元). "" when the passage does not say it plainly."""
    amount = _AMOUNT.fullmatch(value)
    unit = re.sub(r"^[\d.\s]+", "", value)
    span = r"[^。！？!?\n]+" if amount else r"[^，,；;。！？!?\n]+"
    for part in re.finditer(span, passage):
        lo, hi = part.span()
        if value not in part.group(0):
            continue
        mine = [p for p in places if lo <= p[0] < hi and p[2] == subject]
        if len(mine) != 1:
            return ""
        end = mine[0][1]
        after = [m.start() for m in _ITEM_END.finditer(passage, end, hi)] + [p[0] for p in places if p[0] >= end]
        item = passage[end : min([*after, hi])].strip()
        if amount:
            amounts = [re.sub(r"\s+", "", a) for a in _AMOUNT.findall(item)]
            same = [a for a in amounts if re.sub(r"^[\d.]+", "", a) == unit]
            return same[0] if len(amounts) == 1 and same else ""
        return item if 2 <= len(item) <= 30 and value not in item else ""
    return ""


@dataclass(frozen=True)
class Misread:
    """A value the sentence gives its place that the passage gives another place."""

    value: str  # as the passage writes it
    place: str  # the sentence's place (its stem)
    owner: str  # the place the passage gives the value to, as written there
    own: str  # what the passage gives the sentence's place instead ("" when it says nothing plain)
    place_is_wrong: bool  # the value came from the question ("哪个市是Y" answered "乙市"): the place is the error


def misreadings(
    sentence: str, question: str, passages: list[str], known: Iterable[str], about: Iterable[str] = ()
) -> list[Misread]:
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
    found: dict[str, Misread | None] = {}  # value -> how it is misread, None once a passage gives it the place
    for text in texts:
        places = places_in(text, known | {subject})
        values = values_of(rest, text, q)
        from_question = not values and bool(named) and not asked
        if from_question:
            values = values_of(_WHICH.sub("", q), text)  # a bare place answering "哪个市是Y": Y is the value
        for value in values:
            owners = [_owner(text, m.start(), places) for m in re.finditer(re.escape(value), text)]
            if not all(owner and subject not in listed for owner, listed in owners):
                found[value] = None
            elif value not in found:
                owner, listed = owners[0]
                assert owner is not None
                sole = text[owner[0] : owner[1]] if len(listed) == 1 else ""
                own = sole if from_question else _own_item(text, subject, value, places)
                found[value] = Misread(value, subject, text[owner[0] : owner[1]], own, from_question)
    return [m for m in found.values() if m is not None]


def misattributed(
    sentence: str, question: str, passages: list[str], known: Iterable[str], about: Iterable[str] = ()
) -> list[str]:
    """The values of `misreadings`."""
    return [m.value for m in misreadings(sentence, question, passages, known, about)]


def read_as_paired(
    sentence: str, question: str, passages: list[str], known: Iterable[str], about: Iterable[str] = ()
) -> str:
    """The sentence answered from the passage's own pairing: the other place's value replaced by what the
    passage gives the sentence's place, or a bare wrong place by the one the passage gives the asked value
    ("乙市[1]" → "甲市[1]"). The sentence unchanged when nothing is misread or a misreading cannot be mended."""
    out = sentence
    for m in misreadings(sentence, question, passages, known, about):
        if not m.own:
            return sentence
        if m.place_is_wrong:
            written = re.search(re.escape(m.place) + _ADMIN + "?", out)
            if not written:
                return sentence
            out = out[: written.start()] + m.own + out[written.end() :]
        elif m.value in out:
            out = out.replace(m.value, m.own)
        else:
            return sentence
    return out
