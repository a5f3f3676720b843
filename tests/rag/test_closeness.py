"""Re-citing English answers by meaning, with the real multilingual embedder, on made-up passages."""

from __future__ import annotations

import pytest

from rag.cite import ground, recite
from rag.closeness import SentenceCloseness
from rag.release import Release
from rag.select import ContextPassage
from rag.types import Chunk, DocMeta, Passage

# A made-up city plan: three passages on unrelated topics, in no bundled document.
SEWAGE = "该市计划新建三座污水处理厂，日处理能力提高到每天20万吨。"
REWARD = "对新认定的国家级专精特新企业，市财政给予一次性奖励。"
LIBRARY = "全市公共图书馆实现乡镇全覆盖，新增流动图书车12辆。"
QUESTION = "What does the city give newly recognised national specialised enterprises?"


def _ctx() -> list[ContextPassage]:
    out = []
    for n, text in enumerate((SEWAGE, REWARD, LIBRARY), 1):
        chunk = Chunk(f"plan:{n}", "plan.txt", text, "", 0, len(text), "某市发展规划")
        out.append(ContextPassage(n, Passage(chunk, n, 1.0, meta=DocMeta(title="某市发展规划")), [text]))
    return out


@pytest.fixture(scope="module")
def closeness(embedder) -> SentenceCloseness:
    return SentenceCloseness(embedder)


def test_the_passage_saying_it_is_the_closest(closeness):
    near = closeness("Newly recognised national specialised enterprises get a one-time reward.", _ctx())
    assert max(near, key=near.get) == 2
    near = closeness("The city will build three sewage treatment plants.", _ctx())
    assert max(near, key=near.get) == 1


def test_english_sentence_is_recited_to_the_passage_it_draws_on(closeness):
    answer = "Newly recognised national specialised enterprises get a one-time reward from the city. [3]"
    assert recite(answer, _ctx(), closeness).endswith("[2]")
    assert recite(answer, _ctx()).endswith("[3]")  # word overlap alone cannot tell: no shared words


def test_recite_by_meaning_leaves_right_citations_and_figures_alone(closeness):
    right = "The city will build three sewage treatment plants. [1]"
    assert recite(right, _ctx(), closeness) == right
    # the library passage is closer in meaning, but only [1] holds the figure 20: figures outrank meaning
    held = "Public libraries will get 20 more vehicles. [1]"
    assert recite(held, _ctx(), closeness) == held
    # a figure is held by value, as the figure check reads it: 200,000 is [1]'s 20万, which [3] does not hold
    rewritten = "Public libraries will get vehicles for 200,000 more readers. [3]"
    assert recite(rewritten, _ctx(), closeness).endswith("[1]")


def test_ground_and_release_recite_english_alike_and_chinese_by_words(closeness):
    answer = "Newly recognised national specialised enterprises get a one-time reward from the city. [3]"
    g = ground(answer, _ctx(), "en", QUESTION, closeness=closeness)
    assert not g.refused and g.answer.endswith("[2]")
    release = Release(_ctx(), "en", QUESTION, (), closeness)
    release.feed(answer + " ")
    _, rest = release.finish(ground(answer, _ctx(), "en", QUESTION, closeness=closeness))
    assert release.shown + rest == g.answer
    # a Chinese answer keeps the word-overlap rule (meaning re-citing did not pay for Chinese on the tune split)
    zh = "新认定的国家级专精特新企业可获得一次性奖励[3]。"
    assert ground(zh, _ctx(), "zh-Hans", "专精特新企业有什么奖励？", closeness=closeness).answer.endswith("[2]。")
