"""RGB (zh_refine) noise robustness and negative rejection, with passages given straight to the generator.

As in the RGB paper, each question gets 5 passages: for noise rate R,
round(5·R) negative and the rest positive (fewer positives than needed are
topped up with negatives), shuffled with a fixed seed. Retrieval is bypassed;
the project's sentence selection (`select_context`, same token budget as the
pipeline), prompt (`answer_messages`), missing-place guard and grounding
(`ground`) are applied, so this measures the answering half of the real system.
The dense-similarity refusal floor is not applied (it needs retrieval scores).

--sample N (or --limit N) asks N questions drawn with --seed over all 300, not
the first N; the passage mix has its own fixed seed (42), so a question gets
the same passages whichever sample it is in. --others asks the questions that
sample leaves out instead: a development set for answer checks, disjoint from
the reported sample.

Accuracy follows RGB's checker: every item of `answer` must occur in the
output; an item that is itself a list is a set of alternatives (any one).
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from pathlib import Path
from typing import Any

from tqdm import tqdm

from eval.common import benchmarks_dir, peak_rss_mb, rest_of_sample, sample
from eval.metrics import mean, percentile
from eval.normalize import norm_answer
from eval.report import bar_plot, console_table, md_table

NOISE_RATES = [0.0, 0.2, 0.4, 0.6, 0.8]
N_PASSAGES = 5


def load(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def pick_passages(item: dict[str, Any], noise: float, seed: int = 42) -> list[tuple[str, bool]]:
    """(text, is_positive) for 5 passages at this noise rate, deterministic per question and rate."""
    rng = random.Random(f"{seed}-{item['id']}-{noise}")
    pos, neg = list(item.get("positive") or []), list(item.get("negative") or [])
    rng.shuffle(pos)
    rng.shuffle(neg)
    n_neg = round(N_PASSAGES * noise)
    n_pos = min(N_PASSAGES - n_neg, len(pos))
    n_neg = min(N_PASSAGES - n_pos, len(neg))
    chosen = [(t, True) for t in pos[:n_pos]] + [(t, False) for t in neg[:n_neg]]
    rng.shuffle(chosen)
    return chosen


def check_answer(prediction: str, gold: list[Any]) -> bool:
    """RGB's rule: each gold item must occur; a list item is a set of alternatives."""
    pred = norm_answer(prediction)
    for item in gold:
        alts = item if isinstance(item, list) else [item]
        if not any(norm_answer(str(a)) and norm_answer(str(a)) in pred for a in alts):
            return False
    return True


def _passages(texts: list[str], qid: Any):
    from rag.types import Chunk, DocMeta, Passage

    out = []
    for i, t in enumerate(texts, 1):
        chunk = Chunk(f"rgb-{qid}-{i}", f"rgb-{qid}-{i}", t, "", 0, len(t), "")
        out.append(Passage(chunk, rank=i, score=1.0 / i, meta=DocMeta()))
    return out


def shown_context(question: str, texts: list[str], qid: Any, gen: Any, settings: Any) -> list[Any]:
    """The passages as the prompt shows them: the project's sentence selection within its token budget."""
    from index.bm25 import tokenize
    from rag.select import select_context

    passages = _passages(texts, qid)
    df: Counter[str] = Counter()
    for p in passages:
        df.update(set(tokenize(p.chunk.text)))
    return select_context(question, passages, gen.count_tokens, settings.context_tokens, dict(df), len(passages))


def answer(question: str, texts: list[str], gen: Any, settings: Any, qid: Any) -> dict[str, Any]:
    """Run the answering half of the pipeline on given passages."""
    from rag.cite import REFUSAL, ground, missing_terms
    from rag.prompt import answer_messages
    from rag.script import detect_lang

    t0 = time.perf_counter()
    lang = detect_lang(question)
    missing = missing_terms(question, "\n".join(texts))
    if missing:
        return {
            "answer": REFUSAL[lang],
            "refused": True,
            "reason": f"not in passages: {missing}",
            "raw": "",
            "first_token_ms": 0.0,
            "total_ms": round((time.perf_counter() - t0) * 1000, 1),
        }
    context = shown_context(question, texts, qid, gen, settings)
    raw, first = "", 0.0
    for tok in gen.stream(answer_messages(question, context, lang), settings.max_new_tokens):
        if not first:
            first = (time.perf_counter() - t0) * 1000
        raw += tok
    g = ground(raw, context, lang, question)
    return {
        "answer": g.answer,
        "refused": g.refused,
        "reason": g.reason,
        "raw": raw,
        "first_token_ms": round(first, 1),
        "total_ms": round((time.perf_counter() - t0) * 1000, 1),
    }


def regrounded(
    item: dict[str, Any],
    row: dict[str, Any],
    gen: Any,
    settings: Any,
    seed: int = 42,
    skip: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """A stored reply checked again by the current answer checks (`skip`: rules switched off), on the passages
    it was shown (model-free)."""
    from rag.cite import ground
    from rag.script import detect_lang

    if not row.get("raw"):  # refused before generation: nothing to check again
        return row
    texts = [t for t, _ in pick_passages(item, row["noise"], seed)]
    context = shown_context(item["query"], texts, item["id"], gen, settings)
    g = ground(row["raw"], context, detect_lang(item["query"]), item["query"], skip=skip)
    correct = check_answer(g.answer, item["answer"]) if not g.refused else False
    return {**row, "answer": g.answer, "refused": g.refused, "reason": g.reason, "correct": correct}


def replay(
    run_dir: Path, settings: Any = None, bench: str | None = None, skip: frozenset[str] = frozenset()
) -> dict[str, dict[str, float]]:
    """{noise: {accuracy, refused, changed}} for a stored run's replies checked again by the current code,
    with the answer rules in `skip` switched off."""
    from rag.config import Settings
    from rag.generate import generator_for

    s = settings or Settings()
    items = {str(i["id"]): i for i in load(benchmarks_dir(bench) / "rgb" / "zh_refine.json")}
    gen = generator_for(s)
    rows = [json.loads(line) for line in (run_dir / "results.jsonl").open(encoding="utf-8")]
    redone = [regrounded(items[str(r["id"])], r, gen, s, skip=skip) for r in tqdm(rows, desc="rgb replay", unit="q")]
    out: dict[str, dict[str, float]] = {}
    for rate in sorted({r["noise"] for r in rows}):
        pairs = [(a, b) for a, b in zip(rows, redone, strict=True) if a["noise"] == rate]
        out[f"{rate:.1f}"] = {
            "stored_accuracy": mean([a["correct"] for a, _ in pairs]),
            "accuracy": mean([b["correct"] for _, b in pairs]),
            "stored_refused": mean([a["refused"] for a, _ in pairs]),
            "refused": mean([b["refused"] for _, b in pairs]),
            "changed": sum(a["refused"] != b["refused"] or a["answer"] != b["answer"] for a, b in pairs),
        }
    return out


def run(
    out: Path,
    noise_rates: list[float] | None = None,
    limit: int | None = None,
    rejection: bool = True,
    settings: Any = None,
    bench: str | None = None,
    seed: int = 42,
    sample_seed: int = 0,
    others: bool = False,
) -> dict[str, Any]:
    from rag.config import Settings
    from rag.generate import generator_for

    s = settings or Settings()
    items = load(benchmarks_dir(bench) / "rgb" / "zh_refine.json")
    n_all = len(items)
    items = rest_of_sample(items, limit, sample_seed) if others else sample(items, limit, sample_seed)
    gen = generator_for(s)
    rates = list(noise_rates if noise_rates is not None else NOISE_RATES)
    if rejection and 1.0 not in rates:
        rates.append(1.0)
    out.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    with (out / "results.jsonl").open("w", encoding="utf-8") as f:
        for rate in rates:
            for item in tqdm(items, desc=f"rgb noise {rate:.1f}", unit="q"):
                chosen = pick_passages(item, rate, seed)
                res = answer(item["query"], [t for t, _ in chosen], gen, s, item["id"])
                row = {
                    "id": item["id"],
                    "noise": rate,
                    "n_positive": sum(1 for _, p in chosen if p),
                    "correct": check_answer(res["answer"], item["answer"]) if not res["refused"] else False,
                    "raw_correct": check_answer(res["raw"], item["answer"]),
                    "gold": item["answer"],
                    **res,
                }
                rows.append(row)
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
                f.flush()
    summary: dict[str, Any] = {
        "n_questions": len(items),
        "sample": "all"
        if len(items) == n_all
        else f"{len(items)} of {n_all}, "
        + (f"those the {limit} drawn with seed {sample_seed} leave out" if others else f"seed {sample_seed}"),
        "seed": sample_seed,
        "passage_seed": seed,
        "context_tokens": s.context_tokens,
        "by_noise": {},
    }
    for rate in rates:
        rs = [r for r in rows if r["noise"] == rate]
        summary["by_noise"][f"{rate:.1f}"] = {
            "accuracy": mean([r["correct"] for r in rs]),
            "raw_accuracy": mean([r["raw_correct"] for r in rs]),
            "refused": mean([r["refused"] for r in rs]),
            "total_p50_ms": percentile([r["total_ms"] for r in rs], 50),
        }
        if rate < 1.0:
            summary[f"accuracy@{rate:.1f}"] = summary["by_noise"][f"{rate:.1f}"]["accuracy"]
    if 1.0 in rates:
        summary["rejection"] = summary["by_noise"]["1.0"]["refused"]
    summary["peak_rss_mb"] = peak_rss_mb()
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    _report(out, summary)
    return summary


def _report(out: Path, summary: dict[str, Any]) -> None:
    groups = {f"noise {k}": v for k, v in summary["by_noise"].items()}
    bar_plot(out / "rgb_scores.png", groups, ["accuracy", "raw_accuracy", "refused"], "RGB zh: accuracy by noise rate")
    rows = [{"_name": k, **v} for k, v in summary["by_noise"].items()]
    lines = [
        "# RGB (zh_refine): noise robustness and negative rejection",
        "",
        f"{summary['n_questions']} questions ({summary['sample']}), 5 passages each (passage seed "
        f"{summary['passage_seed']}); prompt budget {summary['context_tokens']} tokens.",
        "`accuracy`: the final (grounded) answer holds every gold item (a nested list = alternatives), refusals count "
        "as wrong; `raw_accuracy`: the same on the model's raw output before grounding; `refused`: share refused. "
        "At noise 1.0 all passages are negative and `refused` is the rejection rate.",
        "",
        md_table(rows, ["accuracy", "raw_accuracy", "refused", "total_p50_ms"], "noise"),
        "",
        f"Rejection rate (noise 1.0): {summary.get('rejection', '–')}",
        "",
        "![rgb](rgb_scores.png)",
        "",
        __doc__ or "",
    ]
    (out / "report.md").write_text("\n".join(lines), encoding="utf-8")


def print_summary(out: Path, summary: dict[str, Any]) -> None:
    rows = [{"_name": k, **v} for k, v in summary["by_noise"].items()]
    print(console_table(rows, ["accuracy", "raw_accuracy", "refused", "total_p50_ms"], "noise"))
    print(f"wrote {out}/summary.json, results.jsonl, report.md")
