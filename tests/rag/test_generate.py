"""The local LLM backend: greedy answers that do not depend on what was asked before (real model, short runs)."""

from __future__ import annotations

from rag.generate import load_generator
from rag.prompt import SYSTEM


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
