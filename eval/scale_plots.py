"""Plots of `python -m eval scale`: cost against size per engine, and HNSW's recall/latency trade-off."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from eval.report import save_figure

ENGINES = {"faiss_flat": "FAISS flat", "faiss_hnsw": "FAISS HNSW", "milvus_lite": "Milvus lite"}


def _synth(report: dict[str, Any]) -> str:
    """What the sizes above the real pool are made of, for the titles."""
    kind = report.get("synthesis", {}).get("kind", "copies")
    real = report["pool"]["corpus_chunks"] + report["pool"]["real_distractors"]
    return f"above {real:,} real chunks: {kind}"


def _series(report: dict[str, Any], engine: str, key: str) -> tuple[list[int], list[float]]:
    xs, ys = [], []
    for r in report["sizes"]:
        m = r.get(engine) or {}
        value = m.get("hybrid", {}).get(key[7:]) if key.startswith("hybrid.") else m.get(key)
        if value is not None:
            xs.append(r["size"])
            ys.append(value)
    return xs, ys


def cost_plot(path: Path, report: dict[str, Any]) -> Path:
    panels = [
        ("build_s", "build time (s)"),
        ("build_rss_peak_mb", "peak RSS during build (MB)"),
        ("disk_mb", "disk (MB)"),
        ("query_p95_ms", "dense query p95 (ms)"),
    ]
    fig, axes = plt.subplots(1, len(panels), figsize=(16, 3.8))
    for ax, (key, label) in zip(axes, panels, strict=True):
        for engine, name in ENGINES.items():
            xs, ys = _series(report, engine, key)
            if xs:
                ax.plot(xs, ys, marker="o", label=name)
        extra = report.get("milvus_extrapolated") or {}
        if key in ("build_s", "disk_mb") and extra:
            pts = sorted((int(s), v[key]) for s, v in extra["sizes"].items())
            ax.plot([p[0] for p in pts], [p[1] for p in pts], "x", color="grey", label="Milvus lite, extrapolated")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("chunks")
        ax.set_title(label, fontsize=10)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    m = report["machine"]
    fig.suptitle(
        f"Scale on {m['cores']} shared cores ({m['cpu'][:40]}), FAISS threads {m.get('faiss_threads', '?')}; "
        f"{_synth(report)}",
        fontsize=10,
    )
    return save_figure(fig, path, dpi=110)


def recall_plot(path: Path, report: dict[str, Any]) -> Path:
    """FAISS HNSW recall@10 against p95 latency over efSearch, one line per size."""
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for i, r in enumerate(report["sizes"]):
        builds = [k for k in r if k.startswith("faiss_hnsw") and "sweep" in (r[k] or {})]
        for n, key in enumerate(builds):
            m = r.get(key) or {}
            sweep = m.get("sweep") or []
            if not sweep:
                continue
            ax.plot(
                [s["query_p95_ms"] for s in sweep],
                [s["recall@10"] for s in sweep],
                marker="o",
                color=f"C{i}",
                ls=("-", "--", ":", "-.")[n % 4],
                label=f"{r['size']:,}, M {m.get('M')}, efConstruction {m.get('efConstruction')}",
            )
            for s in sweep:
                ax.annotate(str(s["efSearch"]), (s["query_p95_ms"], s["recall@10"]), fontsize=7)
    ax.axhline(report["targets"]["hnsw_recall@10"], color="grey", ls="--", lw=1)
    ax.set_xscale("log")
    ax.set_xlabel("query p95 (ms), one query at a time")
    ax.set_ylabel("recall@10 vs exact")
    ax.set_title(f"FAISS HNSW recall against latency; labels are efSearch\n({_synth(report)})", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(title="chunks", fontsize=7)
    return save_figure(fig, path, dpi=110)


def hit_plot(path: Path, report: dict[str, Any]) -> Path:
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for engine, name in ENGINES.items():
        xs, ys = _series(report, engine, "hybrid.hit@5")
        if xs:
            ax.plot(xs, ys, marker="o", label=name)
    ax.axhline(report["corpus_only"]["hit@5"], color="green", ls=":", lw=1, label="corpus alone")
    ax.axhline(report["targets"]["hit@5_at_1e5"], color="grey", ls="--", lw=1, label="target")
    ax.set_xscale("log")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("chunks (bundled corpus + distractors)")
    ax.set_ylabel("dev hit@5, hybrid")
    ax.set_title(f"The bundled corpus hidden among distractors\n({_synth(report)})", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save_figure(fig, path, dpi=110)


def plot_all(out: Path, report: dict[str, Any]) -> list[Path]:
    return [
        cost_plot(out / "scale-cost.png", report),
        recall_plot(out / "scale-recall.png", report),
        hit_plot(out / "scale-hit5.png", report),
    ]
