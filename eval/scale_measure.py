"""Measuring one step of the scale test: wall time, RSS before/after and its peak (this process and its
children, so an engine running in a helper process is counted), and folder sizes."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil

MB = 2**20


def rss_mb() -> float:
    """Resident memory of this process plus its children."""
    me = psutil.Process()
    total = me.memory_info().rss
    for child in me.children(recursive=True):
        try:
            total += child.memory_info().rss
        except psutil.Error:
            pass
    return total / MB


@dataclass
class Step:
    seconds: float = 0.0
    rss_before_mb: float = 0.0
    rss_after_mb: float = 0.0
    rss_peak_mb: float = 0.0

    def as_dict(self, prefix: str) -> dict[str, float]:
        return {
            f"{prefix}_s": round(self.seconds, 2),
            f"{prefix}_rss_delta_mb": round(self.rss_after_mb - self.rss_before_mb, 1),
            f"{prefix}_rss_peak_mb": round(self.rss_peak_mb, 1),
        }


@contextmanager
def measured(interval: float = 0.05) -> Iterator[Step]:
    """Time a block and sample RSS every `interval` seconds in a thread: ru_maxrss is the peak of the
    whole process lifetime, useless for the second of two builds."""
    step = Step(rss_before_mb=rss_mb())
    step.rss_peak_mb = step.rss_before_mb
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(interval):
            step.rss_peak_mb = max(step.rss_peak_mb, rss_mb())

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    t0 = time.perf_counter()
    try:
        yield step
    finally:
        step.seconds = time.perf_counter() - t0
        stop.set()
        thread.join()
        step.rss_after_mb = rss_mb()
        step.rss_peak_mb = max(step.rss_peak_mb, step.rss_after_mb)


def size_mb(path: Path) -> float:
    """Bytes on disk of a file or a folder tree, in MB."""
    if path.is_file():
        return round(path.stat().st_size / MB, 1)
    return round(sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / MB, 1)


def timed_ms(fn: Callable[[], object]) -> tuple[object, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, (time.perf_counter() - t0) * 1000


def pct(values: list[float], p: float) -> float | None:
    """Percentile in ms to the microsecond: a FAISS search of 10^4 vectors takes well under 0.1 ms."""
    import numpy as np

    return round(float(np.percentile(values, p)), 3) if values else None


@contextmanager
def one_thread() -> Iterator[None]:
    """Queries one thread each, as a server runs them (parallelism comes from concurrent requests). On two
    shared cores, FAISS's OpenMP threads waiting for each other made a 10^4 flat search 27 ms instead of 0.7."""
    import faiss
    from threadpoolctl import threadpool_limits

    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        with threadpool_limits(1):
            yield
    finally:
        faiss.omp_set_num_threads(before)
