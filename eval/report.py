"""report.md, PNG plots and the short console table; shared by every eval command.

Plots use the Agg backend and ASCII labels only (type / language codes):
this machine has no CJK font, and a missing glyph would render as boxes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from eval.score import METRIC_KEYS

PLOT_METRICS = ["hit@5", "mrr", "keyfact", "refusal_acc", "cite_precision", "lang_match"]

DEFINITIONS = """\
## How the metrics are computed

- Matching of gold evidence to a passage: both sides are NFKC-normalised, pinyin readings like `經(jīng)` are removed,
  converted to simplified script, case-folded, and stripped of whitespace and punctuation/symbols (Unicode P*/S*).
  A passage holds an evidence string if it contains it, or if their longest common substring is at least
  0.8 × the evidence length or 30 characters (robust to chunk boundaries and cleaning). When the question names
  `doc` files, the passage must come from one of them.
- `hit@1`, `hit@5`, `mrr`: rank of the first retrieved passage holding gold evidence (answerable questions with
  evidence). For `multi_doc` questions the rank is the one at which evidence from EVERY named document has appeared
  (the maximum over the documents of their first matching rank); 0 (a miss) if any document's evidence is absent.
- `keyfact`: per answerable question, the share of `must_include` keys found in the answer (a key or any of its
  `must_include_alt` alternatives; answer and key simplified, NFKC, no whitespace, case-folded, thousands
  separators and [n] markers removed); mean over questions.
- `refusal_acc`: share of unanswerable questions refused; `false_refusal`: share of answerable questions refused.
- `cite_precision`: over all passages cited by answerable, non-refused answers (micro-average), the share holding
  gold evidence. `cite_valid`: share of non-refused answers whose every [n] maps to a citation (or passage rank).
- `unsupported`: share of non-refused answers stating a figure absent from every cited passage and the question
  (values with units compared too: 1100亿 = 110 billion), or a place name (jieba `ns`) absent from the cited passages
  and their titles. Answers without any citation are checked against all retrieved passages.
- `lang_match`: `rag.script.detect_lang` of the answer (citation markers removed) equals the question's `lang`.
- Latency percentiles use linear interpolation over `timings_ms` (first_token, total).
"""


def fmt(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.3f}" if abs(v) < 10 else f"{v:.0f}"
    return str(v)


def md_table(rows: Sequence[dict[str, Any]], columns: Sequence[str], first: str = "") -> str:
    head = ([first] if first else []) + list(columns)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = ([fmt(r.get("_name"))] if first else []) + [fmt(r.get(c)) for c in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def console_table(rows: Sequence[dict[str, Any]], columns: Sequence[str], first: str = "") -> str:
    head = ([first] if first else []) + list(columns)
    body = [([fmt(r.get("_name"))] if first else []) + [fmt(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body, strict=True)]
    out = ["  ".join(str(h).ljust(w) for h, w in zip(head, widths, strict=True))]
    out += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) for row in body]
    return "\n".join(out)


def save_figure(fig: Any, path: Path, dpi: int = 90) -> Path:
    """Lay out, write and close a figure (pyplot keeps every open figure alive otherwise)."""
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path


def bar_plot(path: Path, groups: dict[str, dict[str, Any]], metrics: Sequence[str], title: str) -> Path:
    """Grouped bars: one group per key of `groups` (ASCII codes), one bar per metric."""
    fig, ax = plt.subplots(figsize=(max(6, 1.2 * len(groups) * max(1, len(metrics)) / 3 + 3), 4))
    names = list(groups)
    width = 0.8 / max(1, len(metrics))
    for j, m in enumerate(metrics):
        vals = [groups[n].get(m) or 0.0 for n in names]
        ax.bar([i + j * width for i in range(len(names))], vals, width, label=m)
    ax.set_xticks([i + width * (len(metrics) - 1) / 2 for i in range(len(names))])
    rotate = len(names) > 5 or max(map(len, names), default=0) > 10
    ax.set_xticklabels([_ascii(n) for n in names], rotation=20 if rotate else 0, ha="right" if rotate else "center")
    ax.set_ylim(0, 1.2)
    ax.set_title(_ascii(title))
    ax.legend(fontsize=7, ncol=len(metrics), loc="upper left")
    return save_figure(fig, path)


def hist_plot(path: Path, series: dict[str, Sequence[float]], title: str, xlabel: str) -> Path:
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for name, vals in series.items():
        vals = [v for v in vals if v is not None]
        if vals:
            ax.hist(vals, bins=20, alpha=0.6, label=_ascii(name))
    ax.set_xlabel(_ascii(xlabel))
    ax.set_ylabel("questions")
    ax.set_title(_ascii(title))
    ax.legend(fontsize=8)
    return save_figure(fig, path)


def _ascii(s: str) -> str:
    return "".join(ch if ord(ch) < 128 else "?" for ch in str(s))


def _named(groups: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"_name": k, **v} for k, v in groups.items()]


def to_look_at(rows: list[dict[str, Any]]) -> list[str]:
    """The questions that did not score fully, tune split (or no split) only: test-split questions are counted,
    never listed, so that nobody changes the system for them."""
    withheld = [r for r in rows if r.get("split") == "test"]
    rows = [r for r in rows if r.get("split") != "test"]
    bad = [r for r in rows if r["answerable"] and ((r["keyfact"] or 0) < 1 or not r["hit_rank"])]
    bad += [r for r in rows if not r["answerable"] and not r["refused"]]
    bad += [r for r in rows if r["unsupported"]]
    seen: set[str] = set()
    lines = ["## Questions to look at", ""]
    if withheld:
        lines += [f"{len(withheld)} test-split questions are not listed (scores only; see `eval/data/README.md`).", ""]
    if not bad:
        lines.append("None: every listed question scored fully." if withheld else "None: every question scored fully.")
    for r in bad:
        if r["id"] in seen:
            continue
        seen.add(r["id"])
        why = []
        if r["answerable"] and not r["hit_rank"]:
            why.append("evidence not retrieved" if r["hit_rank"] == 0 else "")
        if r["answerable"] and (r["keyfact"] or 0) < 1:
            why.append(f"keyfact {fmt(r['keyfact'])}" + (" (refused)" if r["refused"] else ""))
        if not r["answerable"] and not r["refused"]:
            why.append("answered an unanswerable question")
        if r["unsupported"]:
            why.append("unsupported: " + ", ".join(r["unsupported_items"]))
        if r["error"]:
            why.append(f"error: {r['error']}")
        answer = r["answer"].replace("\n", " ")[:120]
        lines.append(f"- `{r['id']}` ({r['type']}, {r['lang']}): {'; '.join(w for w in why if w)} — {answer}")
    return lines


def write_report(out_dir: Path, rows: list[dict[str, Any]], summary: dict[str, Any]) -> Path:
    """The gold-dataset report: headline table, breakdowns, plots, worst questions, metric definitions."""
    bar_plot(out_dir / "scores_by_type.png", summary.get("by_type", {}), PLOT_METRICS, "scores by question type")
    bar_plot(out_dir / "scores_by_lang.png", summary.get("by_lang", {}), PLOT_METRICS, "scores by language")
    hist_plot(
        out_dir / "latency.png",
        {
            "first token": [r["first_token_ms"] for r in rows],
            "total": [r["total_ms"] for r in rows],
        },
        "answer latency",
        "ms",
    )
    headline = [{"_name": "all", **summary}]
    cols = ["n", *[k for k in METRIC_KEYS if k in summary]]
    meta = summary.get("meta") or {}
    lines = ["# Evaluation report", ""]
    if meta:
        lines += ["Run: " + ", ".join(f"`{k}={v}`" for k, v in meta.items()), ""]
    lines += ["## Summary", "", md_table(headline, cols, "set"), ""]
    if len(summary.get("by_split") or {}) > 1:
        lines += ["## By split", "", md_table(_named(summary["by_split"]), cols, "split"), ""]
    lines += ["## By question type", "", md_table(_named(summary.get("by_type", {})), cols, "type"), ""]
    lines += ["![by type](scores_by_type.png)", ""]
    lines += ["## By language", "", md_table(_named(summary.get("by_lang", {})), cols, "lang"), ""]
    lines += ["![by lang](scores_by_lang.png)", ""]
    if "followup" in (summary.get("by_group") or {}):
        lines += ["## Follow-ups (two-turn conversations) and single questions", ""]
        lines += [md_table(_named(summary["by_group"]), cols, "group"), ""]
    lines += ["## Latency", "", "![latency](latency.png)", ""]
    lines += to_look_at(rows)
    lines += ["", DEFINITIONS]
    path = out_dir / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
