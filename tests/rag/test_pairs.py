"""rag.pairs on made-up text (places and titles that are in no bundled document): a value the passage gives
the neighbouring place is caught; shared predicates, unpaired values, laws and English are left alone."""

from __future__ import annotations

import pytest

from rag.pairs import misattributed, places_in, read_as_paired, values_of
from rag.places import known_places

LIST = "进一步培育丽江市文化旅游名城、保山市咖啡产业之都、玉溪市白族文化高地、曲靖市彝绣之乡等特色优势。"
SHARED = "评定结果：丽江市、保山市为全省先进市；昆明市为全省进步市。"
FIGURES = "到2025年各市地区生产总值目标：丽江市700亿元、保山市500亿元。"


def _wrong(sentence: str, question: str, passages: list[str], about: tuple[str, ...] = ()) -> list[str]:
    return misattributed(sentence, question, passages, known_places([*passages, question]), about)


@pytest.mark.parametrize(
    ("sentence", "question", "passage", "wrong"),
    [
        ("保山市的定位是“彝绣之乡”。[1]", "保山市的特色定位是什么？", LIST, ["彝绣之乡"]),
        ("保山市的定位是咖啡产业之都[1]", "保山市的特色定位是什么？", LIST, []),
        (
            "保山市的定位是彝绣之乡[1]",
            "保山市的特色定位是什么？",
            LIST,
            ["彝绣之乡"],
        ),  # unquoted: read from the passage
        ("“文化旅游名城”[1]", "保山市的特色定位是什么？", LIST, ["文化旅游名城"]),  # the place from the question
        ("曲靖市[1]", "哪个市被定位为白族文化高地？", LIST, ["白族文化高地"]),  # the value from the question
        ("玉溪市[1]", "哪个市被定位为白族文化高地？", LIST, []),
        ("昆明市获评“全省先进市”[1]", "昆明市获评什么？", SHARED, ["全省先进市"]),
        ("丽江市获评“全省先进市”[1]", "丽江市获评什么？", SHARED, []),  # listed with 保山市: shared
        ("保山市：700亿元[1]", "保山市的目标是多少？", FIGURES, ["700亿元"]),
        ("保山市：500亿元[1]", "保山市的目标是多少？", FIGURES, []),
    ],
)
def test_a_value_is_held_to_the_place_its_passage_gives_it(sentence, question, passage, wrong):
    assert _wrong(sentence, question, [passage]) == wrong


def test_a_value_also_given_to_the_place_elsewhere_stands():
    other = "保山市同时被列为全省彝绣之乡示范点。"
    assert _wrong("保山市是“彝绣之乡”[1]", "保山市有什么称号？", [LIST]) == ["彝绣之乡"]
    assert _wrong("保山市是“彝绣之乡”[1]", "保山市有什么称号？", [LIST, other]) == []


def test_a_value_in_a_clause_that_names_no_place_is_not_judged():
    passage = "丽江市提出两个目标。到2025年，地区生产总值突破700亿元，保山市另行制定。"
    assert _wrong("保山市的目标是700亿元[1]", "保山市的目标是多少？", [passage]) == []


@pytest.mark.parametrize(
    ("sentence", "question", "passage"),
    [
        # a value written after a verb, an organisation, another place's policy or a comparison is paired with no one
        (
            "寿光市的项目须经市发改委审核后备案[1]。",
            "寿光市的项目由谁审核？",
            "寿光市申报的项目须经潍坊市发改委审核后备案。",
        ),
        (
            "潍坊市承接了“企业投资项目核准权限”[1]。",
            "潍坊市承接了什么？",
            "潍坊市承接山东省下放的“企业投资项目核准权限”。",
        ),
        ("保山市增长8%，高于全省平均水平（6%）[1]。", "保山市增长了多少？", "保山市增长8%，高于云南省平均水平6%。"),
        (
            "可获得一次性奖励100万元[1]。",
            "保山市能获得多少奖励？",
            "云南省对获评示范县的给予一次性奖励100万元，保山市按规定申报。",
        ),
        (
            "保山市地区生产总值为700亿元[1]。",
            "保山市地区生产总值？",
            "丽江市地区生产总值达到700亿元，保山市财政收入突破50亿元。",
        ),
        (
            "保山市获评“咖啡产业之都”[1]。",
            "保山市获评什么？",
            "认定品牌：文化旅游名城（丽江市）、咖啡产业之都（保山市）。",
        ),
        # a denial, a sentence giving several values, a list question, a remark naming another place
        ("保山市的定位并非“文化旅游名城”[1]。", "保山市的定位是文化旅游名城吗？", LIST),
        ("全省培育“文化旅游名城”“彝绣之乡”等品牌[1]。", "保山市的特色定位是什么？", LIST),
        ("1. 昆明市[1]", "哪些市获评全省先进市？", SHARED),
        ("保山市的经验也受到肯定[1]。", "哪个市获评全省先进市？", SHARED),
    ],
)
def test_ordinary_answers_are_not_judged(sentence, question, passage):
    """A reviewer's made-up answers: each is right, or not this check's to judge, and must stand as written."""
    assert _wrong(sentence, question, [passage]) == []
    assert read_as_paired(sentence, question, [passage], known_places([passage, question])) == sentence


def test_a_place_within_the_document_place_is_not_judged():
    """A city's document lists its counties' titles: each is the city's too."""
    passage = "重点打造甲县文化名城、乙县彝绣之乡。丽江市将统筹推进。"
    assert _wrong("丽江市的特色是“彝绣之乡”[1]", "丽江市有什么特色？", [LIST], about=("丽江市",)) == []
    assert _wrong("丽江市的特色是“彝绣之乡”[1]", "丽江市有什么特色？", [passage], about=("丽江市",)) == []


def test_sentences_naming_several_places_are_not_judged():
    assert _wrong("丽江市和保山市分别为700亿元和500亿元[1]", "两市目标？", [FIGURES]) == []


def test_nested_places_written_together_are_one_subject():
    passage = "云南省保山市腾冲县获评全省先进县，丽江市获评进步市。"
    assert _wrong("保山市获评“全省先进县”[1]", "保山市获评什么？", [passage]) == []


def test_laws_and_english_are_left_alone():
    law = "第十二条 国务院反垄断执法机构负责反垄断统一执法工作。第十三条 违反本法规定的，处五十万元以下的罚款。"
    assert _wrong("处五十万元以下的罚款[1]", "违反第十三条怎么处罚？", [law]) == []
    assert _wrong("Baoshan is the capital of coffee [1]", "What is Baoshan's title?", [LIST]) == []


def test_places_and_values_are_read_as_written():
    found = places_in(LIST, known_places([LIST]))
    assert [s for _, _, s in found] == ["丽江", "保山", "玉溪", "曲靖"]
    assert values_of("定位是“彝绣之乡”", LIST) == ["彝绣之乡"]
    assert values_of("到2025年达到700亿元", FIGURES) == ["700亿元"]  # a year is no value
    assert values_of("定位是“彝绣之乡”，到2025年达到700亿元", LIST + FIGURES) == []  # two things said: not one value
    assert values_of("定位是特色明显", LIST) == []  # four shared characters at least
    assert values_of("保山市的特色优势", LIST, exclude="保山市的特色优势是什么") == []  # asking words


@pytest.mark.parametrize(
    ("sentence", "question", "passage", "mended"),
    [
        ("保山市的定位是“彝绣之乡”[1]", "保山市的特色定位是什么？", LIST, "保山市的定位是“咖啡产业之都”[1]"),
        ("“文化旅游名城”[1]", "保山市的特色定位是什么？", LIST, "“咖啡产业之都”[1]"),
        ("曲靖市[1]", "哪个市被定位为白族文化高地？", LIST, "玉溪市[1]"),
        ("保山市：700亿元[1]", "保山市的目标是多少？", FIGURES, "保山市：500亿元[1]"),
        # the value is shared by two places: which one is meant is not plain, nothing is mended
        ("昆明市[1]", "哪个市是全省先进市？", SHARED, "昆明市[1]"),
        # another unit, or a predicate in another clause, is not the place's own item
        ("保山市：700亿元[1]", "保山市的目标？", "目标：丽江市700亿元、保山市50万人。", "保山市：700亿元[1]"),
        ("保山市为“进步市”[1]", "保山市评为什么？", "保山市新建公园8个，丽江市为进步市。", "保山市为“进步市”[1]"),
        # a traditional sentence is not patched with the simplified words the passages are read in
        ("保山市的定位是「彝繡之鄉」[1]", "保山市的定位？", LIST, "保山市的定位是「彝繡之鄉」[1]"),
    ],
)
def test_a_misread_value_is_answered_from_the_passage_s_own_pairing(sentence, question, passage, mended):
    assert read_as_paired(sentence, question, [passage], known_places([passage, question])) == mended
