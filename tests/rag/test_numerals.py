"""Chinese numerals read as digits: text from no bundled document (a made-up regulation and a notice)."""

from __future__ import annotations

from rag.cite import ground, missing_terms, unsupported_numbers
from rag.numerals import digit_form, with_digits
from rag.select import ContextPassage
from rag.types import Chunk, DocMeta, Passage

RULE = "第三十二条 违反本条例规定的，由主管部门责令改正，处二万元以上二十万元以下罚款；自收到通知之日起三十日内提出。"
NOTICE = "本办法自二〇一九年七月一日起施行，补贴标准提高百分之十五。"


def _ctx(text: str) -> list[ContextPassage]:
    chunk = Chunk("r:1", "r.txt", text, "", 0, len(text), "某市养犬管理条例")
    return [ContextPassage(1, Passage(chunk, 1, 1.0, meta=DocMeta(title="某市养犬管理条例")), [text])]


def test_digit_form_reads_numerals_and_keeps_text():
    assert "30日" in digit_form(RULE) and "20000元" in digit_form(RULE)
    assert "2019年7月1日" in digit_form(NOTICE) and "15%" in digit_form(NOTICE)
    assert digit_form("责令改正并公开道歉。") == ""  # nothing to read
    assert with_digits("no numerals here") == "no numerals here"
    assert with_digits(RULE).startswith(RULE)


def test_the_kilo_of_a_unit_is_read_both_ways():
    """十千克 is 10千克 (cn2an alone reads no number there); 五千克 is 5千克 and 5000克 alike; 千 inside a larger
    numeral stays a numeral (三万五千米 is 35000米, never 35000千米)."""
    weights = "信件单件重量不超过五千克，包裹单件重量不超过十千克，装机容量二十万千瓦，路段长三万五千米。"
    digits = digit_form(weights)
    assert "5千克" in digits and "5000克" in digits and "10千克" in digits and "200000千瓦" in digits
    assert "35000米" in digits and "35000千米" not in digits
    assert (
        digit_form("一万二千克") == "12000克"
        and "3000元" in digit_form("奖励三千元。")
        and digit_form("千方百计") == ""
    )
    src = with_digits(weights)
    for answer in (
        "包裹不超过10千克[1]",
        "The parcel limit is 10 kilograms [1]",
        "信件不超过5千克[1]",
        "路段长35千米[1]",
    ):
        assert unsupported_numbers(answer, src) == [], answer
    assert unsupported_numbers("全长3000米[1]", with_digits("全长三千米。")) == []
    assert unsupported_numbers("包裹不超过20千克[1]", src) != []


def test_figures_written_in_digits_are_supported_by_chinese_numerals():
    src = with_digits(RULE)
    assert unsupported_numbers("处2万元以上20万元以下罚款[1]", src) == []
    assert unsupported_numbers("应在30日内提出[1]", src) == []
    assert unsupported_numbers("处3万元以上罚款[1]", src) == ["3万"]  # still caught when invented


def test_law_answer_in_digits_is_not_refused():
    g = ground("违反本条例的，处2万元以上20万元以下罚款。[1]", _ctx(RULE), "zh-Hans")
    assert not g.refused, g.checks
    assert ground("违反本条例的，处5万元以上罚款。[1]", _ctx(RULE), "zh-Hans").refused


def test_a_year_written_in_chinese_numerals_covers_the_question():
    assert missing_terms("这个办法2019年几月施行？", NOTICE) == []
    assert missing_terms("这个办法2021年几月施行？", NOTICE) == ["2021"]


def test_a_year_is_not_found_inside_a_larger_figure():
    """二万元 reads as 20000元: that holds no year 2000 (coverage), nor vouches for an answer's 2000年."""
    fine = "违反规定的，处二万元罚款。"
    assert missing_terms("2000年的罚款标准是多少？", fine) == ["2000"]
    g = ground("2000年起罚款标准是2万元。[1]", _ctx(fine), "zh-Hans", "罚款标准是多少？")
    assert g.refused and "2000" in g.reason
    assert not ground("罚款标准是2万元。[1]", _ctx(fine), "zh-Hans", "罚款标准是多少？").refused
