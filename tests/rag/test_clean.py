"""Cleaning on the real scraped files: no pinyin, no mojibake, no boilerplate, every body paragraph kept."""

from __future__ import annotations

import re

import pytest

from rag.clean import (
    ORPHAN_PINYIN_RE,
    PINYIN_RE,
    classify_line,
    clean_text,
    repair_gbk_shift,
    repair_line,
    residual_damage,
)
from rag.script import to_simplified

MOJIBAKE = re.compile(r"[\u3100-\u312f\u2500-\u257f\ue000-\uf8ff\ufffd]")
BOILERPLATE = re.compile(
    r"当前位置|首页\s*>|点击数|浏览量|上一条|下一条|关闭窗口|我要打印|相关阅读|热门文章|最新文章|"
    r"版权所有|网站地图|微信公众号|邮箱[:：]|电话[:：]|地址[:：]|午夜|乱码|久久|伟德"
)
# Lines of the raw pages that are not document body, by file: the spam/related lists the
# general rules must drop. Everything else of 30+ Han characters is body and must survive.
NOT_BODY = {
    "000_7b47e0ef960b77e7.txt": ("上一条:", "下一条:"),
    "001_3e5b20cb4d36e18e.txt": (
        "2023山东高质量发展优秀案例征集通道正式开启入选",
        "12月1日,全市供销社",
        "12月11日至12日",
        "长城网·冀云客户端",
    ),
    "002_78ad54bd58fc9a9e.txt": ("伟德源自英国",),
    "003_f987b7789e2746bc.txt": ("亚洲综合乱码", "地址:山東省淄博市"),
}


def test_pinyin_removed_after_han_only():
    assert PINYIN_RE.sub("", "縣域經(jīng)濟(jì)發(fā)展") == "縣域經濟發展"
    assert PINYIN_RE.sub("", "GDP(gdp)与面积(km)") == "GDP(gdp)与面积(km)"  # not readings
    assert ORPHAN_PINYIN_RE.sub("", "做qiáng)縣城") == "做縣城"


def test_gbk_shift_repaired():
    line, repaired, dropped = repair_gbk_shift(" ?。ㄒ唬┨嵴窨h域工業")
    assert (line, repaired, dropped) == ("（一）提振縣域工業", 1, 0)


def test_character_lost_in_the_damage_is_recovered_from_its_reading():
    # The raw heading lines of 003: the shifted run swallowed a character and the "(" of its
    # reading; its GBK lead byte (and the words it forms) pick it among the characters read so.
    assert repair_gbk_shift(" ?。ㄆ撸┳鰪?qiáng)縣城載體")[0] == "（七）做強縣城載體"
    assert repair_gbk_shift(" ?。ㄈ\ue40c┘涌旆\ue848?wù)業融合")[0] == "（三）加快服務業融合"


def test_reading_alone_picks_a_character_only_from_words():
    from rag.clean import char_for_reading

    assert char_for_reading("qiáng", "做", "县城") == "强"
    assert char_for_reading("qiáng", "做", "县城", traditional=True) == "強"
    assert char_for_reading("wù", "加快服", "业融合") == "务"  # 服务业, not 物业
    assert char_for_reading("xyz", "做", "县") == ""


def test_gbk_shift_unrepairable_is_dropped_not_kept():
    line = repair_line(" ?。ň?建設宜居宜業和美鄉村")
    assert not MOJIBAKE.search(line) and "ň" not in line
    assert line.endswith("建設宜居宜業和美鄉村")


def test_clean_text_line_is_untouched():
    assert repair_gbk_shift("正常的一行文字。")[0] == "正常的一行文字。"


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("当前位置:首页 > 新闻 > 正文", "navigation"),
        ("瀏覽量:0", "counter"),
        ("上一篇:关于某某的通知", "prev_next"),
        ("【我要打印】【关闭窗口】", "share_print"),
        ("相关阅读", "related"),
        ("版權所有©某某有限公司", "footer"),
        ("电话:010-12345678 邮箱:abc@163.com", "contact"),
        ("亚洲综合乱码在线观看,午夜福利", "spam"),
        ("力争到2025年,寿光市gdp完成1100亿元以上。", None),
        ("网站浏览量持续增长,全年点击数达到100万次,比上年增长20%,成为政务公开的重要窗口。", None),
    ],
)
def test_classify_line(line, kind):
    assert classify_line(line) == kind


@pytest.fixture(scope="module")
def cleaned(corpus_dir):
    out = {}
    for p in sorted(corpus_dir.glob("*.txt")):
        raw = p.read_text(encoding="utf-8")
        out[p.name] = (raw, *clean_text(raw))
    return out


def test_no_damage_or_boilerplate_left(cleaned):
    for name, (_raw, body, report) in cleaned.items():
        assert not PINYIN_RE.search(body), name
        assert not ORPHAN_PINYIN_RE.search(body), name
        assert not MOJIBAKE.search(body), name
        found = BOILERPLATE.findall(to_simplified(body))
        assert not found, (name, found)
        assert report.residual_damage == residual_damage(body) < 0.001
        assert report.chars_after == len(body) <= report.chars_before


def test_every_body_paragraph_kept(cleaned):
    for name, (raw, body, _report) in cleaned.items():
        for line in raw.split("\n"):
            fixed = repair_line(re.sub(r"\s+", " ", line)).strip()
            if len(re.findall(r"[\u4e00-\u9fff]", fixed)) < 30:
                continue
            if any(marker in fixed for marker in NOT_BODY.get(name, ())):
                continue
            # Allow the repair to drop a garbled list marker at the start of a line.
            assert fixed[12:] in body, (name, fixed[:40])


def test_report_counts_repairs(cleaned):
    report = cleaned["003_f987b7789e2746bc.txt"][2]
    assert report.repaired["pinyin"] > 800
    assert report.repaired["gbk_shift"] >= 13
    body = cleaned["003_f987b7789e2746bc.txt"][1]
    assert body.count("（一）提振縣域工業經濟") == 1
    for heading in (
        "（三）加快服務業融合創新",
        "（七）做強縣城載體",
        "（十）優化用地指標供給",
        "（十二）加快科創要素集聚",
    ):
        assert heading in body


# --- structure, not keywords: text written for these tests, not taken from the bundled pages ---


@pytest.mark.parametrize(
    "line",
    [
        "二、推进国产化替代",
        "（三）发展成人教育",
        "第九章 社会保险和福利",
        "第四十六条 国家支持为中小企业提供技术支持、法律咨询和人员培训。",
        "（四）对网络安全事件的应急处置，提供技术支持和协助。",
        "本中心地址：北京市海淀区中关村大街1号，咨询电话：010-62345678，工作日接待来访。",
        "1. 版权所有人依法享有的权利",
        "Average annual growth",
        "福利彩票公益金使用情况",  # a plain heading naming a lottery is not spam
        "午夜经济与成人教育",
    ],
)
def test_structure_and_prose_are_never_furniture(line):
    assert classify_line(line) is None
    body, report = clean_text(f"某市年度工作报告\n前言部分说明了报告的背景和依据。\n{line}\n以上内容供参考。")
    assert line in body.split("\n") and report.chars_removed == 0


LAW = """中华人民共和国某某促进法

（2017年9月1日第十二届全国人民代表大会常务委员会第二十九次会议通过）

第一章　总则

第一条　为了改善发展环境，制定本法。

第八章　权益保护

第四十六条　国家鼓励各类服务机构为企业提供创业培训与辅导、知识产权保护、管理咨询、信息咨询、信用服务、市场营销、项目开发、投资融资、财会税务、产权交易、技术支持、人才引进、对外合作、展览展销、法律咨询等服务。

第四十七条　县级以上人民政府应当建立投诉举报机制，公开投诉举报电话、邮箱、地址等联系方式。

联系我们

第十章　附则

第六十一条　本法自2018年1月1日起施行。"""


def test_keywords_inside_a_law_keep_every_article():
    body, report = clean_text(LAW)
    assert body.split("\n") == [line.strip().replace("\u3000", " ") for line in LAW.split("\n") if line.strip()]
    assert report.chars_removed == 0 and not report.removed_lines


NOTICE = """关于举办2025年职业技能竞赛的通知
各有关单位：
为推动技能人才队伍建设，现将有关事项通知如下。
一、主办单位
主办单位：某市人力资源和社会保障局
技术支持：某市职业技能鉴定中心
二、联系方式
联系人：王明
联系电话：0531-86001234
邮箱：jineng@example.cn
三、报名时间
报名截止时间为2025年5月30日。
某市人力资源和社会保障局
2025年4月1日"""


def test_contact_and_sponsor_lines_of_a_notice_are_kept():
    body, report = clean_text(NOTICE)
    assert body == NOTICE and report.chars_removed == 0


PAGE = """首页 > 政务公开 > 通知公告
关于开展节能宣传周活动的通知
发布时间：2025-06-01 浏览量：128
各区县：
今年节能宣传周定于6月第二周举行，请各单位结合实际组织开展宣传活动。
（一）开展主题宣传。利用政务新媒体发布节能知识。
（二）组织节能体验。开放一批节能示范场所。
某市发展和改革委员会
2025年6月1日
上一篇：关于2025年一季度能源消费情况的通报
相关链接
• 某省能源局
• 国家节能中心
主办：某市发展和改革委员会 联系电话：0531-12345678
Copyright © 2025 某市发展和改革委员会 鲁ICP备12345678号"""


def test_page_chrome_around_the_body_is_removed():
    body, report = clean_text(PAGE)
    assert body.split("\n") == [
        "关于开展节能宣传周活动的通知",
        "各区县：",
        "今年节能宣传周定于6月第二周举行，请各单位结合实际组织开展宣传活动。",
        "（一）开展主题宣传。利用政务新媒体发布节能知识。",
        "（二）组织节能体验。开放一批节能示范场所。",
        "某市发展和改革委员会",
        "2025年6月1日",
    ]
    assert [x.kind for x in report.removed_lines] == [
        "navigation", "counter", "prev_next", "related", "tail_block", "tail_block", "contact", "footer"
    ]  # fmt: skip
    assert report.chars_removed == sum(len(x.text) for x in report.removed_lines)


def test_a_footer_word_followed_by_more_body_does_not_end_the_document():
    text = PAGE.replace("相关链接\n", "相关链接\n第三条 本办法由市发展和改革委员会负责解释。\n")
    body, _ = clean_text(text)
    assert "相关链接" in body and "第三条 本办法由市发展和改革委员会负责解释。" in body
    assert "国家节能中心" in body  # no tail: the lines after the body's last article stay


def test_page_breaks_are_kept_even_next_to_removed_lines():
    text = "第一页正文。\f第二页正文。\n浏览量：3\f\n第三页正文。\n版权所有 © 某网站\f"
    body, report = clean_text(text)
    assert body.count("\f") == text.count("\f") == 3
    assert body.split("\n") == ["第一页正文。", "\f", "第二页正文。", "\f", "第三页正文。", "\f"]
    assert [x.kind for x in report.removed_lines] == ["counter", "footer"]
