"""Milvus-lite build throughput for one build option, on real law chunks (issue #12).

    .venv/bin/python scripts/milvus_build_bench.py --rows 20000 --index after [--batch 2000] [--mode search]
        [--no-bm25] [--vectors cache|random] [--profile] [--out result.json]

Rows: the first `rows` chunks of corpus-large's laws (eval.scale_data.law_chunks, the seeded sample of
`eval scale`), their text as eval/scale_milvus.py sends it (bm25_text). Vectors are for throughput only:
`cache` takes the embedder vectors already in the scale cache and fills the rest with noisy copies of them
(as eval scale synthesises), `random` random unit vectors (a worst case for HNSW recall). The schema is
eval/scale_milvus.py's. `--index create` gives the indexes at create_collection (milvus-lite then builds
HNSW per sealed segment in a background thread, which this waits for and times as `wait_bg`); `after`
creates them after insert + flush. Prints times, rows/s, dense recall@10 at ef 64 against brute force and
BM25 top-10 ids of 50 queries (in --out) to compare options. `--profile` samples every thread's stack
(cProfile sees only the calling thread; milvus-lite serves requests on gRPC threads). Keep rows small on
a shared machine. Reads milvus-lite internals (segments, background queue) for the report only.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

IDLE = (
    "futures/thread.py:_worker",
    "grpc/_server.py:_serve",
    "grpc/_channel.py:_blocking",
    "client/grpc_handler.py:wait_for_creating_index",
)


class Sampler:
    """Every `dt` s, the innermost frame of each busy thread (idle gRPC and pool waits left out)."""

    def __init__(self, dt: float = 0.005) -> None:
        self.dt, self.n = dt, 0
        self.inner: collections.Counter[str] = collections.Counter()
        self.cum: collections.Counter[str] = collections.Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = threading.get_ident()
        while not self._stop.is_set():
            for tid, frame in sys._current_frames().items():
                if tid == me:
                    continue
                names, f = [], frame
                while f is not None:
                    path = Path(f.f_code.co_filename)
                    names.append(f"{path.parent.name}/{path.name}:{f.f_code.co_name}")
                    f = f.f_back
                if not names or names[0] in IDLE or names[0].endswith(("wait", "select", "poll")):
                    continue
                self.n += 1
                self.inner[names[0]] += 1
                self.cum.update(set(names))
            time.sleep(self.dt)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def report(self, k: int = 20) -> None:
        print(f"busy samples: {self.n}")
        for title, counter in (("innermost", self.inner), ("cumulative", self.cum)):
            print(f"-- {title} --")
            for name, c in counter.most_common(k):
                print(f"{c / max(self.n, 1):6.1%}  {name}")


def rows_and_vectors(n: int, how: str, dim: int = 384) -> tuple[list[str], np.ndarray]:
    from eval.common import shared_dir
    from eval.scale_data import law_chunks, scale_cache
    from eval.scale_milvus import bm25_text

    texts = [bm25_text(c.embed_text()) for c in law_chunks(shared_dir() / "corpus-large" / "laws", n)]
    rng = np.random.default_rng(0)
    if how == "random":
        vecs = rng.standard_normal((n, dim)).astype(np.float32)
    else:
        real = []
        for shard in sorted(scale_cache().glob("vectors-*/shard-*.npz")):
            with np.load(shard) as z:
                real.append(z["vectors"])
        if not real:
            raise SystemExit("no vectors in the scale cache: run `python -m eval scale` once, or --vectors random")
        base = np.concatenate(real).astype(np.float32)
        src = rng.integers(0, len(base), n)
        src[: min(n, len(base))] = np.arange(min(n, len(base)))
        vecs = base[src].copy()
        sigma = rng.uniform(0.2, 0.5, (n, 1)).astype(np.float32)
        noise = rng.standard_normal(vecs.shape).astype(np.float32) * sigma / np.sqrt(vecs.shape[1])
        noise[: min(n, len(base))] = 0.0
        vecs += noise
    return texts, vecs / np.linalg.norm(vecs, axis=1, keepdims=True)


def engine(db: str, name: str) -> Any:
    """milvus-lite's own Collection behind the client (to wait for its background index build)."""
    from milvus_lite.server_manager import server_manager_instance

    for _server, lite, _port in server_manager_instance._servers.values():
        if Path(lite.data_dir).resolve() == Path(db).resolve():
            return lite.get_collection(name)
    raise RuntimeError(f"no milvus-lite server for {db}")


def build(a: argparse.Namespace, texts: list[str], vecs: np.ndarray, tmp: str) -> tuple[Any, dict[str, Any]]:
    from pymilvus import DataType, Function, FunctionType, MilvusClient

    from eval.scale_milvus import ANALYZER, EF_CONSTRUCTION, HNSW_M

    analyzer = {**ANALYZER, "tokenizer": {"type": "jieba", "mode": a.mode}}
    times: dict[str, Any] = {}
    t0, cpu0 = time.perf_counter(), time.process_time()
    db = str(Path(tmp) / "bench.db")
    c = MilvusClient(db)
    s = c.create_schema(auto_id=False, enable_dynamic_field=False)
    s.add_field("id", DataType.INT64, is_primary=True)
    if a.no_bm25:
        s.add_field("text", DataType.VARCHAR, max_length=65535)
    else:
        s.add_field("text", DataType.VARCHAR, max_length=65535, enable_analyzer=True, analyzer_params=analyzer)
        s.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        s.add_function(
            Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["text"],
                     output_field_names=["sparse"])
        )  # fmt: skip
    s.add_field("dense", DataType.FLOAT_VECTOR, dim=vecs.shape[1])
    p = c.prepare_index_params()
    p.add_index(field_name="dense", index_type="HNSW", metric_type="IP",
                params={"M": HNSW_M, "efConstruction": EF_CONSTRUCTION})  # fmt: skip
    if not a.no_bm25:
        p.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
    if a.index == "create":
        c.create_collection("x", schema=s, index_params=p, consistency_level="Strong")
    else:
        c.create_collection("x", schema=s, consistency_level="Strong")
    times["create"] = time.perf_counter() - t0
    eng = engine(db, "x")

    t, cpu = time.perf_counter(), time.process_time()
    per_batch = []
    for i in range(0, len(texts), a.batch):
        rows = [{"id": j, "text": texts[j], "dense": vecs[j].tolist()} for j in range(i, min(i + a.batch, len(texts)))]
        tb = time.perf_counter()
        c.insert("x", rows)
        per_batch.append(round(time.perf_counter() - tb, 2))
    times.update(insert=time.perf_counter() - t, cpu_insert=time.process_time() - cpu, per_batch=per_batch)
    t = time.perf_counter()
    c.flush("x")
    times["flush"] = time.perf_counter() - t
    if a.index == "after":
        t = time.perf_counter()
        c.create_index("x", p)
        times["create_index"] = time.perf_counter() - t
    t = time.perf_counter()
    c.load_collection("x")
    times["load"] = time.perf_counter() - t
    t = time.perf_counter()
    eng._wait_for_bg()  # index builds the flush queued in the background (index given at create)
    times["wait_bg"] = time.perf_counter() - t
    times.update(total=time.perf_counter() - t0, cpu_total=time.process_time() - cpu0)
    times["segments"] = [(seg.num_rows, sorted(seg.indexes)) for seg in eng._segments_snapshot()]
    return c, times


def quality(c: Any, a: argparse.Namespace, texts: list[str], vecs: np.ndarray) -> dict[str, Any]:
    rng = np.random.default_rng(1)
    q = vecs[rng.choice(len(vecs), 100, replace=False)]
    q = q + rng.standard_normal(q.shape).astype(np.float32) * 0.3 / np.sqrt(q.shape[1])
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    truth = np.argsort(-(q @ vecs.T), axis=1)[:, :10]
    hits = 0
    for qv, tr in zip(q, truth, strict=True):
        res = c.search("x", data=[qv.tolist()], anns_field="dense", limit=10,
                       search_params={"metric_type": "IP", "params": {"ef": 64}})[0]  # fmt: skip
        hits += len({int(h["id"]) for h in res} & set(tr.tolist()))
    out: dict[str, Any] = {"recall@10_ef64": hits / truth.size}
    if not a.no_bm25:
        step = max(1, len(texts) // 50)
        lists = []
        for i in range(0, len(texts), step)[:50]:
            res = c.search("x", data=[texts[i][10:30]], anns_field="sparse", limit=10,
                           search_params={"metric_type": "BM25"})[0]  # fmt: skip
            lists.append([int(h["id"]) for h in res])
        out["bm25_top10"] = lists
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=10000)
    ap.add_argument("--batch", type=int, default=2000)
    ap.add_argument("--index", choices=["create", "after"], default="after")
    ap.add_argument("--mode", default="search", help="jieba mode of the analyzer: search (as the product) | exact")
    ap.add_argument("--no-bm25", action="store_true", help="plain VARCHAR, no analyzer and no BM25 function")
    ap.add_argument("--vectors", choices=["cache", "random"], default="cache")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--out", default="")
    a = ap.parse_args()
    texts, vecs = rows_and_vectors(a.rows, a.vectors)
    with tempfile.TemporaryDirectory(prefix="milvus-bench-") as tmp:
        sampler = Sampler() if a.profile else None
        if sampler:
            with sampler:
                c, times = build(a, texts, vecs, tmp)
        else:
            c, times = build(a, texts, vecs, tmp)
        result = {"args": vars(a), "times": times, "rows_per_s": a.rows / times["total"], **quality(c, a, texts, vecs)}
        c.close()
    print(json.dumps({k: v for k, v in result.items() if k != "bm25_top10"}, default=str))
    if a.out:
        Path(a.out).write_text(json.dumps(result, default=str))
    if sampler:
        sampler.report()


if __name__ == "__main__":
    main()
