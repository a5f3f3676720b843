"""The evaluation index: corpus/ plus the corpus-extra laws, cached under a key of every file's content."""

from __future__ import annotations

import shutil

import pytest

from eval.common import eval_index, extra_doc_files, extra_docs_dir, index_key, shared_dir
from rag.config import REPO, Settings
from rag.errors import RagError


def test_shared_folder_follows_rag_shared(monkeypatch, tmp_path):
    monkeypatch.setenv("RAG_SHARED", str(tmp_path))
    assert shared_dir() == tmp_path and extra_docs_dir() == tmp_path / "corpus-extra"
    monkeypatch.delenv("RAG_SHARED")
    monkeypatch.delenv("RAG_BENCHMARKS", raising=False)
    assert shared_dir() == REPO.parent / "shared"


def test_index_key_follows_content_names_and_settings(tmp_path):
    corpus = sorted((REPO / "corpus").glob("*.txt"))
    copy = tmp_path / "c"
    copy.mkdir()
    for p in corpus:
        shutil.copy(p, copy / p.name)
    files = sorted(copy.iterdir())
    key = index_key(files, Settings())
    assert key == index_key(list(reversed(files)), Settings())  # order does not matter
    assert key == index_key(corpus, Settings())  # same names and bytes, another folder: same index
    assert key != index_key(files, Settings(chunk_size=300))
    assert key != index_key(files[:-1], Settings())
    files[0].write_bytes(files[0].read_bytes() + "\n补充一句。".encode())
    assert key != index_key(files, Settings())


def test_missing_laws_are_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("RAG_SHARED", str(tmp_path))
    assert extra_doc_files() == []
    with pytest.raises(RagError, match="set RAG_SHARED"):
        eval_index(Settings())


@pytest.mark.skipif(not extra_docs_dir().is_dir(), reason="no corpus-extra (set RAG_SHARED)")
def test_extra_files_are_the_six_laws():
    names = [p.name for p in extra_doc_files()]
    assert len(names) == 6 and all(n.startswith("中华人民共和国") for n in names)
