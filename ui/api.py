"""OpenAI-compatible HTTP API in the same process as the chat, sharing its Pipeline.

`POST /v1/chat/completions` answers like an OpenAI chat model and adds the full
answer record (citations, passages, timings) as the extra field "rag". The
pipeline is synchronous and holds the LLM lock, so every call runs in the
thread pool: the event loop (and the chat in the same process) keeps serving.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from rag.errors import QuestionError, RagError
from rag.pipeline import Pipeline, check_question
from ui.auth import key_matches


class ApiError(Exception):
    """An error returned as OpenAI-style JSON: {"error": {"message", "type", "code"}}."""

    def __init__(self, status: int, message: str, type_: str = "invalid_request_error", code: str | None = None):
        super().__init__(message)
        self.status, self.message, self.type, self.code = status, message, type_, code


def error_body(message: str, type_: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": None, "code": code}}


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        """OpenAI content may be a string or a list of parts; only text parts mean anything here."""
        if isinstance(self.content, list):
            return "".join(str(p.get("text", "")) for p in self.content if p.get("type") in ("text", "input_text"))
        return self.content or ""


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")  # temperature, max_tokens…: accepted, the pipeline decodes greedily
    model: str | None = None
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False


class RetrieveRequest(BaseModel):
    question: str
    top_k: int | None = Field(default=None, ge=1, le=50)


def split_conversation(messages: list[ChatMessage]) -> tuple[str, list[tuple[str, str]]]:
    """The last user message is the question; earlier user→assistant pairs are the history."""
    turns = [m for m in messages if m.role in ("user", "assistant")]
    if not turns or turns[-1].role != "user":
        raise ApiError(400, "the last message must have role 'user' (the question)", code="invalid_messages")
    history: list[tuple[str, str]] = []
    pending: str | None = None
    for m in turns[:-1]:
        if m.role == "user":
            pending = m.text()
        elif pending is not None:
            history.append((pending, m.text()))
            pending = None
    return turns[-1].text(), history


def _usage(question: str, answer: str) -> dict[str, int]:
    """Character counts, not tokens: counting tokens would take the model lock away from answering."""
    return {
        "prompt_tokens": len(question),
        "completion_tokens": len(answer),
        "total_tokens": len(question) + len(answer),
    }


def build_router(pipe: Pipeline, api_key: str = "") -> APIRouter:
    def require_key(request: Request) -> None:
        if not api_key:
            return
        header = request.headers.get("authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer" or not given or not key_matches(given.strip(), api_key):
            raise ApiError(401, "missing or wrong API key: send 'Authorization: Bearer <key>'", code="invalid_api_key")

    v1 = APIRouter(prefix="/v1", dependencies=[Depends(require_key)])
    router = APIRouter()

    def model_name(requested: str | None) -> str:
        return requested or pipe.model_info().llm

    @v1.get("/models")
    def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": pipe.model_info().llm, "object": "model", "owned_by": "local"}]}

    @v1.post("/chat/completions")
    async def chat_completions(req: ChatRequest):
        question, history = split_conversation(req.messages)
        try:
            check_question(question, pipe.settings.max_question_chars)  # before any byte is streamed
        except QuestionError as exc:
            raise ApiError(400, str(exc), code="invalid_question") from exc
        cid = "chatcmpl-" + uuid.uuid4().hex[:24]
        created = int(time.time())
        model = model_name(req.model)
        if not req.stream:
            try:
                answer = await run_in_threadpool(pipe.ask, question, history, cid)
            except QuestionError as exc:
                raise ApiError(400, str(exc), code="invalid_question") from exc
            except RagError as exc:
                raise ApiError(500, str(exc), "server_error") from exc
            return {
                "id": cid,
                "object": "chat.completion",
                "created": created,
                "model": model,
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": answer.answer}, "finish_reason": "stop"}
                ],
                "usage": _usage(answer.question, answer.answer),
                "rag": answer.to_json(),
            }
        return StreamingResponse(
            _sse(pipe, question, history, cid, created, model),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @v1.post("/retrieve")
    async def retrieve(req: RetrieveRequest) -> dict[str, Any]:
        try:
            passages = await run_in_threadpool(pipe.retrieve, req.question, req.top_k)
        except QuestionError as exc:
            raise ApiError(400, str(exc), code="invalid_question") from exc
        return {"passages": [p.to_json() for p in passages]}

    @v1.get("/documents")
    def documents() -> dict[str, Any]:
        return {"object": "list", "data": document_rows(pipe)}

    @router.get("/health")
    def health() -> dict[str, Any]:
        index = pipe.index
        return {
            "status": "ok",
            "index_version": index.version,
            "docs": len(index.docs),
            "chunks": len(index.chunks),
            "model": pipe.model_info().model_dump(),
            "llm": _llm_stats(pipe),
        }

    router.include_router(v1)
    return router


def _llm_stats(pipe: Pipeline) -> dict[str, Any]:
    """Queue and concurrency figures of the one shared model, without loading it if it is not loaded yet."""
    gen = pipe.loaded_generator
    if gen is None:
        return {"loaded": False}
    return {
        "loaded": True,
        "calls": getattr(gen, "calls", None),
        "active": getattr(gen, "active", None),
        "max_active": getattr(gen, "max_active", None),
        "last_wait_ms": round(getattr(gen, "last_wait_ms", 0.0), 1),
    }


def document_rows(pipe: Pipeline) -> list[dict[str, Any]]:
    """One row per indexed document: the metadata officials cite, and how much cleaning damage is left."""
    counts: dict[str, int] = {}
    for c in pipe.index.chunks:
        counts[c.doc_id] = counts.get(c.doc_id, 0) + 1
    rows = []
    for d in sorted(pipe.index.docs.values(), key=lambda d: d.doc_id):
        rows.append(
            {
                "doc": d.doc_id,
                "title": d.meta.title,
                "issuer": d.meta.issuer,
                "doc_number": d.meta.doc_number,
                "date": d.meta.date,
                "place": d.meta.place,
                "chars": len(d.text),
                "chunks": counts.get(d.doc_id, 0),
                "residual_damage": round(float(d.report.residual_damage), 4),
            }
        )
    return rows


def _chunk(cid: str, created: int, model: str, delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
    body = {
        "id": cid,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        **extra,
    }
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


async def _sse(
    pipe: Pipeline, question: str, history: list[tuple[str, str]], cid: str, created: int, model: str
) -> AsyncIterator[str]:
    """Tokens as they come; the last chunk carries the grounded answer (a refusal may replace the tokens)."""
    yield _chunk(cid, created, model, {"role": "assistant", "content": ""})
    events: Iterator = pipe.stream(question, history, cid)
    try:
        async for ev in iterate_in_threadpool(events):
            if ev.kind == "token":
                yield _chunk(cid, created, model, {"content": ev.data})
            elif ev.kind == "answer":
                a = ev.data
                yield _chunk(cid, created, model, {}, "stop", usage=_usage(a.question, a.answer), rag=a.to_json())
    except RagError as exc:
        yield f"data: {json.dumps(error_body(str(exc), 'invalid_request_error'), ensure_ascii=False)}\n\n"
    except Exception as exc:  # the stream has started: report in-band rather than cut the connection
        yield f"data: {json.dumps(error_body(f'internal error: {exc}', 'server_error'), ensure_ascii=False)}\n\n"
    yield "data: [DONE]\n\n"


def install(app: FastAPI, pipe: Pipeline, api_key: str = "") -> None:
    """Add the routes and OpenAI-style error handlers; call before mounting Gradio at '/' (which catches all)."""

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse(error_body(exc.message, exc.type, exc.code), status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        detail = "; ".join(
            f"{'.'.join(str(x) for x in e.get('loc', ()) if x != 'body') or 'body'}: {e.get('msg', '')}"
            for e in exc.errors()
        )
        return JSONResponse(error_body(f"invalid request: {detail}", "invalid_request_error"), status_code=422)

    app.include_router(build_router(pipe, api_key))
