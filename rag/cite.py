"""Citations and grounding checks: every [n] maps to a passage, every figure and name is in the sources.

A prompt instruction alone does not stop a small model from answering a
question about 青岛 with 青州's figure; these checks run on what it wrote and
on what was asked, and turn an ungrounded answer into a refusal.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import cached_property

from rag.law import article_number, canonical_references
from rag.lists import missing_items
from rag.numerals import AMOUNT, amounts, digit_form, spoken_amounts, with_digits
from rag.pairs import misattributed, read_as_paired
from rag.places import homophone_table, known_places, romanized
from rag.question import asked, place_names
from rag.script import Lang, to_simplified
from rag.select import ContextPassage, header_for, split_sentences
from rag.types import Asked, Chunk, Passage

REFUSAL = {
    "zh-Hans": "资料中没有找到这个问题的答案。",
    "zh-Hant": "資料中沒有找到這個問題的答案。",
    "en": "The documents do not contain the answer to this question.",
}
# What the model writes when it follows the refusal instruction (any script, several phrasings).
_MODEL_REFUSAL = re.compile(
    r"资料中未提及|资料中没有|未提及|没有提及|没有提到|未提到|无法回答|无法确定|没有相关|未找到|不包含|没有给出|没有明确|"
    r"not (mentioned|provided|contain|included|specified|stated)|no information|do(es)? not (mention|say|specify|provide|contain)|cannot answer|unable to",
    re.I,
)
_CITE = re.compile(r"[\[【［]\s*(\d{1,2}(?:\s*[,，、]\s*\d{1,2})*)\s*[\]】］]")
_NUM = re.compile(r"\d+(?:[.,]\d+)*")


def normalize_citations(text: str) -> str:
    """[1,2] / 【1】 / [1、2] → [1][2]."""

    def repl(m: re.Match[str]) -> str:
        return "".join(f"[{n}]" for n in re.split(r"\s*[,，、]\s*", m.group(1)))

    return _CITE.sub(repl, text)


def cited_numbers(text: str) -> list[int]:
    seen: list[int] = []
    for m in re.finditer(r"\[(\d+)\]", text):
        n = int(m.group(1))
        if n not in seen:
            seen.append(n)
    return seen


def drop_invalid_citations(text: str, valid: set[int]) -> str:
    return re.sub(r"\[(\d+)\]", lambda m: m.group(0) if int(m.group(1)) in valid else "", text)


_REFUSAL_WINDOW = 80  # characters of a reply in which a refusal phrase makes it a refusal
_REFUSAL_MAX = 120  # a reply this long says more than that the sources lack the answer
_BUT = re.compile(r"[，,；;]\s*(?:但|但是|不过|而|却|仍|however|but|yet)|^(?:但|但是|不过|however|but)", re.I)


def is_model_refusal(text: str) -> bool:
    """A reply that says the sources lack the answer, and nothing else.

    A partial answer is not a refusal: a figure before the phrase
    ("潍坊：7000亿元；衢州：未提及"), or a cited statement after a contrast
    ("没有明确具体时限，但要求尽快落实[1]": the sources do say something).
    """
    body = re.sub(r"\[\d+\]", "", text).strip()
    m = _MODEL_REFUSAL.search(body[:_REFUSAL_WINDOW])
    if not m or re.search(r"\d", body[: m.start()]) or len(body) >= _REFUSAL_MAX:
        return False
    return not (_BUT.search(body[m.end() :]) and cited_numbers(text))


def cannot_become_refusal(prefix: str) -> bool:
    """True when no continuation of the reply `prefix` makes `is_model_refusal` true for the whole reply:
    it is long enough, or it has a figure and no refusal phrase within the part that rule reads."""
    body = re.sub(r"\[\d+\]", "", normalize_citations(prefix)).strip()
    if len(body) >= _REFUSAL_MAX:
        return True
    if _MODEL_REFUSAL.search(body[:_REFUSAL_WINDOW]):
        return False
    return len(body) >= _REFUSAL_WINDOW or bool(re.search(r"\d", body))


_FIGURE = re.compile(r"\d+(?:\.\d+)?")
_BOUNDARY = re.compile(r"[。！？!?；;\n](?:\s*\[\d+\])*|(?<=[a-z)\]])\.(?:\s*\[\d+\])*(?=\s|$)")


def answer_sentences(text: str) -> list[str]:
    """The answer cut after each sentence end and the citations that follow it; joined, they give the text back."""
    cuts = [0, *(m.end() for m in _BOUNDARY.finditer(text)), len(text)]
    return [text[a:b] for a, b in itertools.pairwise(cuts)]


def _citable_text(chunk: Chunk) -> str:
    """What a passage can be cited for: its text and, for a law's article, the law and article it is.

    "价格法第21条是关于…" restates which article it speaks of; the article's own
    text says 第二十一条 once (or, split, not at all) and never the law's name, so
    without them a passage that merely shares more words would take the citation.
    """
    if article_number(chunk.heading) is None:
        return with_digits(chunk.text)
    article = chunk.heading.rsplit(" > ", 1)[-1]
    return f"{chunk.title}{article}（{' '.join(canonical_references(article))}）\n{with_digits(chunk.text)}"


def recite(text: str, context: list[ContextPassage]) -> str:
    """Point each sentence's citation at the passage that holds what it says.

    A small model often copies a figure from [1] but writes [2]; the place
    check would then refuse a right answer, and the user would be sent to the
    wrong source. A sentence is re-cited only when another passage clearly
    holds more of its figures and words than the cited one (an English sentence
    shares only its figures and names with a Chinese passage).
    """
    # a passage is credited with what the figure check credits it with: its header (title, metadata) too
    texts = {c.n: to_simplified(header_for(c.passage, c.with_meta) + _citable_text(c.passage.chunk)) for c in context}
    if len(texts) < 2:
        return text
    out = []
    for seg in answer_sentences(text):
        cited = [int(n) for n in re.findall(r"\[(\d+)\]", seg) if int(n) in texts]
        body = to_simplified(re.sub(r"\[\d+\]", "", seg))
        if not cited or len(body.strip()) < 4:
            out.append(seg)
            continue

        def support(n: int, body: str = body) -> tuple[int, int]:
            return supported_figures(body, texts[n]), _overlap(body, texts[n])

        best = max(texts, key=support)
        have = max(support(n) for n in cited)
        got = support(best)
        clearly = got[1] >= 1.5 * have[1] + 3
        if best not in cited and (got[0] > have[0] or (got[0] == have[0] and clearly)):
            first = True

            def swap(m: re.Match[str], best: int = best) -> str:
                nonlocal first
                keep, first = first, False
                return f"[{best}]" if keep else ""

            seg = re.sub(r"\[\d+\]", swap, seg)
        out.append(seg)
    return "".join(out)


def cite_uncited(text: str, context: list[ContextPassage], question: str = "") -> str:
    """Cite an answer the model left uncited: each sentence gets the passages holding its figures, else the closest one.

    "全省有15家…，潍坊要培育9个…" draws on two passages; citing only the
    closest one would send the reader to half the evidence and fail the place
    check. Figures echoed from the question (its year) are not evidence.
    """
    asked = set(figures_of(question))
    asked_text = to_simplified(re.sub(r"\d", "", question))
    texts = {c.n: with_digits(to_simplified(c.passage.chunk.text)) for c in context}
    out = []
    for seg in answer_sentences(text):
        body = to_simplified(seg)
        lone = len(re.sub(r"\[\d+\]|\s", "", body)) < 2
        figures = figures_of(body) or (_FIGURE.findall(digit_form(body)) if lone else [])
        if lone and not figures:  # a lone "5" or "五" is cited where its figure is; a lone "是" cannot be
            out.append(seg)
            continue
        ns: list[int] = []
        for fig in [f for f in figures if f not in asked]:
            holders = [n for n in texts if holds_figure(fig, texts[n])]
            if holders:  # the one that also shares the question's words, else the better-ranked one
                best = max(holders, key=lambda n: (_overlap(asked_text + body, texts[n]), -n))
                ns += [best] if best not in ns else []
        named = _articles_named(question + body, context)
        if not ns and named:  # "第21条是关于…": the article it names, not the passage sharing most words
            ns = [named[0]]
        if not ns:
            best = max(texts, key=lambda n: (_overlap(asked_text + body, texts[n]), -n))
            ns = [best, *_also_holding(body, context, texts, best)]
        marks = "".join(f"[{n}]" for n in sorted(ns))
        stripped = seg.rstrip()
        out.append(stripped + marks + seg[len(stripped) :])
    return "".join(out)


def _articles_named(text: str, context: list[ContextPassage]) -> list[int]:
    """Passages (best-ranked first) that are a law article `text` names by number (第二十一条 / 第21条)."""
    wanted = {int(r[1:-1]) for r in canonical_references(to_simplified(text)) if r.endswith("条")}
    return sorted(c.n for c in context if wanted and article_number(c.passage.chunk.heading) in wanted)


def _also_holding(sentence: str, context: list[ContextPassage], texts: dict[int, str], best: int) -> list[int]:
    """Passages of other documents that hold as much of the sentence as its best passage does.

    "省里的意见和潍坊的方案都强调了“省级统筹、市负主责、县抓落实”" quotes a phrase
    both documents use; citing only one would leave the other place unsupported.
    One passage per other document: the point is each source, not every repeat.
    """

    def shared(n: int) -> int:
        m = SequenceMatcher(None, sentence, texts[n], autojunk=False).find_longest_match()
        return len(re.sub(r"\W", "", sentence[m.a : m.a + m.size]))

    need = max(6, round(0.6 * shared(best)))
    doc_of = {c.n: c.passage.chunk.doc_id for c in context}
    found: dict[str, tuple[int, int]] = {}
    for n in texts:
        if doc_of[n] == doc_of[best]:
            continue
        size = shared(n)
        if size >= need and size > found.get(doc_of[n], (0, 0))[0]:
            found[doc_of[n]] = (size, n)
    return [n for _, n in found.values()]


# "1." / "2、" items start a line or follow a sentence end; a bracketed "（4）" before words is an item anywhere,
# unless what follows counts it ("（12）家企业" is a figure)
_ITEM_NUMBER = re.compile(
    r"(?:(?:^|(?<=[\s。；;:：]))\d{1,2}[.、．)）]|[（(]\d{1,2}[）)](?![万亿千百家个项人元倍次年月日天%]))"
    r"\s*(?=[\u3400-\u9fffA-Za-z“\"])",
    re.M,
)


def strip_list_markers(text: str) -> str:
    """ "1. 数字赋能 2. 创新引领": item numbers the model adds are not figures to check."""
    return _ITEM_NUMBER.sub("", text)


def _stated(sentence: str) -> str:
    """The sentence's figures as digits: its own, and those it writes in Chinese numerals (三十天 as 30天) once."""
    return f"{strip_list_markers(sentence)}\n{spoken_amounts(sentence)}"


def supported_figures(sentence: str, source: str) -> int:
    """How many of the sentence's figures `source` supports, judged as claim_figures judges them: a whole
    number (20 is not in 20000) or the same value (110 billion is 1100亿); 三十天 counts as 30天."""
    body = _stated(sentence)
    return len(AMOUNT.findall(body)) - len(unsupported_numbers(body, source))


def figures_of(text: str) -> list[str]:
    """The figures a sentence states, whichever way it writes them (三十天 is 30天), item numbers left out."""
    return _FIGURE.findall(_stated(text))


def holds_figure(figure: str, text: str) -> bool:
    """`text` states `figure` as a whole number: 3 is not in 32, 20 not in 20000."""
    return bool(re.search(rf"(?<![\d.]){re.escape(figure)}(?![\d]|\.\d)", text))


def unsupported_numbers(answer: str, sources: str) -> list[str]:
    """Figures in the answer that appear nowhere in the sources (citation markers and list numbers excluded).

    The question is not evidence: a figure the asker supplied ("是不是120家？")
    and the model repeated would otherwise vouch for itself.
    """
    body = strip_list_markers(re.sub(r"\[\d+\]", "", answer))
    src_values = amounts(to_simplified(sources))
    src_text = re.sub(r"[,\s]", "", sources)
    missing = []
    for m in AMOUNT.finditer(body):
        raw = m.group(1).replace(",", "")
        if holds_figure(raw, src_text):
            continue
        vals = amounts(m.group(0))
        if not vals & src_values:
            missing.append(m.group(0).strip())
    return missing


def _mentions(term: str, text: str) -> bool:
    if term.isdigit():  # a year is a whole number: 2000 is not in 20000
        return bool(re.search(rf"(?<!\d){term}(?!\d)", text))
    stem = re.sub(r"(省|市|县|区|镇|乡|村)$", "", term)
    return term in text or (len(stem) >= 2 and stem in text)


_CLAUSE = re.compile(r"(?<=[，,；;：:])")
_PLACE_SUFFIX = re.compile(r"(?:特别行政区|自治区|自治州|自治县|自治旗|省|市|县|区|州|盟|旗|镇|乡|村)$")


def place_mentioned(name: str, text: str) -> bool:
    """`name` or its stem is in `text`: 潍坊 for 潍坊市 and back, 内蒙古 for 内蒙古自治区; an autonomous
    prefecture's or county's people (朝鲜族) may be left out (延边州 for 延边朝鲜族自治州)."""
    stem = _PLACE_SUFFIX.sub("", name)
    if name in text or (len(stem) >= 2 and stem in text):
        return True
    people = re.match(r"^([\u4e00-\u9fff]{2,}?)(?:[\u4e00-\u9fff]{1,3}族)+$", stem)
    return bool(people) and people.group(1) in text


def unsupported_places(sentence: str, sources: str, table: Callable[[], Mapping[str, set[str]]]) -> list[str]:
    """The places `sentence` names that `sources` never mention: Chinese names by jieba's place tag, English
    ones by the pinyin of the shown places (`table()`: Qingzhou → 青州; any of two homophones will do). A clause
    saying that the sources do not mention a place ("资料未提及乙市"; the model's refusal phrases) claims nothing
    about it."""
    body = "".join(c for c in _CLAUSE.split(re.sub(r"\[\d+\]", "", sentence)) if not _MODEL_REFUSAL.search(c))
    src = to_simplified(sources)
    missing = (
        [n for n in place_names(body) if not place_mentioned(n, src)] if re.search(r"[\u3400-\u9fff]", body) else []
    )
    if re.search(r"\b[A-Z][a-z]", body):
        for _word, stems in romanized(body, table()):
            if not any(place_mentioned(stem, src) for stem in stems):
                missing.append(min(stems))
    return list(dict.fromkeys(missing))


def missing_terms(question: Asked | str, sources: str) -> list[str]:
    """The names and years the question is about that the sources never mention."""
    src = with_digits(to_simplified(sources))
    return [t for t in asked(question).terms if not _mentions(t, src)]


_MAGNITUDE = re.compile(r"(\d+(?:\.\d+)?)\s*(billion|million)", re.I)
_SCALE = {"billion": ("亿", 10), "million": ("万", 100)}  # N亿 = N/10 billion, N万 = N/100 million


def fix_yi_as_billion(answer: str, sources: str) -> str:
    """English answers often render N亿 as "N billion" and N万 as "N million": correct them when the sources say N亿/N万."""
    src = to_simplified(sources)

    def repl(m: re.Match[str]) -> str:
        n, word = m.group(1), m.group(2)
        unit, div = _SCALE[word.lower()]
        if re.search(rf"(?<![\d.]){re.escape(n)}\s*{unit}", src) and f"{n}{'0' * (len(str(div)) - 1)}{unit}" not in src:
            return f"{float(n) / div:g} {word}"
        return m.group(0)

    return _MAGNITUDE.sub(repl, answer)


_POWER = re.compile(r"(\d+(?:\.\d+)?)\s*(MW|megawatts?|kW|kilowatts?)\b", re.I)


def fix_wan_kilowatt(answer: str, sources: str) -> str:
    """N万千瓦 is N×10,000 kW, but small models write it as "N MW" or "N kW": restore the sources' figure.

    The corrected figure keeps the Chinese unit, as the prompt asks for all
    amounts, so it can be checked against the passage word for word.
    """
    src = to_simplified(sources)

    def repl(m: re.Match[str]) -> str:
        n = m.group(1)
        if re.search(rf"(?<![\d.]){re.escape(n)}\s*万千瓦", src):
            return f"{n}万千瓦"
        return m.group(0)

    return _POWER.sub(repl, answer)


@dataclass
class Check:
    """One named answer check: its outcome and why ("pass", "fail" or "skip")."""

    name: str
    result: str
    detail: str = ""

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "result": self.result, "detail": self.detail}


@dataclass
class Grounding:
    answer: str
    refused: bool
    reason: str = ""
    checks: list[Check] = field(default_factory=list)


def only_citations(text: str) -> bool:
    """ "[1] [2]": the small model sometimes cites without saying anything."""
    return not re.search(r"[\u3400-\u9fffA-Za-z0-9]", re.sub(r"\[\d+\]", "", text))


def prune_citations(text: str, context: list[ContextPassage], keep_share: float = 0.5) -> str:
    """Of several passages cited for one sentence, keep those whose best sentence holds the claim.

    A small model cites [1][2][3] for a sentence drawn from one of them; the
    reader checking [2] finds nothing. A cited passage stays when its closest
    sentence holds one of the sentence's figures, or shares at least
    `keep_share` of the best-supported passage's words with it; the best one
    always stays.
    """
    texts = {c.n: with_digits(to_simplified(c.passage.chunk.text)) for c in context}
    out = []
    for seg in answer_sentences(text):
        cited = [n for n in dict.fromkeys(int(x) for x in re.findall(r"\[(\d+)\]", seg)) if n in texts]
        body = to_simplified(re.sub(r"\[\d+\]", "", seg))
        if len(cited) < 2 or len(body.strip()) < 4:
            out.append(seg)
            continue
        figures = [f for f in _FIGURE.findall(body) if len(f) > 1 or "." in f]

        def closeness(n: int, body: str = body) -> int:
            sentences = split_sentences(texts[n]) or [texts[n]]
            return max(_overlap(body, s) for s in sentences)

        score = {n: closeness(n) for n in cited}
        top = max(score.values())
        keep = {
            n
            for n in cited
            if score[n] == top or score[n] >= keep_share * top or any(holds_figure(f, texts[n]) for f in figures)
        }
        drop = set(cited) - keep
        out.append(re.sub(r"\[(\d+)\]", lambda m, drop=drop: "" if int(m.group(1)) in drop else m.group(0), seg))
    return "".join(out)


def complete_list(text: str, context: list[ContextPassage]) -> str:
    """A list answer that quotes some items of a cited passage's enumerated list gets the rest, quoted and cited.

    Applied to Chinese answers of list questions only; the items are the
    passage's own words, so nothing is added that the source does not say.
    """
    by_n = {c.n: c for c in context}
    added = []
    for n in cited_numbers(text):
        if n in by_n:
            items = missing_items(text, to_simplified(by_n[n].passage.chunk.text))
            if items:
                added.append(f"此外还有：{'；'.join(items)}。[{n}]")
    return text.rstrip() + ("\n" + "\n".join(added) if added else "")


_CJK = re.compile(r"[\u3400-\u9fff]")
_CLAIM_END = re.compile(r"(?<=[\]】］])(?!\s*[\[【［])")  # after a run of citation markers


def claims(sentence: str) -> list[tuple[str, list[int]]]:
    """The claims of an answer sentence with the passages each cites: a claim ends at its citations
    ("A[1]，B[2]。" holds two); one citing nothing is held to its sentence's citations."""
    return [(claim, cited_numbers(claim) or cited_numbers(sentence)) for claim in _CLAIM_END.split(sentence)]


# Units and measure words a figure carries in Chinese text (longest first when matched).
_UNITS = sorted(
    (
        "万亿美元 亿美元 万美元 美元 万亿元 亿元 万元 千元 元 欧元 英镑 日元 港元 万亿 亿 万 千 个百分点 百分点 % ‰ "
        "万人次 人次 万人 人 名 位 个 家 户 所 座 台 辆 架 艘 件 项 条 款 部 篇 场 次 届 轮 期 批 只 头 株 套 处 "
        "万吨 吨 千克 公斤 克 斤 万亩 亩 公顷 平方公里 平方千米 平方米 立方米 公里 千米 米 厘米 毫米 万千瓦 千瓦时 千瓦 "
        "兆瓦 瓦 级 倍 岁 年 月 日 天 小时 分钟 秒 周 强 票 分 标准箱 张 首 份 枚 代 季度"
    ).split(),
    key=len,
    reverse=True,
)
_UNIT_AFTER = re.compile(r"\s*(?:" + "|".join(re.escape(u) for u in _UNITS) + ")")
# A figure standing alone: not part of a name (iPhone 13), a longer number (1,000), a range or a ratio (2022-2025,
# 3、5个, 10:30, 2/3), whose unit belongs to the whole.
_BARE = re.compile(r"(?<![\d.,A-Za-z\-–~～/:：、])\d+(?:[.,]\d+)*(?![\d.,]*\d)(?!\s*[\-–—~～至到、/:：])")


def _units_of(figure: str, text: str) -> set[str]:
    """The units that follow `figure` wherever `text` states it as a whole number ("" for none, and for an
    ordinal: 第5名 is a rank, and "5名" would read as five people)."""
    out = set()
    for m in re.finditer(rf"(?<![\d.A-Za-z]){re.escape(figure)}(?![\d]|\.\d)", text):
        unit = _UNIT_AFTER.match(text, m.end())
        out.add(unit.group(0).strip() if unit and text[m.start() - 1 : m.start()] != "第" else "")
    return out


def add_units(text: str, context: list[ContextPassage]) -> str:
    """A bare figure of a Chinese answer ("3.2[2]", "增长4.7，") gets the unit its cited passages give it.

    Small models drop the unit the passage writes ("3.2万亿美元" → "3.2"), and a
    figure without its unit is not an answer an official can quote. The unit is
    added only when every statement of that figure in the passages the claim
    cites carries the same one; a figure inside a name (iPhone 13, G20) or a list
    number is left alone.
    """
    by_n = {c.n: with_digits(to_simplified(c.passage.chunk.text)) for c in context}
    out = []
    for sentence in answer_sentences(text):
        pieces = []
        for claim, ns in claims(sentence):
            cited = [by_n[n] for n in ns if n in by_n]
            if not cited:
                pieces.append(claim)
                continue
            source = "\n".join(cited)
            skip = [m.span() for m in re.finditer(r"\[\d+\]", claim)] + [m.span() for m in _ITEM_NUMBER.finditer(claim)]

            def repl(m: re.Match[str], source: str = source, skip: list[tuple[int, int]] = skip) -> str:
                if any(a <= m.start() < b for a, b in skip) or _UNIT_AFTER.match(m.string, m.end()):
                    return m.group(0)
                units = _units_of(m.group(0), source)
                return m.group(0) + units.pop() if len(units) == 1 and "" not in units else m.group(0)

            pieces.append(_BARE.sub(repl, claim))
        out.append("".join(pieces))
    return "".join(out)


def _rewrite(
    answer: str,
    context: list[ContextPassage],
    lang: Lang,
    question: Asked,
    skip: frozenset[str] = frozenset(),
) -> str:
    """Repairs that change form, never content: citation syntax, units in English, citations pointed right,
    a quoted list completed from its passage."""
    text = drop_invalid_citations(normalize_citations(answer).strip(), {c.n for c in context})
    sources = "\n".join(c.passage.chunk.text for c in context)
    if lang == "en":
        text = fix_wan_kilowatt(fix_yi_as_billion(text, sources), sources)
    if "recite" not in skip:
        text = recite(text, context)
    if not cited_numbers(text) and context:
        # Cite before checking places: an uncited answer must not borrow 2026 from a passage it did not use.
        text = cite_uncited(text, context, question.wording)
    if "prune_citations" not in skip:
        text = prune_citations(text, context)
    if lang != "en" and "add_units" not in skip:
        text = add_units(text, context)
    if lang != "en" and "complete_list" not in skip and question.wants_list:
        text = complete_list(text, context)
    return text


def _cited_or_shown(sentence: str, context: list[ContextPassage]) -> list[ContextPassage]:
    """The passages a sentence cites; all passages shown when it cites none."""
    by_n = {c.n: c for c in context}
    return [by_n[n] for n in cited_numbers(sentence) if n in by_n] or context


def _pairing(sentence: str, context: list[ContextPassage]) -> tuple[list[str], list[str]]:
    """(the texts of the passages a sentence cites, the places their documents are about as a whole)."""
    cited = _cited_or_shown(sentence, context)
    about = [c.passage.meta.place for c in cited if c.passage.meta and c.passage.meta.place]
    return [c.passage.chunk.text for c in cited], about


def _places_named(context: list[ContextPassage], question: str) -> dict[str, int]:
    texts = [f"{header_for(c.passage, c.with_meta)}{c.passage.chunk.text}" for c in context]
    return known_places([*texts, question])


def pair_values(text: str, context: list[ContextPassage], question: str) -> str:
    """Each Chinese sentence answered from its passage's own pairing (`pairs.read_as_paired`): the value a
    parallel list gives the neighbouring place is replaced by the one it gives the place asked about."""
    if not context or not _CJK.search(text):
        return text
    known = _places_named(context, question)
    out = []
    for sentence in answer_sentences(text):
        if _CJK.search(sentence):
            texts, about = _pairing(sentence, context)
            sentence = read_as_paired(sentence, question, texts, known, about)
        out.append(sentence)
    return "".join(out)


def evidence(context: list[ContextPassage]) -> str:
    """What the model was shown as sources: each passage with its header (title, metadata, heading).

    Chinese numerals are added in digits as well (第十四条 → 第14条, 三十日 → 30日): an answer that writes
    a figure in digits quotes the passage, it does not invent it.
    """
    parts = []
    for c in context:
        chunk = c.passage.chunk
        refs = " ".join(canonical_references(f"{chunk.heading}\n{chunk.text}"))
        parts.append(f"{header_for(c.passage, c.with_meta)}{with_digits(chunk.text)}\n{refs}")
    return "\n".join(parts)


@dataclass
class Reply:
    """What a check reads: the answer (form repaired), the passages shown and what was asked."""

    text: str
    context: list[ContextPassage]
    question: str
    years: tuple[str, ...] = ()  # the years asked about (`Asked.years`)

    @cached_property
    def sources(self) -> str:
        """evidence(context), built once for all checks."""
        return evidence(self.context)

    places: bool = True  # hold the claims' places to their passages too (off: ablation of claim_places)
    pairs: bool = True  # hold a place's value to the place its passage gives it to (off: ablation of claim_pairs)

    @cached_property
    def named_places(self) -> dict[str, int]:
        """{stem: mentions} of the places the passages and the question name."""
        return _places_named(self.context, self.question)

    @cached_property
    def place_table(self) -> dict[str, set[str]]:
        """{pinyin: Chinese stems} of the places the passages and the question name: an English claim's
        romanized place is read back to the Chinese its passage would write (every homophone: 苏州, 宿州)."""
        return homophone_table(self.named_places)

    @cached_property
    def _unsupported(self) -> list[tuple[list[str], list[str], list[str]]]:
        """For each answer sentence: its figures that the passages its claims cite do not hold, its places
        that the passages the sentence cites do not hold, and the values it gives a place that those passages
        give another place. Places are held to the whole sentence's citations: a sentence names its places
        before the figures it cites one by one ("甲市和乙市分别为3[1]和5[2]")."""
        by_n = {c.n: c for c in self.context}
        out = []
        for sentence in answer_sentences(self.text):
            figures: list[str] = []
            for claim, ns in claims(sentence):
                cited = [by_n[n] for n in ns if n in by_n]
                figures += unsupported_numbers(claim, evidence(cited) if cited else self.sources)
            cited = _cited_or_shown(sentence, self.context)
            places: list[str] = []
            if self.places:
                # the place a cited document is about counts: its card, its whole title
                where = " ".join(f"{c.passage.meta.title} {c.passage.meta.place}" for c in cited if c.passage.meta)
                places = unsupported_places(sentence, f"{evidence(cited)}\n{where}", lambda: self.place_table)
            pairs: list[str] = []
            if self.pairs and _CJK.search(sentence):
                texts, about = _pairing(sentence, self.context)
                pairs = misattributed(sentence, self.question, texts, self.named_places, about)
            out.append((figures, places, pairs))
        return out

    @property
    def unsupported_figures(self) -> list[list[str]]:
        return [f for f, _, _ in self._unsupported]

    @property
    def unsupported_places(self) -> list[list[str]]:
        return [p for _, p, _ in self._unsupported]

    @property
    def misattributed(self) -> list[list[str]]:
        return [v for _, _, v in self._unsupported]

    @property
    def unsupported_by_sentence(self) -> list[list[str]]:
        """For each answer sentence, its figures, places and values that the passages its claims cite do not
        hold or give another place (built once for the checks and for dropping the sentences they fail)."""
        return [f + p + v for f, p, v in self._unsupported]


# The answer checks, in order; each returns why the answer fails, or "" when it passes. Every check
# serves a class of answers, named in its docstring, and has a test on text that is not from the corpus.
def _check_figures(r: Reply) -> str:
    """Every figure of a claim is in the passages that claim cites (not merely in the question, nor in
    another passage). A claim ends at its citations; one citing nothing is held to its sentence's
    citations, and a sentence citing nothing to all passages shown."""
    missing = [m for ms in r.unsupported_figures for m in ms]
    return f"figures not in the sources: {', '.join(missing)}" if missing else ""


def _check_places(r: Reply) -> str:
    """Every place a sentence names is in the passages that sentence cites (their text, their document's title
    or place), not merely in the question or in another passage: the small model names another passage's or
    document's place, or one no passage names. English sentences are read back to Chinese through the pinyin
    of the places the passages name."""
    missing = [m for ms in r.unsupported_places for m in ms]
    return f"places not in the cited sources: {', '.join(missing)}" if missing else ""


def _check_pairs(r: Reply) -> str:
    """A value a sentence gives a place (a quoted title, an amount, a phrase taken from the passage) is the one
    the cited passage gives that place: in a parallel list ("甲市X、乙市Y") the small model takes the
    neighbour's item. Judged only where the passage plainly pairs the value with another place (`rag.pairs`)."""
    wrong = [m for ms in r.misattributed for m in ms]
    return f"values the cited sources give another place: {', '.join(wrong)}" if wrong else ""


_YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?=\s*年)")


def _document_dates(p: Passage) -> str:
    """A passage's document: its title, number and dates (issued, signed, adopted, amended, in force). A question
    may name the year of the document itself ("2024年修订的…法"), which its articles never repeat."""
    m = p.meta
    if m is None:
        return p.chunk.title
    return " ".join([m.title, p.chunk.title, m.doc_number, m.date, m.signed_date, m.adopted, *m.amended, m.effective])


def other_years(text: str, context: list[ContextPassage], years: tuple[str, ...]) -> list[str]:
    """The years asked about when none of them is mentioned by the passages `text` cites (their text, heading,
    or their document's title, number and dates) and those passages speak of other years ("YYYY年"); else []."""
    if not years:
        return []
    cited = [c.passage for c in context if c.n in cited_numbers(text)]
    src = with_digits(
        to_simplified("\n".join(f"{_document_dates(p)} {p.chunk.heading}\n{p.chunk.text}" for p in cited))
    )
    if not cited or any(_mentions(y, src) for y in years) or not _YEAR.search(src):
        return []
    return list(years)


def _check_year(r: Reply) -> str:
    """An answer to a question about a year cites passages that speak of that year. Passages on the same
    topic that mention only other years ("2021年度…" for a 2020 question, last year's figure) hold a fitting
    answer to a different question. A passage that names no year at all (news of the day) is not held to it,
    and of several years asked about ("2020年和2021年…") one cited suffices: the answer may be partial."""
    wrong = other_years(r.text, r.context, r.years)
    return f"the cited passages speak of other years than {', '.join(wrong)}" if wrong else ""


def supported_sentences(r: Reply, check: str = "") -> str:
    """The answer without its sentences that hold an unsupported figure (check "claim_figures"), place
    ("claim_places") or either (no check named); "" when no cited sentence is left."""
    failing = {
        "claim_figures": r.unsupported_figures,
        "claim_places": r.unsupported_places,
        "claim_pairs": r.misattributed,
    }.get(check, r.unsupported_by_sentence)
    kept = [s for s, ms in zip(answer_sentences(r.text), failing, strict=True) if not ms]
    text = "".join(kept).strip()
    return text if cited_numbers(text) and re.search(r"\w", re.sub(r"\[\d+\]", "", text)) else ""


# the year check reads what is kept; a sentence failing a claim check is dropped when a cited one remains
CHECKS = (
    ("claim_figures", _check_figures),
    ("claim_places", _check_places),
    ("claim_pairs", _check_pairs),
    ("claim_year", _check_year),
)
DROPPABLE = frozenset({"claim_figures", "claim_places", "claim_pairs"})


RULES = (
    "recite",
    "prune_citations",
    "add_units",
    "complete_list",
    "pair_values",
    "drop_unsupported",
    *(name for name, _ in CHECKS),
)  # what an ablation may switch off


def ground(
    answer: str,
    context: list[ContextPassage],
    lang: Lang,
    question: Asked | str = "",
    skip: frozenset[str] = frozenset(),
) -> Grounding:
    """Rewrite the form of an answer, answer a misread parallel list from the passage's own pairing
    (pair_values), then run the named checks; the first failure turns it into the refusal, except that
    sentences with an unsupported figure, place or pairing are dropped when a cited sentence remains
    (drop_unsupported).

    The checks performed are recorded (with the reason of a failure), so an
    evaluation can tell which check refused an answer and how often each fires.
    `skip` names rules (`RULES`) to leave out, for ablations replayed on stored replies.
    """
    raw = normalize_citations(answer).strip()
    if only_citations(raw) or is_model_refusal(raw):
        why = "bare citations" if only_citations(raw) else "the model said the sources do not hold the answer"
        return Grounding(REFUSAL[lang], True, "model_refusal", [Check("model_refusal", "fail", why)])
    checks = [Check("model_refusal", "pass")]
    q = asked(question)
    text = _rewrite(answer, context, lang, q, skip)
    if not cited_numbers(text):  # even cite_uncited found no passage for it: nothing the reader could check
        why = "the answer cites no passage"
        return Grounding(REFUSAL[lang], True, why, [*checks, Check("citations", "fail", why)])
    checks.append(Check("citations", "pass", f"cites {cited_numbers(text)}"))
    if lang != "en" and "pair_values" not in skip:
        mended = pair_values(text, context, q.wording)
        if mended != text:
            why = "a value the passage gives another place replaced by the one it gives the place asked about"
            checks.append(Check("pair_values", "repaired", why))
            text = mended
    places, pairs = "claim_places" not in skip, "claim_pairs" not in skip
    reply = Reply(text, context, q.wording, q.years, places, pairs)
    for name, check in CHECKS:
        if name in skip:
            checks.append(Check(name, "skip", "switched off"))
            continue
        why = check(reply)
        if why and name in DROPPABLE and "drop_unsupported" not in skip:
            kept = supported_sentences(reply, name)
            if kept:  # the supported sentences stand; the others go
                checks.append(Check(name, "repaired", f"{why}; their sentences dropped"))
                text, reply = kept, Reply(kept, context, q.wording, q.years, places, pairs)
                continue
        if why:
            checks.append(Check(name, "fail", why))
            return Grounding(REFUSAL[lang], True, why, checks)
        checks.append(Check(name, "pass"))
    return Grounding(text, False, "", checks)


def _overlap(a: str, b: str) -> int:
    """How much of `a` `b` holds: `a`'s distinct character pairs found in `b`. Counting every repeat in `b`
    would favour a long passage that says the same few words many times over the one that says the sentence."""
    a, b = to_simplified(a), to_simplified(b)
    return len({a[i : i + 2] for i in range(len(a) - 1)} & {b[i : i + 2] for i in range(len(b) - 1)})


def best_sentence(answer: str, passage_text: str) -> str:
    """The sentence of a cited passage that the answer draws on, for highlighting."""
    sentences = split_sentences(passage_text)
    return max(sentences, key=lambda s: _overlap(answer, s)) if sentences else ""
