"""The answer prompt: numbered passages, one script for the model, the shared system prefix."""

from __future__ import annotations

from rag.prompt import SYSTEM, answer_messages, rewrite_messages, translate_messages
from rag.select import ContextPassage
from rag.types import Chunk, DocMeta, Passage


def _ctx(text: str, n: int = 1) -> list[ContextPassage]:
    chunk = Chunk(f"d:{n}", "d.txt", text, "", 0, len(text), "山東意見")
    return [ContextPassage(n, Passage(chunk, n, 1.0, meta=DocMeta(title="山東出臺縣域經濟意見")), [text])]


def test_traditional_passages_and_question_reach_the_model_in_simplified():
    msgs = answer_messages("縣域經濟整體水平要達到什麼程度？", _ctx("縣域經濟整體水平持續走在全國前列。"), "zh-Hant")
    user = msgs[1]["content"]
    assert "[1]《山东出台县域经济意见》县域经济整体水平持续走在全国前列。" in user
    assert "问题：县域经济整体水平要达到什么程度？" in user
    assert "經" not in user and "繁體" not in user  # answered in simplified, converted for display


def test_english_question_keeps_english_instruction():
    user = answer_messages("What is the target?", _ctx("目标是7000亿元。"), "en")[1]["content"]
    assert "What is the target?" in user and "Answer in one complete English sentence" in user


def test_every_task_shares_the_system_prefix():
    # llama.cpp reuses the cached prefix only if the system text is identical.
    for msgs in (
        answer_messages("问题", _ctx("资料"), "zh-Hans"),
        rewrite_messages("它呢", [("问", "答")]),
        translate_messages("Q?"),
    ):
        assert msgs[0] == {"role": "system", "content": SYSTEM}


def test_list_questions_ask_for_every_item():
    from rag.prompt import LIST_HINT

    assert LIST_HINT["zh-Hans"] in answer_messages("坊子区重点发展哪些产业？", _ctx("资料"), "zh-Hans")[1]["content"]
    assert LIST_HINT["zh-Hans"] not in answer_messages("寿光市的GDP目标是多少？", _ctx("资料"), "zh-Hans")[1]["content"]
    assert LIST_HINT["en"] in answer_messages("What are the three tasks?", _ctx("资料"), "en")[1]["content"]


def test_goal_questions_ask_for_the_figures():
    from rag.prompt import GOAL_HINT

    assert (
        GOAL_HINT["zh-Hans"] in answer_messages("潍坊的目标是什么？", _ctx("目标是7000亿元。"), "zh-Hans")[1]["content"]
    )
    assert GOAL_HINT["en"] in answer_messages("What is Weifang's target?", _ctx("目标7000亿元。"), "en")[1]["content"]
    assert "目标" not in answer_messages("文号是什么？", _ctx("潍政字〔2024〕12号"), "zh-Hans")[1]["content"]
