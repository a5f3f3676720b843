"""A question that waits for the model shows the user's place in the queue (real model, real pipeline)."""

from __future__ import annotations

import pytest

from rag.prompt import SYSTEM
from ui.chat import respond

pytestmark = pytest.mark.llm

LONG = [
    {"role": "system", "content": SYSTEM},
    {"role": "user", "content": "资料：\n[1]寿光市gdp完成1100亿元以上。\n\n问题：请逐字复述资料全文，然后再复述三遍。"},
]


def _bot(chat: list[dict]) -> str:
    return chat[-1]["content"]


def test_a_waiting_question_is_told_how_many_are_ahead(pipeline):
    gen = pipeline.generator
    held = gen.stream(LONG, 300)  # another user's answer holds the model
    next(held)
    shown: list[str] = []
    for _, chat, _, _, _ in respond(pipeline, "寿光市2025年的GDP目标是多少？", [], [], {}):
        shown.append(_bot(chat))
        if "排队中" in shown[-1] and held is not None:
            assert gen.waiting == 1
            held.close()  # that answer ends: this question's turn comes
            held = None
    queued = [s for s in shown if "排队中" in s]
    assert queued and "前面还有 1 个问题" in queued[0], shown
    assert "1100亿元" in shown[-1] and "排队中" not in shown[-1]
    after = shown[shown.index(queued[-1]) + 1]
    assert "排队中" not in after  # once admitted, the line says what happens now
    assert gen.active == 0 and gen.waiting == 0


def test_no_queue_line_when_the_model_is_free(pipeline):
    shown = [_bot(chat) for _, chat, _, _, _ in respond(pipeline, "寿光市2025年的GDP目标是多少？", [], [], {})]
    assert not any("排队中" in s for s in shown)
