"""Place names written in pinyin, read back to the corpus's own Chinese names.

The small LLM cannot transliterate county names either way; the index's own
gazetteer can. Each place is keyed by its toneless pinyin (Pingyi → 平邑), and
given mention counts, the most mentioned of two homophones wins (临沂 over 临邑).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

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


def administrative_places(places: Iterable[str]) -> frozenset[str]:
    """The stems of names that carry an administrative suffix (省/市/县/区) and read as a proper name.

    A corpus gazetteer also catches words like 科技园区 or 之日起; a check that
    refuses answers must only act on names that are surely places: the whole
    name or its stem is tagged as a place or person name by jieba.
    """
    import jieba.posseg as pseg

    out = set()
    for name in places:
        stem = place_stem(name)
        if stem == name or len(stem) < 2 or name.endswith("地区"):
            continue
        tags = [flag for _, flag in pseg.cut(name)] + [flag for _, flag in pseg.cut(stem)]
        if tags[0] in ("ns", "nr") or (len(tags) == 2 and tags[1] in ("ns", "nr")):
            out.add(stem)
    return frozenset(out)
