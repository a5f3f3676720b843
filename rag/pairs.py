"""Which place a passage gives a value to: in a list of places and their items ("甲市X、乙市Y") Y is 乙市's.

The small model often reads the right passage and takes the wrong item: the
title or figure the passage gives the place listed next to the one asked about.
Only the plainest pairing is read: the value written right after a place's name
(at most a colon, 为/是 or an opening quote between them), within one clause. A
value written after a verb, an organisation, a comparison or another place's
policy ("乙市承接甲省下放的X", "高于甲省的6%") is not paired with anyone here, so
it is never judged. A sentence that denies something, gives several values or
several places, or answers a list question, is not judged either.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from difflib import SequenceMatcher

from rag.question import is_list_question, place_names
from rag.script import to_simplified

_ADMIN = r"(?:特别行政区|自治区|自治州|自治县|省|市|县|区|州|盟|旗)"
_STEM = re.compile(_ADMIN + "$")
_CLAUSE = re.compile(r"[^，,；;。！？!?\n]+")
_QUOTED = re.compile(r"[“\"「『‘]([^“”\"「」『』‘’\n]{2,30})[”\"」』’]")
# a figure with its magnitude and unit; a year (2025年) or an item number is no value of a place
_AMOUNT = re.compile(
    r"(?<![\d.])\d+(?:\.\d+)?\s*(?:万|亿|千|百)*\s*(?:%|元|家|个|项|亩|吨|人|户|座|所|公里|千米|平方公里)"
)
_JOIN = re.compile(r"[：:为是“「『《\"]{0,2}")  # what may stand between a place and its item
_ITEM_END = re.compile(r"[、，,；;：:（(）)]|等")
_LISTED_WITH = re.compile(r"[、，,和与及\s]|以及")
_NEGATION = re.compile(r"不是|并非|并不|而非|不属于|没有|未|非")
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
    """What a sentence says, as the passage would write it: its one quoted phrase or amount, else the longest
    run of four or more characters it shares with the passage that is not in `exclude` (the question: asking
    words are no answer)."""
    quoted = _QUOTED.findall(sentence)
    amounts = [re.sub(r"\s+", "", a) for a in _AMOUNT.findall(sentence)]
    if len(quoted) + len(amounts) > 1:
        return []  # a sentence that says several things is not read as giving one value
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
    """The place a value written at `at` belongs to: the place written right before it (`_JOIN` between), with the
    places listed together with that one ("甲市、乙市“先进市”"); (None, set()) when no place is written right
    before it: the passage does not pair the value plainly with any place."""
    before = [p for p in places if p[1] <= at and _JOIN.fullmatch(passage[p[1] : at])]
    if not before:
        return None, set()
    owner = before[-1]
    listed = {owner[2]}
    end = owner[0]
    for p in reversed([p for p in places if p[1] <= owner[0]]):
        if _LISTED_WITH.fullmatch(passage[p[1] : end]) or not passage[p[1] : end].strip():
            listed.add(p[2])
            end = p[0]
        else:
            break
    return owner, listed


def _own_item(passage: str, subject: str, value: str, places: list[tuple[int, int, str]]) -> str:
    """What the passage gives `subject` in the clause where it gives `value` to another place: the item written
    right after the subject's one mention there, up to the next separator or place ("甲市X、乙市Y" → Y for 乙市);
    for an amount, that item must be one amount in the same unit. "" when the passage does not say it plainly."""
    amount = _AMOUNT.fullmatch(value)
    unit = re.sub(r"^[\d.\s]+", "", value)
    for clause in _CLAUSE.finditer(passage):
        lo, hi = clause.span()
        if value not in clause.group(0):
            continue
        mine = [p for p in places if lo <= p[0] < hi and p[2] == subject]
        if len(mine) != 1:
            return ""
        start = mine[0][1] + len(_JOIN.match(passage, mine[0][1], hi).group(0))  # type: ignore[union-attr]
        after = [m.start() for m in _ITEM_END.finditer(passage, start, hi)] + [p[0] for p in places if p[0] >= start]
        item = passage[start : min([*after, hi])].strip().strip('”"」』》')
        if amount:
            return item if _AMOUNT.fullmatch(item) and re.sub(r"^[\d.\s]+", "", item) == unit else ""
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


def _bare(body: str, written: list[tuple[int, int, str]]) -> bool:
    """The sentence is nothing but one place's name ("乙市[1]"), list marks and punctuation aside."""
    return len(written) == 1 and not re.sub(r"[\W\d]|[a-zA-Z]", "", body[: written[0][0]] + body[written[0][1] :])


def misreadings(
    sentence: str, question: str, passages: list[str], known: Iterable[str], about: Iterable[str] = ()
) -> list[Misread]:
    """The value a Chinese sentence gives one place when every passage writing it pairs it with another place
    ("乙市's Y"). `known` are place stems the passages and question name. The place is the sentence's, or the
    question's when the sentence names none ("“Y”[1]" for "甲市的…是什么"); the value is the sentence's one quoted
    phrase, amount or longest run shared with the passage, or the question's when the sentence is a bare place
    ("乙市[1]" for "哪个市是Y"). Not judged: a place the cited documents are about as a whole (`about`: a county's
    title is its city's too), sentences with several places or values, denials, list questions."""
    known = set(known)
    body = to_simplified(re.sub(r"\[\d+\]", "", sentence))
    q = to_simplified(question)
    written = places_in(body, known)
    named = {p[2] for p in written}
    asked = {p[2] for p in places_in(q, known)}
    subjects = named or asked
    if len(subjects) != 1 or _NEGATION.search(body) or is_list_question(q):
        return []
    subject = next(iter(subjects))
    texts = [to_simplified(p) for p in passages]
    if any(stem(a) == subject for a in about) or not any(subject in t for t in texts):
        return []  # a place no passage names is the place check's to judge
    rest = re.sub(re.escape(subject) + _ADMIN + "?", "", body)
    from_question = bool(named) and not asked and _bare(body, written)
    found: dict[str, Misread | None] = {}  # value -> how it is misread, None once a passage gives it the place
    for text in texts:
        places = places_in(text, known | {subject})
        values = values_of(_WHICH.sub("", q), text) if from_question else values_of(rest, text, q)
        if len(values) != 1:
            continue
        value = values[0]
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
    """The sentence answered from the passage's own pairing: the other place's item replaced by the one the
    passage gives the sentence's place, or a bare wrong place by the one the passage gives the asked value
    ("乙市[1]" → "甲市[1]"). The sentence unchanged when nothing is misread or the misreading cannot be mended
    (the pipeline checks the model's simplified reply and renders the asker's script afterwards)."""
    found = misreadings(sentence, question, passages, known, about)
    if len(found) != 1 or not found[0].own or to_simplified(sentence) != sentence:
        # the passages are read in simplified script; a traditional sentence is not patched with simplified words
        return sentence
    m = found[0]
    if m.place_is_wrong:
        written = re.search(re.escape(m.place) + _ADMIN + "?", sentence)
        return sentence[: written.start()] + m.own + sentence[written.end() :] if written else sentence
    return sentence.replace(m.value, m.own, 1) if sentence.count(m.value) == 1 else sentence
