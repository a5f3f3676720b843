"""The local LLM backend: greedy answers that do not depend on what was asked before (real model, short runs)."""

from __future__ import annotations

import pytest

from rag.generate import load_generator
from rag.prompt import SYSTEM

pytestmark = pytest.mark.llm


def _msgs(question: str) -> list[dict[str, str]]:
    passage = "[1]《潍坊方案》力争到2025年,寿光市gdp完成1100亿元以上,青州市达到800亿元左右。"
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": f"资料：\n{passage}\n\n问题：{question}"},
    ]


def test_same_prompt_same_answer_whatever_came_before(pipeline):
    gen = pipeline.generator
    q = _msgs("青州市2025年的GDP目标是多少？")
    first = "".join(gen.stream(q, 24))
    again = "".join(gen.stream(q, 24))  # the whole prompt is cached now
    "".join(gen.stream(_msgs("寿光市2025年的GDP目标是多少？"), 24))  # shares the passage prefix
    after_other = "".join(gen.stream(q, 24))
    assert "800" in first
    assert first == again == after_other


def test_cache_keeps_only_the_system_prompt(pipeline):
    gen = pipeline.generator
    "".join(gen.stream(_msgs("寿光市的目标？"), 4))
    gen._reuse_only_system_prefix(_msgs("青州市的目标？"))
    assert gen._llm.n_tokens == gen.count_tokens(SYSTEM)


def test_empty_cache_is_filled_with_the_system_prompt_alone(pipeline):
    # A process's first answer must be computed like every later one: from the system prompt cached on its own.
    gen = pipeline.generator
    q = _msgs("青州市2025年的GDP目标是多少？")
    warm = "".join(gen.stream(q, 24))
    gen._llm.reset()
    gen._reuse_only_system_prefix(q)
    assert gen._llm.n_tokens == gen.count_tokens(SYSTEM)
    gen._llm.reset()
    assert "".join(gen.stream(q, 24)) == warm


def test_one_generator_per_model_and_serialised_calls(pipeline):
    gen = pipeline.generator
    assert (
        load_generator(
            pipeline.settings.llm, pipeline.settings.n_ctx, pipeline.settings.n_threads, pipeline.settings.seed
        )
        is gen
    )
    calls = gen.calls
    "".join(gen.stream(_msgs("青州市的目标？"), 2))
    assert gen.calls == calls + 1 and gen.active == 0 and gen.max_active == 1


def _wait_idle(gen, seconds: float = 5.0) -> bool:
    """True once no call holds the model; the bound is generous (a stop takes one token, ~40 ms here)."""
    import time

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if gen.active == 0 and gen.held_for() == 0.0:
            return True
        time.sleep(0.02)
    return False


def test_a_reader_that_closes_mid_answer_frees_the_model(pipeline):
    gen = pipeline.generator
    calls = gen.calls
    tokens = gen.stream(_msgs("请逐字复述资料全文，然后再复述一遍。"), 150)
    next(tokens)
    assert gen.active == 1
    tokens.close()
    assert _wait_idle(gen), "closing the stream must stop the model"
    assert gen.calls == calls + 1
    assert "800" in "".join(gen.stream(_msgs("青州市2025年的GDP目标是多少？"), 24))


def test_a_reader_that_walks_away_without_closing_cannot_keep_the_model(pipeline):
    """A reader that neither reads on nor closes (a hung client): the worker still ends and frees the model."""
    gen = pipeline.generator
    tokens = gen.stream(_msgs("请逐字复述资料全文。"), 40)
    next(tokens)  # then never touched again until the end of the test
    assert _wait_idle(gen, 30), "the worker must finish its bounded run without the reader"
    assert "800" in "".join(gen.stream(_msgs("青州市2025年的GDP目标是多少？"), 24))
    tokens.close()


def test_deadline_stops_a_long_generation(pipeline):
    from rag.errors import ModelError

    gen = pipeline.generator
    hit, saved = gen.deadlines_hit, gen.deadline_s
    gen.deadline_s = 0.3
    try:
        with pytest.raises(ModelError, match="超时"):
            "".join(gen.stream(_msgs("请逐字复述资料全文，然后再复述三遍。"), 400))
    finally:
        gen.deadline_s = saved
    assert gen.deadlines_hit == hit + 1 and _wait_idle(gen)


def test_an_error_in_the_model_reaches_the_reader_and_frees_the_model(pipeline):
    gen = pipeline.generator
    too_long = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "县域经济发展。" * 1500}]
    with pytest.raises(ValueError, match="context window"):
        "".join(gen.stream(too_long, 10))
    assert _wait_idle(gen)
    assert "800" in "".join(gen.stream(_msgs("青州市2025年的GDP目标是多少？"), 24))
