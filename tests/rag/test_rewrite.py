"""Follow-up detection and romanized place names (no LLM needed)."""

from __future__ import annotations

from rag.rewrite import needs_rewrite, romanized_places


def test_romanized_places_from_the_corpus_gazetteer():
    places = {"衢州市", "潍坊", "寿光市", "平邑县"}
    q = "Compare Quzhou's PV with Wei-fang's target. Did Pingyi County or Yantai win? What about Shouguang City?"
    assert romanized_places(q, places) == (
        "Compare 衢州's PV with 潍坊's target. Did 平邑 County or Yantai win? What about 寿光 City?"
    )


def test_homophones_resolved_by_mentions():
    assert romanized_places("What do Linyi and Weifang aim for?", {"临邑": 2, "临沂市": 40, "潍坊": 50}) == (
        "What do 临沂 and 潍坊 aim for?"
    )


def test_sentence_words_are_left_alone():
    assert romanized_places("What is the GDP target?", {"衢州市"}) == "What is the GDP target?"


def test_needs_rewrite():
    history = [("寿光市2025年的GDP目标是多少？", "1100亿元[1]")]
    assert needs_rewrite("那青州市呢？", history)
    assert needs_rewrite("它的目标年份是?", history)
    assert not needs_rewrite("那青州市呢？", None)
    assert not needs_rewrite("潍坊市县域经济高质量发展实施方案的文号是什么？请说明发布机关", history)
