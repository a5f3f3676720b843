"""Extract what officials cite a document by: title, issuing body, 文号, date, place.

Runs on the repaired text before boilerplate removal, because government
pages keep this information in header tables and signature blocks.
"""

from __future__ import annotations

import re

from rag.script import to_simplified
from rag.types import DocMeta

_DATE = r"(\d{4})\s*[-年/.]\s*(\d{1,2})\s*[-月/.]\s*(\d{1,2})\s*日?"
_LABELLED_DATE = re.compile(r"(公开日期|成文日期|发布日期|发文日期|印发日期|日期)\s*[:：|]?\s*\|?\s*" + _DATE)
DOC_NUMBER = re.compile(r"[\u4e00-\u9fff]{1,12}[〔\[［【(（]\s*\d{4}\s*[〕\]］】)）]\s*\d{1,4}\s*号")
_LABELLED_NUMBER = re.compile(r"文\s*号\s*[:：|]?\s*\|?\s*(" + DOC_NUMBER.pattern + ")")
_LABELLED_TITLE = re.compile(r"(信息名称|标\s*题|文件名称|名\s*称)\s*[:：|]?\s*\|?\s*(.{4,120})$")
_LABELLED_ISSUER = re.compile(
    r"(发布机构|发文机关|发文单位|发布单位)\s*[:：|]?\s*\|?\s*([\u4e00-\u9fff（）()、]{2,40})"
)
_SOURCE = re.compile(
    r"(来源|信息来源)\s*[:：]\s*([\u4e00-\u9fff]{2,30}?)(?=收集|编辑|作者|责任|发布时间|日期|[^\u4e00-\u9fff]|$)"
)
_ORG_SUFFIX = r"(人民政府|委员会|办公室|办公厅|新闻办公室|政府|局|厅|委|部|中心|研究所)"
_SIGNATURE = re.compile(r"^[(（]?([\u4e00-\u9fff、]{2,30}" + _ORG_SUFFIX + r")[)）]?$")
_ISSUED_BY = re.compile(r"^([\u4e00-\u9fff、]{2,30}" + _ORG_SUFFIX + r")印发")
# A law's history under its title: （2002年6月29日…会议通过　根据2017年9月1日…《关于修改…的决定》修正）
_LAW_EVENT = re.compile(_DATE + r"[^（）()]*?(通过|修正|修订)")
_IN_FORCE = re.compile(r"自\s*" + _DATE + r"\s*起施行")
# The last article (or a 办法's closing line): 本法自1998年5月1日起施行。
_IN_FORCE_CLAUSE = re.compile(r"本(?:法|条例|规定|办法|细则|决定|规则|准则)" + _IN_FORCE.pattern)
_TITLE_HINT = re.compile(r"(关于|通知|意见|方案|办法|规划|答复|决定|报告|措施|条例|规定|答记者问|解读|实施)")


def _iso(m: re.Match[str]) -> str:
    y, mo, d = m.group(m.re.groups - 2), m.group(m.re.groups - 1), m.group(m.re.groups)
    return f"{int(y):04d}-{int(mo):02d}-{int(d):02d}"


def _ymd(y: str, m: str, d: str) -> str:
    return f"{int(y):04d}-{int(m):02d}-{int(d):02d}"


def law_history(lines: list[str], body: str) -> tuple[str, list[str], str]:
    """(adopted, amended, effective) ISO dates of a law or regulation; empty where the text does not say.

    Adoption and amendments come from a parenthesised line near the top that
    records them (…通过 / …修正 / …修订); entry into force from that line or,
    as in most laws, from the last "本法自X年X月X日起施行" of the body.
    "自公布之日起施行" gives no date and leaves it empty.
    """
    adopted, amended, effective = "", [], ""
    for line in lines[:12]:
        if not line.startswith(("（", "(")):
            continue
        events = list(_LAW_EVENT.finditer(line))
        if not events:
            continue
        for m in events:
            iso = _ymd(m.group(1), m.group(2), m.group(3))
            if m.group(4) == "通过":
                adopted = adopted or iso
            else:
                amended.append(iso)
        m = _IN_FORCE.search(line)
        if m:
            effective = _ymd(*m.groups())
        break
    in_force = list(_IN_FORCE_CLAUSE.finditer(body))
    if in_force:  # the last article, not an earlier transitional one
        effective = _ymd(*in_force[-1].groups())
    return adopted, amended, effective


def place_stem(name: str) -> str:
    """寿光市 → 寿光: questions and English names often drop the administrative suffix."""
    return re.sub(r"(省|市|县|区)$", "", name)


def _place(text: str) -> str:
    import jieba.posseg as pseg

    for word, flag in pseg.cut(text):
        if flag == "ns" and len(word) >= 2:
            return word
    return ""


def _looks_like_title(line: str) -> bool:
    from rag.chunk import heading_level

    s = line.strip()
    return (
        6 <= len(s) <= 80
        and not s.endswith(("。", ":", "：", ";", "；"))
        and bool(_TITLE_HINT.search(s))
        and heading_level(s) is None
    )


def _orig(original: str, simplified: str, part: str) -> str:
    """Map a match on the simplified view back to the original script (t2s keeps lengths for these texts)."""
    i = simplified.find(part)
    if i >= 0 and len(original) == len(simplified):
        return original[i : i + len(part)]
    return part


def extract_metadata(text: str, body: str = "") -> DocMeta:
    """Best-effort metadata from the repaired page (`text`) and its cleaned body.

    Fields stay empty rather than guessed from unrelated text.
    """
    lines = [ln.strip() for ln in text.split("\n") if ln.strip()]
    simp = [to_simplified(ln) for ln in lines]
    body_lines = [ln.strip() for ln in (body or text).split("\n") if ln.strip()]
    body_simp = [to_simplified(ln) for ln in body_lines]
    joined = "\n".join(simp[:15])
    meta = DocMeta()

    m = _LABELLED_NUMBER.search(joined)
    if m:
        meta.doc_number = re.sub(r"\s+", "", m.group(1))
    else:  # a line that is only a document number, near the top
        for i, s in enumerate(simp[:8]):
            if DOC_NUMBER.fullmatch(s):
                meta.doc_number = lines[i]
                break

    # A signature block: an issuing body on its own line followed by a date line.
    signature, signature_date = "", ""
    for i, s in enumerate(body_simp[:-1]):
        m, d = _SIGNATURE.match(s), re.fullmatch(_DATE, body_simp[i + 1])
        if m and d:
            signature, signature_date = _orig(body_lines[i], s, m.group(1)), _iso(d)
            break
    if not signature:
        for i, s in reversed(list(enumerate(body_simp[-4:], start=max(0, len(body_simp) - 4)))):
            m = _SIGNATURE.match(s)
            if m:
                signature = _orig(body_lines[i], s, m.group(1))
                break

    m = _LABELLED_DATE.search(joined)
    if m:
        meta.date = _iso(m)
    else:
        for s in simp[:8]:
            m = re.fullmatch(_DATE, s)
            if m:
                meta.date = _iso(m)
                break
    meta.date = meta.date or signature_date
    meta.signer, meta.signed_date = signature if signature_date else "", signature_date
    m = _SOURCE.search("\n".join(simp))
    if m:
        meta.source = _orig("\n".join(lines), "\n".join(simp), m.group(2))

    for i, s in enumerate(simp[:15]):
        m = _LABELLED_TITLE.search(s)
        if m:
            meta.title = lines[i][len(lines[i]) - len(m.group(2)) :].strip()
            break
    if not meta.title:
        for i, line in enumerate(body_lines[:12]):
            if _looks_like_title(body_simp[i]) and not _LABELLED_DATE.search(body_simp[i]):
                meta.title = line
                break
    if not meta.title:  # a reply letter names what it answers: 对《…》的答复
        head = "\n".join(body_lines[:6])
        m = re.search(r"《([^》]{4,60})》", head)
        if m and re.search(r"答复|答覆|回复", to_simplified(body)):
            meta.title = f"对《{m.group(1)}》的答复"
    if not meta.title and body_lines:
        meta.title = body_lines[0][:40]

    meta.adopted, meta.amended, meta.effective = law_history(simp, "\n".join(body_simp))

    m = _LABELLED_ISSUER.search(joined)
    if m:
        meta.issuer = m.group(2)
    else:
        for i, s in enumerate(body_simp[:15]):
            m = _ISSUED_BY.search(s)
            if m:
                meta.issuer = _orig(body_lines[i], s, m.group(1))
                break
    meta.issuer = meta.issuer or signature
    meta.issuer = meta.issuer or to_simplified(meta.source)
    # The issuing body names its own jurisdiction; the title may name several places.
    m = re.match(r"([\u4e00-\u9fff]{2,6}?(?:省|自治区|市|州|盟|县|区|旗))", to_simplified(meta.issuer))
    meta.place = m.group(1) if m else (_place(to_simplified(meta.title)) or _place(to_simplified(meta.issuer)))
    return meta
