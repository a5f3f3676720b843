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
