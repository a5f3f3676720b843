from __future__ import annotations

import pytest

from rag.script import detect_lang, to_script, to_simplified


@pytest.mark.parametrize(
    ("q", "lang"),
    [
        ("寿光市2025年的GDP目标是多少？", "zh-Hans"),
        ("壽光市2025年的GDP目標是多少？", "zh-Hant"),
        ("山東省縣域經濟的目標", "zh-Hant"),
        ("What is Shouguang's GDP target for 2025?", "en"),
        ("GDP target of 寿光 in 2025?", "en"),
    ],
)
def test_detect_lang(q, lang):
    assert detect_lang(q) == lang


def test_round_trip():
    assert to_simplified("縣域經濟") == "县域经济"
    assert to_script("县域经济", "zh-Hant") == "縣域經濟"
    assert to_script("县域经济", "zh-Hans") == "县域经济"
