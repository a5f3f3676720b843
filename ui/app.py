"""The FastAPI app: the HTTP API at /v1 and /health, the Gradio chat mounted at '/'.

API routes are added first: the Gradio mount at '/' matches every path.
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr
from fastapi import FastAPI

from rag.audit import DEFAULT_AUDIT, AuditLog
from rag.load import MAX_BYTES
from rag.pipeline import Pipeline
from ui import api, chat
from ui.auth import Account, accounts, login_checker
from ui.feedback import DEFAULT_FEEDBACK, FeedbackLog
from ui.render import CSS

MAX_USERS = 8  # sessions answered at once; the LLM lock inside the generator serialises the model itself
SYSTEM_FONTS = ["system-ui", "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "WenQuanYi Micro Hei", "sans-serif"]
MONO_FONTS = ["ui-monospace", "Consolas", "monospace"]


def theme() -> gr.themes.Theme:
    """System fonts only: the default Google/CDN fonts would make the offline page wait for the network."""
    return gr.themes.Default(font=SYSTEM_FONTS, font_mono=MONO_FONTS)


def create_app(
    pipe: Pipeline,
    auth: list[Account] | list[tuple[str, ...]] | None = None,
    api_key: str = "",
    feedback_path: Path = DEFAULT_FEEDBACK,
    editor_key: str = "",
    audit_path: Path = DEFAULT_AUDIT,
) -> FastAPI:
    """The app; `auth` accounts (user, password[, role]) gate the chat, `api_key`/`editor_key` the API."""
    creds = accounts(auth)
    audit = AuditLog(audit_path)
    # No Swagger/ReDoc pages: both load their scripts from a CDN. The schema is at /v1/openapi.json, behind the key.
    app = FastAPI(title="政策文件问答 API", docs_url=None, openapi_url=None, redoc_url=None)
    api.install(app, pipe, api_key, editor_key=editor_key, audit=audit, open_editing=not creds and not api_key)
    blocks = chat.build(pipe, FeedbackLog(feedback_path), creds, audit)
    blocks.queue(default_concurrency_limit=MAX_USERS, max_size=64)
    # Gradio checks that a client-sent file path lies in its upload folder only once the Blocks count as
    # launched, which mounting never sets; without this, an upload event could name any server file.
    # ui.chat.check_uploaded applies the same rule again before a file is read.
    blocks.has_launched = True
    return gr.mount_gradio_app(
        app,
        blocks,
        path="/",
        auth=login_checker(creds) if creds else None,
        auth_message="请登录后使用政策文件问答。" if creds else None,
        footer_links=[],
        ssr_mode=False,
        theme=theme(),
        css=CSS,
        mcp_server=False,
        max_file_size=MAX_BYTES,  # refused by the upload route itself, before the loader reads it
    )
