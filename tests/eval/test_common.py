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


def test_added_documents_join_the_index_and_its_key(monkeypatch, tmp_path):
    """--add-docs: a question set over other documents gets its own cached index, the default one plus them."""
    monkeypatch.setenv("RAG_SHARED", str(tmp_path / "shared"))
    monkeypatch.setenv("RAG_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "shared" / "corpus-extra").mkdir(parents=True)
    (tmp_path / "shared" / "corpus-extra" / "甲法.txt").write_text(
        "第一条　本法自2001年1月1日起施行。", encoding="utf-8"
    )
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "报告.txt").write_text("某县2023年粮食产量为12万吨。", encoding="utf-8")
    more = tmp_path / "more"
    more.mkdir()
    (more / "乙法.txt").write_text("第二条　罚款数额为五千元以上一万元以下。", encoding="utf-8")
    (more / "README.md").write_text("not a document", encoding="utf-8")
    settings = Settings(docs_dir=docs)
    plain, plain_names = eval_index(settings)
    added, added_names = eval_index(settings, added=[more])
    assert plain != added and (added / "CURRENT").exists()
    assert added_names == sorted([*plain_names, "乙法.txt"])
    with pytest.raises(RagError, match="add-docs"):
        eval_index(settings, added=[tmp_path / "nowhere"])
    # a document given twice, or one already in the index, is indexed once; two different files of one name fail
    again, names = eval_index(settings, added=[more, more / "乙法.txt", docs / "报告.txt"])
    assert again == added and names == added_names
    clash = tmp_path / "clash"
    clash.mkdir()
    (clash / "报告.txt").write_text("另一份报告。", encoding="utf-8")
    with pytest.raises(RagError, match="two different files"):
        eval_index(settings, added=[clash])
