"""Sentence-by-sentence release: what is shown early is always a prefix of the checked answer.

The passages are made up (a county plan that is in no corpus), so these tests
check the mechanism, not the wording of any document.
"""

from __future__ import annotations

from rag.cite import REFUSAL, cannot_become_refusal, ground
from rag.release import Release
from rag.select import ContextPassage
from rag.types import Chunk, DocMeta, Passage

PLAN = "河阳县到2027年建成冷链物流园2个，新增仓储面积18万平方米。"
ROADS = "河阳县将改造农村公路340公里，实现乡镇通三级公路。"


def _ctx() -> list[ContextPassage]:
    out = []
    for n, text in enumerate((PLAN, ROADS), 1):
        chunk = Chunk(f"plan:{n}", "plan.txt", text, "", 0, len(text), "河阳县物流规划")
        out.append(ContextPassage(n, Passage(chunk, n, 1.0, meta=DocMeta(title="河阳县物流规划")), [text]))
    return out


def stream(reply: str, lang: str = "zh-Hans", step: int = 2) -> tuple[list[tuple[int, str]], str, bool]:
    """Feed `reply` `step` characters at a time: (where each piece was shown, the final answer, refused)."""
    ctx = _ctx()
    release = Release(ctx, lang, "河阳县的物流规划有哪些目标？")
    pieces = []
    for end in [*range(step, len(reply), step), len(reply)]:
        piece = release.feed(reply[:end])
        if piece:
            pieces.append((end, piece))
    grounded, rest = release.finish(ground(reply, ctx, lang, "河阳县的物流规划有哪些目标？"))
    return pieces, grounded.answer if grounded.refused else release.shown + rest, grounded.refused


def test_first_sentence_is_shown_while_the_rest_is_written():
    reply = "河阳县到2027年建成冷链物流园2个[1]。还将改造农村公路340公里[2]。"
    pieces, final, refused = stream(reply)
    assert not refused
    first_at, first = pieces[0]
    assert first == "河阳县到2027年建成冷链物流园2个[1]。" and first_at < len(reply)
    assert final == ground(reply, _ctx(), "zh-Hans").answer  # the same answer as checked whole


def test_sentence_waits_for_the_citations_after_its_end():
    release = Release(_ctx(), "zh-Hans")
    assert release.feed("河阳县建成冷链物流园2个。") == ""
    assert release.feed("河阳县建成冷链物流园2个。[") == ""  # a citation is being written
    assert release.feed("河阳县建成冷链物流园2个。[1]") == ""  # more citations may follow
    assert release.feed("河阳县建成冷链物流园2个。[1]另") == "河阳县建成冷链物流园2个。[1]"


def test_sentence_with_an_unsupported_figure_is_never_shown():
    reply = "河阳县到2027年建成冷链物流园2个[1]。新增仓储面积25万平方米[1]。改造农村公路340公里[2]。"
    pieces, final, refused = stream(reply)
    shown = "".join(p for _, p in pieces)
    assert not refused and "25万" not in shown and "25万" not in final
    assert "340公里" in final and final == ground(reply, _ctx(), "zh-Hans").answer


def test_a_reply_that_turns_into_a_refusal_shows_nothing_early():
    # ground reads a short reply whose first sentence carries no figure and then says "未提及" as a refusal
    reply = "河阳县将建设冷链物流园[1]。资料未提及具体规模。"
    assert ground(reply, _ctx(), "zh-Hans").refused
    pieces, final, refused = stream(reply)
    assert pieces == [] and refused and final == REFUSAL["zh-Hans"]
    pieces, final, refused = stream("资料中未提及河阳县的物流投资。")
    assert pieces == [] and refused and final == REFUSAL["zh-Hans"]


def test_uncited_opening_is_held_until_a_cited_statement_follows():
    reply = "根据规划：\n河阳县将改造农村公路340公里[2]。实现乡镇通三级公路[2]。"
    pieces, final, _ = stream(reply)
    assert pieces and pieces[0][1].startswith("根据规划：\n河阳县将改造")
    assert final == ground(reply, _ctx(), "zh-Hans").answer


def test_uncited_reply_is_cited_at_the_end_and_nothing_is_shown_before():
    reply = "河阳县将改造农村公路340公里。实现乡镇通三级公路。"
    pieces, final, refused = stream(reply)
    assert pieces == [] and not refused and "[2]" in final


def test_english_reply_released_with_its_figures_checked():
    reply = (
        "Heyang will build 2 cold-chain logistics parks by 2027 [1]. It will also upgrade 340 km of rural roads [2]."
    )
    pieces, final, refused = stream(reply, "en")
    assert not refused and pieces and pieces[0][0] < len(reply)
    assert final == ground(reply, _ctx(), "en").answer


def test_refusal_guard_on_ordinary_text():
    assert cannot_become_refusal("河阳县到2027年建成冷链物流园2个[1]。")  # a figure before any refusal phrase
    assert not cannot_become_refusal("河阳县将建设冷链物流园[1]。")  # short, no figure: "但未提及…" may follow
    assert not cannot_become_refusal("资料中未提及河阳县。")
    assert cannot_become_refusal("河阳县将建设冷链物流园，" * 10)  # past the window a refusal is not read


def test_a_reply_citing_only_another_year_shows_nothing_early():
    """Asked about 2025, the reply cites a passage dated only 2027: `ground` refuses it, so no sentence may be
    released before the end; once a passage of the asked year is cited, the release goes on."""
    question = "河阳县2025年要建成几个冷链物流园？"
    reply = "河阳县建成冷链物流园2个[1]。改造农村公路340公里[2]。"
    release = Release(_ctx(), "zh-Hans", question, ("2025",))
    assert all(release.feed(reply[:end]) == "" for end in range(2, len(reply) + 1, 2))
    grounded, _ = release.finish(ground(reply, _ctx(), "zh-Hans", question))
    assert grounded.refused and release.shown == "" and grounded.answer == REFUSAL["zh-Hans"]
    ok = Release(_ctx(), "zh-Hans", "河阳县2027年要建成几个冷链物流园？", ("2027",))
    assert ok.feed(reply + "另") == reply


def test_a_released_sentence_carries_the_unit_the_final_answer_gives_it():
    reply = "河阳县建成冷链物流园2[1]。改造农村公路340[2]。"
    pieces, final, refused = stream(reply)
    assert not refused and pieces and pieces[0][0] < len(reply)
    assert "".join(p for _, p in pieces).startswith("河阳县建成冷链物流园2个[1]。")
    assert final == "河阳县建成冷链物流园2个[1]。改造农村公路340公里[2]。" == ground(reply, _ctx(), "zh-Hans").answer
