"""Chunking keeps heading paths, offsets and stable ids."""

from __future__ import annotations

from rag.chunk import ChunkSettings, chunk_document, heading_label, heading_level
from rag.types import DocMeta, Document


def _doc(text: str) -> Document:
    return Document("x.txt", text, DocMeta(title="测试方案"), "h")


def test_heading_levels():
    assert heading_level("一、总体要求") == 1
    assert heading_level("（一）突出经济强县引领。发挥") == 2
    assert heading_level("(十九)建立新型帮扶机制") == 2
    assert heading_level("1.加强领导") == 3
    assert heading_level("2025年目标") is None
    assert heading_label("（一）突出经济强县引领。发挥寿光市带动作用") == "（一）突出经济强县引领"


def test_heading_path_offsets_and_ids(corpus_docs):
    doc = next(d for d in corpus_docs if d.doc_id.startswith("002"))
    chunks = chunk_document(doc)
    target = next(c for c in chunks if "1100亿元" in c.text)
    assert target.heading == "二、重点任务 > (一)突出经济强县引领"
    for c in chunks:
        if not (c.is_outline or c.is_card):  # made of headings or metadata, not one span
            assert doc.text[c.start : c.end] == c.text
        assert c.id.startswith("002_78ad54bd58fc9a9e:")
    assert len({c.id for c in chunks}) == len(chunks)
    assert [c.id for c in chunk_document(doc)] == [c.id for c in chunks]  # stable
    assert "二、重点任务" in target.embed_text() and doc.meta.title in target.embed_text()


def test_no_heading_only_chunks(corpus_docs):
    for doc in corpus_docs:
        for c in chunk_document(doc):
            assert len(c.text) >= 20 or c.text == doc.text.strip(), (doc.doc_id, c.text)


def test_sizes_respected():
    text = "一、总则\n" + "。".join(f"第{i}句话讲的是县域经济发展的第{i}项任务" for i in range(80)) + "。"
    chunks = chunk_document(_doc(text), ChunkSettings(size=120, overlap=20))
    assert len(chunks) > 5
    # a short neighbour (< min_section / 3) may join a chunk
    assert all(len(c.text) <= 120 + ChunkSettings().min_section // 3 for c in chunks)
    assert all(c.heading == "一、总则" for c in chunks)


def test_outline_chunk_lists_the_main_headings(corpus_docs):
    from rag.chunk import chunk_document

    doc = next(d for d in corpus_docs if d.doc_id.startswith("002_"))
    outline = [c for c in chunk_document(doc) if c.id.endswith(":outline")]
    assert len(outline) == 1
    text = outline[0].text
    assert "(一)实施产业升级行动" in text and "(二)实施科创跃升行动" in text and "1." not in text
    # a reply to a proposal is structured by the points it quotes: 关于“建设产业园区”。
    reply = next(d for d in corpus_docs if d.doc_id.startswith("000_"))
    (outline,) = [c for c in chunk_document(reply) if c.is_outline]
    assert outline.text == "关于“找准产业定位,建设产业园区”\n关于“深化产业融合,推动产业振兴”"


def test_reply_points_are_headings_but_titles_are_not():
    from rag.chunk import heading_level

    assert heading_level("关于“深化产业融合,推动产业振兴”。去年以来") == 1
    assert heading_level("关于“建设产业园区”") == 1
    assert heading_level("关于“十四五”规划的通知") is None
    assert heading_level("关于进一步加快县域经济高质量发展的意见") is None


def test_search_title_names_the_place_a_title_leaves_out(corpus_docs):
    from rag.chunk import chunk_document, search_title

    by_id = {d.doc_id[:3]: d for d in corpus_docs}
    assert search_title(by_id["004"]).endswith("（衢州市）")  # 对《关于注重六个统筹…》的答复
    assert search_title(by_id["002"]) == by_id["002"].meta.title  # 潍坊 is in the title already
    chunk = chunk_document(by_id["000"])[0]
    assert "临沂" in chunk.embed_text() and chunk.text in by_id["000"].text


def test_card_chunk_holds_the_document_facts(corpus_docs):
    from rag.chunk import chunk_document

    reply = next(d for d in corpus_docs if d.doc_id.startswith("000_"))
    (card,) = [c for c in chunk_document(reply) if c.is_card]
    assert card.id == "000_7b47e0ef960b77e7:card" and card.heading == "文件信息"
    lines = card.text.split("\n")
    assert "文号：临发改重点函〔2022〕24号；" in lines
    assert "发布日期：2022年5月30日；" in lines and "落款日期：2022年5月27日。" in lines
    assert "临沂" in card.embed_text()  # searched with the document's title and place
    opinion = next(d for d in corpus_docs if d.doc_id.startswith("003_"))
    (card,) = [c for c in chunk_document(opinion) if c.is_card]
    assert "来源：山東省政府網站" in card.text and "落款" not in card.text  # no signature block: no 落款 line
    assert not [c for c in chunk_document(_doc("只有正文。" * 30)) if c.is_card]  # nothing known: no card
