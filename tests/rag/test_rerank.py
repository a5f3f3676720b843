"""Rerankers on made-up passages (no bundled text): the answering passage moves up, nothing is dropped."""

from __future__ import annotations

import pytest

from rag.rerank import RERANKERS, LlmReranker, NoReranker, RerankError, SentenceReranker, reranker_for
from rag.types import Chunk, Passage

QUESTION = "青禾湾渔业合作社的冷库总容量是多少吨？"
# Invented text about an invented place: the last passage answers, the others share its words.
TEXTS = [
    "青禾湾渔业合作社成立于二〇一一年，现有社员四百余户，主要从事近海捕捞和水产品初加工。",
    "合作社每年春季组织社员参加安全培训，培训内容包括船只检修、救生设备使用和恶劣天气应对。",
    "青禾湾码头改造工程分两期实施，一期新建泊位六个，二期将扩建停车场和游客服务中心。",
    "合作社与三家超市签订了长期供货协议，主要供应带鱼、鲳鱼和梭子蟹等海产品。",
    "去年青禾湾渔业合作社新建的冷库投入使用，冷库总容量达到一千二百吨，可满足旺季储存需要。",
]
ANSWER = 4


def _passages() -> list[Passage]:
    chunks = [
        Chunk(id=f"made-up:{i}", doc_id="made-up.txt", text=t, heading="", start=0, end=len(t))
        for i, t in enumerate(TEXTS)
    ]
    return [Passage(chunk=c, rank=i + 1, score=1.0 / (i + 1)) for i, c in enumerate(chunks)]


def _check_kept(before: list[Passage], after: list[Passage]) -> None:
    assert sorted(p.chunk.id for p in after) == sorted(p.chunk.id for p in before)
    assert [p.rank for p in after] == list(range(1, len(before) + 1))


def _rank_of_answer(ranked: list[Passage]) -> int:
    return next(p.rank for p in ranked if p.chunk.id == f"made-up:{ANSWER}")


def test_none_is_the_identity():
    passages = _passages()
    out = NoReranker().rerank(QUESTION, passages)
    assert [(p.chunk.id, p.rank, p.score) for p in out] == [(p.chunk.id, p.rank, p.score) for p in passages]


def test_unknown_name_is_a_clear_error(embedder):
    with pytest.raises(RerankError, match=r"unknown reranker 'cross'.*none, sentence, llm"):
        reranker_for("cross", embedder, lambda: None)


def test_llm_reranker_refuses_a_remote_model(embedder):
    with pytest.raises(RerankError, match="needs the local model"):
        reranker_for("llm", embedder, lambda: None, llm_spec="openai:http://127.0.0.1:9/v1")


def test_names_build(embedder):
    assert [reranker_for(n, embedder, lambda: None).name for n in RERANKERS] == list(RERANKERS)


def test_sentence_reranker_moves_the_answer_up(embedder):
    passages = _passages()
    reranker = SentenceReranker(embedder)
    best = reranker.best_sentence_scores(QUESTION, passages)
    assert max(range(len(best)), key=best.__getitem__) == ANSWER  # the answering sentence is the closest
    out = reranker.rerank(QUESTION, passages)
    _check_kept(passages, out)
    assert _rank_of_answer(out) < passages[ANSWER].rank
    assert [p.rank for p in passages] == [1, 2, 3, 4, 5]  # the caller's list is not changed in place


@pytest.mark.llm
def test_llm_reranker_moves_the_answer_up_and_shares_the_lock():
    from rag.generate import load_generator

    gen = load_generator("qwen2.5-1.5b")
    calls = gen.calls
    passages = _passages()
    out = LlmReranker(lambda: gen).rerank(QUESTION, passages)
    _check_kept(passages, out)
    assert _rank_of_answer(out) < passages[ANSWER].rank
    assert gen.calls == calls + 1 and gen.max_active == 1 and gen.active == 0  # one hold of the model, released


@pytest.mark.llm
def test_llm_scores_leave_the_answer_unchanged():
    """Scoring leaves only the shared system prefix behind: the next answer is the one it would have been."""
    from rag.generate import load_generator
    from rag.prompt import SYSTEM

    gen = load_generator("qwen2.5-1.5b")
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": f"[1]{TEXTS[ANSWER]}\n{QUESTION}"}]
    before = "".join(gen.stream(messages, 12))
    LlmReranker(lambda: gen).rerank(QUESTION, _passages())
    assert "".join(gen.stream(messages, 12)) == before


@pytest.mark.llm
@pytest.mark.parametrize("name", ["sentence", "llm"])
def test_pipeline_with_rerank_answers(index_dir, name):
    from rag.config import Settings
    from rag.pipeline import Pipeline

    pipe = Pipeline(Settings(index_dir=index_dir, rerank=name, rerank_top=6))
    a = pipe.ask("寿光市2025年的GDP目标是多少？")
    assert not a.refused and "1100亿元" in a.answer
    assert [p["rank"] for p in a.passages] == list(range(1, pipe.settings.top_k + 1))
    assert len({p["chunk_id"] for p in a.passages}) == pipe.settings.top_k


def test_pipeline_refuses_an_unknown_reranker_before_loading_anything(index_dir):
    from rag.config import Settings
    from rag.pipeline import Pipeline

    with pytest.raises(RerankError, match="unknown reranker 'bogus'"):
        Pipeline(Settings(index_dir=index_dir, rerank="bogus"))
