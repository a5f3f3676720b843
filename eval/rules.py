"""Per-rule ablation of the rules that act before or during generation, by asking again only what they touched.

The answer checks are replayed without the model (eval/replay.py); the rules
of `rag.config.GENERATION_RULES` change what the model is asked, so their
effect needs the model. Greedy decoding with a fixed seed gives the same reply
to the same prompt, so a question a rule did not act on is answered the same
without it: only the questions whose trace in a stored run says the rule acted
(`fired`) are asked again with the rule switched off (`Settings.off`), and the
run is scored with those answers in place of the stored ones.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eval.dataset import Question, load_dataset
from eval.headline import dataset_name
from eval.report import bar_plot, console_table, md_table
from eval.runner import answer_all
from eval.score import load_answers, score
from rag.config import Settings

if TYPE_CHECKING:
    from rag.pipeline import Pipeline

COLS = ["hit@5", "keyfact", "refusal_acc", "false_refusal", "cite_precision", "unsupported", "followup_keyfact"]


def run_folder(run: Path, dataset: str) -> Path:
    """Where a run keeps one dataset's answers: its own folder when the run answered several datasets."""
    sub = run / dataset_name(dataset)
    return sub if (sub / "answers.jsonl").exists() else run


def fired_on(folder: Path, rules: list[str]) -> dict[str, set[str]]:
    """{rule: ids of the questions on which it acted} in a stored run (trace.jsonl's `fired`), read once."""
    lines = (folder / "trace.jsonl").read_text(encoding="utf-8").splitlines()
    traces = [json.loads(line) for line in lines if line.strip()]
    if traces and not any("fired" in t for t in traces):
        raise SystemExit(f"{folder}: the run's trace records no rules (made before `fired` was traced); run it again")
    return {rule: {t["id"] for t in traces if rule in t.get("fired", ())} for rule in rules}


def _summary(questions: list[Question], answers: dict[str, dict[str, Any]]) -> dict[str, Any]:
    _, summary = score(questions, answers)
    followup = (summary.get("by_group") or {}).get("followup") or {}
    return {**summary, "followup_keyfact": followup.get("keyfact")}


def ablate(
    pipe: Pipeline,
    base: Settings,
    run: Path,
    out: Path,
    datasets: list[str],
    split: str,
    rules: list[str],
    control: bool = False,
) -> dict[str, dict[str, dict[str, Any]]]:
    """{dataset: {"all rules": summary, "without R": summary, …}}; each summary also says on how many
    questions R acted (`fired`) and how many of their answers changed without it (`changed`).

    `control` first asks every such question again with nothing switched off: its `changed` count tests the
    premise (0 when the model answers an unchanged prompt as it did in the run)."""
    tables: dict[str, dict[str, dict[str, Any]]] = {}
    try:
        for dataset in datasets:
            tables[dataset_name(dataset)] = _ablate_one(pipe, base, run, out, dataset, split, rules, control)
    finally:
        pipe.settings = base
    return tables


def _ablate_one(
    pipe: Pipeline, base: Settings, run: Path, out: Path, dataset: str, split: str, rules: list[str], control: bool
) -> dict[str, dict[str, Any]]:
    folder = run_folder(run, dataset)
    stored = load_answers(folder / "answers.jsonl")
    questions = [q for q in load_dataset(dataset) if (split == "all" or q.split == split) and q.id in stored]
    if not questions:
        raise SystemExit(f"{folder}: no stored answer to a {split}-split question of {dataset}")
    model = pipe.model_info().model_dump()
    for a in stored.values():  # the premise holds only for the model and embedder that answered the run
        if a.get("model") not in (None, model):
            raise SystemExit(f"{folder}: answered by {a['model']}, but this pipeline runs {model}")
    table = {"all rules": _summary(questions, stored)}
    fired = fired_on(folder, rules)
    variants = [("control", (), set().union(*fired.values()))] if control else []
    variants += [(rule, (rule,), fired[rule]) for rule in rules]
    for name, off, ids in variants:
        asked = [q for q in questions if q.id in ids]
        redone: dict[str, dict[str, Any]] = {}
        if asked:
            pipe.settings = base.model_copy(update={"off": off})
            path = answer_all(asked, pipe.settings, out / name / dataset_name(dataset) / "answers.jsonl", pipe=pipe)
            redone = load_answers(path)
        changed = sum(redone[i].get("answer") != stored[i].get("answer") for i in redone)
        label = "control (nothing off)" if name == "control" else f"without {name}"
        table[label] = {**_summary(questions, {**stored, **redone}), "fired": len(asked), "changed": changed}
    return table


def write(out: Path, tables: dict[str, dict[str, dict[str, Any]]], meta: dict[str, Any]) -> str:
    """rules.json, rules.md and one plot per dataset in `out`; returns the console tables."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "rules.json").write_text(json.dumps({**tables, "meta": meta}, ensure_ascii=False, indent=1), "utf-8")
    md = ["Run: " + ", ".join(f"`{k}={v}`" for k, v in meta.items()), ""]
    console: list[str] = []
    cols = ["n", "fired", "changed", *COLS]
    for name, variants in tables.items():
        rows = [{"_name": v, **s} for v, s in variants.items()]
        md += [f"## {name}", "", md_table(rows, cols, "variant"), ""]
        console += [name, console_table(rows, cols, "variant"), ""]
        bar_plot(out / f"rules-{name}.png", variants, COLS[1:5], f"generation rules, one off at a time: {name}")
    (out / "rules.md").write_text("\n".join(md), encoding="utf-8")
    return "\n".join(console)


__all__ = ["ablate", "fired_on", "run_folder", "write"]
