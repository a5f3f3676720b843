"""Enumerated lists in a passage (一是…二是…, （一）…（二）…, 1. 2., ①②), and the items an answer leaves out.

A small model asked "哪些…" often gives three of four items. Policy texts and
laws enumerate with a handful of marker styles whose numbers run 1, 2, 3…;
reading them is a matter of finding a run of consecutive markers of one style.
"""

from __future__ import annotations

import re

from rag.law import cn_number

_CN = "一二三四五六七八九十"
# One pattern per marker style; group 1 is the item's number (Chinese or Arabic, or a circled digit).
_STYLES = (
    re.compile(rf"(?:^|(?<=[。；;，,：:\s]))([{_CN}]{{1,3}})是"),  # 一是…，二是…
    re.compile(rf"[（(]([{_CN}]{{1,3}})[）)]"),  # （一）…（二）…
    re.compile(r"(?:^|(?<=[。；;：:\s]))(\d{1,2})[.、．](?!\d)"),  # 1. … 2、…
    re.compile(r"([①②③④⑤⑥⑦⑧⑨⑩])"),
)
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩"
_ITEM_END = re.compile(r"[；;。\n]")


def _value(token: str) -> int | None:
    if token in _CIRCLED:  # before isdigit(), which is true for ① too
        return _CIRCLED.index(token) + 1
    return int(token) if token.isascii() and token.isdigit() else cn_number(token)


def enumerated_lists(text: str, max_item_chars: int = 80) -> list[list[str]]:
    """Every run of two or more consecutively numbered items, each item cut at its clause end."""
    return [items for _, items in introduced_lists(text, max_item_chars)]


_LEAD_START = re.compile(r"[。；;\s]")


def introduced_lists(text: str, max_item_chars: int = 80) -> list[tuple[str, list[str]]]:
    """Each enumerated list with its lead-in: the sentence just before its first item when that ends with a
    colon ("邮政企业经营下列业务："), else ""."""
    out: list[tuple[str, list[str]]] = []
    for style in _STYLES:
        marks = [(m.start(), m.end(), _value(m.group(1))) for m in style.finditer(text)]
        run: list[tuple[int, int, int | None]] = []
        for mark in [*marks, (len(text), len(text), None)]:
            if run and mark[2] is not None and mark[2] == run[-1][2] + 1:  # type: ignore[operator]
                run.append(mark)
                continue
            if len(run) >= 2:
                items = []
                for (_, end, _), nxt in zip(run, [*run[1:], (len(text), len(text), None)], strict=True):
                    body = text[end : nxt[0]]
                    stop = _ITEM_END.search(body)
                    items.append(body[: stop.start() if stop else len(body)].strip(" ，,：:")[:max_item_chars])
                before = text[: run[0][0]].rstrip()
                lead = before[max((m.end() for m in _LEAD_START.finditer(before)), default=0) :].strip()
                out.append((lead if lead.endswith(("：", ":")) else "", [i for i in items if i]))
            run = [mark] if mark[2] == 1 else []
    return [(lead, items) for lead, items in out if len(items) >= 2]


def _grams(text: str) -> set[str]:
    t = re.sub(r"\W", "", text)
    return {t[i : i + 2] for i in range(len(t) - 1)}


def covered(item: str, answer: str, share: float = 0.6) -> bool:
    """The answer says the item: most of the character pairs of its first clause are in the answer."""
    head = re.split(r"[，,：:]", item, maxsplit=1)[0][:24]
    grams = _grams(head)
    return bool(grams) and len(grams & _grams(answer)) >= share * len(grams)


def missing_items(answer: str, text: str) -> list[str]:
    """Items of the passage's list that the answer draws on but does not complete.

    The list is the one the answer already quotes most (at least one item, and
    at least two when the list is long), so an answer about another list of the
    same passage is left alone. An answer that quotes a list's lead-in
    ("…经营下列业务：…") has named that list, however few items it goes on to give.
    """
    best: tuple[int, list[str]] = (0, [])
    for lead, items in introduced_lists(text):
        hits = sum(covered(i, answer) for i in items)
        if len(_grams(lead)) >= 5 and len(_grams(lead) & _grams(answer)) >= 0.9 * len(_grams(lead)):
            hits = max(hits, 2 if len(items) > 4 else 1)
        if hits > best[0]:
            best = (hits, items)
    hits, items = best
    if not items or hits < (2 if len(items) > 4 else 1) or hits == len(items):
        return []
    return [i for i in items if not covered(i, answer)]
