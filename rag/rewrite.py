"""Turn a follow-up (那潍坊呢? / 它的目标年份是?) into a standalone question before retrieval."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from rag.generate import Generator
from rag.places import pinyin_table, replace_romanized
from rag.prompt import rewrite_messages

_FOLLOW_UP = re.compile(
    r"^(那|那么|还有|另外|以及|和|与)|呢[？?]?$|它|其|该|这个|那个|这些|那些|上述|前者|后者|此外|同样|"
    r"\b(it|its|they|their|that|those|this|these|what about|and)\b",
    re.I,
)


def needs_rewrite(question: str, history: list[tuple[str, str]] | None) -> bool:
    return bool(history) and (len(question) <= 16 or bool(_FOLLOW_UP.search(question)))


def rewrite(question: str, history: list[tuple[str, str]], generator: Generator, budget: int = 700) -> str:
    """A standalone question; the history is fitted to `budget` tokens so the prompt always fits the context."""
    messages = rewrite_messages(question, history, generator.count_tokens, budget)
    out = "".join(generator.stream(messages, max_tokens=60)).strip()
    out = out.splitlines()[0].strip() if out else ""
    out = re.sub(r"^(改写后的问题|问题)[:：]\s*", "", out).strip(" \"'“”")
    return out if 2 <= len(out) <= 200 else question


def romanized_places(question: str, places: Iterable[str] | Mapping[str, int]) -> str:
    """Pingyi County → 平邑 County: English questions are searched with the corpus's own place names."""
    return replace_romanized(question, pinyin_table(places))


def translate_to_chinese(question: str, generator: Generator) -> str:
    """English questions are searched in Chinese: the bundled embedder is weak across languages and BM25 cannot cross them."""
    from rag.prompt import translate_messages

    out = "".join(generator.stream(translate_messages(question), max_tokens=80)).strip()
    out = out.splitlines()[0].strip() if out else ""
    out = re.sub(r"\[\d+\]", "", out).split("→")[-1].strip()
    out = _drop_invented_answer(out, question)
    return out if re.search(r"[\u4e00-\u9fff]", out) else question


def _drop_invented_answer(translation: str, question: str) -> str:
    """ "寿光市2025年GDP目标是134.8亿元。": the model answered instead of translating. Keep the question part.

    A figure the English question does not contain must not reach the search
    or, worse, vouch for the same figure in the answer.
    """
    asked = set(re.findall(r"\d+(?:\.\d+)?", question))
    for m in re.finditer(r"\d+(?:\.\d+)?", translation):
        if m.group(0) not in asked:
            return translation[: m.start()].rstrip(" ，,：:是为") + "是多少？"
    return translation
