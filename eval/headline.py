"""The summary of a multi-dataset `python -m eval run`: the test split of every dataset is the headline.

The tune split is reported below it for reference; it is the only split whose
questions may be looked at while changing the system (eval/data/README.md).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eval.report import PLOT_METRICS, bar_plot, console_table, md_table
from eval.score import METRIC_KEYS

HEADLINE_KEYS = ["n", "hit@5", "keyfact", "refusal_acc", "false_refusal", "cite_precision", "unsupported"]


def dataset_name(path: str | Path) -> str:
    return Path(path).stem


def _rows(summaries: dict[str, dict[str, Any]], split: str) -> dict[str, dict[str, Any]]:
    """{"dev · test": {...}, "dev · test · followup": {...}, ...} for one split of every dataset."""
    out: dict[str, dict[str, Any]] = {}
    for name, s in summaries.items():
        part = (s.get("by_split") or {}).get(split)
        if not part:
            continue
        out[f"{name} · {split}"] = {k: v for k, v in part.items() if not k.startswith("by_")}
        followup = (part.get("by_group") or {}).get("followup")
        if followup:
            out[f"{name} · {split} · followup"] = followup
    return out


def write_headline(out: Path, summaries: dict[str, dict[str, Any]], meta: dict[str, Any]) -> dict[str, Any]:
    """summary.json, report.md and headline.png in `out`; the per-dataset folders hold the full reports."""
    headline = _rows(summaries, "test")
    tune = _rows(summaries, "tune")
    result = {"headline": headline, "tune": tune, "datasets": summaries, "meta": meta}
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    ascii_names = {k.replace(" · ", "/"): v for k, v in headline.items()}
    bar_plot(out / "headline.png", ascii_names, PLOT_METRICS, "test split (headline)")
    cols = ["n", *METRIC_KEYS]
    lines = [
        "# Evaluation summary",
        "",
        "Run: " + ", ".join(f"`{k}={v}`" for k, v in meta.items() if k != "indexed"),
        "",
        f"Index: {len(meta['indexed'])} files (bundled corpus + corpus-extra laws)."
        if isinstance(meta.get("indexed"), list)
        else f"Index: {meta.get('indexed')}",
        "",
        "## Headline: test split",
        "",
        "Questions never looked at while changing the system; `· followup` rows are the two-turn conversations "
        "within the split.",
        "",
        md_table([{"_name": k, **v} for k, v in headline.items()], cols, "set"),
        "",
        "![headline](headline.png)",
        "",
        "## Tune split (for reference)",
        "",
        md_table([{"_name": k, **v} for k, v in tune.items()], cols, "set") if tune else "No tune-split questions.",
        "",
        "## Per dataset",
        "",
    ]
    for name in summaries:
        lines.append(
            f"- `{name}`: [all]({name}/report.md) · [test]({name}/split-test/report.md)"
            + (f" · [tune]({name}/split-tune/report.md)" if "tune" in (summaries[name].get("by_split") or {}) else "")
        )
    (out / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return result


def print_headline(result: dict[str, Any]) -> None:
    rows = [{"_name": k, **v} for k, v in result["headline"].items()]
    print("test split (headline)")
    print(console_table(rows, HEADLINE_KEYS, "set"))
    if result["tune"]:
        print("\ntune split")
        print(console_table([{"_name": k, **v} for k, v in result["tune"].items()], HEADLINE_KEYS, "set"))
