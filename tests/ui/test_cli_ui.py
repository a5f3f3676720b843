"""`python -m ui` refuses to expose the documents off loopback without login and API key (no model is loaded)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _run_ui(*args: str, env_extra: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_UI_", "RAG_API_KEY"))}
    env.update(env_extra or {})
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "ui", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    return proc, time.monotonic() - t0


def test_refuses_open_host_without_credentials(tmp_path):
    proc, took = _run_ui("--host", "0.0.0.0", "--port", "0")
    assert proc.returncode == 2
    assert (
        "refusing to serve on 0.0.0.0" in proc.stderr and "RAG_UI_USER" in proc.stderr and "RAG_API_KEY" in proc.stderr
    )
    assert took < 30, "the check must come before loading models"

    # login but no API key: still refused
    proc, _ = _run_ui("--host", "0.0.0.0", env_extra={"RAG_UI_USER": "u", "RAG_UI_PASSWORD": "p"})
    assert proc.returncode == 2 and "RAG_API_KEY" in proc.stderr and "RAG_UI_USER" not in proc.stderr

    bad = tmp_path / "auth.txt"
    bad.write_text("no-colon-here\n")
    proc, _ = _run_ui("--host", "0.0.0.0", "--auth-file", str(bad), "--api-key", "k")
    assert proc.returncode == 2 and "user:password" in proc.stderr
