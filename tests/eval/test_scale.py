"""`python -m eval scale` at a tiny size: the report's fields, exact search as its own ground truth, the
synthesis of larger sizes (copies, markers, noise), and the search queries: the pipeline's own step, the
real LLM's translations cached on disk by model and prompt."""

from __future__ import annotations

import json

import numpy as np
import pytest

from eval.common import shared_dir
from eval.scale_data import COPY_MARK, MIX_MARK, MIX_WEIGHT, Pool, synthesise
from rag.types import Chunk

HAVE_LAWS = (shared_dir() / "corpus-large" / "laws").is_dir()


def _pool(n_corpus: int = 3, n_distractors: int = 4, dim: int = 8) -> Pool:
    rng = np.random.default_rng(1)

    def vecs(n: int) -> np.ndarray:
        v = rng.standard_normal((n, dim)).astype(np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    corpus = [Chunk(f"c:{i}", "c.txt", f"正文{i}", "", 0, 1) for i in range(n_corpus)]
    distractors = [Chunk(f"d:{i}", f"d{i}.txt", f"干扰{i}", "", 0, 1) for i in range(n_distractors)]
    return Pool(corpus, vecs(n_corpus), distractors, vecs(n_distractors))


def test_small_sizes_are_a_sample_of_real_chunks():
    col = synthesise(_pool(), 5)
    assert col.size == 5 and col.n_corpus == 3 and col.n_real == 5
    assert not col.copy_no.any()
    assert [c.id for c in col.chunks[:3]] == ["c:0", "c:1", "c:2"]  # the corpus always comes first


def test_larger_sizes_are_perturbed_marked_copies_of_distractors():
    pool = _pool()
    col = synthesise(pool, 3 + 4 + 10)
    assert col.size == 17 and col.n_real == 7
    copies = np.flatnonzero(col.copy_no)
    assert len(copies) == 10 and col.copy_no.max() == 3  # rounds: every distractor copied before any twice
    for i in copies:
        c, src = col.chunks[i], col.chunks[col.source[i]]
        assert c.doc_id.startswith(src.doc_id) and not c.doc_id.startswith("c.txt")  # never a copy of the corpus
        assert c.text == src.text + COPY_MARK.format(n=col.copy_no[i])
        cos = float(col.vectors[i] @ col.vectors[col.source[i]])
        assert 0.8 < cos < 0.999
    assert np.allclose(np.linalg.norm(col.vectors, axis=1), 1.0, atol=1e-5)
    again = synthesise(pool, 17)
    assert np.array_equal(col.vectors, again.vectors)  # seeded


def test_mixtures_blend_two_distinct_distractors_and_carry_the_heavier_ones_text():
    pool = _pool(n_distractors=6, dim=16)
    col = synthesise(pool, 3 + 6 + 200, seed=3, synthesis="mixtures")
    assert col.size == 209 and col.n_real == 9 and col.synthesis == "mixtures" and col.mark == MIX_MARK
    assert not col.copy_no[:9].any() and (col.partner[:9] == -1).all() and (col.weight[:9] == 1).all()
    assert np.allclose(np.linalg.norm(col.vectors, axis=1), 1.0, atol=1e-5)
    seen: dict[int, list[int]] = {}
    for i in range(9, 209):
        src, other, a = int(col.source[i]), int(col.partner[i]), float(col.weight[i])
        assert 3 <= src < 9 and 3 <= other < 9 and src != other  # two different distractors, never the corpus
        assert MIX_WEIGHT[0] <= 1 - a <= 0.5 <= a <= MIX_WEIGHT[1]  # the source is the larger-weight one
        expected = a * col.vectors[src] + (1 - a) * col.vectors[other]
        assert np.allclose(col.vectors[i], expected / np.linalg.norm(expected), atol=1e-5)
        c, s = col.chunks[i], col.chunks[src]
        assert c.text == s.text + MIX_MARK.format(n=col.copy_no[i]) and c.id == f"{s.id}~{col.copy_no[i]}"
        seen.setdefault(src, []).append(int(col.copy_no[i]))
    assert all(sorted(ns) == list(range(1, len(ns) + 1)) for ns in seen.values())  # numbered 1..n per source
    assert len({c.id for c in col.chunks}) == col.size
    again = synthesise(pool, 209, seed=3, synthesis="mixtures")
    assert np.array_equal(col.vectors, again.vectors) and np.array_equal(col.partner, again.partner)  # seeded
    other = synthesise(pool, 209, seed=4, synthesis="mixtures")
    assert not np.array_equal(col.vectors, other.vectors)


def test_mixtures_below_the_real_pool_are_the_real_sample():
    pool = _pool()
    assert np.array_equal(synthesise(pool, 5, synthesis="mixtures").vectors, synthesise(pool, 5).vectors)


def test_mixtures_make_an_hnsw_index_searchable(tmp_path):
    """Real FAISS on a small mixture collection: exact search is its own ground truth, HNSW close to it."""
    from eval.scale_faiss import build, latencies, recall_at_k, recall_tied

    pool = _pool(n_corpus=5, n_distractors=50, dim=32)
    col = synthesise(pool, 3000, synthesis="mixtures")
    queries = col.vectors[np.random.default_rng(0).integers(0, col.size, 20)] + 0.05
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    truth, _ = latencies(build(col.vectors, "flat"), queries)
    hnsw = build(col.vectors, "hnsw")
    hnsw.hnsw.efSearch = 256
    found, ms = latencies(hnsw, queries)
    assert recall_at_k(truth, truth) == 1.0 and recall_tied(truth, truth, col.vectors, queries) == 1.0
    assert recall_tied(found, truth, col.vectors, queries) >= recall_at_k(found, truth) >= 0.8 and len(ms) == 20


def test_an_unknown_synthesis_is_refused():
    with pytest.raises(ValueError):
        synthesise(_pool(), 10, synthesis="clones")


def test_a_store_smaller_than_the_corpus_is_refused():
    with pytest.raises(ValueError):
        synthesise(_pool(), 2)


@pytest.mark.skipif(not HAVE_LAWS, reason="no corpus-large in the shared folder (set RAG_SHARED)")
def test_scale_command_at_a_tiny_size(tmp_path):
    from eval.__main__ import main

    out = tmp_path / "out"
    no_bench = tmp_path / "no-benchmarks"  # no CMRC: its 848 paragraphs would be embedded on a cold cache
    no_bench.mkdir()
    argv = ["scale", "--out", str(out), "--sizes", "1000", "--laws", "32", "--benchmarks", str(no_bench)]
    argv += ["--hnsw-compare", "16", "--hnsw-m", "8"]
    assert main(argv) == 0
    report = json.loads((out / "scale.json").read_text())
    assert {"machine", "embedder", "query_embedding", "pool", "targets", "corpus_only", "sizes"} <= set(report)
    (row,) = report["sizes"]
    assert row["size"] == row["chunks"] == 1000
    assert row["synthetic_chunks"] == 1000 - row["corpus_chunks"] - row["real_distractors"] > 0
    assert row["synthesis"] == report["synthesis"]["kind"] == "mixtures"  # the default
    flat, hnsw, milvus = row["faiss_flat"], row["faiss_hnsw"], row["milvus_lite"]
    assert flat["recall@10"] == 1.0  # exact search is its own ground truth
    for m in (flat, hnsw, milvus):
        assert {"build_s", "build_rss_delta_mb", "build_rss_peak_mb", "disk_mb", "query_p50_ms", "query_p95_ms"} <= set(
            m
        )
        assert 0.0 <= m["recall@10"] <= 1.0
        assert 0.0 <= m["hybrid"]["hit@5"] <= 1.0 and m["hybrid"]["n_questions"] > m["hybrid"]["n_zh"] > 0
    assert hnsw["efSearch"] in [s["efSearch"] for s in hnsw["sweep"]]
    from index.dense import EF_CONSTRUCTION, EF_SEARCH, HNSW_M

    assert (hnsw["M"], hnsw["efConstruction"], hnsw["product_efSearch"]) == (HNSW_M, EF_CONSTRUCTION, EF_SEARCH)
    assert all(s["recall@10_tied"] >= s["recall@10"] for s in hnsw["sweep"])
    assert row["faiss_hnsw_efc16"]["efConstruction"] == 16 and "hybrid" not in row["faiss_hnsw_efc16"]
    assert (row["faiss_hnsw_m8"]["M"], row["faiss_hnsw_m8"]["efConstruction"]) == (8, EF_CONSTRUCTION)
    for m in (flat, hnsw, milvus, report["corpus_only"]):  # English questions are searched translated
        h = m.get("hybrid", m)
        assert h["n_zh"] + h["n_en"] == h["n_questions"] and 0.0 <= h["hit@5_en"] <= 1.0
    searched = report["search_queries"]
    assert searched["translated"]["stores"] > 0 and searched["llm"].endswith(".gguf")
    assert report["pool"]["laws_chunks"] == 32
    assert report["query_embedding"]["p50_ms"] > 0
    for name in ("scale-cost.png", "scale-recall.png", "scale-hit5.png"):
        assert (out / name).stat().st_size > 0


def test_eval_scale_searches_what_the_pipeline_searches(pipeline, tmp_path):
    """The pipeline's translation event and eval scale's search query come from one function: equal, for the
    same index and model; a Chinese question is searched as written without touching places or the LLM."""
    from eval.dataset import Question
    from eval.scale_queries import CachedGenerator, search_queries
    from rag.rewrite import to_search_query

    def untouched():
        raise AssertionError("a Chinese question needs neither place names nor the LLM")

    assert to_search_query("寿光市2025年的GDP目标是多少？", untouched, untouched) == "寿光市2025年的GDP目标是多少？"
    english = "What is Shouguang's 2025 GDP target?"
    events = pipeline.stream(english)
    shown = next(e.data for e in events if e.kind == "translation")
    events.close()
    llm = CachedGenerator(tmp_path / "translations.json", pipeline.settings)
    q = Question(id="q1", question=english, lang="en", type="fact")
    assert search_queries([q], pipeline.retriever.place_counts(), llm) == {"q1": shown} and "寿光" in shown


def test_translation_cache_is_keyed_on_model_and_prompt(tmp_path):
    """A second run reads the real LLM's reply from disk without loading it; another model's key differs."""
    from eval.scale_queries import CachedGenerator, reply_key
    from rag.config import Settings
    from rag.prompt import translate_messages
    from rag.rewrite import translate_to_chinese

    settings = Settings(n_ctx=1024)  # a model instance of its own: closing it leaves the session's one alone
    path = tmp_path / "translations.json"
    first = CachedGenerator(path, settings)
    out = translate_to_chinese("Which department leads the tea-garden programme in Songyang County?", first)
    assert first.misses == 1 and first.loaded and "松阳" in out
    first.close()
    assert not first.loaded
    again = CachedGenerator(path, settings)
    assert translate_to_chinese("Which department leads the tea-garden programme in Songyang County?", again) == out
    assert (again.hits, again.misses, again.loaded) == (1, 0, False)
    messages = translate_messages("Which department leads the tea-garden programme in Songyang County?")
    (entry,) = json.loads(path.read_text()).values()
    assert entry["model"] == first.name and entry["messages"] == messages
    assert reply_key(first.name, messages, 80) in json.loads(path.read_text())
    assert reply_key("other.gguf", messages, 80) != reply_key(first.name, messages, 80)
    assert reply_key(first.name, translate_messages("What is Qingzhou's target?"), 80) != reply_key(
        first.name, messages, 80
    )
