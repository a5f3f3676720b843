"""Eight users at once through the HTTP API, with clients that hang up or send oversized bodies mixed in:
no errors for the well-behaved, no replies mixed, one thread in the LLM at a time, the model free at the end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.llm, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]


def test_eight_concurrent_users(server, tmp_path):
    out = tmp_path / "load"
    proc = subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "loadtest.py"),
            "--url",
            server.url,
            "--users",
            "8",
            "--duration",
            "25",
            "--api-key",
            server.api_key,
            "--disconnectors",
            "1",
            "--oversized",
            "1",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    report = json.loads((out / "load.json").read_text(encoding="utf-8"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert report["errors"] == 0 and report["requests"] >= 8
    assert report["questions_with_differing_passages"] == 0
    assert report["answers_naming_another_question"] == 0
    assert report["answers_citing_foreign_passages"] == 0
    assert report["llm_max_concurrent"] == 1
    assert report["health_at_end"] == {"status": "ok", "active": 0}
    outcomes = report["misbehaving_clients"]["outcomes"]
    assert outcomes.get("d:hung up", 0) >= 1 and outcomes.get("o:refused", 0) >= 1, outcomes
    assert set(outcomes) <= {"d:hung up", "o:refused"}, outcomes
    # the queue was real: with 8 users and one model, someone waited for another's answer
    assert report["latency_max_ms"] > 2 * report["latency_min_ms"], report
