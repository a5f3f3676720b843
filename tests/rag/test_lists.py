"""Enumerated lists read from a passage and completed in list answers; made-up texts, no corpus text."""

from __future__ import annotations

from rag.cite import ground
from rag.lists import enumerated_lists, missing_items
from rag.select import ContextPassage
from rag.types import Chunk, DocMeta, Passage

TASKS = "今年的主要任务：一是加强河道巡查，落实责任；二是完善保洁制度；三是推进智慧监管；四是强化考核问责。"
LAW = (
    "第十条 有下列情形之一的，可以申请复议：（一）对罚款决定不服的；（二）对没收财物不服的；（三）对吊销许可证不服的。"
)
TWO = "资金用于：1. 设备更新；2. 人员培训。管理要求：（一）专款专用；（二）按季公开；（三）年终审计。"


def _ctx(text: str) -> list[ContextPassage]:
    chunk = Chunk("x:1", "x.txt", text, "", 0, len(text), "某县工作要点")
    return [ContextPassage(1, Passage(chunk, 1, 1.0, meta=DocMeta(title="某县工作要点")), [text])]


def test_lists_of_each_marker_style_are_read():
    assert enumerated_lists(TASKS) == [["加强河道巡查，落实责任", "完善保洁制度", "推进智慧监管", "强化考核问责"]]
    assert enumerated_lists(LAW)[0] == ["对罚款决定不服的", "对没收财物不服的", "对吊销许可证不服的"]
    assert enumerated_lists("①早；②中；③晚。") == [["早", "中", "晚"]]
    assert sorted(map(len, enumerated_lists(TWO))) == [2, 3]


def test_figures_and_lone_markers_are_not_lists():
    assert enumerated_lists("2023年增长3.5%，2024年增长4.2%。") == []
    assert enumerated_lists("其中（三）项已经完成，一是指标达标。") == []  # no run starting at one


def test_missing_items_of_the_list_the_answer_quotes():
    assert missing_items("加强河道巡查、完善保洁制度[1]", TASKS) == ["推进智慧监管", "强化考核问责"]
    assert missing_items("加强河道巡查、完善保洁制度、推进智慧监管、强化考核问责[1]", TASKS) == []
    # The answer quotes the second list of the passage: the first one is not added.
    assert missing_items("专款专用、按季公开[1]", TWO) == ["年终审计"]
    assert missing_items("资金主要用于改善办公条件[1]", TASKS) == []  # quotes no item: left alone


def test_list_answer_is_completed_with_cited_items():
    g = ground("可以申请复议的情形有：对罚款决定不服的[1]。", _ctx(LAW), "zh-Hans", "哪些情形可以申请复议？")
    assert not g.refused
    assert "对没收财物不服的" in g.answer and "对吊销许可证不服的" in g.answer and g.answer.endswith("[1]")


def test_completion_does_not_fire_where_it_should_not():
    answer = "对罚款决定不服的可以申请复议[1]。"
    assert ground(answer, _ctx(LAW), "zh-Hans", "对罚款不服可以申请复议吗？").answer == answer  # not a list question
    en = ground("Fines can be appealed [1].", _ctx(LAW), "en", "What are the cases for review?")
    assert "没收" not in en.answer  # English answers are not padded with Chinese
    whole = "一是加强河道巡查，二是完善保洁制度，三是推进智慧监管，四是强化考核问责[1]。"
    assert ground(whole, _ctx(TASKS), "zh-Hans", "主要任务有哪些？").answer == whole


SERVICES = (
    "第八条 供水企业经营下列业务：（一）城镇供水；（二）二次供水设施维护；（三）水质检测；"
    "（四）管网抢修；（五）主管部门规定的其他业务。供水企业不得擅自停止供水：（一）因工程施工；（二）因设备检修。"
)


def test_lists_are_read_with_their_lead_in():
    from rag.lists import introduced_lists

    leads = [lead for lead, _ in introduced_lists(SERVICES)]
    assert leads == ["供水企业经营下列业务：", "供水企业不得擅自停止供水："]
    assert introduced_lists(TASKS)[0][0] == "今年的主要任务："
    assert introduced_lists("一是加强巡查；二是完善制度。")[0][0] == ""  # no lead-in


def test_an_answer_quoting_a_lead_in_names_that_list():
    """ "…经营下列业务：…（五）…": one item of a long list, but the lead-in says which list is meant."""
    answer = "供水企业经营下列业务：…（五）主管部门规定的其他业务。"
    assert missing_items(answer, SERVICES) == ["城镇供水", "二次供水设施维护", "水质检测", "管网抢修"]
    # without the lead-in, one item of five is not enough to tell the list is meant
    assert missing_items("包括主管部门规定的其他业务。", SERVICES) == []
    # quoting the other list's lead-in completes that list, not the first
    assert missing_items("供水企业不得擅自停止供水：因工程施工。", SERVICES) == ["因设备检修"]


def test_a_lead_in_is_its_whole_sentence():
    """Two lists both introduced by "应当具备下列条件：": the lead-in quoted is the one with its subject."""
    text = (
        "设立养殖场，应当具备下列条件：（一）有固定场所；（二）有防疫设施；（三）有技术人员。"
        "经营屠宰业务，应当具备下列条件：（一）取得许可；（二）有冷藏设施；（三）有检验人员。"
    )
    assert missing_items("经营屠宰业务，应当具备下列条件：取得许可[1]。", text) == ["有冷藏设施", "有检验人员"]
