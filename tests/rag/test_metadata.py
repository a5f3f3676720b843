"""Metadata of the real bundled documents: what officials quote a document by."""

from __future__ import annotations

import pytest

from rag.metadata import extract_metadata

EXPECTED = {
    "000_7b47e0ef960b77e7.txt": dict(
        issuer="临沂市发展和改革委员会",
        doc_number="临发改重点函〔2022〕24号",
        date="2022-05-30",  # published on the site
        place="临沂市",
        signer="临沂市发展和改革委员会",
        signed_date="2022-05-27",  # the letter's 落款, three days earlier
    ),
    "001_3e5b20cb4d36e18e.txt": dict(
        issuer="山东省人民政府新闻办公室",
        doc_number="",
        place="山东省",
        source="山东发布",  # not 山东发布收集编辑
    ),
    "002_78ad54bd58fc9a9e.txt": dict(
        issuer="潍坊市人民政府", doc_number="潍政字〔2024〕12号", date="2024-05-13", place="潍坊市"
    ),
    "003_f987b7789e2746bc.txt": dict(
        issuer="省委辦公廳、省政府辦公廳", date="2023-12-15", source="山東省政府網站", signed_date=""
    ),
    "004_9df9e4a75860d1fb.txt": dict(
        issuer="衢州市人民政府办公室", date="2022-11-20", place="衢州市", signed_date="2022-11-06"
    ),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bundled_metadata(corpus_docs, name):
    meta = next(d.meta for d in corpus_docs if d.doc_id == name)
    for key, value in EXPECTED[name].items():
        assert getattr(meta, key) == value, key
    assert meta.title


def test_titles(corpus_docs):
    titles = {d.doc_id: d.meta.title for d in corpus_docs}
    assert titles["002_78ad54bd58fc9a9e.txt"] == "关于印发潍坊市县域经济高质量发展实施方案(2024-2025年)的通知"
    assert titles["000_7b47e0ef960b77e7.txt"].startswith("对市政协十六届一次会议第502号提案")
    assert "縣域經濟" in titles["003_f987b7789e2746bc.txt"]  # original script kept


def test_labelled_fields_and_signature():
    text = "发文机关：某某县人民政府\n文号：某政发〔2023〕7号\n成文日期：2023年3月5日\n标题：关于加快发展的意见\n正文第一段。"
    meta = extract_metadata(text)
    assert (meta.issuer, meta.doc_number, meta.date, meta.title) == (
        "某某县人民政府",
        "某政发〔2023〕7号",
        "2023-03-05",
        "关于加快发展的意见",
    )


def test_missing_fields_stay_empty():
    meta = extract_metadata("这是一段没有任何元数据的文字。")
    assert meta.doc_number == "" and meta.date == "" and meta.issuer == ""
