"""Question wording read in one place: each predicate on questions from no bundled document, and where it must not fire."""

from __future__ import annotations

from rag.question import (
    analyse,
    asks_document_facts,
    is_goal_question,
    is_list_question,
    question_terms,
    wants_metadata,
    wants_overview,
)


def test_list_questions_in_three_scripts():
    assert is_list_question("申请复议的情形有哪些？") and is_list_question("這項條例列舉了哪幾種情形？")
    assert is_list_question("What are the grounds for review?")
    assert not is_list_question("罚款的上限是多少？")


def test_overview_metadata_and_document_facts():
    assert wants_overview("这份规划从哪几个方面部署工作？") and not wants_overview("规划的期限是几年？")
    assert wants_metadata("这份通知是哪个部门印发的？") and not wants_metadata("茶园面积有多大？")
    assert asks_document_facts("该条例的文号是什么？") and not asks_document_facts("茶园面积有多大？")


def test_goal_and_terms():
    assert is_goal_question("到2030年的目标是什么？") and not is_goal_question("去年完成了什么？")
    assert question_terms("松阳县2024年的茶园面积是多少？") == ["松阳县", "2024"]
    assert analyse("松阳县2024年的茶园面积是多少？").years == ("2024",)  # the years among the terms
    assert question_terms("全县的城区面积是多少？") == []  # generic words are no places


def test_a_question_is_read_once_from_both_its_wording_and_its_translation():
    from rag.question import analyse
    from rag.types import CARD_DATE, CARD_SIGNED

    q = analyse("Summarise the measures of the plan.", "概括一下该规划在2030年前的主要举措。")
    assert q.wants_overview and q.wants_list  # "Summarise" and 概括 / 主要举措 alike
    assert q.terms == ("2030",)  # names and years are read from the Chinese that is searched
    assert q.wording == "Summarise the measures of the plan.\n概括一下该规划在2030年前的主要举措。"
    assert q.prompt_text == "Summarise the measures of the plan.（概括一下该规划在2030年前的主要举措。）"
    zh = analyse("这份通知的落款日期是哪天？")
    assert zh.wording == zh.prompt_text == zh.text == zh.search
    assert CARD_SIGNED in zh.card_fields and CARD_DATE not in zh.card_fields  # the 落款 date, not the published one
    plain = analyse("河阳县今年新建了几座桥？")
    assert plain.wants_number and not (plain.wants_list or plain.wants_overview or plain.wants_document_facts)
