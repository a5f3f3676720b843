"""The check of an English rendering of a checked Chinese answer (no model: the rendering is given)."""

from __future__ import annotations

from rag.cite import Check, Grounding
from rag.render import IN_CHINESE, checked_rendering
from rag.select import ContextPassage
from rag.types import Chunk, DocMeta, Passage

# Made-up text of another genre than the bundled corpus: a city's annual water report.
SRC = "到2030年，全市新建供水厂4座，日供水能力达到76633吨，由市水务局负责，总投资12.5亿元。"
CHINESE = "到2030年，全市新建供水厂4座，总投资12.5亿元[1]。"


def _ctx(text: str = SRC) -> list[ContextPassage]:
    chunk = Chunk("w:1", "water.txt", text, "", 0, len(text), "某市供水规划")
    return [ContextPassage(1, Passage(chunk, 1, 1.0, meta=DocMeta(title="某市供水规划")), [text])]


def _checked(rendered: str, chinese: str = CHINESE, question: str = "How many water plants will the city build?"):
    grounded = Grounding(chinese, False, "", [Check("model_refusal", "pass")])
    return checked_rendering(grounded, rendered, _ctx(), f"{question}\n到2030年全市新建多少座供水厂？")


def _last(g: Grounding) -> Check:
    return g.checks[-1]


def test_a_faithful_rendering_is_shown():
    g = _checked("By 2030 the city will build 4 new water plants with a total investment of 12.5亿元 [1].")
    assert not g.refused and g.answer.startswith("By 2030") and "[1]" in g.answer
    assert _last(g) == Check("in_english", "pass")
    assert g.checks[0].name == "model_refusal"  # the Chinese answer's checks are kept


def test_a_right_conversion_of_an_amount_passes():
    """12.5亿元 is 1.25 billion yuan: a correct conversion is no reason to fall back (false-positive test)."""
    g = _checked("By 2030 the city will build 4 water plants, investing 1.25 billion yuan in all [1].")
    assert _last(g).result == "pass" and "1.25 billion" in g.answer


def test_a_converted_figure_that_is_wrong_falls_back_to_the_chinese_answer():
    g = _checked("By 2030 the city will build 4 water plants, investing 125 billion yuan [1].")
    assert not g.refused and g.answer == IN_CHINESE + CHINESE
    assert _last(g).name == "in_english" and _last(g).result == "fail"


def test_a_rendering_that_drops_a_figure_falls_back():
    g = _checked("By 2030 the city will build new water plants [1].")
    assert g.answer == IN_CHINESE + CHINESE and "lost figures" in _last(g).detail and "4" in _last(g).detail


def test_a_rendering_left_in_chinese_falls_back():
    g = _checked("英文译文：到2030年，全市新建供水厂4座[1]。", "到2030年，全市新建供水厂4座[1]。")
    assert g.answer.startswith(IN_CHINESE) and "not English" in _last(g).detail


def test_an_organisation_kept_in_brackets_passes():
    chinese = "由市水务局负责[1]。"
    g = _checked("The municipal water bureau (市水务局) is responsible [1].", chinese, "Which body is responsible?")
    assert _last(g).result == "pass" and "市水务局" in g.answer


def test_a_label_before_the_rendering_is_removed():
    g = _checked("English: By 2030 the city will build 4 water plants, investing 12.5亿元 [1].")
    assert g.answer.startswith("By 2030")
