"""What a question asks for, read from its wording in one place (any script or English).

The pipeline reads a question once (`analyse` → `rag.types.Asked`) and hands
that to every stage that depends on its kind (retrieval of outlines and cards,
sentence selection, prompt hints, answer checks), so a wording is recognised
the same way everywhere; a stage called with a bare string reads it through
`asked`, the same way.
"""

from __future__ import annotations

import re

from rag.script import to_simplified
from rag.types import CARD_DATE, CARD_ISSUER, CARD_NUMBER, CARD_SIGNED, CARD_SIGNER, CARD_SOURCE, Asked


def analyse(text: str, search: str | None = None) -> Asked:
    """Read a question once: its kinds, the document-card fields it asks for, the names and years it is about.

    `search` is the Chinese that is searched for an English question (default: the question itself).
    """
    search = text if search is None else search
    both = text if text == search else f"{text}\n{search}"
    return Asked(
        text=text,
        search=search,
        wants_list=is_list_question(both),
        wants_goal=is_goal_question(both),
        wants_number=asks_number(both),
        wants_metadata=wants_metadata(both),
        wants_document_facts=asks_document_facts(both),
        wants_overview=wants_overview(both),
        card_fields=card_fields_asked(both),
        terms=tuple(question_terms(search)),
    )


def asked(question: Asked | str) -> Asked:
    """A stage called with a bare string (evaluation, tests) reads it here, as the pipeline would."""
    return question if isinstance(question, Asked) else analyse(question)


_LIST_Q = re.compile(r"哪些|哪几|哪[两三四五六七八九十]|几个方面|几件|列举|概括|what are|list|main areas", re.I)


def is_list_question(question: str) -> bool:
    """Asks for several items ("有哪些…", "从哪几个方面…", "what are…"): every item of the list is the answer."""
    return bool(_LIST_Q.search(to_simplified(question)))


_GOAL_Q = re.compile(r"目标|target|goal|aim", re.I)


def is_goal_question(question: str) -> bool:
    """Asks for a target: the figures of the goal are the answer, not only its wording."""
    return bool(_GOAL_Q.search(question))


_NUMBER_Q = re.compile(
    r"多少|几|目标|规模|比例|增长|数量|金额|亿元|万元|how (much|many)|what (percentage|share)|target|figure|gdp", re.I
)


def asks_number(question: str) -> bool:
    """Asks for a quantity: the sentences that hold figures are the likelier answer."""
    return bool(_NUMBER_Q.search(to_simplified(question)))


_CARD_FIELDS = {  # card field label -> words asking for it
    CARD_ISSUER: r"发文|印发|机关|部门|单位|谁|issued|who|agency|office",
    CARD_NUMBER: r"文号|字号|number",
    CARD_DATE: r"发布|印发|公开|哪天|哪一天|何时|日期|时间|哪年|when|date|published|issued",
    CARD_SIGNER: r"落款|署名|sign",
    CARD_SIGNED: r"落款|署名|sign",
    CARD_SOURCE: r"来源|出处|网站|source|website",
}
CARD_LABELS = frozenset(_CARD_FIELDS)


def card_fields_asked(question: str) -> frozenset[str]:
    """The document-card fields a question asks for; a 落款 question means the 落款 date, not the publication date."""
    q = to_simplified(question)
    wanted = {label for label, pattern in _CARD_FIELDS.items() if re.search(pattern, q, re.I)}
    if CARD_SIGNED in wanted:
        wanted.discard(CARD_DATE)
    return frozenset(wanted)


_META_Q = re.compile(
    r"文号|字号|发文|印发|发布|签发|日期|时间|哪天|何时|哪一天|哪年|机关|部门|单位|机构|谁|number|issued|date|when|who|agency|office",
    re.I,
)


def wants_metadata(question: str) -> bool:
    """Questions about who issued a document, when, or under which number need its metadata in the prompt."""
    return bool(_META_Q.search(to_simplified(question)))


_DOC_FACTS_Q = re.compile(
    r"文号|字号|发文|印发|发布|签发|落款|日期|哪天|哪一天|何时|来源|出处|"
    r"document number|issued|published|signed|date|source",
    re.I,
)


def asks_document_facts(question: str) -> bool:
    """Questions about a document itself (when issued, by whom, its 文号, 落款, source): its card answers them."""
    return bool(_DOC_FACTS_Q.search(to_simplified(question)))


_OVERVIEW_Q = re.compile(
    r"哪几个方面|哪些方面|几个方面|主要内容|主要举措|重要举措|哪些举措|哪几项|哪[几两三四五六]条|概括|总结|概述|"
    r"summari[sz]e|overview|main (areas|points|measures|parts|tasks)",
    re.I,
)


def wants_overview(question: str) -> bool:
    """Questions about what a document covers as a whole: its outline answers them better than any paragraph."""
    return bool(_OVERVIEW_Q.search(to_simplified(question)))


_ADMIN_ONLY = re.compile(r"^[各全本我该]?[省市县区镇乡村]+$")  # 各市县, 市县区: levels, not places


def place_names(text: str) -> list[str]:
    """The particular places a Chinese text names (jieba's place tag, two characters or more), in simplified
    script, without words that name no particular place (全国, 县城, 该市)."""
    import jieba.posseg as pseg

    generic = {"中国", "全国", "我国", "国家", "省委", "市委", "政府"} | NOT_PLACES
    names = [w for w, flag in pseg.cut(to_simplified(text)) if flag == "ns" and len(w) >= 2]
    return [n for n in dict.fromkeys(names) if n not in generic and not _ADMIN_ONLY.match(n)]


def question_terms(question: str) -> list[str]:
    """Names and years the question is about: if the sources never mention them, they cannot answer it."""
    years = re.findall(r"(?:19|20)\d{2}(?=\s*年)", to_simplified(question))
    return list(dict.fromkeys([*place_names(question), *years]))


# Words that jieba may tag as places or that end in 省/市/县/区 but name no particular place.
NOT_PLACES = frozenset(
    "城市 大城市 中城市 小城市 都市 新城 县城 市区 城区 新区 开发区 园区 社区 景区 片区 辖区 省市 市县 县区 全省 全市 全县 "
    "各市 各县 本市 本县 我省 我市 我县 该市 该县 地区 山区 库区 城乡 郊区 老区 示范区 试验区 先行区 之日起 "
    "城镇 乡镇 农村 沿海 沿海地区 内陆 内陆地区 北方地区 南方地区 边境地区 自治县 开区".split()
)
