"""Per-rule ablation of the answer checks, replayed on the replies a run stored, without the model.

The checks run after generation on the model's reply; `python -m eval run`
keeps each reply and the passages it was shown (trace.jsonl), so grounding can
be run again with one rule switched off and the answers scored again. The
result is exact for those rules (same replies, same passages); rules that act
before or during generation (coverage refusal, re-asks) need real runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tqdm import tqdm

from eval.dataset import Question, load_dataset
from eval.report import bar_plot, console_table, md_table
from eval.score import score
from index import store
from rag.cite import REFUSAL, RULES, ground
from rag.pipeline import build_citations
from rag.question import asked
from rag.script import to_script
from rag.select import ContextPassage
from rag.types import Passage

COLS = ["keyfact", "refusal_acc", "false_refusal", "cite_precision", "unsupported"]


def _context(trace: dict[str, Any], index: store.HybridIndex, by_id: dict[str, int]) -> list[ContextPassage]:
    out = []
    for c in trace.get("context", []):
        chunk = index.chunks[by_id[c["chunk_id"]]]
        doc = index.docs.get(chunk.doc_id)
        meta = doc.meta if doc else None
        passage = Passage(chunk, c["n"], c.get("fused", 0.0), c.get("dense", 0.0), c.get("bm25", 0.0), meta=meta)
        out.append(ContextPassage(c["n"], passage, [chunk.text], c.get("with_meta", False)))
    return out


def regrounded(
    record: dict[str, Any],
    trace: dict[str, Any],
    context: list[ContextPassage],
    skip: frozenset[str],
) -> dict[str, Any]:
    """The answer record as the pipeline would have written it with the rules in `skip` switched off."""
    if "raw" not in trace or not context:  # refused before generation (or an error): no reply to check
        return record
    lang = trace["lang"]
    g = ground(trace["raw"], context, lang, trace["checked_question"], skip=skip)
    text = g.answer if g.refused else to_script(g.answer, lang)
    citations = [] if g.refused else [c.model_dump() for c in build_citations(text, context)]
    return {
        **record,
        "answer": text if not g.refused else REFUSAL[lang],
        "refused": g.refused,
        "citations": citations,
        "checks": [c.to_json() for c in g.checks],
    }


@dataclass
class StoredRun:
    """A run's stored replies for one dataset and split, with the passages each was shown, read once."""

    questions: list[Question]
    answers: dict[str, dict[str, Any]]
    traces: dict[str, dict[str, Any]]
    contexts: dict[str, list[ContextPassage]]


def load_run(run_dir: Path, dataset: str, index: store.HybridIndex, split: str = "test") -> StoredRun:
    questions = [q for q in load_dataset(dataset) if split == "all" or q.split == split]
    wanted = {q.id for q in questions}
    answers = {r["id"]: r for r in map(json.loads, (run_dir / "answers.jsonl").open(encoding="utf-8"))}
    traces = {t["id"]: t for t in map(json.loads, (run_dir / "trace.jsonl").open(encoding="utf-8"))}
    by_id = {c.id: i for i, c in enumerate(index.chunks)}
    contexts = {qid: _context(traces[qid], index, by_id) for qid in wanted if qid in traces}
    return StoredRun(questions, {q: a for q, a in answers.items() if q in wanted}, traces, contexts)


def replay(run: StoredRun) -> dict[str, dict[str, Any]]:
    """{variant: summary} for the run's answers re-grounded with each rule off, and with all on."""
    out: dict[str, dict[str, Any]] = {}
    for variant in tqdm(["all rules", *(f"without {r}" for r in RULES)], desc="replaying", unit="variant"):
        skip = frozenset() if variant == "all rules" else frozenset({variant.removeprefix("without ")})
        redone = {
            qid: regrounded(answer, run.traces[qid], run.contexts[qid], skip) if qid in run.contexts else answer
            for qid, answer in run.answers.items()
        }
        _, summary = score(run.questions, redone)
        out[variant] = summary
    return out


def release_consistency(run: StoredRun) -> dict[str, Any]:
    """Sentence-by-sentence release replayed on the stored replies, fed two characters at a time as tokens
    arrive: the final answer must equal `ground`'s (the text shown early is a prefix of it)."""
    from rag.release import Release

    replies = mismatched = 0
    shares: list[float] = []
    for qid, context in run.contexts.items():
        t = run.traces[qid]
        if "raw" not in t or not context:
            continue
        raw = t["raw"]
        years = asked(t["checked_question"]).years
        release = Release(context, t["lang"], t["checked_question"], years)
        first = next((end for end in range(2, len(raw) + 2, 2) if release.feed(raw[:end])), None)
        release.feed(raw)
        whole = ground(raw, context, t["lang"], t["checked_question"])
        expected = whole.answer if whole.refused else whole.answer.lstrip()
        g, rest = release.finish(replace(whole, checks=list(whole.checks)))  # finish may rewrite its grounding
        final = g.answer if g.refused else release.shown + rest
        replies += 1
        mismatched += final != expected or g.refused != whole.refused
        if first is not None:
            shares.append(min(first, len(raw)) / len(raw))
    shares.sort()
    return {
        "replies": replies,
        "mismatches": mismatched,
        "released_early": len(shares),
        "median_share_read_before_first_release": round(shares[len(shares) // 2], 3) if shares else None,
    }


def write(out: Path, tables: dict[str, dict[str, dict[str, Any]]]) -> str:
    """replay.json, replay.md and one plot per dataset; returns the console tables."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "replay.json").write_text(json.dumps(tables, ensure_ascii=False, indent=1), encoding="utf-8")
    md, console = [], []
    for name, variants in tables.items():
        rows = [{"_name": v, **s} for v, s in variants.items()]
        md += [f"## {name}", "", md_table(rows, ["n", *COLS], "variant"), ""]
        console += [name, console_table(rows, ["n", *COLS], "variant"), ""]
        bar_plot(out / f"replay-{name}.png", variants, COLS[:3], f"answer checks replayed, one off at a time: {name}")
    (out / "replay.md").write_text("\n".join(md), encoding="utf-8")
    return "\n".join(console)
