"""Metrics on hand-made cases whose right score is known; every assertion is an exact value."""

from __future__ import annotations

import pytest

from eval.dataset import Question
from eval.metrics import (
    cite_hits,
    cite_valid,
    hit_rank,
    keyfact,
    lang_match,
    mean,
    percentile,
    unsupported_items,
)
from eval.normalize import evidence_in, norm_answer, norm_match


def q(**kw) -> Question:
    base = {"id": "t1", "question": "问题", "lang": "zh-Hans", "type": "number", "must_include": ["x"]}
    return Question(**{**base, **kw})


def passage(rank: int, doc: str, text: str) -> dict:
    return {"rank": rank, "doc": doc, "chunk_id": f"{doc}:{rank}", "score": 1.0 / rank, "text": text}


# --- normalisation and evidence matching -------------------------------------


def test_norm_match_folds_pinyin_script_width_and_punctuation():
    assert norm_match("經(jīng)濟(jì)發展，ＧＤＰ　１，０００億元。") == "经济发展gdp1000亿元"


def test_pinyin_annotated_evidence_matches_cleaned_passage():
    evidence = "推動縣域經(jīng)濟(jì)高質(zhì)量發展"
    assert evidence_in(evidence, "各地要推动县域经济高质量发展，壮大实体经济。")
    assert not evidence_in(evidence, "各地要推动城市更新，壮大实体经济。")


def test_evidence_cut_by_chunk_boundary_matches_by_long_common_run():
    evidence = (
        "到2025年，全市县域经济总量突破3000亿元，培育形成一批主导产业突出、创新能力强的经济强县，县域发展活力显著增强"
    )
    head = evidence[:36]  # the chunk ends mid-sentence: 36 of 52 characters (normalised: 33 of 47)
    assert not evidence_in(evidence, "无关内容。" + evidence[:20])
    assert evidence_in(evidence, "无关内容。" + head)


def test_norm_answer_drops_citations_and_thousands_separators():
    assert norm_answer("GDP 达到 1,100 亿元[1]。") == "gdp达到1100亿元。"


# --- key facts ----------------------------------------------------------------


def test_keyfact_traditional_answer_matches_simplified_key():
    question = q(lang="zh-Hant", must_include=["1000亿元", "2025"])
    assert keyfact(question, "到2025年實現1000億元[1]") == 1.0


def test_keyfact_english_answer_with_alternatives_and_partial_credit():
    question = q(
        lang="en",
        must_include=["1100亿元", "寿光"],
        must_include_alt=[["110 billion yuan", "110 billion"], ["Shouguang"]],
    )
    assert keyfact(question, "Shouguang targets a GDP of 110 billion yuan by 2025 [1].") == 1.0
    assert keyfact(question, "The target is 110 billion [2].") == 0.5
    assert keyfact(question, "The target is 1,100亿元 [2].") == 0.5


def test_keyfact_citation_digits_do_not_count():
    assert keyfact(q(must_include=["3"]), "见资料[3]") == 0.0


def test_keyfact_none_for_unanswerable():
    assert keyfact(q(type="unanswerable", must_include=[]), "资料中没有找到这个问题的答案。") is None


# --- retrieval ranks -----------------------------------------------------------


def test_hit_rank_single_doc_requires_the_right_doc():
    question = q(doc=["a.txt"], evidence=["沂水县连续三年荣获先进县"])
    passages = [
        passage(1, "b.txt", "沂水县连续三年荣获先进县"),  # right text, wrong document
        passage(2, "a.txt", "其他内容"),
        passage(3, "a.txt", "我市沂水县连续三年荣获“先进县”。"),
    ]
    assert hit_rank(question, passages) == 3
    assert hit_rank(question, passages[:2]) == 0


def test_hit_rank_multi_doc_is_the_rank_covering_every_doc():
    question = q(type="multi_doc", doc=["a.txt", "b.txt"], evidence=["潍坊市县域经济总量", "衢州市山区县发展"])
    passages = [
        passage(1, "a.txt", "潍坊市县域经济总量突破。"),
        passage(2, "c.txt", "无关"),
        passage(3, "a.txt", "潍坊其他"),
        passage(4, "b.txt", "衢州市山区县发展很快。"),
    ]
    assert hit_rank(question, passages) == 4
    assert hit_rank(question, passages[:3]) == 0


def test_hit_rank_none_for_unanswerable():
    assert hit_rank(q(type="unanswerable", must_include=[]), [passage(1, "a.txt", "x")]) is None


# --- citations, support, language -------------------------------------------


def test_cite_valid_with_dangling_citation():
    rec = {
        "answer": "目标为1100亿元[1]，另见[3]。",
        "refused": False,
        "citations": [{"n": 1, "doc": "a.txt", "title": "", "chunk_id": "a:1", "text": "1100亿元"}],
        "passages": [passage(1, "a.txt", "1100亿元"), passage(2, "a.txt", "y")],
    }
    assert cite_valid(rec) is False
    assert cite_valid({**rec, "answer": "目标为1100亿元[1]。"}) is True
    assert cite_valid({**rec, "refused": True}) is None


def test_cite_valid_without_citations_falls_back_to_passage_ranks():
    rec = {
        "answer": "见[2]。",
        "refused": False,
        "citations": [],
        "passages": [passage(1, "a", "x"), passage(2, "a", "y")],
    }
    assert cite_valid(rec) is True
    assert cite_valid({**rec, "answer": "见[3]。"}) is False


def test_cite_hits_counts_cited_passages_with_gold():
    question = q(doc=["a.txt"], evidence=["GDP目标是1100亿元"])
    rec = {
        "answer": "1100亿元[1][2]",
        "refused": False,
        "citations": [
            {"n": 1, "doc": "a.txt", "title": "", "chunk_id": "a:1", "text": "寿光市GDP目标是1100亿元以上。"},
            {"n": 2, "doc": "a.txt", "title": "", "chunk_id": "a:2", "text": "其他内容"},
        ],
        "passages": [],
    }
    assert cite_hits(question, rec) == (1, 2)


def test_unsupported_figure_absent_from_cited_passages():
    rec = {
        "answer": "寿光市2025年GDP目标是1200亿元[1]。",
        "refused": False,
        "citations": [{"n": 1, "doc": "a", "title": "寿光", "chunk_id": "a:1", "text": "寿光市GDP目标1100亿元以上。"}],
        "passages": [passage(1, "a", "寿光市GDP目标1100亿元以上。"), passage(2, "b", "另一个是1200亿元")],
    }
    # 2025 comes from the question; 1200 is only in an uncited passage
    assert unsupported_items(rec, "寿光市2025年的GDP目标是多少？") == ["1200亿"]
    assert unsupported_items({**rec, "answer": "目标是1100亿元[1]。"}, "") == []
    assert unsupported_items({**rec, "answer": "target: 110 billion yuan [1]"}, "") == []
    assert unsupported_items({**rec, "refused": True}, "") is None


def test_unsupported_place_absent_from_cited_passages():
    rec = {
        "answer": "青岛市的目标是1100亿元[1]。",
        "refused": False,
        "citations": [{"n": 1, "doc": "a", "title": "", "chunk_id": "a:1", "text": "青州市目标1100亿元。"}],
        "passages": [],
    }
    assert unsupported_items(rec, "") == ["青岛市"]


def test_lang_match_scripts():
    assert lang_match(q(lang="zh-Hant"), "到2025年實現1000億元[1]") is True
    assert lang_match(q(lang="zh-Hans"), "到2025年實現1000億元[1]") is False
    assert lang_match(q(lang="zh-Hans"), "到2025年实现1000亿元[1]") is True
    assert lang_match(q(lang="zh-Hant"), "資料中沒有找到這個問題的答案。") is True
    assert lang_match(q(lang="en"), "The target is 1100亿元 [1].") is True
    assert lang_match(q(lang="en"), "目标是1100亿元") is False


def test_percentiles_and_mean():
    assert percentile([100, 200, 300, 400], 50) == 250.0
    assert percentile([100, 200, 300, 400], 95) == 385.0
    assert percentile([], 50) is None
    assert mean([True, False, None, True]) == pytest.approx(0.6667)


def test_a_figure_written_in_chinese_numerals_is_supported():
    """A made-up regulation: 二万元 and 三十日 in the passage support 2万元 and 30日 in the answer."""
    rec = {
        "answer": "处2万元罚款，30日内改正[1]。",
        "refused": False,
        "citations": [{"n": 1, "text": "处二万元罚款，责令三十日内改正。", "title": "某条例"}],
        "passages": [],
    }
    assert unsupported_items(rec, "") == []
    assert unsupported_items({**rec, "answer": "处3万元罚款[1]。"}, "") == ["3万"]
