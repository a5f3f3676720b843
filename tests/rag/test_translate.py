"""English answers rendered from a checked Chinese answer: a translation is shown only when it is faithful.

The answers are made up (a county plan in no corpus)."""

from __future__ import annotations

from rag.translate import ORIGINAL, UNTRANSLATED, render_english, translation_problems

ZH = "河阳县到2027年新增仓储面积18万平方米，投资12.5亿元[1]。"


def test_faithful_translation_passes():
    assert translation_problems("By 2027 Heyang adds 18万平方米 of storage, investing 1.25 billion yuan [1].", ZH) == []
    assert translation_problems("Storage: 18万平方米; investment: 12.5亿元 (2027) [1].", ZH) == []


def test_wrong_magnitude_unit_or_citation_fails():
    # 12.5亿 is 1.25 billion, not 12.5 billion; 18万平方米 must stay as written; [2] is cited by nothing
    assert translation_problems("Investment of 12.5 billion yuan [1].", ZH) == ["12.5 billion", "18万平方米 not kept"]
    assert "18万平方米 not kept" in translation_problems("180,000 square metres, 1.25 billion yuan [1].", ZH)
    assert translation_problems("18万平方米, 1.25 billion yuan [1][2].", ZH) == ["[2]"]
    assert translation_problems("18万平方米 by 2028, 1.25 billion yuan [1].", ZH) == ["2028"]


def test_render_shows_the_translation_then_the_chinese():
    text, check = render_english("Heyang adds 18万平方米 and invests 1.25 billion yuan by 2027", ZH)
    assert text == f"Heyang adds 18万平方米 and invests 1.25 billion yuan by 2027[1]\n{ORIGINAL}{ZH}"
    assert check.result == "pass"


def test_unfaithful_or_untranslated_rendering_leaves_the_chinese_alone():
    text, check = render_english("Heyang invests 12.5 billion yuan [1].", ZH)
    assert text == f"{UNTRANSLATED}{ZH}" and check.result == "fail" and "12.5 billion" in check.detail
    text, check = render_english("Heyang 新增仓储面积，投资 [1].", ZH)
    assert text.startswith(UNTRANSLATED) and "left in Chinese" in check.detail
    assert render_english("", ZH)[1].detail == "not shown: empty translation"
