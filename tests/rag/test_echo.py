"""Replies that reproduce the prompt's passages: line-opening numbers and a reply cut to the passage asked about.

All text is made up (a county's rules on markets and fishing), not from the bundled corpus.
"""

from __future__ import annotations

from rag.cite import ground, normalize_citations
from rag.echo import copied_from, keep_asked_passage, trail_lead_citations
from rag.release import Release
from rag.select import ContextPassage
from rag.types import Chunk, DocMeta, Passage

P1 = "第七条 有下列情形之一的，不得进入集市经营：（一）未办理摊位登记；（二）出售过期食品；（三）占用消防通道。"
P2 = "第八条 有下列情形之一的，视为自愿放弃摊位：（一）连续三个月未经营；（二）拖欠摊位费超过六十日。"
P3 = "第十二条 禁止在禁渔期内捕捞，违者处二千元以下罚款。"


def _ctx(*texts: str) -> list[ContextPassage]:
    out = []
    for n, text in enumerate(texts, 1):
        chunk = Chunk(f"d:{n}", "rules.txt", text, "", 0, len(text), "某县集市管理条例")
        meta = DocMeta(title="某县集市管理条例")
        out.append(ContextPassage(n, Passage(chunk, n, 1.0, meta=meta), [text]))
    return out


def test_a_line_opening_number_cites_each_sentence_of_its_line():
    assert (
        trail_lead_citations("[2] 连续三个月未经营；拖欠摊位费超过六十日。")
        == "连续三个月未经营；[2]拖欠摊位费超过六十日。[2]"
    )
    assert trail_lead_citations("[1][3] 二千元以下罚款") == "二千元以下罚款[1][3]"
    # read as written, the second line's number would close the first line
    assert (
        normalize_citations("[1] 未办理摊位登记；\n[2] 连续三个月未经营。")
        == "未办理摊位登记；[1]\n连续三个月未经营。[2]"
    )


def test_citations_in_their_usual_place_are_left_as_written():
    for text in (
        "罚款二千元以下[3]。",
        "禁渔期内禁止捕捞[3]，违者罚款[3]。",
        "[1][2]",
        "A shop must register first [1].",
    ):
        assert trail_lead_citations(text) == text


def test_a_reply_copying_several_passages_keeps_the_one_asked_about():
    ctx = _ctx(P2, P1, P3)
    raw = "[1] 有下列情形之一的，视为自愿放弃摊位：\n[2] 出售过期食品；\n[3] 禁止在禁渔期内捕捞，违者处二千元以下罚款。"
    text = normalize_citations(raw)
    kept = keep_asked_passage(raw, text, ctx, "哪些情形不得进入集市经营？")
    assert kept == "出售过期食品；[2]"


def test_a_reply_that_answers_in_its_own_words_is_not_cut():
    ctx = _ctx(P1, P2)
    question = "哪些情形不得进入集市经营？"
    for raw in (
        "未办理摊位登记、出售过期食品或占用消防通道的，不得进入集市经营[1]；连续三个月未经营视为放弃摊位[2]。",
        "[1] 未办理摊位登记的，不得进入集市经营。",  # one passage copied: nothing to choose between
        "[1] 不得进入集市经营的情形有三种。\n[2] 另有两种情形视为放弃摊位。",  # its own words, not copies
    ):
        text = normalize_citations(raw)
        assert keep_asked_passage(raw, text, ctx, question) == text


def test_a_line_is_a_copy_only_when_most_of_it_is_in_one_passage():
    ctx = _ctx(P1, P2)
    assert copied_from("（二）出售过期食品；", ctx) == 1
    assert copied_from("拖欠摊位费超过六十日的，视为自愿放弃", ctx) == 2
    assert copied_from("集市里出售食品的商户应当先登记", ctx) is None
    assert copied_from("此外：", ctx) is None  # too short to tell


def test_ground_answers_a_list_question_from_the_passage_asked_about():
    ctx = _ctx(P2, P1, P3)
    raw = "[1] 有下列情形之一的，视为自愿放弃摊位：\n[2] 出售过期食品；\n[3] 禁止在禁渔期内捕捞，违者处二千元以下罚款。"
    g = ground(raw, ctx, "zh-Hans", "集市经营有哪些禁止情形？不得进入集市经营的情形有哪些？")
    assert not g.refused
    for item in ("未办理摊位登记", "出售过期食品", "占用消防通道"):
        assert item in g.answer
    assert "放弃摊位" not in g.answer and "禁渔期" not in g.answer
    assert "[1]" not in g.answer and "[3]" not in g.answer


def test_streaming_shows_nothing_of_such_a_reply_before_it_is_cut():
    ctx = _ctx(P2, P1, P3)
    raw = "[1] 有下列情形之一的，视为自愿放弃摊位：\n[2] 出售过期食品；\n[3] 禁止在禁渔期内捕捞，违者处二千元以下罚款。"
    question = "不得进入集市经营的情形有哪些？"
    release = Release(ctx, "zh-Hans", question)
    shown = "".join(release.feed(raw[:end]) for end in range(1, len(raw) + 1))
    assert shown == ""
    g, rest = release.finish(ground(raw, ctx, "zh-Hans", question))
    assert rest == g.answer and "放弃摊位" not in rest


def test_a_question_about_two_places_keeps_a_copied_passage_for_each():
    ctx = _ctx("东山县：集市摊位费每月二百元。", "西河县：集市摊位费每月三百元。", P3)
    raw = "[1] 东山县：集市摊位费每月二百元。\n[2] 西河县：集市摊位费每月三百元。\n[3] 禁止在禁渔期内捕捞。"
    text = normalize_citations(raw)
    kept = keep_asked_passage(raw, text, ctx, "东山县和西河县的集市摊位费各是多少？", ("东山县", "西河县"))
    assert kept == "东山县：集市摊位费每月二百元。[1]\n西河县：集市摊位费每月三百元。[2]"


def test_a_mark_inside_a_title_or_quotation_ends_no_sentence():
    assert (
        trail_lead_citations("[2]《集市十条!某县出台新规》（一）规范摊位。")
        == "《集市十条!某县出台新规》（一）规范摊位。[2]"
    )
    assert trail_lead_citations("[1]开展“放心市场？”评选。") == "开展“放心市场？”评选。[1]"
