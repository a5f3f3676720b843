"""Prompts. Every task shares one system text so llama.cpp reuses its cached prefix across calls.

llama.cpp keeps the key/value cache of one sequence; a rewrite or translation
with its own system prompt would evict the answer prompt's prefix and cost
another ~1.5 s of prefill on the next answer.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from rag.question import asked
from rag.script import Lang, to_simplified
from rag.select import ContextPassage, header_for
from rag.types import Asked

SYSTEM = (
    "你是政策文件问答助手。只根据用户给出的编号资料回答，不使用资料以外的知识。"
    "回答简短准确，照抄资料中的数字、单位、名称和文件名称，每句话后用资料编号标注出处，例如[1]。"
    "问题中的说法与资料不符时，以资料为准。"
    "资料里找不到问题所问的地区、年份或事项时，只回答：资料中未提及。资料里有答案时，一定要回答。"
)

LANG_HINT = {
    "zh-Hans": "用简体中文回答。",
    "en": "Answer in one complete English sentence and cite like [1]. Copy amounts with their Chinese units (亿元, 万千瓦, 亩 and the like) exactly as the sources write them; do not convert them.",
}

LANG_RETRY_HINT = " (Answer in English: the asker does not read Chinese. Keep names and amounts as in the sources.)"
RECHECK_HINT = "（资料中有与这个问题直接相关的句子，请找出它，照抄其中的答案并标注编号。）"

REWRITE_SYSTEM = (
    "把用户的后续问题改写成一个不依赖对话历史、可以单独理解的完整问题。"
    "补全省略的地区、对象和时间。只输出改写后的问题，不要回答。"
)


def context_block(context: list[ContextPassage]) -> str:
    return "\n".join(f"[{c.n}]{header_for(c.passage, c.with_meta)}{c.text}" for c in context)


LIST_HINT = {"zh-Hans": "逐项列出资料中的原话。", "en": "List every item the sources give."}


GOAL_HINT = {
    "zh-Hans": "资料给出目标的具体数字时，照抄这些数字和单位。",
    "en": "Include the target's figures if the sources give them.",
}


def hints_for(question: Asked | str) -> list[str]:
    """The prompt hints (generation rules) a question gets: list_hint for a list question, goal_hint for a
    question about a target. Decided here once; the pipeline records the same names as rules that acted."""
    q = asked(question)
    return [name for name, wanted in (("list_hint", q.wants_list), ("goal_hint", q.wants_goal)) if wanted]


def answer_messages(
    question: Asked | str,
    context: list[ContextPassage],
    lang: Lang,
    retry: str = "",
    off: Collection[str] = (),
) -> list[dict[str, str]]:
    """The model reads one script: a 1.5B model misses a traditional-script fact asked in simplified.

    Chinese answers are generated in simplified and rendered in the asker's
    script afterwards (`to_script`); the passages shown keep their own script.
    `retry` is a hint added to the question when it is asked again; `off` names
    hints switched off for an ablation (list_hint, goal_hint).
    """
    q = asked(question)
    key = "en" if lang == "en" else "zh-Hans"
    hint = LANG_HINT[key]
    hints = [h for h in hints_for(q) if h not in off]
    if "list_hint" in hints:  # a list question answered with one item is the commonest miss
        hint = LIST_HINT[key] + hint
    if "goal_hint" in hints:  # a goal question answered with the qualitative half of the goal
        hint = GOAL_HINT[key] + hint
    user = to_simplified(f"资料：\n{context_block(context)}\n\n问题：{q.prompt_text}{retry}\n") + hint
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def cut_to_tokens(text: str, limit: int, count_tokens: Callable[[str], int]) -> str:
    """The longest prefix of `text` within `limit` tokens (binary search: the counter only counts)."""
    if count_tokens(text) <= limit:
        return text
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if count_tokens(text[:mid]) <= limit:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo] + "…"


def fit_history(
    history: list[tuple[str, str]],
    count_tokens: Callable[[str], int],
    budget: int,
    max_turns: int = 2,
    answer_chars: int = 150,
) -> list[tuple[str, str]]:
    """The newest turns that fit `budget` tokens, oldest dropped first, each long turn cut.

    A follow-up depends on the turns just before it; an old or very long turn
    must not push the prompt past the model's context window. Each turn gets at
    most half the budget, its question first, the answer what is left (≥ 1/4);
    of an answer only its start is used, which names what it is about.
    """
    kept: list[tuple[str, str]] = []
    left = budget
    for q, a in reversed(history[-max_turns:] if max_turns else history):
        share = min(left, budget // 2)
        q_cut = cut_to_tokens(q, share // 2, count_tokens)
        a_cut = cut_to_tokens(a[:answer_chars], max(share - count_tokens(q_cut), share // 4), count_tokens)
        cost = count_tokens(q_cut) + count_tokens(a_cut) + 8
        if cost > left:
            break
        kept.append((q_cut, a_cut))
        left -= cost
    return kept[::-1]


def rewrite_messages(
    question: str,
    history: list[tuple[str, str]],
    count_tokens: Callable[[str], int] | None = None,
    budget: int = 700,
) -> list[dict[str, str]]:
    """The rewrite prompt; with a token counter the history is fitted to `budget` tokens."""
    fitted = fit_history(history, count_tokens, budget) if count_tokens else history[-2:]
    turns = "\n".join(f"用户：{q}\n助手：{a}" for q, a in fitted)
    user = f"任务：{REWRITE_SYSTEM}\n\n对话历史：\n{turns}\n\n后续问题：{question}\n改写后的问题："
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


TRANSLATE_SYSTEM = (
    "这次不回答问题，只做翻译：把英文问题翻译成简体中文问题，地名、机构名用中文标准名称，"
    "不添加原文没有的地名或内容，只输出译文，不加编号。"
)


def translate_messages(question: str) -> list[dict[str, str]]:
    user = (
        f"任务：{TRANSLATE_SYSTEM}\n"
        "例：What is Jinan's population target for 2030? → 济南市2030年的人口目标是多少？\n"
        f"英文问题：{question}\n中文问题："
    )
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]
