"""python -m eval floor: what the calibrated refusal floor does to real questions, per embedder.

The floor (index/calibrate.py) refuses a question before the model runs when
its best passage is no closer than a typical unrelated question. This reports,
for the evaluation index of one embedder, the floor, how many answerable
questions it would refuse (a cost: they never reach the model), how many
unanswerable ones it refuses, and the same for the unrelated probes. English
questions are left out: the pipeline searches their Chinese translation, made by
the model. Retrieval only: no model, no answers read.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tqdm import tqdm

from eval.dataset import load_dataset
from eval.report import bar_plot, md_table
from index.calibrate import PROBES


def run(out: Path, datasets: list[str], split: str, pipe: Any) -> dict[str, Any]:
    floor = pipe.refuse_below
    summary: dict[str, Any] = {
        "embedder": pipe.embedder.name,
        "index": str(pipe.settings.index_dir),
        "floor": floor,
        "floor_english_search": pipe.refuse_below_latin,  # for a question searched untranslated (index/calibrate.py)
        "stored": pipe.index.manifest.refuse_below is not None and pipe.settings.refuse_below is None,
        "split": split,
        "sets": {},
    }

    def best(question: str) -> float:
        return max((p.dense_score for p in pipe.retriever.search(question)), default=-1.0)

    probes = [best(q) for q in PROBES]
    summary["sets"]["unrelated probes"] = {"n": len(probes), "refused": sum(b < floor for b in probes)}
    for path in datasets:
        questions = [
            q for q in load_dataset(path) if (split == "all" or q.split == split) and not q.history and q.lang != "en"
        ]
        counts = {"answerable": [0, 0], "unanswerable": [0, 0]}
        for q in tqdm(questions, desc=Path(path).stem, unit="q"):
            kind = "unanswerable" if q.type == "unanswerable" else "answerable"
            counts[kind][0] += 1
            counts[kind][1] += best(q.question) < floor
        for kind, (n, refused) in counts.items():
            summary["sets"][f"{Path(path).stem} {kind}"] = {"n": n, "refused": int(refused)}
    for row in summary["sets"].values():
        row["share_refused"] = round(row["refused"] / row["n"], 3) if row["n"] else None
    out.mkdir(parents=True, exist_ok=True)
    (out / "floor.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    rows = [{"_name": k, **v} for k, v in summary["sets"].items()]
    (out / "floor.md").write_text(
        f"# Refusal floor {floor:.4f} ({summary['embedder']}, {'stored with the index' if summary['stored'] else 'set'})"
        f"\n\n{md_table(rows, ['n', 'refused', 'share_refused'], 'questions')}\n",
        encoding="utf-8",
    )
    bar_plot(
        out / "floor.png",
        {k: {"share_refused": v["share_refused"] or 0.0} for k, v in summary["sets"].items()},
        ["share_refused"],
        f"Refused by the floor {floor:.3f} ({summary['embedder']})",
    )
    return summary
