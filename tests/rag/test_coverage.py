"""Nothing of a user's document is lost: every sentence of 315 real laws is in the text that is indexed.

The laws (../shared/corpus-extra, ../shared/corpus-large/laws; $RAG_SHARED overrides the folder)
have no page chrome at all, but use words that web footers and spam also use (技术支持, 地址,
福利, 彩票) inside their articles: a keyword rule that fires there loses body text.
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

import pytest

from rag.document import prepare_file

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("RAG_SHARED") or REPO.parent / "shared")
FOLDERS = [SHARED / "corpus-extra", SHARED / "corpus-large" / "laws"]
LAWS = sorted(p for folder in FOLDERS for p in folder.glob("*.txt"))
needs_laws = pytest.mark.skipif(not LAWS, reason=f"no law corpus under {SHARED} (set RAG_SHARED)")


def normalize(text: str) -> str:
    """Width (NFKC) and whitespace differences do not count as loss."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def sentences(text: str) -> list[str]:
    """The source split on 。！？； and line ends; pieces without a letter, digit or Han character are not sentences."""
    return [s for s in map(normalize, re.split(r"[。！？；\n]", text)) if re.search(r"\w", s)]


def missing_sentences(path: Path) -> tuple[int, list[str]]:
    source = path.read_bytes().decode("utf-8-sig")
    indexed = normalize(prepare_file(path).text)
    wanted = sentences(source)
    return len(wanted), [s for s in wanted if s not in indexed]


@needs_laws
def test_every_sentence_of_every_law_is_indexed():
    assert len(LAWS) >= 300  # 6 + 309 when the shared folder is complete
    total, lost = 0, {}
    for path in LAWS:
        n, missing = missing_sentences(path)
        total += n
        if missing:
            lost[path.name] = missing[:3]
    assert total > 50_000 and not lost, lost


TAIL_CASES = [
    # (law, where it first names a web-footer word, its last article): footer keyword rules once cut from there on
    ("中华人民共和国传染病防治法_20250430.txt", "技术支持", "第一百一十五条"),
    ("中华人民共和国网络安全法_20251028.txt", "第三十条", "第八十一条"),
    ("中华人民共和国核安全法_20170901.txt", "第三十三条", "第九十四条"),
]


@needs_laws
@pytest.mark.parametrize(("name", "first", "last"), TAIL_CASES)
def test_a_laws_tail_articles_survive(name, first, last):
    path = SHARED / "corpus-large" / "laws" / name
    if not path.is_file():
        pytest.skip(f"{path} not present")
    doc = prepare_file(path)
    source = path.read_bytes().decode("utf-8-sig").replace("\r\n", "\n")
    tail = source[source.index(first) :]
    assert re.search(rf"^{last}", tail, re.M), "the test names the law's real last article"
    assert normalize(tail) in normalize(doc.text)
    assert doc.report.chars_removed == 0 and not doc.report.removed_lines
