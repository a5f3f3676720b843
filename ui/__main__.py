"""`python -m ui`: start the chat and the HTTP API on one port (default http://127.0.0.1:7860).

The exposure check (login and API key off loopback) runs before anything heavy
is imported, so a refused start costs a second, not a model load.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from ui.auth import ConfigError, api_key, check_exposure, credentials

log = logging.getLogger("ui")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m ui", description="政策文件问答：网页聊天和 HTTP API")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this computer only)")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--index", default=None, help="index folder (default var/index)")
    p.add_argument(
        "--store", default=None, help="milvus:FILE.db or http(s)://HOST:19530 instead of --index ($RAG_STORE)"
    )
    p.add_argument(
        "--auth-file",
        default=None,
        help="file with lines user:password[:role] for the chat login (role: reader|editor)",
    )
    p.add_argument("--api-key", default=None, help="bearer key required on /v1 (default: env RAG_API_KEY)")
    p.add_argument(
        "--editor-key", default=None, help="bearer key that may also add/remove documents (env RAG_EDITOR_KEY)"
    )
    p.add_argument("--audit", default=None, help="JSONL log of document changes (default var/audit.jsonl)")
    p.add_argument("--feedback", default=None, help="JSONL file for thumbs up/down (default var/feedback.jsonl)")
    from rag.llm_args import add_llm_args

    add_llm_args(p)
    p.add_argument("--no-warmup", action="store_true", help="load the LLM on the first question instead of at start")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        creds = credentials(args.auth_file)
        key = api_key(args.api_key)
        editor = api_key(args.editor_key, env_name="RAG_EDITOR_KEY")
        check_exposure(args.host, creds, key or editor)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    import uvicorn

    from rag.audit import DEFAULT_AUDIT
    from rag.config import Settings
    from rag.errors import RagError
    from rag.llm_args import apply_llm_args
    from rag.pipeline import Pipeline
    from ui.app import create_app
    from ui.feedback import DEFAULT_FEEDBACK

    settings = apply_llm_args(Settings(index_dir=Path(args.index)) if args.index else Settings(), args)
    if args.store:
        settings.store = args.store
    try:
        pipe = Pipeline(settings)
        if not args.no_warmup:
            log.info("loading the LLM…")
            pipe.warmup()
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    app = create_app(
        pipe,
        auth=creds,
        api_key=key,
        feedback_path=Path(args.feedback) if args.feedback else DEFAULT_FEEDBACK,
        editor_key=editor,
        audit_path=Path(args.audit) if args.audit else DEFAULT_AUDIT,
    )
    for c in creds:
        log.info("account %s: %s", c.user, c.role)
    host = args.host.strip("[]")
    print(f"政策文件问答 running on http://{'[' + host + ']' if ':' in host else host}:{args.port}", flush=True)
    uvicorn.run(app, host=host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
