"""Clean loaded documents: page chrome found by where it stands, pinyin readings, GBK-shift damage.

Boilerplate is what sits around a document's body: a site header above the
breadcrumb, a footer or related-reading list after the last body line, and
furniture lines that have no other use (breadcrumbs, counters, print buttons).
A heading, numbered item, sentence or table row is never removed by a line
rule, whatever words it holds: laws and reports use 技术支持, 地址, 福利 in
their articles. Every removed line is recorded in the report, and page breaks
(form feeds) are always kept.

Rules match a simplified-script, lower-cased view of each line so that a
traditional-script page is cleaned by the same rules; the kept text stays in
its original script. Nothing here names strings of the bundled corpus.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from rag.script import to_simplified, to_traditional
from rag.types import CleanReport, RemovedLine

# --- character-level -------------------------------------------------------

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)
_SPACES = {ord(c): " " for c in "\u00a0\u3000\u2002\u2003\u2009\t"}
_FULLWIDTH_ALNUM = {cp: cp - 0xFEE0 for cp in [*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B)]}

_TONE = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ"
_NEUTRAL = "de|le|me|ne|ma|ba|zi|men|ge|zhe|la|ya|wa|li|tou|shang|xia|jia"
# A pinyin reading in parentheses right after a Han character: 經(jīng) → 經
PINYIN_RE = re.compile(rf"(?<=[\u3400-\u9fff])\((?:[a-zü]*[{_TONE}][a-zü]*|(?:{_NEUTRAL}))\)")

# A reading whose opening parenthesis was eaten by the damage: 做qiáng)縣城 → 做縣城
ORPHAN_PINYIN_RE = re.compile(rf"(?<![(a-zü{_TONE}])[a-zü]*[{_TONE}][a-zü]*\)")
# A lone ASCII letter between Han characters: the stream lost alignment again.
_RESHIFT = re.compile(rf"^.{{0,12}}[\u3400-\u9fff][A-Za-z](?:\([a-zü{_TONE}]+\))?[\u3400-\u9fff]")
_LIST_MARKER = re.compile(r"^[（(][一二三四五六七八九十]+[）)]")

# Characters that do not occur in Chinese policy prose but do in GBK text decoded one byte off.
_SUSPICIOUS = re.compile(r"[\u3100-\u312f\u2500-\u257f\ue000-\uf8ff\u0100-\u024f\ufffd]")
_HAN_OR_CJK_PUNCT = re.compile(r"^[\u3400-\u9fff\u3000-\u303f\uff00-\uffef0-9]+$")


def normalize_chars(text: str) -> str:
    text = unicodedata.normalize("NFC", text).translate(_ZERO_WIDTH).translate(_SPACES)
    return text.translate(_FULLWIDTH_ALNUM)


def _gbk_bytes(text: str) -> bytes:
    """The GBK bytes behind decoded text, including the 80 codes (FE50–FEA0) old GBK tables put in the private use area.

    GB18030-2005 (Python's codec) maps those codes to real characters, so the
    private-use characters a shifted decode produces would not encode back.
    """
    out = bytearray()
    for ch in text:
        i = ord(ch) - 0xE815
        if 0 <= i < 80:
            out += bytes([0xFE, 0x50 + i if i < 47 else 0x80 + i - 47])
        else:
            out += ch.encode("gb18030")
    return bytes(out)


def _try_unshift(segment: str) -> tuple[str, int | None] | None:
    """Re-decode GBK text that was decoded starting one byte late.

    In the shifted stream each character holds the trail byte of one original
    character and the lead byte of the next; dropping the first byte realigns
    the pairs. Returns the text and, when the run ends in the middle of a
    character, that character's lead byte; None when the bytes do not give
    clean Chinese text.
    """
    # Characters at the end of the run may have lost bytes: try shorter runs, longest result first.
    for drop_tail in range(0, min(6, len(segment))):
        try:
            data = _gbk_bytes(segment[: len(segment) - drop_tail])
        except UnicodeEncodeError:
            continue
        for cut in (data[1:], data[1:-1]):
            try:
                fixed = cut.decode("gb18030").strip()
            except UnicodeDecodeError:
                continue
            if fixed and _HAN_OR_CJK_PUNCT.match(fixed) and not _SUSPICIOUS.search(fixed):
                opens = sum(fixed.count(c) for c in "（(")
                closes = sum(fixed.count(c) for c in "）)")
                if opens == closes:
                    dangling = data[-1] if drop_tail == 0 and len(cut) < len(data) - 1 and data[-1] >= 0x81 else None
                    return fixed, dangling
    return None


_LOST_READING = re.compile(rf"^([a-zü]*[{_TONE}][a-zü]*)\)")


@lru_cache(maxsize=1)
def _chars_by_reading() -> dict[str, list[str]]:
    from pypinyin.pinyin_dict import pinyin_dict

    out: dict[str, list[str]] = {}
    for cp, readings in pinyin_dict.items():
        if 0x4E00 <= cp <= 0x9FFF:
            for r in readings.split(","):
                out.setdefault(r, []).append(chr(cp))
    return out


def char_for_reading(reading: str, before: str, after: str, traditional: bool = False, lead: int | None = None) -> str:
    """The character a reading most likely belongs to, judged by the words it forms with its neighbours.

    "加快服?wù)業": of the characters read wù, 务 forms 服务/服务业 (物 would
    form 物业 only with the next one, and longer words count more). Without
    any word, the reading's most common character is taken only if it clearly
    dominates. A known GBK lead byte narrows the choice, usually to one
    character. Empty if nothing fits.
    """
    import jieba

    jieba.dt.check_initialized()
    freq = jieba.dt.FREQ
    b, a = to_simplified(before[-2:]), to_simplified(after[:2])
    chars = _chars_by_reading().get(reading, [])
    if lead is not None:  # the damaged run kept the character's first byte
        chars = [c for c in chars if _gbk_lead(c) == lead]
    if len(chars) <= 1:
        return chars[0] if chars else ""

    def words(c: str) -> float:
        window, i = b + c + a, len(b)
        spans = [(x, y) for x in range(0, i + 1) for y in range(i + 1, len(window) + 1) if 2 <= y - x <= 4]
        return sum(freq.get(window[x:y], 0) * (y - x - 1) for x, y in spans)

    candidates = {to_simplified(c) for c in chars}
    scored = sorted(((words(c), freq.get(c, 0), c) for c in candidates), reverse=True)
    best = scored[0]
    if best[0] == 0 and (best[1] == 0 or (len(scored) > 1 and best[1] < 5 * scored[1][1])):
        return ""
    return to_traditional(best[2]) if traditional else best[2]


def _gbk_lead(ch: str) -> int | None:
    try:
        data = ch.encode("gbk")
    except UnicodeEncodeError:
        return None
    return data[0] if len(data) == 2 else None


def repair_gbk_shift(line: str) -> tuple[str, int, int]:
    """Repair (or drop) a garbled run at the start of a line.

    The damage starts where a full-width indent lost its first byte: the line
    begins with '?' or with mojibake characters, and ends where an ASCII trail
    byte resynchronises the stream. Returns (line, repaired, dropped).
    """
    stripped = line.lstrip(" ?")
    head = stripped[:8]
    if not (_SUSPICIOUS.search(head) or (line.lstrip(" ").startswith("?") and len(stripped) > 1)):
        return line, 0, 0
    # The run ends at the first ASCII letter/digit (a trail byte that resynced) or a lost byte '?'.
    m = re.search(r"[\x21-\x7e]", stripped)
    end = m.start() if m else len(stripped)
    ascii_trail = m is not None and stripped[end] != "?"
    segment = stripped[: end + 1] if ascii_trail else stripped[:end]
    rest = stripped[end + 1 :]
    unshifted = _try_unshift(segment)
    if unshifted is not None:
        fixed, lead = unshifted
        m = _RESHIFT.match(rest)
        if m:  # damage goes on past the repair: keep only the trusted list marker
            marker = _LIST_MARKER.match(fixed)
            return (marker.group(0) if marker else "") + rest[m.end() - 1 :], 1, 1
        lost = _LOST_READING.match(rest) if not ascii_trail else None
        if lost:  # the run swallowed a character but left its reading: 做?qiáng)縣城 → 做強縣城
            traditional = to_simplified(line) != line
            ch = char_for_reading(lost.group(1), fixed, rest[lost.end() :], traditional, lead)
            if ch:
                return fixed + ch + rest[lost.end() :], 1, 0
        return fixed + rest, 1, 0
    # Unrepairable: drop the garbage up to the resync point.
    return rest, 0, 1


# --- what a line is --------------------------------------------------------
# A line that is part of the document's structure or a sentence of body text is never removed
# by a line rule, whatever words it holds: keyword rules only name page furniture that is not
# prose (a breadcrumb, a counter, a copyright line).

PAGE_BREAK = "\f"  # the loader puts one between PDF pages; cleaning keeps every one as its own line

_HAS_TEXT = re.compile(r"[\u3400-\u9fffA-Za-z0-9]")
_STRUCTURAL = re.compile(
    r"^(?:第[一二三四五六七八九十百千零〇两\d]+[编章节条款部篇]"  # 第三章 / 第四十六条
    r"|[一二三四五六七八九十百]+[、.．]"  # 二、
    r"|[（(][一二三四五六七八九十百]+[）)]"  # （三）
    r"|\d{1,3}[.、．](?!\d)"  # 1.  (not 2023.5)
    r"|[（(]\d{1,3}[）)]"  # (1)
    r"|[①-⑳])"
)
# A sentence ends in one of these, perhaps followed by closing quotes or brackets.
_SENTENCE_END = re.compile(r"[。；！？!?;…：:][”’\"'）)」』】]*$")
_INNER_STOP = re.compile(r"[。！？；]")
_BULLET = re.compile(r"^[•·▪◦●○■□◆◇※\-*]\s*")
_TABLE_CELL_SEP = " | "  # rag.load writes a .docx table row as its cells joined so


def is_structural(line: str) -> bool:
    """A heading or numbered item of the document: 一、 （一） 第X章 第X条 1. (1) ①."""
    return bool(_STRUCTURAL.match(line))


def is_sentence(line: str) -> bool:
    """Body prose: ends like a sentence, or is a long line with a full stop inside.

    A line ending in a colon is a sentence ("现答复如下：", "宋钊逸委员：") unless it holds
    several colons: "作者: 点击数:" is a row of empty form fields, not prose.
    """
    if _SENTENCE_END.search(line):
        return not line.rstrip("”’\"'）)」』】").endswith((":", "：")) or len(re.findall("[:：]", line)) == 1
    return len(line) >= 40 and bool(_INNER_STOP.search(line))


def is_table_row(line: str) -> bool:
    """A row of a Word table as rag.load writes it: two or more cells, one with text."""
    cells = line.split(_TABLE_CELL_SEP)
    return len(cells) >= 2 and any(_HAS_TEXT.search(c) for c in cells)


def is_protected(line: str) -> bool:
    """Body that no line rule may remove: a heading or item, a sentence, a table row."""
    return bool(_HAS_TEXT.search(line)) and (is_structural(line) or is_sentence(line) or is_table_row(line))


# --- page furniture, by the forms it takes ----------------------------------

_NAV = re.compile(r"^(当前位置|您的位置|你的位置|您现在的位置|现在位置|所在位置)\s*[:：]|^首页\s*[>»/→]|首页\s*[>»→]")
# A counter is a label with a colon and at most a number: "浏览量:0", "作者: 点击数:".
_COUNTER = re.compile(
    r"(点击数|点击量|点击率|浏览量|浏览次数|阅读量|阅读数|阅读次数|访问量|访问次数)\s*[:：]\s*\d*\s*$"
)
_PREV_NEXT = re.compile(r"^(上一条|下一条|上一篇|下一篇|上一页|下一页|上一則|下一則)\s*[:：]")
_SHARE = re.compile(
    r"(我要打印|打印本页|打印此页|打印文章|关闭窗口|关闭本页|分享到|收藏本页|返回顶部|字体\s*[:：]?\s*[【\[]?\s*大|字号\s*[:：]?\s*[【\[]?\s*大|扫一扫)"
)
_RELATED = re.compile(
    r"^(相关阅读|相关文章|相关新闻|相关链接|相关推荐|热门文章|热门推荐|最新文章|最新资讯|推荐阅读|热点推荐|猜你喜欢|延伸阅读|更多阅读|精彩推荐)\s*[:：]?$"
)
# Lines that only a website's footer has: they start the page's tail (with related-reading lists).
# Sponsor, support and contact lines (_SITE_INFO, _CONTACT) also occur in a document's own text,
# so they are removed only as part of the footer block, never start a tail themselves.
_FOOTER = re.compile(r"(版权所有|copyright|©|icp备|icp证|网站标识码|公网安备|网站地图)")
_SITE_INFO = re.compile(r"(主办单位|承办单位|技术支持|制作维护|联系我们|微信公众号|官方微博)")
_CONTACT = re.compile(
    r"(电话|传真|邮箱|e-?mail|地址|邮编|邮政编码)\s*[:：]|[\w.+-]+@[\w-]+\.[\w.]+|\b0\d{2,3}-\d{7,8}\b"
)
_BYLINE = re.compile(r"^(日期|来源|发布时间|发布日期|发布者|作者|编辑|责任编辑|信息来源|文章来源)\s*[:：]")
# Injected gambling/porn link text: two different words of it on one line that is not prose.
# Only words with no ordinary use: 福利彩票, 成人教育, 国产化, 棋牌运动 and 午夜经济 are policy terms.
_SPAM = re.compile(
    r"(乱码|无码|在线观看|免费观看|久久|一级a|色情|伟德|博彩|娱乐城|百家乐|六合彩|威尼斯人|"
    r"亚洲综合|精品网站|视频性|日本a|澳门金沙|赌场|老虎机)"
)

# Removed wherever they stand (never from a protected line): they have no other use.
FURNITURE = frozenset({"no_text", "navigation", "prev_next", "share_print", "counter"})
# Removed only outside the body (above its first or after its last protected line).
OUTSIDE_BODY = frozenset({"byline"})
# A page's tail starts at one of these, past TAIL_FROM of the page, with no body after it.
TAIL_START = frozenset({"footer", "related", "prev_next", "spam"})
# Furniture directly above a tail start belongs to the same footer block.
FOOTER_BLOCK = frozenset({"contact", "byline", "site_info", "no_text", "share_print", "counter"})
TAIL_FROM = 0.6


def classify_line(line: str) -> str | None:
    """Name the page-furniture kind of a line, or None for body text (always None for a protected line)."""
    s = to_simplified(line).lower().strip()
    if not _HAS_TEXT.search(s):
        return "no_text"
    if is_protected(s):
        return None
    short = len(s) <= 60
    rules: list[tuple[str, bool]] = [
        ("navigation", bool(_NAV.search(s)) and len(s) <= 80),
        ("prev_next", bool(_PREV_NEXT.search(s))),
        ("related", bool(_RELATED.search(s))),
        ("counter", bool(_COUNTER.search(s)) and short),
        ("share_print", bool(_SHARE.search(s)) and short),
        ("footer", bool(_FOOTER.search(s)) and len(s) <= 120),
        ("spam", len(set(_SPAM.findall(s))) >= 2),
        ("site_info", bool(_SITE_INFO.search(s)) and len(s) <= 120),
        ("contact", bool(_CONTACT.search(s)) and len(s) <= 120),
        ("byline", bool(_BYLINE.search(s)) and short),
    ]
    return next((kind for kind, hit in rules if hit), None)


# --- where the body is -----------------------------------------------------


@dataclass
class _Page:
    """The lines of a document with what each one is, computed once."""

    lines: list[str]
    kinds: list[str | None] = field(init=False)  # page-furniture kind, None for body (and page breaks)
    protected: list[bool] = field(init=False)
    body_after: list[bool] = field(init=False)  # some line after i is body: a heading, or prose not in a link list

    def __post_init__(self) -> None:
        real = [x != PAGE_BREAK for x in self.lines]
        self.kinds = [classify_line(x) if r else None for x, r in zip(self.lines, real, strict=True)]
        self.protected = [r and is_protected(x) for x, r in zip(self.lines, real, strict=True)]
        self.body_after = [False] * len(self.lines)
        for i in range(len(self.lines) - 2, -1, -1):
            x = self.lines[i + 1]
            body = is_structural(x) or (self.protected[i + 1] and not _BULLET.match(x))
            self.body_after[i] = self.body_after[i + 1] or body


def _site_header_end(page: _Page) -> int:
    """Lines above a breadcrumb near the top are the site's header (slogans, menus), unless one is body."""
    navs = [i for i, kind in enumerate(page.kinds[:15]) if kind == "navigation"]
    if not navs or any(page.protected[: navs[-1]]):
        return 0
    return navs[-1]


def _tail_start(page: _Page, start: int) -> int:
    """Where the page's tail begins: len(lines) if it has none.

    A tail starts at a site footer, a related-reading heading, a prev/next link or spam,
    past TAIL_FROM of the text, when no heading and no prose follows it (prose in a bulleted
    link list excepted); the furniture right above it (contact, byline) belongs to it.
    """
    lines, kinds = page.lines, page.kinds
    total = sum(len(x) for x in lines)
    seen = sum(len(x) for x in lines[:start])
    end = len(lines)
    for i in range(start, len(lines)):
        if kinds[i] in TAIL_START and seen >= TAIL_FROM * total and not page.body_after[i]:
            end = i
            break
        seen += len(lines[i])
    if end == len(lines):
        return end
    while end > start and (kinds[end - 1] in FOOTER_BLOCK or lines[end - 1] == PAGE_BREAK):
        end -= 1
    return end


def _body_span(page: _Page, start: int, end: int) -> tuple[int, int]:
    """First and last protected line in [start, end); the whole range when none is."""
    protected = [i for i in range(start, end) if page.protected[i]]
    return (protected[0], protected[-1]) if protected else (start, end - 1)


def _strip_chrome(lines: list[str], report: CleanReport) -> list[str]:
    """Drop the site header, the page tail and furniture lines; keep every protected line of the body."""
    page = _Page(lines)
    start = _site_header_end(page)
    end = _tail_start(page, start)
    first, last = _body_span(page, start, end)
    kept: list[str] = []
    for i, (line, kind) in enumerate(zip(lines, page.kinds, strict=True)):
        if line == PAGE_BREAK:
            kept.append(line)
        elif i < start:
            _drop(report, "site_header", line)
        elif i >= end:
            _drop(report, kind or "tail_block", line)
        elif kind in FURNITURE or (kind in OUTSIDE_BODY and not first <= i <= last):
            _drop(report, kind, line)
        else:
            kept.append(line)
    return kept


def _drop(report: CleanReport, kind: str, line: str) -> None:
    report.removed[kind] = report.removed.get(kind, 0) + 1
    report.removed_lines.append(RemovedLine(kind, line))
    report.chars_removed += len(line)


def residual_damage(text: str) -> float:
    """Share of characters that still look like encoding damage, pinyin or spam."""
    if not text:
        return 0.0
    bad = len(_SUSPICIOUS.findall(text)) + sum(len(m) for m in PINYIN_RE.findall(text))
    bad += sum(len(m) for m in ORPHAN_PINYIN_RE.findall(text)) + len(
        re.findall(r"[\u3400-\u9fff][A-Z][\u3400-\u9fff]", text)
    )
    bad += sum(
        len(m) for m in _SPAM.findall(to_simplified(text).lower()) if m in ("乱码", "无码", "伟德", "博彩", "百家乐")
    )
    return bad / len(text)


def repair_line(line: str) -> str:
    """The character-level repairs of `clean_text` for one line, without boilerplate removal."""
    line = repair_gbk_shift(PINYIN_RE.sub("", line))[0]
    return _SUSPICIOUS.sub("", ORPHAN_PINYIN_RE.sub("", PINYIN_RE.sub("", line)))


def _repair(line: str, report: CleanReport) -> str:
    """Pinyin readings, GBK shift damage and stray mojibake of one line; what is dropped is counted."""
    # Pinyin first (its tone letters would look like mojibake), then the repair, then pinyin
    # again: a repaired character can carry a reading that followed its garbled form.
    line, n1 = PINYIN_RE.subn("", line)
    before = len(line)
    line, fixed, dropped = repair_gbk_shift(line)
    if dropped and not fixed:
        report.chars_removed += max(0, before - len(line))
    line, n2 = PINYIN_RE.subn("", line)
    before = len(line)
    line, n3 = ORPHAN_PINYIN_RE.subn("", line)
    report.chars_removed += before - len(line)
    # Leftover mojibake characters anywhere else are garbage, never indexed.
    line, n4 = _SUSPICIOUS.subn("", line)
    report.chars_removed += n4
    for counts, key, n in (
        (report.removed, "orphan_pinyin", n3),
        (report.repaired, "gbk_shift", fixed),
        (report.removed, "gbk_garbage", dropped),
        (report.repaired, "pinyin", n1 + n2),
        (report.removed, "stray_mojibake_chars", n4),
    ):
        if n:
            counts[key] = counts.get(key, 0) + n
    return line


def _lines(text: str) -> list[str]:
    """The lines of a text; every page break becomes a line of its own, so no rule can remove it."""
    out: list[str] = []
    for raw_line in text.split("\n"):
        for j, part in enumerate(raw_line.split(PAGE_BREAK)):
            if j:
                out.append(PAGE_BREAK)
            out.append(part)
    return out


def clean_text(raw: str) -> tuple[str, CleanReport]:
    """Return body text (one paragraph a line) and a report of what was removed and repaired."""
    report = CleanReport(chars_before=len(raw))
    lines: list[str] = []
    for line in _lines(normalize_chars(raw)):
        if line == PAGE_BREAK:
            lines.append(line)
            continue
        line = re.sub(r" {2,}", " ", _repair(line, report)).strip()
        if line:
            lines.append(line)
    body = "\n".join(_strip_chrome(lines, report))
    report.chars_after = len(body)
    report.residual_damage = round(residual_damage(body), 5)
    return body, report
