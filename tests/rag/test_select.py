"""Choosing what the LLM reads: sentences within a token budget, question kinds, and coverage."""

from __future__ import annotations

from rag.question import wants_metadata, wants_overview
from rag.select import (
    ContextPassage,
    best_covering,
    card_field_wanted,
    select_context,
    split_sentences,
)
from rag.types import Chunk, Passage

PLAN = (
    "到2025年,全市县域经济总量明显提升。力争县域地区生产总值突破7000亿元。"
    "支持坊子区重点发展智能农机、元宇宙等产业,寒亭区重点发展现代物流、生物基新材料等产业。"
)


def _passages(*texts: str) -> list[Passage]:
    return [Passage(Chunk(f"d:{n}", "d.txt", t, "", 0, len(t), "潍坊方案"), n, 1.0) for n, t in enumerate(texts, 1)]


def _chars(text: str) -> int:  # a stand-in tokenizer: one token per character
    return len(text)


def test_budget_keeps_the_sentences_that_match_the_question():
    ctx = select_context("坊子区重点发展哪些产业？", _passages(PLAN), _chars, 60, {}, 10)
    text = "".join(c.text for c in ctx)
    assert "坊子区重点发展智能农机" in text and "7000亿元" not in text
    assert sum(_chars(s) for c in ctx for s in c.sentences) <= 60


def test_figures_preferred_for_number_questions_and_passage_numbers_kept():
    ctx = select_context("县域地区生产总值目标是多少？", _passages("其他内容。", PLAN), _chars, 80, {}, 10)
    assert [c.n for c in ctx][-1] == 2 and "7000亿元" in ctx[-1].text


def test_long_sentences_are_cut_at_clauses():
    parts = split_sentences(PLAN, max_chars=30)
    assert all(len(p) <= 30 for p in parts) and "".join(parts) == PLAN


def test_question_kinds():
    assert wants_overview("山东意见从哪几个方面部署县域经济工作？")
    assert wants_overview("Summarise the main areas of the reply.")
    assert not wants_overview("寿光市2025年的GDP目标是多少？")
    assert wants_metadata("这份通知的文号是什么？") and not wants_metadata("坊子区重点发展哪些产业？")


def test_best_covering_passage_holds_the_largest_share_of_question_words():
    ctx = [ContextPassage(n, p, [p.chunk.text]) for n, p in enumerate(_passages("其他内容。", PLAN), 1)]
    share, best = best_covering("坊子区重点发展哪些产业？", ctx, {}, 10)
    assert share == 1.0 and best is ctx[1]
    assert best_covering("青岛市重点发展哪些产业？", ctx, {}, 10)[0] < 0.8
    assert best_covering("青岛", [], {}, 10) == (0.0, None)


def test_card_fields_asked_for():
    assert card_field_wanted("这份意见是哪一天发布的？", "发布日期：2023年12月15日；")
    assert not card_field_wanted("这份意见是哪一天发布的？", "来源：山东省政府网站。")
    assert card_field_wanted("两份答复的落款日期分别是什么？", "落款日期：2022年5月27日。")
    assert not card_field_wanted("两份答复的落款日期分别是什么？", "发布日期：2022年5月30日；")  # the other date
    assert card_field_wanted("Which office issued it?", "发文机关：潍坊市人民政府；")
    card = Passage(
        Chunk(
            "d:card",
            "d.txt",
            "发文机关：某县人民政府；\n发布日期：2024年1月2日；\n来源：某县政府网站。",
            "文件信息",
            0,
            0,
        ),
        1,
        1.0,
    )
    ctx = select_context("这份文件哪天发布的？", [*_passages(PLAN), card], _chars, 200, {}, 10)
    assert [c.text for c in ctx if c.passage.chunk.is_card] == ["发布日期：2024年1月2日；"]
