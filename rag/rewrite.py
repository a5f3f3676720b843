"""Turn a follow-up (那潍坊呢? / 它的目标年份是?) into a standalone question before retrieval."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

from rag.generate import Generator
from rag.numerals import AMOUNT, amounts, with_digits
from rag.places import pinyin_table, replace_romanized, romanized
from rag.prompt import rewrite_messages
from rag.script import detect_lang, to_simplified

_FOLLOW_UP = re.compile(
    r"^(那|那么|还有|另外|以及|和|与)|呢[？?]?$|它|其|该|这个|那个|这些|那些|上述|前者|后者|此外|同样|"
    r"\b(it|its|they|their|that|those|this|these|what about|and)\b",
    re.I,
)


def needs_rewrite(question: str, history: list[tuple[str, str]] | None) -> bool:
    return bool(history) and (len(question) <= 16 or bool(_FOLLOW_UP.search(question)))


_ELLIPTICAL_ZH = re.compile(
    r"^(?:那么?|还有|另外|再问一下)?\s*(?P<x>[\u3400-\u9fff]{2,8}?)\s*(?:呢|的情况呢|怎么样|如何)?\s*[？?。]?$"
)
_ELLIPTICAL_EN = re.compile(
    r"^(?:and|what about|how about)\s+(?P<x>[A-Za-z][A-Za-z -]{1,30}?)\s*(?:city|county|district)?\s*[?.]?$", re.I
)


def _place_in(text: str, table: Mapping[str, str], stems: set[str]) -> tuple[str, str] | None:
    """(as written, Chinese stem) of the first known place in `text`, Chinese or pinyin."""
    simp = to_simplified(text)
    found = [(simp.find(s), s) for s in stems if s in simp]
    if found:
        pos, stem = min(found)
        m = re.match(rf"{re.escape(stem)}(?:省|市|县|区)?", simp[pos:])
        return text[pos : pos + len(m.group(0))] if m else stem, stem
    for word, stem in romanized(text, table):
        return word, stem
    return None


def substitute(question: str, history: list[tuple[str, str]], places: Mapping[str, int]) -> str | None:
    """ "那青州市呢？" / "And Anqiu?" after a question about another place: that question, about this place.

    The commonest follow-up names a new place and nothing else; the subject and
    what is asked are the earlier question's, whatever its language. The
    earlier question is the latest one that was not itself such a follow-up.
    The place is written in the earlier question's language (pinyin for
    English). Returns None when the follow-up is not of this kind.
    """
    from pypinyin import lazy_pinyin

    stems = set(places)
    table = pinyin_table(places)
    q = question.strip()
    m = _ELLIPTICAL_ZH.match(to_simplified(q)) or _ELLIPTICAL_EN.match(q)
    new = _place_in(m.group("x"), table, stems) if m else None
    if new is None or m.group("x").replace(new[0], "").strip() not in ("", "的"):  # type: ignore[union-attr]
        return None  # the follow-up asks something of its own ("那青州市的产业定位呢？"): the model rewrites it
    for earlier, _ in reversed(history):
        e = earlier.strip()
        if _ELLIPTICAL_ZH.match(to_simplified(e)) or _ELLIPTICAL_EN.match(e):
            continue
        old = _place_in(e, table, stems)
        if old is None or old[1] == new[1]:
            return None
        if detect_lang(e) == "en":
            name = "".join(lazy_pinyin(new[1])).capitalize()
            return re.sub(rf"\b{re.escape(old[0])}\b", name, e, count=1)
        return e.replace(old[0], new[0] if not new[0].isascii() else new[1], 1)
    return None


def rewrite(
    question: str, history: list[tuple[str, str]], generator: Generator, budget: int = 700, check: bool = True
) -> tuple[str, bool]:
    """(a standalone question, whether the rewrite check rejected the model's rewrite); the history is fitted to
    `budget` tokens so the prompt always fits the context. `check=False` takes any rewrite of plausible length
    (the check switched off, for an ablation); a rewrite of implausible length is never used."""
    messages = rewrite_messages(question, history, generator.count_tokens, budget)
    out = "".join(generator.stream(messages, max_tokens=60)).strip()
    out = out.splitlines()[0].strip() if out else ""
    out = re.sub(r"^(改写后的问题|问题)[:：]\s*", "", out).strip(" \"'“”")
    out = re.sub(r"\s*[\[【［]\d+[\]】］]", "", out).strip()  # a citation the answer prompt's habit adds
    if not 2 <= len(out) <= 200:
        return with_earlier_question(question, history), False
    if check and not is_standalone_question(out, question, history):
        return with_earlier_question(question, history), True
    return out, False


def with_earlier_question(question: str, history: list[tuple[str, str]]) -> str:
    """The earlier question, then the follow-up: read together they are standalone (the model may answer
    both; each claim is checked like any other)."""
    if not history:
        return question
    earlier = history[-1][0].strip()
    return f"{earlier} {question.strip()}" if detect_lang(question) == "en" else f"{earlier}{question.strip()}"


_ASKS = re.compile(
    r"[？?]|什么|多少|哪|吗|几|如何|怎么|怎样|是否|谁|何时|何种|\b(?:what|which|how|who|when|where|why|does|do|is|are|can)\b",
    re.I,
)


def is_standalone_question(text: str, question: str, history: list[tuple[str, str]]) -> bool:
    """A rewrite must be a question that states nothing: no citation marker, no figure that none of the
    questions asked holds, and a question form. A small model often answers instead of rewriting
    ("…千人口托位数为1.5万[1]。"); searching for its answer retrieves whatever it invented."""
    if re.search(r"\[\d+\]", text):
        return False
    asked = with_digits(to_simplified(question + "\n".join(q for q, _ in history)))
    held = set(re.findall(r"\d+(?:\.\d+)?", asked))
    if any(f not in held for f in re.findall(r"\d+(?:\.\d+)?", with_digits(to_simplified(text)))):
        return False
    return bool(_ASKS.search(text))


def romanized_places(question: str, places: Iterable[str] | Mapping[str, int]) -> str:
    """Pingyi County → 平邑 County: English questions are searched with the corpus's own place names."""
    return replace_romanized(question, pinyin_table(places))


def to_search_query(
    question: str, place_counts: Callable[[], Mapping[str, int]], generator: Callable[[], Generator]
) -> str:
    """What retrieval searches for a standalone question: a Chinese one as written; an English one with the
    corpus's place names put back (`romanized_places`, with `place_counts()` mentions) and translated by the LLM
    (`translate_to_chinese`). Both arguments are called only for an English question (no LLM load otherwise)."""
    if detect_lang(question) != "en":
        return question
    return translate_to_chinese(romanized_places(question, place_counts()), generator())


def translate_to_chinese(question: str, generator: Generator) -> str:
    """English questions are searched in Chinese: the bundled embedder is weak across languages and BM25 cannot
    cross them. A reply that is no Chinese question (no Chinese, or an answer instead of a translation) leaves
    the question as asked, which the multilingual embedder still reads."""
    from rag.prompt import translate_messages

    out = "".join(generator.stream(translate_messages(question), max_tokens=80)).strip()
    out = out.splitlines()[0].strip() if out else ""
    out = re.sub(r"\[\d+\]", "", out).split("→")[-1].strip()
    if invents_figures(out, question):
        return question
    return out if re.search(r"[\u4e00-\u9fff]", out) else question


_WORD_NUMBERS = {
    w: n
    for n, words in enumerate(
        [
            ("zero",),
            ("one", "first", "once"),
            ("two", "second", "twice", "both"),
            ("three", "third"),
            ("four", "fourth"),
            ("five", "fifth"),
            ("six", "sixth"),
            ("seven", "seventh"),
            ("eight", "eighth"),
            ("nine", "ninth"),
            ("ten", "tenth"),
            ("eleven", "eleventh"),
            ("twelve", "twelfth"),
        ]
    )
    for w in words
} | {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_SCALE_WORDS = {"hundred": 100, "thousand": 1e3, "million": 1e6, "billion": 1e9}


def _asked_values(question: str) -> set[float]:
    """The quantities an English question states, in digits or in words (thirty days, second paragraph,
    two hundred), with their magnitudes (10,000 is 1万)."""
    values = amounts(question)
    words = re.findall(r"[a-z]+", question.lower())
    for i, w in enumerate(words):
        if w in _WORD_NUMBERS:
            v = float(_WORD_NUMBERS[w])
            if i + 1 < len(words) and words[i + 1] in _SCALE_WORDS:
                v *= _SCALE_WORDS[words[i + 1]]
            values.add(v)
    return values


def invents_figures(translation: str, question: str) -> bool:
    """The reply states a quantity the English question does not, in any writing of it: the model answered
    instead of translating. Such a reply has lost the question (a name, what was asked), and its figure must
    not reach the search or, worse, vouch for the same figure in the answer."""
    asked = _asked_values(question)
    return any(not (amounts(m.group(0)) & asked) for m in AMOUNT.finditer(translation))
