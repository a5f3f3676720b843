"""Small helpers shared by the eval commands: settings overrides, paths, temporary indexes, peak memory."""

from __future__ import annotations

import hashlib
import os
import resource
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from index.store import file_sha256
from rag.config import REPO, Settings

# Flags that map one-to-one onto Settings fields (dest name = field name).
SETTING_FLAGS: dict[str, type] = {
    "embedder": str,
    "llm": str,
    "generation_timeout_s": float,
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
    "rerank": str,
    "rerank_top": int,
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


def shared_dir() -> Path:
    """$RAG_SHARED, else ../shared next to the repo: the benchmarks and corpus-extra live there."""
    return Path(os.environ.get("RAG_SHARED") or (REPO.parent / "shared"))


def benchmarks_dir(explicit: str | None = None) -> Path:
    """--benchmarks, else $RAG_BENCHMARKS, else <shared>/benchmarks (see shared_dir)."""
    return Path(explicit or os.environ.get("RAG_BENCHMARKS") or (shared_dir() / "benchmarks"))


def extra_docs_dir() -> Path:
    """The laws of corpus-extra (another genre, see its README.md): <shared>/corpus-extra."""
    return shared_dir() / "corpus-extra"


def extra_doc_files() -> list[Path]:
    """The corpus-extra documents (its README.md is not a document); [] when the folder is missing."""
    from rag.load import iter_dir

    folder = extra_docs_dir()
    if not folder.is_dir():
        return []
    return [p for p in iter_dir(folder) if p.name.lower() != "readme.md"]


def cache_root() -> Path:
    base = os.environ.get("RAG_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", str(Path.home() / ".cache")), "zh-policy-rag"
    )
    return Path(base) / "eval"


def _drawn(count: int, n: int | None, seed: int) -> list[int]:
    import random

    if not n or n >= count:
        return list(range(count))
    return sorted(random.Random(seed).sample(range(count), n))


def sample(items: list[Any], n: int | None, seed: int) -> list[Any]:
    """n items drawn with a fixed seed over the whole list (kept in file order); all of them when n is None or
    not smaller than the list. The first n of a file are not a sample: they share an article or a topic."""
    return [items[i] for i in _drawn(len(items), n, seed)]


def rest_of_sample(items: list[Any], n: int | None, seed: int) -> list[Any]:
    """The items `sample(items, n, seed)` leaves out (file order): a development set disjoint from a reported
    sample, so a rule can be designed on questions whose answers the reported figure never showed."""
    drawn = set(_drawn(len(items), n, seed))
    return [x for i, x in enumerate(items) if i not in drawn]


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


def build_corpus_index(
    root: Path, docs_dir: Path | list[Path], embedder_spec: str, chunk_size: int, chunk_overlap: int, index_type="flat"
) -> float:
    """Build an index of a document folder (or a list of files) with the project's own loader and builder;
    returns seconds taken."""
    from index import builder
    from index.embed import load_embedder
    from rag.chunk import ChunkSettings
    from rag.document import prepare_file
    from rag.load import iter_dir

    t0 = time.perf_counter()
    paths = iter_dir(docs_dir) if isinstance(docs_dir, Path) else list(docs_dir)
    docs = [prepare_file(p) for p in paths]
    builder.build(docs, root, load_embedder(embedder_spec), ChunkSettings(chunk_size, chunk_overlap), index_type)
    return time.perf_counter() - t0


def index_key(files: list[Path], settings: Settings) -> str:
    """Cache key of an index: every document's name and content, the chunking/embedding settings, the index
    format and the fingerprint of the code that turns files into chunks (index.builder.prep_version)."""
    from index import store
    from index.builder import prep_version

    h = hashlib.sha256()
    for p in sorted(files, key=lambda p: p.name):
        h.update(f"{p.name}\0{file_sha256(p)}\n".encode())
    parts = [settings.embedder, settings.chunk_size, settings.chunk_overlap, settings.index_type]
    h.update(repr((*parts, store.FORMAT_VERSION, prep_version())).encode())
    return h.hexdigest()[:16]


def eval_index(settings: Settings, with_extra: bool = True, added: list[Path] | None = None) -> tuple[Path, list[str]]:
    """The evaluation index: the bundled corpus plus the corpus-extra laws (plus `added` files or folders, the
    documents of another question set), cached under the eval cache and keyed on the content of all files
    (index_key), built when missing. Returns (folder, indexed file names)."""
    from rag.errors import RagError
    from rag.load import iter_dir

    files = list(iter_dir(settings.docs_dir))
    for path in added or []:
        if not path.exists():
            raise RagError(f"{path}: no such file or folder (given with --add-docs)")
        files += [p for p in iter_dir(path) if p.name.lower() != "readme.md"] if path.is_dir() else [path]
    if with_extra:
        extra = extra_doc_files()
        if not extra:
            raise RagError(
                f"{extra_docs_dir()}: no corpus-extra documents; set RAG_SHARED to the shared folder "
                "(the one holding corpus-extra/ and benchmarks/)"
            )
        files += extra
    by_name: dict[str, Path] = {}
    for p in files:  # a file given twice (or a law both added and in corpus-extra) is indexed once
        if p.name in by_name and file_sha256(by_name[p.name]) != file_sha256(p):
            raise RagError(f"two different files are both named {p.name}: {by_name[p.name]} and {p}")
        by_name.setdefault(p.name, p)
    files = list(by_name.values())
    root = cache_root() / f"index-{index_key(files, settings)}"
    if not (root / "CURRENT").exists():
        print(f"building the evaluation index of {len(files)} files at {root}")
        build_corpus_index(
            root, files, settings.embedder, settings.chunk_size, settings.chunk_overlap, settings.index_type
        )
    return root, sorted(p.name for p in files)


def ensure_index(index_dir: Path, settings: Settings) -> None:
    """Build the bundled corpus into index_dir when nothing is there yet (never rebuilds an existing index)."""
    if (index_dir / "CURRENT").exists():
        return
    print(f"no index at {index_dir}: building it from {settings.docs_dir}")
    build_corpus_index(index_dir, settings.docs_dir, settings.embedder, settings.chunk_size, settings.chunk_overlap)
