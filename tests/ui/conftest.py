"""A real server for the UI tests: the app on a copy of the test index, served by uvicorn in a thread.

The LLM is cached per process, so this server shares it with the `pipeline`
fixture instead of loading a second 1 GB model on a 2-core machine.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

API_KEY = "test-key-123"
EDITOR_KEY = "editor-key-456"
ACCOUNTS = [("rita", "reader-pw", "reader"), ("ed", "editor-pw", "editor")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str
    pipe: object
    index_dir: Path
    feedback: Path
    api_key: str
    audit: Path
    editor_key: str = ""


def _serve(
    index_dir: Path, tmp: Path, api_key: str, auth: list | None = None, editor_key: str = ""
) -> Iterator[Server]:
    import uvicorn

    from rag.config import Settings
    from rag.pipeline import Pipeline
    from ui.app import create_app

    copy = tmp / "index"
    shutil.copytree(index_dir, copy)
    pipe = Pipeline(Settings(index_dir=copy))
    pipe.warmup()
    feedback, audit = tmp / "feedback.jsonl", tmp / "audit.jsonl"
    app = create_app(
        pipe, auth=auth or [], api_key=api_key, feedback_path=feedback, editor_key=editor_key, audit_path=audit
    )
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=5).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("UI server did not start")
        time.sleep(0.2)
    try:
        yield Server(url, pipe, copy, feedback, api_key, audit, editor_key)
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture(scope="module")
def server(index_dir, tmp_path_factory) -> Iterator[Server]:
    yield from _serve(index_dir, tmp_path_factory.mktemp("ui"), API_KEY)


@pytest.fixture(scope="module")
def auth_server(index_dir, tmp_path_factory) -> Iterator[Server]:
    """Login on, with a reader and an editor account, a reader API key and an editor key."""
    yield from _serve(index_dir, tmp_path_factory.mktemp("ui-auth"), API_KEY, ACCOUNTS, EDITOR_KEY)
