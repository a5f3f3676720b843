"""Hybrid retrieval: dense (FAISS) and BM25 rankings fused by weighted reciprocal rank.

RRF needs no score calibration between the two retrievers. English questions
skip BM25: Chinese word tokens cannot match them and would only add noise.
Overview questions (从哪几个方面…) also get the best-matching document outline;
a question naming a law's article (第十四条 / 第14条) gets that article first.
Optionally (Settings.split_places, off: no gain on the dev set) a question
about two places (潍坊和衢州各自…) is also searched once per place, so that each
place's best passages reach the top k.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from index.embed import Embedder
from index.stores import SearchIndex, Signals
from rag.config import Settings
from rag.law import article_number, canonical_references
from rag.metadata import place_stem
from rag.models import user_cache
from rag.places import known_places
from rag.question import NOT_PLACES, asked, question_terms
from rag.scope import allows, row_fields
from rag.script import to_simplified
from rag.types import Asked, Chunk, Passage, Scope

_CJK = re.compile(r"[\u3400-\u9fff]")


class Retriever:
    def __init__(self, index: SearchIndex, embedder: Embedder, settings: Settings) -> None:
        self.index = index
        self.embedder = embedder
        self.settings = settings
        self._places: frozenset[str] | None = None
        self._counts: dict[str, int] | None = None
        self._known: dict[str, int] | None = None
        self._special: dict[str, list[int]] = {}  # chunk positions of outlines and document cards
        self._articles: dict[int, list[int]] | None = None  # article number -> chunk positions of that article

    def search(
        self, question: Asked | str, top_k: int | None = None, mode: str = "hybrid", scope: Scope | None = None
    ) -> list[Passage]:
        """Ranked passages for `question.search`; mode is hybrid, dense or bm25 (the latter two for ablations).

        A scope is applied inside the store's search, so a narrow scope still yields top_k passages.
        """
        top_k = top_k or self.settings.top_k
        if not self.index.chunks:
            return []
        scope = None if scope is None or scope.is_empty() else scope
        q = asked(question)
        query = to_simplified(q.search)
        places = places_in(query, self.places(), q.terms) if self.settings.split_places else []
        if len(places) < 2:
            scores = self._scores(query, scope)
            # A question searched through its translation is also searched as asked, by meaning only: the
            # multilingual embedder reads it, and a translation that went wrong (another law's name, an
            # answer instead of a question) no longer decides alone what is found.
            translated = q.text != q.search and len(_CJK.findall(q.search)) > len(re.findall(r"[A-Za-z]", q.search))
            asked_as = q.text if translated and mode == "hybrid" else ""  # not an English search of English
            also = (self._scores(asked_as, scope).dense_ids,) if asked_as else ()
            passages = self._search(query, top_k, mode, scope, scores, also)
            if mode == "hybrid":
                passages = self._with_articles(query, scores, passages, top_k, scope)
            if mode == "hybrid" and q.wants_overview:
                passages = self._with_best_of("outline", scores, passages, top_k, scope=scope)
            if mode == "hybrid" and q.wants_document_facts:
                two = len(places_in(query, self.places(), q.terms)) >= 2  # "临沂和衢州两份答复的落款日期"
                passages = self._with_best_of("card", scores, passages, top_k, 2 if two else 1, scope)
            return passages
        per_place = 2 if len(places) * 2 <= top_k else 1
        lists = [self._search(_only(query, place, places), per_place, mode, scope) for place in places]
        lists.append(self._search(query, top_k, mode, scope))
        merged: list[Passage] = []
        seen: set[str] = set()
        for p in [p for ranked in lists[:-1] for p in ranked] + lists[-1]:
            if p.chunk.id not in seen:
                seen.add(p.chunk.id)
                merged.append(p)
        merged = merged[:top_k]
        for rank, p in enumerate(merged, 1):
            p.rank = rank
        return merged

    def in_scope(self, scope: Scope | None) -> set[str] | None:
        """Document ids a scope admits (None: all); the stores apply the same rule to their rows."""
        if scope is None or scope.is_empty():
            return None
        return {d for d, doc in self.index.docs.items() if allows(scope, row_fields(d, doc.meta))}

    def outside_scope(self, question: Asked | str, scope: Scope, floor: float) -> list[Passage]:
        """Strong passages (dense similarity at least `floor`) an unscoped search finds outside the scope.

        A scoped question that is refused says so: the documents left out might answer it.
        """
        allowed = self.in_scope(scope)
        if allowed is None:
            return []
        found = self.search(question)
        return [p for p in found if p.chunk.doc_id not in allowed and p.dense_score >= floor]

    def _with_best_of(
        self, kind: str, scores: Signals, passages: list[Passage], top_k: int, n: int = 1, scope: Scope | None = None
    ) -> list[Passage]:
        """Put the best-matching outlines or document cards from rank 2 on.

        "从哪几个方面…" is answered by a document's headings, "哪天发布的" by its
        metadata card, not by one paragraph. They are ranked among their own
        kind (dense + BM25, fused as usual), so they compete only with each
        other, not with the detailed paragraphs that always share more words
        with the question.
        """
        if kind not in self._special:
            test = {"outline": lambda c: c.is_outline, "card": lambda c: c.is_card}[kind]
            self._special[kind] = [i for i, c in enumerate(self.index.chunks) if test(c)]
        pool = self._special[kind]
        allowed = self.in_scope(scope)
        if allowed is not None:
            pool = [i for i in pool if self.index.chunks[i].doc_id in allowed]
        if kind == "card":  # only cards of documents the question clearly found: 文号 of a cited text is not ours
            found = {p.chunk.doc_id for p in passages[:3]}
            pool = [i for i in pool if self.index.chunks[i].doc_id in found]
        if not pool or not passages:
            return passages
        ids = np.array(pool)
        fused = self._fused_within(ids, scores)
        have = {p.chunk.id for p in passages}
        best = [j for j in np.argsort(-fused)[:n] if self.index.chunks[int(ids[j])].id not in have]
        extra = [self._passage(int(ids[j]), 2, float(fused[j]), scores) for j in best]
        merged = [*passages[:1], *extra, *passages[1:]][:top_k]
        for rank, p in enumerate(merged, 1):
            p.rank = rank
        return merged

    def _fused_within(self, ids: np.ndarray, scores: Signals) -> np.ndarray:
        """Dense and BM25 fused by RRF among the chunks `ids` only."""
        s = self.settings
        fused = np.zeros(len(ids))
        for weight, signal in ((s.dense_weight, scores.dense_of(ids)), (s.bm25_weight, scores.bm25_of(ids))):
            for rank, k in enumerate(np.argsort(-signal)):
                fused[k] += weight / (s.rrf_k + rank + 1)
        return fused

    def _with_articles(
        self, query: str, scores: Signals, passages: list[Passage], top_k: int, scope: Scope | None = None
    ) -> list[Passage]:
        """A question that names an article (第十四条, 第14条) asks about that article: its chunk comes first.

        The candidates are the chunks whose heading path ends in that article, one
        or more per law that has it. Among them the law whose title the question
        quotes most of (价格法 of 中华人民共和国价格法: shared character pairs) wins,
        then dense + BM25 decide; the best of each named article leads.
        """
        wanted = list(dict.fromkeys(int(r[1:-1]) for r in canonical_references(query) if r.endswith("条")))
        if not wanted:
            return passages
        if self._articles is None:
            self._articles = {}
            for i, c in enumerate(self.index.chunks):
                n = article_number(c.heading)
                if n is not None:
                    self._articles.setdefault(n, []).append(i)
        lead: list[Passage] = []
        pairs = _pairs(query)
        allowed = self.in_scope(scope)
        for n in wanted:
            pool = self._articles.get(n)
            if pool and allowed is not None:
                pool = [i for i in pool if self.index.chunks[i].doc_id in allowed]
            if pool:
                ids = np.array(pool)
                fused = self._fused_within(ids, scores)
                named = np.array([len(pairs & _pairs(self.index.chunks[i].title)) for i in pool])
                best = int(np.lexsort((-fused, -named))[0])
                if float(scores.dense_of([ids[best]])[0]) < self.settings.min_score:
                    continue
                lead.append(self._passage(int(ids[best]), 1, float(fused[best]), scores))
        have = {p.chunk.id for p in lead}
        merged = [*lead, *(p for p in passages if p.chunk.id not in have)][:top_k]
        for rank, p in enumerate(merged, 1):
            p.rank = rank
        return merged

    def places(self) -> frozenset[str]:
        """The place names of the indexed documents (built on first use; each document's tags are cached)."""
        if self._places is None:
            self._places = cached_gazetteer(self.index.chunks, user_cache() / "gazetteer")
        return self._places

    def known_places(self) -> dict[str, int]:
        """{stem: mentions} of the administrative place names of the index (answer checks, follow-ups)."""
        if self._known is None:
            self._known = known_places([c.text for c in self.index.chunks])
        return self._known

    def place_counts(self) -> dict[str, int]:
        """How often each place is mentioned: 临沂 (a city here) beats 临邑 for an English "Linyi"."""
        if self._counts is None:
            self._counts = place_mentions((c.text for c in self.index.chunks), self.places())
        return self._counts

    def _scores(self, query: str, scope: Scope | None = None) -> Signals:
        """One question's signals from the store: dense and BM25 candidates within the scope, exact scores."""
        qvec = self.embedder.embed_queries([query])[0]
        return self.index.signals(qvec, query, self.settings.candidates, scope)

    def _passage(self, i: int, rank: int, score: float, scores: Signals) -> Passage:
        chunk = self.index.chunks[i]
        doc = self.index.docs.get(chunk.doc_id)
        return Passage(
            chunk=chunk,
            rank=rank,
            score=score,
            dense_score=float(scores.dense_of([i])[0]),
            bm25_score=float(scores.bm25_of([i])[0]),
            meta=doc.meta if doc else None,
        )

    def _search(
        self,
        query: str,
        top_k: int,
        mode: str,
        scope: Scope | None = None,
        scores: Signals | None = None,
        also: tuple[np.ndarray, ...] = (),
    ) -> list[Passage]:
        """Dense and BM25 candidates fused by weighted reciprocal rank; `also` are more dense rankings (the
        question as asked, when it was searched through a translation), fused like the first."""
        s = self.settings
        scores = scores if scores is not None else self._scores(query, scope)
        use_bm25 = mode != "dense" and bool(_CJK.search(query)) and len(scores.bm25_ids) > 0
        # fused by the engine (Milvus RRFRanker; no per-signal weights there): its scores are sums of
        # 1/(rrf_k + rank) too, so the other rankings add to them
        engine = scores.fused is not None and mode == "hybrid" and use_bm25
        rankings = [(s.dense_weight, ids) for ids in also]  # (weight, ids best first), fused by reciprocal rank
        if not engine:
            dense = [(s.dense_weight, scores.dense_ids)] if mode != "bm25" else []
            bm25 = [(s.bm25_weight if mode != "bm25" else 1.0, scores.bm25_ids)] if use_bm25 else []
            rankings = dense + rankings + bm25
        fused: dict[int, float] = dict(scores.fused or []) if engine else {}
        for weight, ids in rankings:
            for rank, i in enumerate(ids):
                fused[int(i)] = fused.get(int(i), 0.0) + weight / (s.rrf_k + rank + 1)
        ranked = sorted(fused.items(), key=lambda kv: -kv[1])
        all_dense = dict(zip((i for i, _ in ranked), scores.dense_of([i for i, _ in ranked]).tolist(), strict=True))
        passages: list[Passage] = []
        for i, score in ranked:
            if float(all_dense[i]) < s.min_score or self.index.chunks[i].is_card:
                continue  # cards only for questions about the documents themselves (above)
            passages.append(self._passage(i, len(passages) + 1, score, scores))
            if len(passages) >= top_k:
                break
        return passages


def _pairs(text: str) -> set[str]:
    """Adjacent Chinese character pairs: how much of a title a question quotes, whatever its wording around it."""
    simp = to_simplified(text)
    return {simp[i : i + 2] for i in range(len(simp) - 1) if _CJK.match(simp[i]) and _CJK.match(simp[i + 1])}


def _tagged_places(texts: Iterable[str]) -> set[str]:
    """Words jieba tags ns, or that end in 省/市/县/区 (the slow part: every text is POS-tagged)."""
    import jieba.posseg as pseg

    names: set[str] = set()
    for text in texts:
        for word, flag in pseg.cut(to_simplified(text)):
            if 2 <= len(word) <= 4 and (flag == "ns" or (len(word) >= 3 and word[-1] in "省市县区")):
                names.add(word)
    return names


def _real_places(names: Iterable[str]) -> frozenset[str]:
    return frozenset(n for n in names if n not in NOT_PLACES and not _common_word(n))


def gazetteer(texts: Iterable[str]) -> frozenset[str]:
    """Place names of the corpus itself (寿光市, 衢州…): jieba words tagged ns or ending in 省/市/县/区."""
    return _real_places(_tagged_places(texts))


def cached_gazetteer(chunks: Iterable[Chunk], folder: Path) -> frozenset[str]:
    """`gazetteer` of the chunks, each document's tagged words kept in `folder` under a key of its text.

    POS-tagging every chunk takes minutes at 10^5 chunks; with the cache a
    server start, or an `index add`, tags only the documents it has not seen.
    The key covers the text and jieba's version; the filtering (NOT_PLACES,
    everyday words) runs after the cache, so a change to it needs no new key.
    A cache that cannot be read or written is only slower.
    """
    import jieba

    by_doc: dict[str, list[str]] = {}
    for c in chunks:
        by_doc.setdefault(c.doc_id, []).append(c.text)
    names: set[str] = set()
    for texts in by_doc.values():
        key = hashlib.sha256("\x00".join([jieba.__version__, *texts]).encode("utf-8")).hexdigest()
        path = folder / f"{key}.json"
        try:
            tagged = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
        except (OSError, ValueError):
            tagged = None
        if not isinstance(tagged, list):
            tagged = sorted(_tagged_places(texts))
            try:
                folder.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(f".{os.getpid()}.tmp")
                tmp.write_text(json.dumps(tagged, ensure_ascii=False), encoding="utf-8")
                os.replace(tmp, path)
            except OSError:
                pass
        names.update(str(n) for n in tagged)
    return _real_places(names)


def place_mentions(texts: Iterable[str], places: Iterable[str]) -> dict[str, int]:
    """{place: mentions in the texts}: which of two homophones an English question means (临沂 over 临邑)."""
    text = to_simplified("\n".join(texts))
    return {name: text.count(name) for name in places}


def _common_word(name: str) -> bool:
    """经济区, 试点县: the stem is an everyday word, not a place name."""
    import jieba
    import jieba.posseg as pseg

    stem = place_stem(name)
    if name.startswith(("全", "各", "本", "我", "该")) or len(stem) < 2:
        return True
    tags = [flag for _, flag in pseg.cut(stem)]
    return tags != ["ns"] and jieba.dt.FREQ.get(stem, 0) >= 300


def places_in(query: str, known: frozenset[str], terms: tuple[str, ...] | None = None) -> list[str]:
    """Distinct places named in the question, in order of mention; a name inside a longer one counts once.
    `terms` are the question's names as analysed (`Asked.terms`), read from `query` when not given."""
    found = []
    terms = tuple(question_terms(query)) if terms is None else terms
    for name in set(known) | {t for t in terms if not t.isdigit()}:
        stem = place_stem(name)
        if name in NOT_PLACES or len(stem) < 2:
            continue
        pos = query.find(name) if name in query else query.find(stem)
        if pos >= 0:
            found.append((pos, -len(stem), stem))
    places: list[str] = []
    for _, _, stem in sorted(found):
        if not any(stem in p or p in stem for p in places):
            places.append(stem)
    return places


def _only(query: str, place: str, places: list[str]) -> str:
    """The question about one of its places: the others are removed."""
    for other in places:
        if other != place:
            query = re.sub(re.escape(other) + "(省|市|县|区)?", "", query)
    return query
