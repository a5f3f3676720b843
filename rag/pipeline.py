"""The question-answering pipeline: retrieve → rerank → select → generate → cite, with refusal guards.

`stream` yields the passages as soon as retrieval is done (the UI shows them
before the first token), then answer tokens, then the final Answer; `ask`
is the same run collected into one Answer.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

from index.bm25 import tokenize
from index.calibrate import calibrate, latin_floor
from index.embed import load_embedder
from index.stores import IndexStore, SearchIndex, store_for
from rag.cite import (
    REFUSAL,
    Check,
    answer_sentences,
    best_sentence,
    cited_numbers,
    ground,
    is_model_refusal,
    missing_terms,
)
from rag.config import Settings
from rag.errors import QuestionError
from rag.generate import Generator, generator_for
from rag.prompt import LANG_RETRY_HINT, RECHECK_HINT, answer_messages, hints_for
from rag.question import analyse
from rag.release import Release
from rag.rerank import Reranker, reranker_for
from rag.retrieve import Retriever
from rag.rewrite import needs_rewrite, rewrite, substitute, to_search_query
from rag.scope import describe
from rag.script import detect_lang, to_script
from rag.select import ContextPassage, best_covering, select_context
from rag.types import Answer, Asked, Citation, ModelInfo, Passage, Scope, Timings

History = list[tuple[str, str]]
_HAS_TEXT = re.compile(r"[\u3400-\u9fffA-Za-z0-9]")
_CJK = re.compile(r"[\u3400-\u9fff]")


@dataclass
class Event:
    kind: str  # "rewrite" | "translation" | "passages" | "token" | "answer"
    data: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


def check_question(question: str, max_chars: int) -> tuple[str, str]:
    """Return (question, notice); raise QuestionError for input that cannot be a question."""
    if question is None or not str(question).strip():
        raise QuestionError("问题为空：请输入要查询的问题。(The question is empty.)")
    q = re.sub(r"\s+", " ", str(question)).strip()
    if not _HAS_TEXT.search(q):
        raise QuestionError("问题中没有可检索的文字（只有标点或表情）。(The question has no words to search for.)")
    notice = ""
    if len(q) > max_chars:
        notice = f"问题过长，只使用了前 {max_chars} 个字。(Question cut to {max_chars} characters.)"
        q = q[:max_chars]
    return q, notice


def _doc_label(p: Passage) -> str:
    """《title》（place, date）: how a note names a document the scope left out."""
    meta = p.meta
    where = "，".join(x for x in (meta.place, meta.date) if x) if meta else ""
    title = (meta.title if meta else "") or p.chunk.doc_id
    return f"《{title}》（{where}）" if where else f"《{title}》"


@dataclass(frozen=True)
class Served:
    """What one answer is served from: an index version with its term counts, retriever and refusal floors.

    `reload` swaps the whole snapshot at once and an answer reads it once, so a reload during an answer
    cannot compare the old index's passages with the new index's floor or counts.
    """

    index: SearchIndex
    df: dict[str, int]
    retriever: Retriever
    refuse_below: float
    refuse_below_latin: float

    def floor_for(self, question: Asked) -> float:
        """The refusal floor for how the question is searched: in English (no translation) or in Chinese."""
        return self.refuse_below_latin if detect_lang(question.search) == "en" else self.refuse_below


class Pipeline:
    def __init__(self, settings: Settings | None = None, generator: Generator | None = None) -> None:
        self.settings = settings or Settings()
        self.embedder = load_embedder(self.settings.embedder)
        self._generator = generator
        s = self.settings
        self.reranker: Reranker = reranker_for(s.rerank, self.embedder, lambda: self.generator, s.rrf_k, s.llm)
        self.reload()

    # --- index ---------------------------------------------------------------
    @property
    def store(self) -> IndexStore:
        """The index's store (Settings.store, else the file store at index_dir); retrieval does not know which."""
        return store_for(self.settings)

    def reload(self) -> None:
        """Load the CURRENT index version; a failure leaves the previous one serving."""
        index = self.store.open(embedder=self.embedder.name, verify=self.settings.verify_index)
        df: Counter[str] = Counter()
        for c in index.chunks:
            df.update(set(tokenize(c.embed_text())))
        floor = latin = self.settings.refuse_below  # a floor set by hand holds for every search
        if floor is None:  # the floors measured for this embedder on this index (index/calibrate.py)
            floor = index.manifest.refuse_below
            if floor is None:
                floor = calibrate(index, self.embedder)
            latin = latin_floor(index, self.embedder)
        # one assignment: an answer that took the old snapshot keeps its index, counts and floors together
        self._served = Served(
            index=index,
            df=dict(df),
            retriever=Retriever(index, self.embedder, self.settings),
            refuse_below=-1.0 if floor is None else floor,  # an empty index: nothing to compare with
            refuse_below_latin=-1.0 if latin is None else latin,
        )

    @property
    def index(self) -> SearchIndex:
        return self._served.index

    @property
    def retriever(self) -> Retriever:
        return self._served.retriever

    @property
    def refuse_below(self) -> float:
        return self._served.refuse_below

    @property
    def refuse_below_latin(self) -> float:
        return self._served.refuse_below_latin

    def floor_for(self, question: Asked) -> float:
        """The refusal floor for how the question is searched: in English (no translation) or in Chinese."""
        return self._served.floor_for(question)

    def reload_if_changed(self) -> bool:
        try:
            current = self.store.current_version()
        except Exception:
            return False
        if current != self.index.version:
            self.reload()
            return True
        return False

    @property
    def generator(self) -> Generator:
        if self._generator is None:
            self._generator = generator_for(self.settings)
        return self._generator

    @property
    def loaded_generator(self) -> Generator | None:
        """The model if it is loaded: a status page must not load 1 GB just to report on it."""
        return self._generator

    def warmup(self) -> None:
        """Load the LLM, prefill the shared system prompt and read the index's place names, so the first user
        does not pay for them."""
        from rag.prompt import SYSTEM

        list(self.generator.stream([{"role": "system", "content": SYSTEM}, {"role": "user", "content": "你好"}], 1))
        self.retriever.known_places()  # the follow-up check's place names, read once from the index
        self.retriever.place_counts()  # the gazetteer English questions are read back with (tags cached per document)

    def model_info(self) -> ModelInfo:
        llm = self._generator.name if self._generator else self.settings.llm
        return ModelInfo(embedder=self.embedder.name, llm=llm)

    # --- answering -----------------------------------------------------------
    def retrieve(self, question: str, top_k: int | None = None, scope: Scope | None = None) -> list[Passage]:
        """The passages a question is answered from: retrieval's short list, reranked, cut to top_k."""
        q, _ = check_question(question, self.settings.max_question_chars)
        top_k = top_k or self.settings.top_k
        short = self.retriever.search(q, self._short_list(top_k), scope=scope)
        return self.reranker.rerank(q, short)[:top_k]

    def _short_list(self, top_k: int) -> int:
        """How many passages retrieval hands the reranker: top_k when reranking is off, else rerank_top."""
        return top_k if self.reranker.name == "none" else max(top_k, self.settings.rerank_top)

    def ask(
        self, question: str, history: History | None = None, qid: str | None = None, scope: Scope | None = None
    ) -> Answer:
        answer = None
        for ev in self.stream(question, history, qid, scope):
            if ev.kind == "answer":
                answer = ev.data
        assert answer is not None
        return answer

    def stream(
        self, question: str, history: History | None = None, qid: str | None = None, scope: Scope | None = None
    ) -> Iterator[Event]:
        """Answer events; `scope` limits retrieval to some documents (applied inside the store's search)."""
        t0 = time.perf_counter()
        served = self._served  # one index version, with its floors, for the whole answer
        s = self.settings
        q, notice = check_question(question, s.max_question_chars)
        lang = detect_lang(q)
        standalone = q
        fired: list[str] = []  # the generation rules that acted on this question (trace; `eval rules`)
        if needs_rewrite(q, history):
            standalone = (
                substitute(q, history or [], served.retriever.known_places()) if s.runs("substitution") else None
            )
            if standalone is not None:
                fired.append("substitution")
            else:
                standalone, rejected = rewrite(
                    q, history or [], self.generator, s.history_tokens, s.runs("rewrite_check")
                )
                fired += ["rewrite_check"] if rejected else []
            standalone = standalone[: s.max_question_chars]  # an earlier turn may be a whole page
            yield Event("rewrite", standalone)
        # an English question, or a follow-up to one, is searched in Chinese (eval scale searches the same way)
        search_query = to_search_query(standalone, served.retriever.place_counts, lambda: self.generator)
        if search_query != standalone:
            yield Event("translation", search_query)
        question_read = analyse(standalone, search_query)  # read once, for every stage below
        short = served.retriever.search(question_read, self._short_list(s.top_k), scope=scope)
        passages = self.reranker.rerank(search_query, short)[: s.top_k]
        t_retrieve = time.perf_counter()
        yield Event("passages", passages)

        refusal_reason = ""
        sources = "\n".join(f"{p.meta.title if p.meta else ''}\n{p.chunk.title}\n{p.chunk.text}" for p in passages)
        if not passages:
            refusal_reason = "no passages"
        elif (top := max(p.dense_score for p in passages)) < (floor := served.floor_for(question_read)):
            refusal_reason = f"best similarity {top:.3f} below {floor}"
        else:
            missing = missing_terms(question_read, sources)
            if missing:
                fired.append("coverage_terms")
                if s.runs("coverage_terms"):
                    refusal_reason = f"not in the documents: {', '.join(missing)}"

        raw, retry, shown, rest = "", "", "", ""
        first_token_ms = 0.0
        context = []
        text, refused = REFUSAL[lang], True
        checks: list[Check] = []
        if refusal_reason:  # refused before generation: the documents do not cover the question
            checks.append(Check("coverage", "fail", refusal_reason))
        else:
            checks.append(Check("coverage", "pass"))
            gen = self.generator
            context = select_context(
                question_read,
                passages,
                gen.count_tokens,
                s.context_tokens,
                served.df,
                max(len(served.index.chunks), 1),
            )
            fired += hints_for(question_read)
            messages = answer_messages(question_read, context, lang, off=s.off)
            for attempt in range(2):
                raw, chinese = "", False
                release = Release(context, lang, question_read.wording, question_read.years)
                with closing(gen.stream(messages, s.max_new_tokens)) as tokens:
                    for tok in tokens:
                        raw += tok
                        visible = re.sub(r"\[\d*\]?|\s", "", raw)
                        english = lang == "en" and not attempt
                        if english and not chinese and len(visible) >= 8 and len(_CJK.findall(visible[:8])) >= 6:
                            chinese = True  # an English question answered in Chinese: stop and ask again
                            fired.append("reask_language")
                            if s.runs("reask_language"):
                                break
                        if lang == "en" and not attempt and len(visible) < 8:
                            continue  # the language is not decided yet: nothing is shown
                        piece = release.feed(raw)
                        if piece:  # checked sentences go out while the model writes the next ones
                            first_token_ms = first_token_ms or (time.perf_counter() - t0) * 1000
                            piece = to_script(piece, lang)
                            shown += piece
                            yield Event("token", piece)
                if attempt or release.shown:  # what was shown is never asked again
                    break
                # Nothing has been shown yet, so one more try is invisible to the user.
                if chinese and s.runs("reask_language"):
                    retry = LANG_RETRY_HINT
                    messages = answer_messages(question_read, context, lang, retry, s.off)
                    continue
                # The small model sometimes overlooks an answer that one passage plainly holds.
                share, best = best_covering(search_query, context, served.df, len(served.index.chunks))
                if not (is_model_refusal(raw) and best and share >= s.recheck_above):
                    break
                fired.append("recheck")
                if not s.runs("recheck"):
                    break
                retry = RECHECK_HINT  # and only that passage, so the others cannot distract
                messages = answer_messages(question_read, [best], lang, retry, s.off)
            grounded, rest = release.finish(ground(raw, context, lang, question_read))
            text, refused, refusal_reason = grounded.answer, grounded.refused, grounded.reason
            checks += grounded.checks
        # Only checked text is shown: sentences released during generation (rag.release), then the rest of
        # the checked answer, so a streaming client never receives words that a refusal later replaces.
        first_token_ms = first_token_ms or (time.perf_counter() - t0) * 1000
        if refused:
            rest = text
        else:
            rest = to_script(rest, lang)
            text = shown + rest
        for piece in [p for p in answer_sentences(rest) if p] or ([rest] if rest else []):
            yield Event("token", piece)

        citations = [] if refused else build_citations(text, context)
        if refused and scope is not None and not scope.is_empty():
            outside = served.retriever.outside_scope(question_read, scope, served.floor_for(question_read))
            if outside:
                titles = "、".join(dict.fromkeys(_doc_label(p) for p in outside))
                note = f"所选范围（{describe(scope)}）之外的文件可能回答这个问题：{titles}。"
                notice = f"{notice} {note}".strip()
                checks.append(
                    Check("scope", "fail", "outside the scope: " + ", ".join(p.chunk.doc_id for p in outside))
                )
        total_ms = (time.perf_counter() - t0) * 1000
        answer = Answer(
            id=qid,
            question=q,
            answer=text,
            refused=refused,
            citations=citations,
            passages=[p.to_json() for p in passages],
            timings_ms=Timings(
                retrieve=round((t_retrieve - t0) * 1000, 1),
                first_token=round(first_token_ms, 1),
                total=round(total_ms, 1),
            ),
            model=self.model_info(),
            checks=[c.to_json() for c in checks],
            standalone_question=standalone if standalone != q else "",
            notice=notice,
            passage_objs=passages,
        )
        trace = {
            "raw": raw,
            "retry": retry,
            "lang": lang,
            "checked_question": question_read.wording,
            "fired": fired,
            # each passage's retrieval scores too, so that a rule reading them can be replayed on stored replies
            "context": [
                {
                    "n": c.n,
                    "chunk_id": c.passage.chunk.id,
                    "with_meta": c.with_meta,
                    "fused": round(c.passage.score, 6),
                    "dense": round(c.passage.dense_score, 6),
                    "bm25": round(c.passage.bm25_score, 4),
                }
                for c in context
            ],
        }
        yield Event("answer", answer, {"refusal_reason": refusal_reason, **trace})


def build_citations(text: str, context: list[ContextPassage]) -> list[Citation]:
    """One Citation per [n] of a checked answer, with the sentence of the passage it draws on."""
    by_n = {c.n: c for c in context}
    citations = []
    for n in cited_numbers(text):
        c = by_n.get(n)
        if c is None:
            continue
        p = c.passage
        citations.append(
            Citation(
                n=n,
                doc=p.chunk.doc_id,
                title=(p.meta.title if p.meta else "") or p.chunk.title,
                chunk_id=p.chunk.id,
                text=p.chunk.text,
                page=p.chunk.page,
                dates=p.meta.law_dates() if p.meta else {},
                sentence=best_sentence(text, p.chunk.text),  # a span of the shown text, to highlight
            )
        )
    return citations
