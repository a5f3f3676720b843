"""Place names written in pinyin, read back to the corpus's own Chinese names.

The small LLM cannot transliterate county names either way; the index's own
gazetteer can. Each place is keyed by its toneless pinyin (Pingyi → 平邑), and
given mention counts, the most mentioned of two homophones wins (临沂 over 临邑).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache

from rag.metadata import place_stem

_CAPITALISED = re.compile(r"\b[A-Z][a-z]+(?:-[a-z]+)?\b")


def pinyin_table(places: Iterable[str] | Mapping[str, int]) -> dict[str, str]:
    """{toneless pinyin: Chinese stem} for every place name of two or more characters."""
    from pypinyin import lazy_pinyin

    table: dict[str, str] = {}
    counts = places if isinstance(places, Mapping) else dict.fromkeys(places, 0)
    for name in sorted(counts, key=lambda n: (-counts[n], len(n), n)):
        stem = place_stem(name)
        if len(stem) >= 2:
            table.setdefault("".join(lazy_pinyin(stem)).lower(), stem)
    return table


def romanized(text: str, table: Mapping[str, str]) -> list[tuple[str, str]]:
    """(English word, Chinese stem) for each capitalised word of `text` that spells a known place."""
    out = []
    for m in _CAPITALISED.finditer(text):
        stem = table.get(m.group(0).replace("-", "").lower())
        if stem:
            out.append((m.group(0), stem))
    return out


def replace_romanized(text: str, table: Mapping[str, str]) -> str:
    """Pingyi County → 平邑 County."""
    return _CAPITALISED.sub(lambda m: table.get(m.group(0).replace("-", "").lower(), m.group(0)), text)


def _is_place(name: str) -> bool:
    """A name with an administrative suffix that jieba reads, whole or as its stem, as one place or person name."""
    import jieba.posseg as pseg

    stem = place_stem(name)
    if stem == name or len(stem) < 2 or stem[-1] in "省市县区地" or stem[0] in "各全本我该":
        return False
    whole, bare = list(pseg.cut(name, HMM=False)), list(pseg.cut(stem, HMM=False))  # no guessed new words
    return any(len(tokens) == 1 and tokens[0].flag in ("ns", "nr") for tokens in (whole, bare))


_SUFFIX = re.compile(r"[省市县区]")
_HAN = re.compile(r"^[\u4e00-\u9fff]+$")


def known_places(texts: Iterable[str], min_suffixed_share: float = 0.2) -> dict[str, int]:
    """{stem: mentions} of the administrative place names in `texts`, fast enough for a whole archive.

    Every 2–4 characters before a 省/市/县/区 is a candidate; each distinct
    candidate is tagged once (`_is_place`), so the cost grows with the number
    of distinct names, not with the size of the text (POS-tagging every chunk
    takes minutes at 10^5 chunks).
    """
    from collections import Counter

    from rag.script import to_simplified

    texts_list = list(texts)
    candidates: Counter[str] = Counter()
    for text in texts_list:
        simp = to_simplified(text)
        for m in _SUFFIX.finditer(simp):
            for k in (2, 3, 4):
                name = simp[max(0, m.start() - k) : m.end()]
                if len(name) == k + 1 and _HAN.match(name):
                    candidates[name] += 1
    suffixed: Counter[str] = Counter()
    for name, n in candidates.items():
        if _is_place(name):
            suffixed[place_stem(name)] += n
    if not suffixed:
        return {}
    # A place is named with its suffix a fair share of the time (寿光市 / 寿光); a word that merely precedes
    # 市 or 区 now and then (城市区域, 高原区) is mostly written without it.
    mentions: Counter[str] = Counter()
    pattern = re.compile("|".join(sorted(map(re.escape, suffixed), key=len, reverse=True)))
    for text in texts_list:
        mentions.update(pattern.findall(to_simplified(text)))
    return {stem: mentions[stem] for stem, n in suffixed.items() if n >= min_suffixed_share * max(mentions[stem], 1)}


# An English answer names a place in pinyin; the check reads it back against the cited passage's Chinese.
_ADMIN = re.compile(
    r"((?:\b[A-Z][a-z]+(?:['-][a-z]+)?\s+)+)"
    r"(?:City|Cities|County|Counties|District|Districts|Province|Provinces|Prefecture|Town|Townships?|Villages?)\b"
)


@lru_cache(maxsize=1)
def _syllables() -> frozenset[str]:
    """Every toneless pinyin syllable (ü written v), read from pypinyin's own dictionary."""
    import unicodedata

    from pypinyin.pinyin_dict import pinyin_dict

    out = set()
    for readings in pinyin_dict.values():
        for r in readings.split(","):
            bare = "".join(ch for ch in unicodedata.normalize("NFD", r.replace("ü", "v")) if ch.isascii())
            if bare.isalpha():
                out.add(bare)
    return frozenset(out)


def _spells_pinyin(word: str) -> bool:
    """Whether `word` is written as pinyin: it splits wholly into syllables (Yishui = yi+shui; County does
    not), and, as pinyin spelling requires, a syllable starting with a, o or e stands first or after an
    apostrophe (Xi'an, Dong'e), so English words such as Leading (le+a+ding) or Dean (de+an) are not pinyin."""
    syl = _syllables()
    for part in word.lower().replace("-", "'").split("'"):
        ok = [True] + [False] * len(part)
        for i in range(1, len(part) + 1):
            ok[i] = any(
                ok[j] and part[j:i] in syl and (j == 0 or part[j] not in "aoe") for j in range(max(0, i - 6), i)
            )
        if not part or not ok[-1]:
            return False
    return True


def english_place_names(text: str, table: Mapping[str, str]) -> list[str]:
    """The places an English text names in pinyin: a capitalised word the index's gazetteer spells
    (`pinyin_table`), or pinyin words right before an administrative noun (Yishui County, Ju County).

    A capitalised English word that merely happens to split into syllables (Women, Change) is not a place
    unless an administrative noun follows it; ordinary words before one (New District, Pilot County) do not
    split into syllables.
    """
    names = [word for word, _ in romanized(text, table)]
    for m in _ADMIN.finditer(text):
        run = m.group(1).split()
        while run and _spells_pinyin(run[-1]):  # the pinyin words directly before the noun
            names.append(run.pop())
    return list(dict.fromkeys(names))


@lru_cache(maxsize=8192)
def _readings(ch: str) -> frozenset[str]:
    from pypinyin import Style, pinyin

    return frozenset(r.replace("ü", "v") for r in pinyin(ch, style=Style.NORMAL, heteronym=True)[0])


def spelled_in(name: str, text: str) -> bool:
    """Whether `text` holds the place `name`: written as such, or as Chinese characters whose readings
    (any of a character's readings, so 单县 reads Shan) spell it; a one-syllable name only right before
    省/市/县/区/镇/乡/村, since almost any passage holds some character of that reading."""
    from rag.script import to_simplified

    if re.search(rf"\b{re.escape(name)}\b", text, re.I):
        return True
    target = name.lower().replace("-", "").replace("'", "")
    han = to_simplified(text)

    one = (
        "'" not in name and "-" not in name and target in _syllables()
    )  # a one-character name (莒县) must stand before its administrative noun

    def match(i: int, rest: str) -> bool:
        if not rest:
            return not one or (i < len(han) and han[i] in "省市县区镇乡村")
        return i < len(han) and any(rest.startswith(r) and match(i + 1, rest[len(r) :]) for r in _readings(han[i]))

    return any(match(i, target) for i, ch in enumerate(han) if "\u4e00" <= ch <= "\u9fff")
