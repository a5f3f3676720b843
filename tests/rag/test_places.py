"""Place names of an index and their pinyin readings; made-up places, no corpus text."""

from __future__ import annotations

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
