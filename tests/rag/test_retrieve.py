"""Hybrid retrieval on the real index: the right passage ranks first whatever the script."""

from __future__ import annotations

import pytest

from rag.config import Settings
from rag.retrieve import Retriever


@pytest.fixture(scope="module")
def retriever(index_dir, embedder):
    from index import store

    return Retriever(store.load(index_dir), embedder, Settings(index_dir=index_dir))


@pytest.mark.parametrize(
    ("question", "doc", "text"),
    [
        ("寿光市2025年的GDP目标是多少？", "002_78ad54bd58fc9a9e.txt", "1100亿元"),
        ("壽光市2025年的GDP目標是多少？", "002_78ad54bd58fc9a9e.txt", "1100亿元"),
        ("沂水县获得了什么荣誉", "000_7b47e0ef960b77e7.txt", "沂水县"),
        ("山东省县域经济2035年的目标", "003_f987b7789e2746bc.txt", "2035"),
        ("衢州市规上工业总产值目标", "004_9df9e4a75860d1fb.txt", "5000亿元"),
    ],
)
def test_gold_passage_in_top5(retriever, question, doc, text):
    top = retriever.search(question, top_k=5)
    assert any(p.chunk.doc_id == doc and text in p.chunk.text for p in top), [p.chunk.text[:40] for p in top]


def test_scripts_retrieve_the_same(retriever):
    a = [p.chunk.id for p in retriever.search("县域经济高质量发展的评价激励", top_k=3)]
    b = [p.chunk.id for p in retriever.search("縣域經濟高質量發展的評價激勵", top_k=3)]
    assert a == b


def test_modes_and_floor(retriever):
    q = "寿光市2025年的GDP目标"
    for mode in ("dense", "bm25", "hybrid"):
        ranked = retriever.search(q, top_k=5, mode=mode)
        assert [p.rank for p in ranked] == list(range(1, len(ranked) + 1))
        assert ranked[0].chunk.doc_id == "002_78ad54bd58fc9a9e.txt"
    strict = Retriever(retriever.index, retriever.embedder, Settings(min_score=0.99))
    assert strict.search(q) == []


def test_passage_json_shape(retriever):
    p = retriever.search("寿光市2025年的GDP目标", top_k=1)[0]
    assert set(p.to_json()) == {"rank", "doc", "chunk_id", "score", "text", "page", "dates"}
    assert p.to_json()["page"] is None and p.to_json()["dates"] == {}  # a policy text file: no pages, no law dates


def test_split_places_gives_each_place_passages(retriever):
    split = Retriever(retriever.index, retriever.embedder, Settings(split_places=True))
    top = split.search("潍坊和衢州各自提出了什么总量目标？", top_k=5)
    assert {"002_78ad54bd58fc9a9e.txt", "004_9df9e4a75860d1fb.txt"} <= {p.chunk.doc_id for p in top}
    assert [p.rank for p in top] == [1, 2, 3, 4, 5]


def test_document_cards_answer_questions_about_the_documents(retriever):
    top = retriever.search("臨沂和衢州兩份答復的落款日期分別是什麼？", top_k=5)
    cards = {p.chunk.id for p in top[:3] if p.chunk.is_card}
    assert cards == {"000_7b47e0ef960b77e7:card", "004_9df9e4a75860d1fb:card"}
    assert [p.rank for p in top] == list(range(1, len(top) + 1))
    top = retriever.search("山东这份意见是哪一天发布的？来源是哪里？", top_k=5)
    assert top[1].chunk.id == "003_f987b7789e2746bc:card"
    for q in ("寿光市2025年的GDP目标是多少？", "临沂市发改委在哪三个方面推进产业兴市强县？"):
        assert not any(p.chunk.is_card for p in retriever.search(q, top_k=5))  # not a question about a document


def test_no_card_of_a_document_the_question_did_not_find(retriever):
    # The 文号 of a document that one of ours only mentions: 潍坊's card (with its own 文号) must not be offered.
    q = "《关于实施工业强市战略推动工业高质量发展的若干意见》的文号是什么？"
    plain = retriever.search(q, top_k=5, mode="dense")  # no cards in the plain modes
    top = retriever.search(q, top_k=5)
    assert not any(p.chunk.is_card for p in plain)
    assert "002_78ad54bd58fc9a9e:card" not in {p.chunk.id for p in top}
    found = {p.chunk.doc_id for p in top[:4] if not p.chunk.is_card}
    assert all(p.chunk.doc_id in found for p in top if p.chunk.is_card)


def _chunks(doc: str, texts: list[str]):
    from rag.types import Chunk

    return [Chunk(f"{doc}:{i}", doc, t, "", 0, len(t), doc) for i, t in enumerate(texts)]


# made-up documents, in no corpus
RIVER = ["河阳县与清溪县合作建设跨县产业园。", "河阳县新建物流园，连接清溪县和石门市。"]
HILLS = ["石门市推进山区公路改造，覆盖北坡镇。"]


def test_cached_gazetteer_equals_the_plain_one_and_is_read_back(tmp_path):
    import json

    from rag.retrieve import cached_gazetteer, gazetteer

    chunks = _chunks("river.txt", RIVER) + _chunks("hills.txt", HILLS)
    plain = gazetteer(RIVER + HILLS)
    assert {"河阳", "清溪"} <= plain
    assert cached_gazetteer(chunks, tmp_path) == plain
    files = sorted(tmp_path.glob("*.json"))
    assert len(files) == 2  # one entry per document
    # the second start reads the entries: an entry's words come back (filtered as usual) without tagging again
    for f in files:
        tagged = json.loads(f.read_text(encoding="utf-8"))
        f.write_text(json.dumps([*tagged, "白沙县"], ensure_ascii=False), encoding="utf-8")
    assert cached_gazetteer(chunks, tmp_path) == plain | {"白沙县"}
    # a damaged entry is tagged again; a document whose text changed gets a new entry
    files[0].write_text("{not json", encoding="utf-8")
    assert "白沙县" in cached_gazetteer(chunks, tmp_path)  # the other entry still holds it
    changed = _chunks("river.txt", [*RIVER, "河阳县还将建设码头。"]) + _chunks("hills.txt", HILLS)
    cached_gazetteer(changed, tmp_path)
    assert len(list(tmp_path.glob("*.json"))) == 3


def test_cached_gazetteer_without_a_writable_cache_still_answers(tmp_path):
    from rag.retrieve import cached_gazetteer, gazetteer

    blocked = tmp_path / "file"
    blocked.write_text("x", encoding="utf-8")  # a file where the cache folder should be
    assert cached_gazetteer(_chunks("river.txt", RIVER), blocked / "sub") == gazetteer(RIVER)


# a made-up county regulation: articles that share words with a vague translation
RIVER_RULES = (
    "河川管理条例\n第一章 总则\n第一条 为了保护河川，制定本条例。\n"
    "第五条 外国公民在本县境内违反本条例被遣返的，其证照由县司法局有关机构接收。\n"
    "第六条 外国公民入境从事河道作业的，其证照由县公安局有关机构查验。\n"
    "第七条 被遣返人员的证照遗失的，由县外事机构补发。\n"
    "第八条 其他机构接收证照的，应当登记。\n"
    "第九条 向河道倾倒垃圾的，由水务局处五百元以上二千元以下的罚款。\n"
    "第十二条 对于县水务局就河段划分的事实问题出具的证明文件，法院应当采信。\n"
    "第十五条 水务局每月巡查各河段两次。\n"
    "第二十条 本条例自公布之日起施行。\n"
)


def test_a_translated_question_is_also_searched_as_asked(tmp_path, embedder):
    """A translation that lost what was asked ("哪个机构出具的证明文件？") does not decide alone: the English
    question, read by the multilingual embedder, is fused in and finds the article it asks about."""
    from index import builder
    from rag.document import prepare_bytes
    from rag.question import analyse

    index = builder.build([prepare_bytes(RIVER_RULES.encode("utf-8"), "river.txt")], tmp_path, embedder)
    r = Retriever(index, embedder, Settings(index_dir=tmp_path, min_score=0.0))
    english = "Which body's certificates on factual questions about river sections must courts accept?"
    vague = "哪个机构出具的证明文件？"
    asked = r.search(analyse(english, vague), top_k=3)
    translated_only = r.search(analyse(vague), top_k=3)
    assert asked[0].chunk.text.startswith("第十二条")
    assert not translated_only[0].chunk.text.startswith("第十二条")  # the translation alone ranks another first


def test_an_english_search_is_not_fused_with_itself(tmp_path, embedder):
    """When the translation failed and the English question is searched (with its places in Chinese), the
    question as asked adds nothing: the ranking is that of the search alone."""
    from index import builder
    from rag.document import prepare_bytes
    from rag.question import analyse

    index = builder.build([prepare_bytes(RIVER_RULES.encode("utf-8"), "river.txt")], tmp_path, embedder)
    r = Retriever(index, embedder, Settings(index_dir=tmp_path, min_score=0.0))
    english = "Which body's certificates on factual questions must courts accept?"
    searched = "Which body's certificates on factual questions must courts in 河阳县 accept?"
    assert [p.chunk.id for p in r.search(analyse(english, searched), top_k=5)] == [
        p.chunk.id for p in r.search(analyse(searched), top_k=5)
    ]
