"""The answer prompt: numbered passages, one script for the model, the shared system prefix."""

from __future__ import annotations

import pytest

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


def test_a_hint_switched_off_for_an_ablation_leaves_the_other():
    from rag.prompt import GOAL_HINT, LIST_HINT

    q = "到2030年要实现哪些目标？"  # a list question about goals: both hints
    both = answer_messages(q, _ctx("资料"), "zh-Hans")[1]["content"]
    assert LIST_HINT["zh-Hans"] in both and GOAL_HINT["zh-Hans"] in both
    no_list = answer_messages(q, _ctx("资料"), "zh-Hans", off=("list_hint",))[1]["content"]
    assert LIST_HINT["zh-Hans"] not in no_list and GOAL_HINT["zh-Hans"] in no_list
    no_goal = answer_messages(q, _ctx("资料"), "zh-Hans", off=("goal_hint",))[1]["content"]
    assert LIST_HINT["zh-Hans"] in no_goal and GOAL_HINT["zh-Hans"] not in no_goal


def test_the_hints_a_question_gets_are_named_once_for_prompt_and_trace():
    """The pipeline records `hints_for` as the rules that acted; the prompt holds exactly those hints."""
    from rag.prompt import GOAL_HINT, LIST_HINT, hints_for

    made_up = {  # questions about no bundled document
        "到2030年要实现哪些目标？": ["list_hint", "goal_hint"],
        "本条例规定了哪些禁止行为？": ["list_hint"],
        "某市2030年的森林覆盖率目标是多少？": ["goal_hint"],
        "本条例自何时起施行？": [],
    }
    for question, hints in made_up.items():
        assert hints_for(question) == hints, question
        prompt = answer_messages(question, _ctx("资料"), "zh-Hans")[1]["content"]
        assert (LIST_HINT["zh-Hans"] in prompt, GOAL_HINT["zh-Hans"] in prompt) == (
            "list_hint" in hints,
            "goal_hint" in hints,
        )


@pytest.mark.llm
def test_history_is_fitted_to_its_token_budget_newest_first(pipeline):
    """Very long earlier turns are cut and old ones dropped, so a follow-up's rewrite prompt always fits."""
    from rag.prompt import fit_history

    count = pipeline.generator.count_tokens
    long_q = ("寿光市的蔬菜产业发展情况如何，有哪些具体的目标和举措？" * 200)[:5500]
    history = [(f"问题{i}", f"回答{i}") for i in range(98)] + [(long_q, "回答甲"), (long_q, "回答乙")]
    fitted = fit_history(history, count, budget=700)
    assert fitted and fitted[-1][1].startswith("回答乙")  # the newest turn is kept
    assert sum(count(q) + count(a) for q, a in fitted) <= 700
    assert all(len(q) < len(long_q) for q, _ in fitted)  # long turns are cut, not dropped whole
    msgs = rewrite_messages("那青州市呢？", history, count, 700)
    total = sum(count(m["content"]) for m in msgs) + 60  # plus the rewrite's own answer
    assert total < pipeline.settings.n_ctx


@pytest.mark.llm
def test_short_history_is_kept_as_it_is(pipeline):
    from rag.prompt import fit_history

    history = [("寿光市2025年的GDP目标是多少？", "寿光市2025年的GDP目标是1100亿元以上。[1]")]
    assert fit_history(history, pipeline.generator.count_tokens, budget=700) == history
