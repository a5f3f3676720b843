"""Scope rules (rag/scope.py), suggestions from a question, and a scope through the pipeline (no LLM needed)."""

from __future__ import annotations

import pytest

from rag.errors import RagError
from rag.scope import doc_type, make_scope, scope_from_json, suggest
from rag.types import DocMeta, Scope

WEIFANG, QUZHOU = "002_78ad54bd58fc9a9e.txt", "004_9df9e4a75860d1fb.txt"


@pytest.mark.parametrize(
    ("title", "kind"),
    [
        ("中华人民共和国价格法", "法律"),
        ("关于印发潍坊市县域经济高质量发展实施方案(2024-2025年)的通知", "通知"),
        ("六方面20條措施!山東出臺進一步加快縣域經濟高質量發展意見", "意见"),
        ("对市政协十六届一次会议第502号提案《关于推动产业振兴 谋强县域经济的建议》的答", "答复"),
        ("答记者问丨山东提出“三个一”重要制度性安排,推动县域经济发展", "新闻"),
        ("某市城市管理条例", "条例"),
        ("一份没有类型词的文件", "其他"),
    ],
)
def test_document_type_from_the_title(title, kind):
    assert doc_type(DocMeta(title=title)) == kind


def test_scope_json_round_trip_and_errors():
    scope = scope_from_json({"places": ["潍坊"], "since": "2024", "until": "2024-06"})
    assert scope == Scope(places=("潍坊",), since="2024-01-01", until="2024-06-30")
    assert scope_from_json(scope.to_json()) == scope
    assert scope_from_json({}) is None and scope_from_json(None) is None
    with pytest.raises(RagError, match="unknown scope key"):
        scope_from_json({"place": "潍坊"})
    with pytest.raises(RagError, match="list of strings"):
        scope_from_json({"places": [1]})


def test_a_question_suggests_a_scope_but_only_for_places_indexed_and_issuing_years():
    places = {"潍坊", "衢州", "临沂"}
    assert suggest("潍坊市县域经济的目标是什么？", places) == Scope(places=("潍坊",))
    assert suggest("青岛市的目标是什么？", places) is None  # no document about 青岛: nothing to offer
    assert suggest("寿光市2025年的GDP目标是多少？", places) is None  # a target year, not an issuing date
    hint = suggest("衢州2022年印发的答复说了什么？", places)
    assert hint == Scope(places=("衢州",), since="2022-01-01", until="2022-12-31")


def test_pipeline_answers_within_the_scope_and_notes_what_it_left_out(index_dir):
    """Refused before generation (潍坊's plan does not mention 衢州), so no model is loaded."""
    from rag.config import Settings
    from rag.pipeline import Pipeline

    pipe = Pipeline(Settings(index_dir=index_dir))
    answer = pipe.ask("衢州市规上工业总产值的目标是多少？", scope=make_scope(places=["潍坊"]))
    assert answer.refused and {p["doc"] for p in answer.passages} == {WEIFANG}
    assert "所选范围（地点 潍坊）之外的文件可能回答这个问题" in answer.notice and "衢州" in answer.notice
    assert pipe.loaded_generator is None
