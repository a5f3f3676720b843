"""Retrieval only, no answers: what each reranker does to hit@1 / hit@5 / mrr, and the time it adds.

For every question, retrieval's short list (Settings.rerank_top passages) is
computed once; each reranker reorders that same list and is timed alone (the
time it adds before the first token). Sets: the dev set's test split and the
extra set (all its questions are test split), both on the evaluation index
(bundled corpus + corpus-extra laws, eval.common.eval_index), answerable
questions with evidence and no history, searched as written (English questions
untranslated), scored with eval.metrics.hit_rank as every retrieval table is;
and a seeded sample of CMRC 2018 dev over its own cached index (a hit is the
question's paragraph). Rerankers in SLOW (the LLM) run on a seeded sample of
each set (--slow-sample); the table then also gives the others on that same
sample, so each comparison is on the same questions. Only aggregates and
question ids are written, never a question's text or answer.

    python -m eval rerank --out artifacts/rerank [--rerankers none sentence llm] [--cmrc-sample 200 --seed 0] [--sets dev extra cmrc]
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tqdm import tqdm

from eval.common import benchmarks_dir, eval_index, file_sha256, sample
from eval.dataset import load_dataset
from eval.metrics import hit_rank, mean, percentile
from eval.report import console_table, md_table, save_figure
from rag.config import Settings
from rag.rerank import Reranker, reranker_for
from rag.types import Passage

SLOW = ("llm",)
COLS = ["hit@1", "hit@5", "mrr", "n", "added_ms_p50", "added_ms_p95"]

# One question: (id, question text, rank function over a ranked passage list: 1-based rank of the gold, 0 if absent)
Item = tuple[str, str, Callable[[list[Passage]], int]]


def scores(ranks: Sequence[int], ms: Sequence[float], top_k: int = 5) -> dict[str, Any]:
    """hit@1, hit@5 and mrr within the top_k shown (as eval.stores), and the added time's p50 / p95."""
    shown = [k if 0 < k <= top_k else 0 for k in ranks]
    return {
        "hit@1": mean([k == 1 for k in shown]),
        "hit@5": mean([0 < k <= 5 for k in shown]),
        "mrr": mean([1 / k if k else 0.0 for k in shown]),
        "n": len(shown),
        "added_ms_p50": percentile(ms, 50),
        "added_ms_p95": percentile(ms, 95),
    }


def dataset_items(path: str | Path, split: str | None) -> list[Item]:
    """Questions retrieval alone can score (answerable, with evidence, not follow-ups), ranked by hit_rank."""
    items: list[Item] = []
    for q in load_dataset(path):
        if not q.answerable or not q.evidence or q.history or (split and q.split != split):
            continue
        items.append((q.id, q.question, lambda ps, q=q: hit_rank(q, [p.to_json() for p in ps]) or 0))
    return items


def cmrc_items(bench: str | None, n: int | None, seed: int, embedder: str) -> tuple[Path, list[Item]]:
    """A seeded sample of CMRC 2018 dev over the cached index of all its paragraphs (eval.cmrc)."""
    from eval import cmrc

    path = benchmarks_dir(bench) / "cmrc2018" / "cmrc2018_dev.json"
    paras, questions = cmrc.load(path)
    root, _ = cmrc.cached_index(paras, embedder, data_sha256=file_sha256(path))

    def rank_of(para: str) -> Callable[[list[Passage]], int]:
        return lambda ps: next((i for i, p in enumerate(ps, 1) if p.chunk.doc_id == para), 0)

    return root, [(q.id, q.question, rank_of(q.para_id)) for q in sample(questions, n, seed)]


def measure(
    pipe: Any,
    items: list[Item],
    rerankers: dict[str, Reranker],
    slow_ids: set[str] | None = None,
    desc: str = "rerank",
) -> dict[str, dict[str, dict[str, float]]]:
    """{reranker: {question id: {rank, ms}}}: every reranker on the same short list of each question.

    A reranker in SLOW runs only on `slow_ids` (all questions when None).
    """
    s = pipe.settings
    out: dict[str, dict[str, dict[str, float]]] = {name: {} for name in rerankers}
    for qid, question, rank_of in tqdm(items, desc=desc, unit="q"):
        short = pipe.retriever.search(question, max(s.top_k, s.rerank_top))
        for name, reranker in rerankers.items():
            if name in SLOW and slow_ids is not None and qid not in slow_ids:
                continue
            t0 = time.perf_counter()
            ranked = reranker.rerank(question, list(short))
            ms = (time.perf_counter() - t0) * 1000
            out[name][qid] = {"rank": rank_of(ranked[: s.top_k]), "ms": round(ms, 1)}
    return out


def _rows(set_name: str, found: dict[str, dict[str, dict[str, float]]], top_k: int) -> dict[str, dict[str, Any]]:
    """Table rows: every reranker on all questions; and, where a slow one ran on a sample, all of them on it."""
    rows: dict[str, dict[str, Any]] = {}
    for name, per_q in found.items():
        if name in SLOW:
            continue
        rows[f"{set_name} · {name}"] = scores(
            [r["rank"] for r in per_q.values()], [r["ms"] for r in per_q.values()], top_k
        )
    for slow in (n for n in found if n in SLOW):
        ids = set(found[slow])
        for name, per_q in found.items():
            picked = [per_q[i] for i in ids if i in per_q]
            label = f"{set_name} · {name}" if len(ids) == len(found["none"]) else f"{set_name} (sample) · {name}"
            if name in SLOW or label not in rows:
                rows[label] = scores([r["rank"] for r in picked], [r["ms"] for r in picked], top_k)
    return rows


def run(
    out: Path,
    settings: Settings,
    names: Sequence[str],
    dev: str,
    extra: str,
    cmrc_sample: int | None = 200,
    seed: int = 0,
    slow_sample: int | None = None,
    bench: str | None = None,
    only: Sequence[str] = ("dev", "extra", "cmrc"),
    limit: int | None = None,
) -> dict[str, Any]:
    from rag.pipeline import Pipeline

    if "none" not in names:
        names = ["none", *names]
    out.mkdir(parents=True, exist_ok=True)
    root, files = eval_index(settings)
    sets: list[tuple[str, Settings, list[Item]]] = []
    if "dev" in only:
        sets.append(("dev-test", settings.model_copy(update={"index_dir": root}), dataset_items(dev, "test")))
    if "extra" in only:
        sets.append(("extra-all", settings.model_copy(update={"index_dir": root}), dataset_items(extra, None)))
    if "cmrc" in only:
        cmrc_root, items = cmrc_items(bench, cmrc_sample, seed, settings.embedder)
        sets.append((f"cmrc-{len(items)}", settings.model_copy(update={"index_dir": cmrc_root}), items))
    rows: dict[str, dict[str, Any]] = {}
    ranks: dict[str, Any] = {}
    pipes: dict[Path, Any] = {}
    for set_name, s, items in sets:
        items = items[:limit] if limit else items  # a quick look; tables are made without it
        pipe = pipes.get(s.index_dir) or Pipeline(s)
        pipes[s.index_dir] = pipe
        rerankers = {n: reranker_for(n, pipe.embedder, lambda p=pipe: p.generator, s.rrf_k, s.llm) for n in names}
        if any(n in SLOW for n in names):
            pipe.warmup()  # loading the model is not a question's cost
        slow_ids = {i for i, _, _ in sample(items, slow_sample, seed)} if slow_sample else None
        found = measure(pipe, items, rerankers, slow_ids, desc=set_name)
        rows.update(_rows(set_name, found, s.top_k))
        ranks[set_name] = found
        tqdm.write(console_table([{"_name": k, **v} for k, v in rows.items() if k.startswith(set_name)], COLS))
        _write(out, _summary(settings, names, root, files, cmrc_sample, seed, slow_sample, rows), ranks)  # kept so far
    return _summary(settings, names, root, files, cmrc_sample, seed, slow_sample, rows)


def _summary(
    settings: Settings,
    names: Sequence[str],
    root: Path,
    files: list[str],
    cmrc_sample: int | None,
    seed: int,
    slow_sample: int | None,
    rows: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    return {
        "rerankers": list(names),
        "top_k": settings.top_k,
        "rerank_top": settings.rerank_top,
        "index": str(root),
        "files": files,
        "cmrc_sample": cmrc_sample,
        "seed": seed,
        "slow_sample": slow_sample,
        "load_avg_1min": round(os.getloadavg()[0], 2),  # other jobs on the same cores make every ms larger
        "rows": rows,
    }


def _write(out: Path, summary: dict[str, Any], ranks: dict[str, Any]) -> None:
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    (out / "ranks.json").write_text(json.dumps(ranks, ensure_ascii=False), encoding="utf-8")
    table = [{"_name": k, **v} for k, v in summary["rows"].items()]
    (out / "report.md").write_text(
        "# Rerankers, retrieval only\n\n"
        + md_table(table, COLS, "set · reranker")
        + f"\n\nShort list {summary['rerank_top']}, top_k {summary['top_k']}; added ms = the reranker's own time "
        "per question (p50 / p95).\n\n![rerank](rerank.png)\n\n" + (__doc__ or ""),
        encoding="utf-8",
    )
    plot(out / "rerank.png", summary["rows"])


def plot(path: Path, rows: dict[str, dict[str, Any]]) -> None:
    """hit@1 per set and reranker (bars), with the added p50 ms written above each bar."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sets = list(dict.fromkeys(k.split(" · ")[0] for k in rows))
    names = list(dict.fromkeys(k.split(" · ")[1] for k in rows))
    fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(sets) + 2), 4))
    width = 0.8 / max(1, len(names))
    for j, name in enumerate(names):
        labelled = False
        for i, set_name in enumerate(sets):
            r = rows.get(f"{set_name} · {name}")
            if not r or r.get("hit@1") is None:
                continue
            x = i + (j - (len(names) - 1) / 2) * width
            ax.bar(x, r["hit@1"], width, color=f"C{j}", label=None if labelled else name)
            labelled = True
            ax.text(x, r["hit@1"] + 0.01, f"{r['added_ms_p50']:.0f}ms", ha="center", fontsize=7, rotation=90)
    ax.set_xticks(range(len(sets)), sets, fontsize=8)
    ax.set_ylim(0, 1.15)
    ax.set_ylabel("hit@1")
    ax.set_title("Rerankers: hit@1 (label: added ms p50)")
    ax.legend(fontsize=8)
    save_figure(fig, path, dpi=120)


def print_summary(out: Path, summary: dict[str, Any]) -> None:
    print(console_table([{"_name": k, **v} for k, v in summary["rows"].items()], COLS, "set · reranker"))
    print(f"wrote {out}/summary.json, ranks.json, report.md, rerank.png")
