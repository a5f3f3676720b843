"""OpenAI-compatible HTTP API in the same process as the chat, sharing its Pipeline.

`POST /v1/chat/completions` answers like an OpenAI chat model and adds the full
answer record (citations, passages, timings) as the extra field "rag". The
pipeline is synchronous and holds the LLM lock, so every call runs in the
thread pool: the event loop (and the chat in the same process) keeps serving.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, Response, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rag.audit import AuditLog
from rag.errors import ModelError, QuestionError, RagError
from rag.load import MAX_BYTES
from rag.pipeline import Pipeline, check_question
from rag.scope import scope_from_json
from rag.types import Scope as DocScope  # starlette's Scope is the ASGI one
from ui import export
from ui.auth import key_matches
from ui.conversations import ConversationStore, owner_of
from ui.documents import add_files, remove_docs

log = logging.getLogger(__name__)
MAX_BODY = 1024 * 1024  # a request to /v1: 200 turns of chat history fit many times over
MAX_MESSAGES = 1000
STUCK_GRACE_S = 5.0  # the model held this long past its generation deadline means something is wrong


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


class ScopeField(BaseModel):
    """The extra request field `scope`: answer only from these documents (empty fields do not restrict)."""

    model_config = ConfigDict(extra="forbid")
    docs: list[str] = Field(default_factory=list, description="document ids (file names)")
    issuers: list[str] = Field(default_factory=list, description="issuing bodies; a part of the name matches")
    places: list[str] = Field(default_factory=list, description="places, e.g. 潍坊")
    doc_types: list[str] = Field(default_factory=list, description="document types (rag.scope.DOC_TYPES)")
    since: str | None = Field(default=None, description="issued on or after: YYYY, YYYY-MM or YYYY-MM-DD")
    until: str | None = Field(default=None, description="issued on or before: YYYY, YYYY-MM or YYYY-MM-DD")

    def to_scope(self) -> DocScope | None:
        try:
            return scope_from_json(self.model_dump())
        except RagError as exc:
            raise ApiError(400, str(exc), code="invalid_scope") from exc


def _scope(field: ScopeField | None) -> DocScope | None:
    return field.to_scope() if field is not None else None


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")  # temperature, max_tokens…: accepted, the pipeline decodes greedily
    model: str | None = None
    messages: list[ChatMessage] = Field(min_length=1, max_length=MAX_MESSAGES)
    stream: bool = False
    scope: ScopeField | None = None
    # kept so the conversation can be exported; a new id is made and returned when none is sent
    conversation_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    user: str | None = Field(default=None, max_length=256)


class RetrieveRequest(BaseModel):
    question: str
    top_k: int | None = Field(default=None, ge=1, le=50)
    scope: ScopeField | None = None


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


class JsonErrorRoute(APIRoute):
    """Every failure on /v1 answers with the API's JSON error body.

    An unexpected exception would otherwise become Starlette's plain-text 500
    and drop the keep-alive connection; OpenAI clients then report a transport
    error instead of the message. Expected errors keep their own handlers.
    """

    def get_route_handler(self) -> Callable[[Request], Any]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except (ApiError, HTTPException, RequestValidationError):
                raise
            except QuestionError as exc:
                raise ApiError(400, str(exc), code="invalid_question") from exc
            except ModelError as exc:
                raise ApiError(503, str(exc), "server_error", "model_unavailable") from exc
            except RagError as exc:
                raise ApiError(500, str(exc), "server_error") from exc
            except Exception as exc:
                log.exception("%s %s failed", request.method, request.url.path)
                raise ApiError(
                    500, f"internal error ({type(exc).__name__}); see the server log", "server_error"
                ) from exc

        return guarded


class BodyLimit:
    """Refuse request bodies over `limit` bytes on paths under `prefix` with a JSON 413, before they are parsed.

    A declared Content-Length is checked at once (the server holds a body to
    its declared length). A body sent without one (chunked) is read here up to
    the limit and handed on whole, since the framework would turn an error
    raised while it reads into a 400.
    """

    def __init__(
        self, app: ASGIApp, limit: int = MAX_BODY, prefix: str = "/v1/", larger: dict[str, int] | None = None
    ) -> None:
        self.app, self.limit, self.prefix, self.larger = app, limit, prefix, larger or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        limit = self.larger.get(scope["path"].rstrip("/"), self.limit)
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            if declared.isdigit() and int(declared) > limit:
                await self._refuse(send, limit)
                return
            await self.app(scope, receive, send)
            return
        body, more = bytearray(), True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            body += message.get("body", b"")
            if len(body) > limit:
                await self._refuse(send, limit)
                return
            more = message.get("more_body", False)
        first = True

        async def replay() -> Message:
            nonlocal first
            if first:
                first = False
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send, limit: int) -> None:
        body = json.dumps(
            error_body(f"request body over {limit // 1024} kB", "invalid_request_error", "body_too_large")
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _usage(question: str, answer: str) -> dict[str, int]:
    """Character counts, not tokens: counting tokens would take the model lock away from answering."""
    return {
        "prompt_tokens": len(question),
        "completion_tokens": len(answer),
        "total_tokens": len(question) + len(answer),
    }


def _bearer(request: Request) -> str:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return given.strip() if scheme.lower() == "bearer" else ""


def build_router(
    pipe: Pipeline,
    api_key: str = "",
    editor_key: str = "",
    audit: AuditLog | None = None,
    open_editing: bool = False,
) -> APIRouter:
    """The /v1 routes. `api_key` lets a client ask; `editor_key` also lets it add and remove documents.

    `open_editing`: no login and no key are configured (one person's own PC), so
    anyone who can reach the loopback port may also change the documents.
    """
    audit = audit or AuditLog()
    conversations = ConversationStore()

    def require_key(request: Request) -> None:
        if not api_key and not editor_key:
            return
        given = _bearer(request)
        if not given or not any(k and key_matches(given, k) for k in (api_key, editor_key)):
            raise ApiError(401, "missing or wrong API key: send 'Authorization: Bearer <key>'", code="invalid_api_key")

    def require_editor(request: Request) -> str:
        """The caller's name for the audit log; 403 unless it holds the editor key (or editing is open)."""
        if editor_key and key_matches(_bearer(request), editor_key):
            return "api-editor"
        if open_editing:
            return "local"
        raise ApiError(
            403,
            "changing documents needs the editor key (RAG_EDITOR_KEY / --editor-key): send it as the bearer key",
            "permission_error",
            "not_editor",
        )

    v1 = APIRouter(prefix="/v1", dependencies=[Depends(require_key)], route_class=JsonErrorRoute)
    router = APIRouter()

    def model_name(requested: str | None) -> str:
        return requested or pipe.model_info().llm

    @v1.get("/openapi.json", include_in_schema=False)
    def openapi(request: Request) -> dict[str, Any]:
        """The API description, behind the key like the API itself; no Swagger page (it loads its files from a CDN)."""
        return request.app.openapi()

    @v1.get("/models")
    def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": pipe.model_info().llm, "object": "model", "owned_by": "local"}]}

    @v1.post("/chat/completions")
    async def chat_completions(req: ChatRequest, request: Request):
        question, history = split_conversation(req.messages)
        scope = _scope(req.scope)
        owner, conv = owner_of(_bearer(request), req.user), req.conversation_id or ConversationStore.new_id()

        def keep(answer: Any) -> None:
            conversations.add(owner, conv, export.turn_from_answer(answer))

        try:
            check_question(question, pipe.settings.max_question_chars)  # before any byte is streamed
        except QuestionError as exc:
            raise ApiError(400, str(exc), code="invalid_question") from exc
        cid = "chatcmpl-" + uuid.uuid4().hex[:24]
        created = int(time.time())
        model = model_name(req.model)
        if not req.stream:
            answer = await run_in_threadpool(pipe.ask, question, history, cid, scope)
            keep(answer)
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
                "conversation_id": conv,
            }
        return StreamingResponse(
            _sse(pipe, question, history, cid, created, model, conv, keep, scope),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @v1.get("/conversations/{conversation_id}/export")
    def export_conversation(
        request: Request,
        conversation_id: str,
        format: Literal["docx", "md"] = "docx",
        user: str | None = None,
        turn: Annotated[
            int | None,
            Query(
                ge=1,
                description="only this answer (1-based, in the order asked), with its question and numbered sources; "
                "without it the whole conversation",
            ),
        ] = None,
    ) -> Response:
        """A conversation kept from /v1/chat/completions as .docx or Markdown (same key, and `user` if one was sent).

        With `turn=N` the file holds only answer N, numbered and cited as in the conversation; N past the last
        answer gives 404 `turn_not_found`, a non-integer or N < 1 gives 422.
        """
        turns = conversations.get(owner_of(_bearer(request), user), conversation_id)
        if turns is None:
            raise ApiError(404, f"no conversation {conversation_id!r} for this key", code="conversation_not_found")
        try:
            data = export.render(turns, format, conversation_id, turn)
        except export.TurnNotFound as exc:
            raise ApiError(404, str(exc), code="turn_not_found") from exc
        name = export.filename(format, turn=turn)
        ascii_name = f"export-{turn}.{format}" if turn else f"export.{format}"
        return Response(
            data,
            media_type=export.FORMATS[format],
            headers={"Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"},
        )

    @v1.post("/retrieve")
    async def retrieve(req: RetrieveRequest) -> dict[str, Any]:
        passages = await run_in_threadpool(pipe.retrieve, req.question, req.top_k, _scope(req.scope))
        return {"passages": [p.to_json() for p in passages]}

    @v1.get("/documents")
    def documents() -> dict[str, Any]:
        return {"object": "list", "data": document_rows(pipe)}

    @v1.post("/documents")
    async def add_documents(request: Request, files: list[UploadFile]) -> dict[str, Any]:
        """Upload one or more files (multipart field `files`); editors only. Unreadable files are listed in errors."""
        user = require_editor(request)
        items = []
        for f in files:
            data = await f.read(MAX_BYTES + 1)
            items.append((safe_upload_name(f.filename), data))
        result = await run_in_threadpool(add_files, pipe, items, user, "api", audit)
        return {
            "added": result.added,
            "replaced": result.replaced,
            "skipped": result.skipped,
            "errors": result.errors,
            "data": [r for r in document_rows(pipe) if r["doc"] in set(result.added + result.replaced)],
        }

    @v1.delete("/documents/{doc_id}")
    async def remove_document(request: Request, doc_id: str) -> dict[str, Any]:
        user = require_editor(request)
        if doc_id not in pipe.index.docs:
            raise ApiError(404, f"no document named {doc_id!r} in the index", code="document_not_found")
        removed = await run_in_threadpool(remove_docs, pipe, [doc_id], user, "api", audit)
        return {"removed": removed}

    @router.get("/health")
    def health() -> JSONResponse:
        """200 while the model is free or working within its deadline; 503 when a call holds it past that."""
        index = pipe.index
        llm = _llm_stats(pipe)
        stuck = llm.get("held_s", 0.0) > pipe.settings.generation_timeout_s + STUCK_GRACE_S
        body = {
            "status": "unhealthy" if stuck else "ok",
            "index_version": index.version,
            "docs": len(index.docs),
            "chunks": len(index.chunks),
            "model": pipe.model_info().model_dump(),
            "llm": llm,
        }
        if stuck:
            body["problem"] = f"the model has been held for {llm['held_s']:.0f} s, past its generation deadline"
        return JSONResponse(body, status_code=503 if stuck else 200)

    router.include_router(v1)
    return router


def _llm_stats(pipe: Pipeline) -> dict[str, Any]:
    """Queue and concurrency figures of the one shared model, without loading it if it is not loaded yet."""
    gen = pipe.loaded_generator
    if gen is None:
        return {"loaded": False}
    held = gen.held_for() if hasattr(gen, "held_for") else 0.0
    return {
        "loaded": True,
        "calls": getattr(gen, "calls", None),
        "active": getattr(gen, "active", None),
        "max_active": getattr(gen, "max_active", None),
        "held_s": round(held, 1),
        "deadlines_hit": getattr(gen, "deadlines_hit", None),
        "last_wait_ms": round(getattr(gen, "last_wait_ms", 0.0), 1),
        "waiting": getattr(gen, "waiting", None),  # questions queued for the model
        **({"endpoints": gen.endpoint_stats()} if hasattr(gen, "endpoint_stats") else {}),
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
                "chars_removed": d.report.chars_removed,
                "removed_share": round(d.report.removed_share, 4),
                "removed_warning": d.report.warn,
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
    pipe: Pipeline,
    question: str,
    history: list[tuple[str, str]],
    cid: str,
    created: int,
    model: str,
    conversation_id: str = "",
    keep: Callable[[Any], None] | None = None,
    scope: DocScope | None = None,
) -> AsyncIterator[str]:
    """The checked answer sentence by sentence; the last chunk carries the whole answer record (`rag`).

    However the stream ends (finished, failed, or the client hung up and the
    server cancelled this generator), the pipeline's generator is closed, which
    stops the model within a token and frees it for the next user.
    """
    yield _chunk(cid, created, model, {"role": "assistant", "content": ""})
    events: Iterator = pipe.stream(question, history, cid, scope)
    try:
        async for ev in iterate_in_threadpool(events):
            if ev.kind == "token":
                yield _chunk(cid, created, model, {"content": ev.data})
            elif ev.kind == "answer":
                a = ev.data
                if keep:
                    keep(a)
                usage = _usage(a.question, a.answer)
                yield _chunk(
                    cid, created, model, {}, "stop", usage=usage, rag=a.to_json(), conversation_id=conversation_id
                )
    except RagError as exc:
        yield f"data: {json.dumps(error_body(str(exc), 'invalid_request_error'), ensure_ascii=False)}\n\n"
    except Exception as exc:  # the stream has started: report in-band rather than cut the connection
        log.exception("streamed answer failed")
        body = error_body(f"internal error ({type(exc).__name__}); see the server log", "server_error")
        yield f"data: {json.dumps(body, ensure_ascii=False)}\n\n"
    finally:
        _close(events)
    yield "data: [DONE]\n\n"


def _close(events: Iterator) -> None:
    """Close a generator that a worker thread may still be advancing; retry briefly until it is free."""
    for _ in range(200):
        try:
            events.close()  # type: ignore[attr-defined]
            return
        except ValueError:  # "generator already executing" in the thread pool: wait for its next step
            time.sleep(0.01)
    log.warning("could not close an abandoned answer stream; its model call ends at its deadline")


def safe_upload_name(name: str | None) -> str:
    from rag.document import safe_name

    return safe_name(name or "upload.txt")


def install(
    app: FastAPI,
    pipe: Pipeline,
    api_key: str = "",
    editor_key: str = "",
    audit: AuditLog | None = None,
    open_editing: bool = False,
) -> None:
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

    app.include_router(build_router(pipe, api_key, editor_key, audit, open_editing))
    app.add_middleware(BodyLimit, limit=MAX_BODY, prefix="/v1/", larger={"/v1/documents": MAX_BYTES + MAX_BODY})
