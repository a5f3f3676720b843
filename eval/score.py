"""Score an answers file (the CLI JSON shape) against the gold dataset: per-question rows and a summary.

Kept apart from running the pipeline so that any system's answers, written in
the same JSON shape, are scored by exactly the same code.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from eval.dataset import DatasetError, Question
from eval.metrics import (
    cite_hits,
    cite_valid,
    hit_rank,
    keyfact,
    lang_match,
    mean,
    percentile,
    unsupported_items,
)
from rag.jsonl import parse_jsonl

Row = dict[str, Any]
METRIC_KEYS = [
    "hit@1",
    "hit@5",
    "mrr",
    "keyfact",
    "refusal_acc",
    "false_refusal",
    "cite_precision",
    "cite_valid",
    "unsupported",
    "lang_match",
    "ttft_p50_ms",
    "total_p50_ms",
    "total_p95_ms",
]


def load_answers(path: str | Path) -> dict[str, dict[str, Any]]:
    """Answer records by id; a line that is not JSON is an error with its line number."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: no such answers file")
    out: dict[str, dict[str, Any]] = {}
    for n, rec in parse_jsonl(path.read_text(encoding="utf-8").splitlines(), str(path), DatasetError):
        if not isinstance(rec, dict) or rec.get("id") is None:
            raise DatasetError(f"{path}:{n}: an answer record needs an 'id'")
        out[str(rec["id"])] = rec
    return out


def score_question(q: Question, rec: dict[str, Any] | None) -> Row:
    missing = rec is None
    rec = rec or {}
    error = rec.get("error") or ("no answer record" if missing else "")
    answer = str(rec.get("answer") or "")
    refused = bool(rec.get("refused")) if not error else False
    rec_eff = {**rec, "answer": answer, "refused": refused}
    rank = hit_rank(q, rec.get("passages") or [])
    hits = cite_hits(q, rec_eff) if not error else None
    unsup = unsupported_items(rec_eff, q.question) if not error else None
    t = rec.get("timings_ms") or {}
    return {
        "id": q.id,
        "type": q.type,
        "lang": q.lang,
        "split": q.split,
        "group": q.group,
        "answerable": q.answerable,
        "hit_rank": rank,
        "keyfact": keyfact(q, answer),
        "refused": refused,
        "correct_refusal": refused == (not q.answerable),
        "cite_valid": cite_valid(rec_eff) if not error else None,
        "cite_gold": hits[0] if hits else None,
        "cite_count": hits[1] if hits else None,
        "cite_precision": (hits[0] / hits[1]) if hits and hits[1] else None,
        "unsupported": (bool(unsup) if unsup is not None else None),
        "unsupported_items": unsup or [],
        "lang_match": lang_match(q, answer) if not error else False,
        "retrieve_ms": t.get("retrieve"),
        "first_token_ms": t.get("first_token"),
        "total_ms": t.get("total"),
        "error": error,
        "answer": answer,
    }


def summarize(rows: list[Row]) -> dict[str, Any]:
    """The headline metrics for a set of per-question rows (see METRIC_KEYS)."""
    ans = [r for r in rows if r["answerable"]]
    unans = [r for r in rows if not r["answerable"]]
    ranks = [r["hit_rank"] for r in ans if r["hit_rank"] is not None]
    cited = [r for r in ans if r["cite_count"]]
    out: dict[str, Any] = {
        "n": len(rows),
        "n_answerable": len(ans),
        "n_unanswerable": len(unans),
        "n_errors": sum(1 for r in rows if r["error"]),
        "hit@1": mean([k == 1 for k in ranks]),
        "hit@5": mean([0 < k <= 5 for k in ranks]),
        "mrr": mean([1.0 / k if k else 0.0 for k in ranks]),
        "keyfact": mean([r["keyfact"] for r in ans]),
        "refusal_acc": mean([r["refused"] for r in unans]),
        "false_refusal": mean([r["refused"] for r in ans]),
        # micro-average over all cited passages, so an answer citing five passages weighs five times
        "cite_precision": round(sum(r["cite_gold"] for r in cited) / sum(r["cite_count"] for r in cited), 4)
        if cited
        else None,
        "cite_valid": mean([r["cite_valid"] for r in rows]),
        "unsupported": mean([r["unsupported"] for r in rows]),
        "lang_match": mean([r["lang_match"] for r in rows]),
        "ttft_p50_ms": percentile([r["first_token_ms"] for r in rows if r["first_token_ms"] is not None], 50),
        "total_p50_ms": percentile([r["total_ms"] for r in rows if r["total_ms"] is not None], 50),
        "total_p95_ms": percentile([r["total_ms"] for r in rows if r["total_ms"] is not None], 95),
    }
    return out


BREAKDOWNS = ("type", "lang", "group", "split")


def summarize_groups(rows: list[Row]) -> dict[str, Any]:
    """The headline metrics plus one summary per question type, script, group (single/followup) and split."""
    summary = summarize(rows)
    for field in BREAKDOWNS:
        groups: dict[str, list[Row]] = defaultdict(list)
        for r in rows:
            if r.get(field) is not None:
                groups[r[field]].append(r)
        summary[f"by_{field}"] = {k: summarize(v) for k, v in sorted(groups.items())}
    for split, part in summary["by_split"].items():  # follow-ups within each split, for the headline
        followups = [r for r in rows if r.get("split") == split and r.get("group") == "followup"]
        if followups:
            part["by_group"] = {"followup": summarize(followups)}
    return summary


def score(questions: list[Question], answers: dict[str, dict[str, Any]]) -> tuple[list[Row], dict[str, Any]]:
    rows = [score_question(q, answers.get(q.id)) for q in questions]
    summary = summarize_groups(rows)
    extra = sorted(set(answers) - {q.id for q in questions})
    summary["answers_without_question"] = len(extra)
    return rows, summary


def write_results(
    out_dir: Path,
    rows: list[Row],
    summary: dict[str, Any],
    meta: dict[str, Any] | None = None,
    per_split: bool = True,
) -> None:
    """results.jsonl, summary.json and report.md (with plots) in out_dir, and the same per split in
    out_dir/split-tune/ and out_dir/split-test/ when the questions carry a split."""
    from eval.report import write_report

    out_dir.mkdir(parents=True, exist_ok=True)
    with (out_dir / "results.jsonl").open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    if meta:
        summary = {**summary, "meta": meta}
    (out_dir / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    write_report(out_dir, rows, summary)
    for split in sorted({r["split"] for r in rows if r.get("split")} if per_split else ()):
        part = [r for r in rows if r.get("split") == split]
        sub = summarize_groups(part)
        write_results(out_dir / f"split-{split}", part, sub, {**(meta or {}), "split": split}, per_split=False)
