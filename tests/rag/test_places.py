"""Places in answers read back to the index's names, and the answer_places check; made-up places, no corpus text."""

from __future__ import annotations

from rag.cite import ground
from rag.places import known_places, pinyin_table, romanized
from rag.select import ContextPassage
from rag.types import Chunk, DocMeta, Passage

ARCHIVE = [  # made-up lines an index might hold
    "丽水市下辖松阳县、遂昌县。丽水市推进科技园区建设，自公布之日起施行。",
    "浙江省支持松阳县、遂昌县发展茶产业；各县区要加强城市管理。",
]
PLACES = known_places(ARCHIVE)
TEXT = "松阳县和遂昌县入选首批茶产业强县，茶园面积分别达到15万亩和8万亩。"


def _ctx(text: str = TEXT) -> list[ContextPassage]:
    chunk = Chunk("t:1", "tea.txt", text, "", 0, len(text), "茶产业发展报告")
    return [ContextPassage(1, Passage(chunk, 1, 1.0, meta=DocMeta(title="茶产业发展报告")), [text])]


def test_only_administrative_names_are_known_places():
    assert set(PLACES) >= {"松阳", "遂昌", "丽水", "浙江"}
    assert not set(PLACES) & {"科技园", "之日起", "各县", "城市", "公布之日"}
    assert PLACES["松阳"] == 2


def test_pinyin_reads_back_to_chinese():
    table = pinyin_table({"松阳": 12, "遂昌": 8})
    assert romanized("Songyang and Suichang counties, and Paris.", table) == [
        ("Songyang", "松阳"),
        ("Suichang", "遂昌"),
    ]


def test_answer_places_must_be_in_the_cited_passage():
    ok = ground("入选的是松阳县和遂昌县。[1]", _ctx(), "zh-Hans", "哪些县入选茶产业强县？", places=PLACES)
    assert not ok.refused, ok.checks
    bad = ground("入选的是松阳县和丽水市。[1]", _ctx(), "zh-Hans", "哪些县入选茶产业强县？", places=PLACES)
    assert bad.refused and "丽水" in bad.reason


def test_english_answer_places_are_checked_in_chinese():
    q = "Which counties were named strong tea counties?"
    ok = ground("Songyang and Suichang counties [1].", _ctx(), "en", q, places=PLACES)
    assert not ok.refused, ok.checks
    bad = ground("Songyang County and Lishui City [1].", _ctx(), "en", q, places=PLACES)
    assert bad.refused and "丽水" in bad.reason


def test_answer_places_does_not_fire_on_ordinary_answers():
    q = "浙江省哪些县入选茶产业强县？"
    # The province, a non-place word and a place the index does not know all pass.
    for answer in ("浙江省的松阳县和遂昌县。[1]", "依托科技园区，松阳县入选。[1]", "松阳县和缙云县。[1]"):
        g = ground(answer, _ctx(), "zh-Hans", q, places=PLACES)
        assert not g.refused, (answer, g.checks)
    assert not ground("Tea in Zhejiang: Songyang [1].", _ctx(), "en", q, places=PLACES).refused
