"""Replies that reproduce the prompt's passages: line-opening numbers and a reply cut to the passage asked about.

All text is made up (a county's rules on markets and fishing), not from the bundled corpus.
"""

from __future__ import annotations

from rag.cite import ground, normalize_citations
from rag.echo import copied_from, keep_asked_passage, trail_lead_citations
from rag.release import Release
from rag.select import ContextPassage
from rag.types import Asked, Chunk, DocMeta, Passage

P1 = "第七条 有下列情形之一的，不得进入集市经营：（一）未办理摊位登记；（二）出售过期食品；（三）占用消防通道。"
P2 = "第八条 有下列情形之一的，视为自愿放弃摊位：（一）连续三个月未经营；（二）拖欠摊位费超过六十日。"
P3 = "第十二条 禁止在禁渔期内捕捞，违者处二千元以下罚款。"


def _q(text: str, terms: tuple[str, ...] = (), wants_number: bool = False) -> Asked:
    return Asked(text, text, terms=terms, wants_number=wants_number)


def _ctx(*texts: str) -> list[ContextPassage]:
    out = []
    for n, text in enumerate(texts, 1):
        start = 1000 * n  # articles far apart in one document
        chunk = Chunk(f"d:{n}", "rules.txt", text, "", start, start + len(text), "某县集市管理条例")
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
    kept = keep_asked_passage(raw, text, ctx, _q("哪些情形不得进入集市经营？"))
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
        assert keep_asked_passage(raw, text, ctx, _q(question)) == text


def test_a_line_is_a_copy_only_when_most_of_it_is_in_one_passage():
    ctx = _ctx(P1, P2)
    assert copied_from("（二）出售过期食品；", ctx) == {1}
    assert copied_from("拖欠摊位费超过六十日的，视为自愿放弃", ctx) == {2}
    assert copied_from("有下列情形之一的，", ctx) == {1, 2}  # text both passages hold
    assert copied_from("集市里出售食品的商户应当先登记", ctx) == set()
    assert copied_from("此外：", ctx) == set()  # too short to tell


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
    kept = keep_asked_passage(raw, text, ctx, _q("东山县和西河县的集市摊位费各是多少？", ("东山县", "西河县")))
    assert kept == "东山县：集市摊位费每月二百元。[1]\n西河县：集市摊位费每月三百元。[2]"


def test_a_mark_inside_a_title_or_quotation_ends_no_sentence():
    assert (
        trail_lead_citations("[2]《集市十条!某县出台新规》（一）规范摊位。")
        == "《集市十条!某县出台新规》（一）规范摊位。[2]"
    )
    assert trail_lead_citations("[1]开展“放心市场？”评选。") == "开展“放心市场？”评选。[1]"


def test_a_question_in_two_parts_keeps_the_passage_of_each_part():
    ctx = _ctx(P1, P2)
    raw = "[1] 有下列情形之一的，不得进入集市经营：未办理摊位登记。\n[2] 有下列情形之一的，视为自愿放弃摊位：连续三个月未经营。"
    text = normalize_citations(raw)
    assert keep_asked_passage(raw, text, ctx, _q("哪些情形不得进入集市经营？哪些情形视为放弃摊位？")) == text


def test_two_chunks_of_one_article_are_one_source():
    first = "第七条 有下列情形之一的，不得进入集市经营：（一）未办理摊位登记；（二）出售过期食品；（三）占用消防通道；"
    second = "（四）销售野生保护动物；（五）使用不合格计量器具。"
    ctx = _ctx(first, second)
    chunk = ctx[1].passage.chunk  # the article's second chunk overlaps the end of the first
    ctx[1].passage.chunk = Chunk(
        chunk.id, chunk.doc_id, second, "", 1000 + len(first) - 10, 1000 + len(first) + len(second)
    )
    raw = "[1] 未办理摊位登记；出售过期食品；占用消防通道；\n[2] 销售野生保护动物；使用不合格计量器具。"
    text = normalize_citations(raw)
    assert keep_asked_passage(raw, text, ctx, _q("哪些情形不得进入集市经营？")) == text


def test_a_line_two_passages_share_does_not_make_a_one_passage_reply_a_copy_of_two():
    ctx = _ctx(
        "第五条 禁止转租摊位。（一）擅自转让；（二）法律、法规规定的其他情形。",
        "第九条 经营者转租摊位的，收回摊位。（一）责令改正；（二）法律、法规规定的其他情形。",
    )
    raw = "[2] 经营者转租摊位的，收回摊位。\n（一）责令改正；\n（二）法律、法规规定的其他情形。"
    text = normalize_citations(raw)
    assert keep_asked_passage(raw, text, ctx, _q("经营者转租摊位会怎样处理？")) == text


def test_a_place_the_kept_passage_names_in_passing_still_keeps_its_own_passage():
    ctx = _ctx(
        "东山县：集市摊位费每月二百元，与西河县交界处的集市参照东山县标准执行。", "西河县：集市摊位费每月三百元。"
    )
    raw = "[1] 东山县：集市摊位费每月二百元。\n[2] 西河县：集市摊位费每月三百元。"
    text = normalize_citations(raw)
    assert keep_asked_passage(raw, text, ctx, _q("东山县和西河县的集市摊位费各是多少？", ("东山县", "西河县"))) == text


def test_when_a_quantity_is_asked_a_copied_line_with_a_figure_stays():
    ctx = _ctx(
        "第十九条 集市摊位费按月收取，经营者应当在每月五日前缴纳当月摊位费。", "第二十条 摊位租金标准为每个摊位二百元。"
    )
    raw = "[1] 集市摊位费按月收取，经营者应当在每月五日前缴纳当月摊位费。\n[2] 摊位租金标准为每个摊位二百元。"
    text = normalize_citations(raw)
    assert "二百元" in keep_asked_passage(raw, text, ctx, _q("集市摊位费每月收多少？", wants_number=True))


def test_numbers_after_sentence_ends_on_a_numbered_line_open_the_next_passage():
    assert (
        trail_lead_citations("[1] 东山县早六点开市。[2] 西河县早七点开市。")
        == "东山县早六点开市。[1]西河县早七点开市。[2]"
    )
    assert trail_lead_citations("[1] Dongshan opens at six. [2] Xihe opens at seven.") == (
        "Dongshan opens at six.[1] Xihe opens at seven.[2]"
    )
    assert (
        trail_lead_citations("[1] See No. 5 of the rules, e.g. at the gate.")
        == "See No. 5 of the rules, e.g. at the gate.[1]"
    )
    assert trail_lead_citations("[1]開展「放心市場？」評選。") == "開展「放心市場？」評選。[1]"
