"""Small helpers shared by the eval commands: settings overrides, paths, temporary indexes, peak memory."""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rag.config import REPO, Settings

# Flags that map one-to-one onto Settings fields (dest name = field name).
SETTING_FLAGS: dict[str, type] = {
    "embedder": str,
    "llm": str,
    "top_k": int,
    "candidates": int,
    "dense_weight": float,
    "bm25_weight": float,
    "refuse_below": float,
    "context_tokens": int,
    "max_new_tokens": int,
    "chunk_size": int,
    "chunk_overlap": int,
    "n_threads": int,
}


def add_setting_flags(parser: Any) -> None:
    for name, kind in SETTING_FLAGS.items():
        flag = "--" + name.replace("_", "-")
        parser.add_argument(flag, dest=name, type=kind, default=None, help=f"override Settings.{name}")


def settings_from_args(args: Any, **base: Any) -> Settings:
    values = {k: getattr(args, k, None) for k in SETTING_FLAGS}
    return Settings(**base, **{k: v for k, v in values.items() if v is not None})


def overrides(args: Any) -> dict[str, Any]:
    return {k: getattr(args, k) for k in SETTING_FLAGS if getattr(args, k, None) is not None}


def benchmarks_dir(explicit: str | None = None) -> Path:
    """--benchmarks, else $RAG_BENCHMARKS, else ../shared/benchmarks next to the repo."""
    return Path(explicit or os.environ.get("RAG_BENCHMARKS") or (REPO.parent / "shared" / "benchmarks"))


def cache_root() -> Path:
    base = os.environ.get("RAG_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", str(Path.home() / ".cache")), "zh-policy-rag"
    )
    return Path(base) / "eval"


def peak_rss_mb() -> float:
    """Peak resident memory of this process (ru_maxrss is KiB on Linux)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


@contextmanager
def timer() -> Iterator[Callable[[], float]]:
    t0 = time.perf_counter()
    box: list[float] = []

    def elapsed() -> float:
        return box[0] if box else (time.perf_counter() - t0) * 1000

    yield elapsed
    box.append((time.perf_counter() - t0) * 1000)


def build_corpus_index(root: Path, docs_dir: Path, embedder_spec: str, chunk_size: int, chunk_overlap: int) -> float:
    """Build an index of a document folder with the project's own loader and builder; returns seconds taken."""
    from index import builder
    from index.embed import load_embedder
    from rag.chunk import ChunkSettings
    from rag.document import prepare_file
    from rag.load import iter_dir

    t0 = time.perf_counter()
    docs = [prepare_file(p) for p in iter_dir(docs_dir)]
    builder.build(docs, root, load_embedder(embedder_spec), ChunkSettings(chunk_size, chunk_overlap))
    return time.perf_counter() - t0


def ensure_index(index_dir: Path, settings: Settings) -> None:
    """Build the bundled corpus into index_dir when nothing is there yet (never rebuilds an existing index)."""
    if (index_dir / "CURRENT").exists():
        return
    print(f"no index at {index_dir}: building it from {settings.docs_dir}")
    build_corpus_index(index_dir, settings.docs_dir, settings.embedder, settings.chunk_size, settings.chunk_overlap)
