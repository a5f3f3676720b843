"""The whole pipeline runs with the network blocked: any connection attempt fails the run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

GUARD = """
import socket, sys
def _blocked(*a, **k):
    raise RuntimeError("network access attempted: %r" % (a,))
socket.socket.connect = _blocked
socket.socket.connect_ex = _blocked
socket.create_connection = _blocked
socket.getaddrinfo = _blocked
sys.argv = ["rag"] + sys.argv[1:]
import runpy
runpy.run_module("rag", run_name="__main__")
"""


@pytest.mark.llm
def test_build_and_ask_without_network(tmp_path, corpus_dir):
    index = tmp_path / "idx"
    for args in (
        ["index", "build", "--docs", str(corpus_dir), "--index", str(index)],
        ["ask", "寿光市2025年的GDP目标是多少？", "--json", "--index", str(index)],
    ):
        proc = subprocess.run(
            [sys.executable, "-c", GUARD, *args], cwd=REPO, capture_output=True, text=True, timeout=600
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert "network access attempted" not in proc.stderr
    assert "1100亿元" in json.loads(proc.stdout)["answer"]
