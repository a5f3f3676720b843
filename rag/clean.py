"""Clean scraped policy pages by general rules: chrome, footers, spam, pinyin, GBK-shift damage.

Rules match a simplified-script, lower-cased view of each line so that a
traditional-script page is cleaned by the same rules; the kept text stays in
its original script. Nothing here names strings of the bundled corpus.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from functools import lru_cache

from rag.script import to_simplified, to_traditional
from rag.types import CleanReport

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


# --- line-level rules ------------------------------------------------------

_NAV = re.compile(r"^(当前位置|您的位置|你的位置|您现在的位置|现在位置|所在位置)\s*[:：]|^首页\s*[>»/→]|首页\s*[>»→]")
_COUNTER = re.compile(r"(点击数|点击量|点击率|浏览量|浏览次数|阅读量|阅读数|阅读次数|访问量|访问次数|次浏览)")
_PREV_NEXT = re.compile(r"^(上一条|下一条|上一篇|下一篇|上一页|下一页|上一則|下一則)\s*[:：]?")
_SHARE = re.compile(
    r"(我要打印|打印本页|打印此页|打印文章|关闭窗口|关闭本页|分享到|收藏本页|返回顶部|字体\s*[:：]?\s*[【\[]?\s*大|字号\s*[:：]?\s*[【\[]?\s*大|扫一扫|扫码)"
)
_RELATED = re.compile(
    r"^(相关阅读|相关文章|相关新闻|相关链接|相关推荐|热门文章|热门推荐|最新文章|最新资讯|推荐阅读|热点推荐|猜你喜欢|延伸阅读|更多阅读|精彩推荐)\s*[:：]?$"
)
_FOOTER = re.compile(
    r"(版权所有|copyright|©|icp备|icp证|网站地图|主办单位|承办单位|技术支持|制作维护|网站标识码|公网安备|联系我们|微信公众号|官方微博)"
)
_CONTACT = re.compile(
    r"(电话|传真|邮箱|e-?mail|地址|邮编|邮政编码)\s*[:：]|[\w.+-]+@[\w-]+\.[\w.]+|\b0\d{2,3}-\d{7,8}\b"
)
_BYLINE = re.compile(r"^(日期|来源|发布时间|发布日期|发布者|作者|编辑|责任编辑|信息来源|文章来源)\s*[:：]")
_SPAM = re.compile(
    r"(午夜|福利|乱码|无码|在线观看|免费观看|久久|一级a|成人|色情|伟德|博彩|娱乐城|棋牌|彩票|百家乐|六合彩|威尼斯人|"
    r"亚洲综合|精品网站|视频性|国产|日本a|av|澳门金沙|真人|赌场|老虎机)"
)
_SENTENCE_END = re.compile(r"[。；！？!?]")


def classify_line(line: str) -> str | None:
    """Name the boilerplate kind of a line, or None for body text."""
    s = to_simplified(line).lower().strip()
    if not re.search(r"[\u3400-\u9fffa-z0-9]", s):
        return "no_text"
    short = len(s) <= 60
    if _NAV.search(s) and len(s) <= 80:
        return "navigation"
    if _PREV_NEXT.search(s):
        return "prev_next"
    if _RELATED.search(s):
        return "related"
    spam_hits = set(_SPAM.findall(s))
    if len(spam_hits) >= 2 or (spam_hits and short and not _SENTENCE_END.search(s)):
        return "spam"
    if _COUNTER.search(s) and short and "。" not in s:
        return "counter"
    if _SHARE.search(s) and short:
        return "share_print"
    if _FOOTER.search(s) and len(s) <= 120:
        return "footer"
    if _CONTACT.search(s) and len(s) <= 120 and "。" not in s:
        return "contact"
    if _BYLINE.search(s) and short and "。" not in s:
        return "byline"
    return None


def _strip_chrome(lines: list[str], removed: Counter, samples: list[str]) -> list[str]:
    """Drop line-level boilerplate, the site header above a breadcrumb and the tail after related/footer blocks."""

    def drop(kind: str, line: str) -> None:
        removed[kind] += 1
        if len(samples) < 40:
            samples.append(f"[{kind}] {line[:60]}")

    kinds = [None if line == "\f" else classify_line(line) for line in lines]
    # Site header: everything above a breadcrumb near the top is site chrome (slogans, menus).
    start = 0
    for i, kind in enumerate(kinds[:15]):
        if kind == "navigation":
            start = i
    for line in lines[:start]:
        drop("site_header", line)
    # Tail: from a related-reading list or a footer in the last 40% of the page, nothing is body.
    end = len(lines)
    body_chars = sum(len(x) for x in lines)
    seen = 0
    for i, (line, kind) in enumerate(zip(lines, kinds, strict=False)):
        if i >= start and kind in ("related", "footer") and seen >= 0.6 * body_chars:
            end = i
            break
        seen += len(line)
    kept: list[str] = []
    for line, kind in zip(lines[start:end], kinds[start:end], strict=False):
        if kind:
            drop(kind, line)
        else:
            kept.append(line)
    for line in lines[end:]:
        drop("tail_block", line)
    return kept


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


def clean_text(raw: str) -> tuple[str, CleanReport]:
    """Return body text (one paragraph a line) and a report of what was removed and repaired."""
    report = CleanReport(chars_before=len(raw))
    removed: Counter = Counter()
    repaired: Counter = Counter()
    text = normalize_chars(raw)
    lines: list[str] = []
    for line in text.split("\n"):
        if line == "\f":  # the loader's page break between PDF pages: kept, so passages know their page
            lines.append(line)
            continue
        # Pinyin first (its tone letters would look like mojibake), then the repair, then pinyin
        # again: a repaired character can carry a reading that followed its garbled form.
        line, n1 = PINYIN_RE.subn("", line)
        line, fixed, dropped = repair_gbk_shift(line)
        line, n2 = PINYIN_RE.subn("", line)
        line, n3 = ORPHAN_PINYIN_RE.subn("", line)
        removed["orphan_pinyin"] += n3
        repaired["gbk_shift"] += fixed
        removed["gbk_garbage"] += dropped
        repaired["pinyin"] += n1 + n2
        # Leftover mojibake characters anywhere else are garbage, never indexed.
        line, n = _SUSPICIOUS.subn("", line)
        removed["stray_mojibake_chars"] += n
        line = re.sub(r" {2,}", " ", line).strip()
        if line:
            lines.append(line)
    kept = _strip_chrome(lines, removed, report.removed_samples)
    body = "\n".join(kept)
    report.chars_after = len(body)
    report.removed = {k: v for k, v in removed.items() if v}
    report.repaired = {k: v for k, v in repaired.items() if v}
    report.residual_damage = round(residual_damage(body), 5)
    return body, report
