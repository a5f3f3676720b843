"""Place names written in pinyin, read back to the corpus's own Chinese names.

The small LLM cannot transliterate county names either way; the index's own
gazetteer can. Each place is keyed by its toneless pinyin (Pingyi → 平邑), and
given mention counts, the most mentioned of two homophones wins (临沂 over 临邑).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TypeVar

from rag.metadata import place_stem

T = TypeVar("T")
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


def homophone_table(places: Iterable[str]) -> dict[str, set[str]]:
    """{toneless pinyin: every Chinese stem spelt so} (Suzhou → 苏州, 宿州): to check a romanized name, any
    of its homophones may be the one meant."""
    from pypinyin import lazy_pinyin

    table: dict[str, set[str]] = {}
    for name in places:
        stem = place_stem(name)
        if len(stem) >= 2:
            table.setdefault("".join(lazy_pinyin(stem)).lower(), set()).add(stem)
    return table


def romanized(text: str, table: Mapping[str, T]) -> list[tuple[str, T]]:
    """(English word, what `table` gives for it: a Chinese stem, or every homophone's) for each capitalised word
    of `text` that spells a known place."""
    out = []
    for m in _CAPITALISED.finditer(text):
        found = table.get(m.group(0).replace("-", "").lower())
        if found:
            out.append((m.group(0), found))
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
