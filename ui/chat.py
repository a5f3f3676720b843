"""The Gradio Blocks: a streaming chat with a sources panel, and a Documents tab to manage the index.

One Pipeline is shared by every browser session (the LLM lock in the
generator serialises answering); per-session state is the raw history passed
to the pipeline and the answer records behind each bot message (for feedback).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from rag.audit import AuditLog
from rag.errors import RagError
from rag.load import SUPPORTED
from rag.pipeline import Pipeline, check_question
from rag.types import Answer, Passage, Scope
from ui import export, render
from ui import scope as scope_ui
from ui.api import document_rows
from ui.auth import EDITOR, Account, role_of
from ui.documents import add_files, remove_docs
from ui.export_files import answer_buttons_update, exports_update
from ui.feedback import FeedbackLog
from ui.waiting import queue_line, with_queue_places

log = logging.getLogger(__name__)

# Answered by the bundled corpus (checked against it with pipe.retrieve and the LLM).
EXAMPLES = [
    "寿光市2025年的GDP目标是多少？",
    "潍坊市县域经济到2025年的发展目标是什么？",
    "潍坊市县域经济实施方案的文号是什么？",
    "衢州市规上工业总产值的目标是多少？",
]
UPLOAD_TYPES = list(SUPPORTED)
DOC_HEADERS = ["文件", "标题", "发文机关", "文号", "日期", "保留字数", "删除字数", "段落数", "残留损坏"]

Messages = list[dict[str, Any]]
History = list[tuple[str, str]]


def _record(answer: Answer) -> dict[str, Any]:
    """What feedback stores for one answer: enough to judge it later without re-running it."""
    data = answer.to_json()
    return {
        "question": answer.question,
        "standalone_question": answer.standalone_question,
        "answer": answer.answer,
        "refused": answer.refused,
        "citations": data["citations"],
        "passages": data["passages"],
        "model": data["model"],
    }


def respond(
    pipe: Pipeline,
    message: str,
    chat: Messages,
    history: History,
    records: dict[int, dict[str, Any]],
    scope: Scope | None = None,
) -> Iterator[tuple[str, Messages, str, History, dict[int, dict[str, Any]]]]:
    """Stream one turn: user bubble, sources as soon as retrieval is done, tokens, then the grounded answer.

    `scope` (the selector above the input) limits which documents are searched.
    """
    chat, history, records = list(chat or []), list(history or []), dict(records or {})
    message = message or ""
    try:
        check_question(message, pipe.settings.max_question_chars)
    except RagError as exc:
        chat += [{"role": "user", "content": render.user_message(message)}]
        chat += [{"role": "assistant", "content": render.error_message(str(exc))}]
        yield "", chat, render.sources_panel([]), history, records
        return

    chat.append({"role": "user", "content": render.user_message(message)})
    busy = getattr(pipe.loaded_generator, "active", 0)
    wait = "模型正忙，正在排队等待…" if busy else "正在检索…"
    chat.append({"role": "assistant", "content": render.status_line(wait)})
    bot = len(chat) - 1
    panel = render.sources_panel([])
    yield "", chat, panel, history, records

    try:
        pipe.reload_if_changed()  # an index updated by the CLI or another process is used at once
    except RagError as exc:
        log.warning("index reload failed, still serving the previous version: %s", exc)

    text, passages, status = "", [], ""
    try:
        for ev in with_queue_places(lambda: pipe.stream(message, history, scope=scope)):
            if ev.kind == "queue":  # waiting for the model: say how many questions are ahead
                line = queue_line(ev.data) if ev.data else (status or "正在生成回答…")
                chat[bot] = {"role": "assistant", "content": render.status_line(line)}
            elif ev.kind == "rewrite":
                status = f"检索问题：{ev.data}"
                chat[bot] = {"role": "assistant", "content": render.status_line(status)}
            elif ev.kind == "translation":
                status = f"检索用语：{ev.data}"
                chat[bot] = {"role": "assistant", "content": render.status_line(status)}
            elif ev.kind == "passages":
                passages: list[Passage] = ev.data
                panel = render.sources_panel(passages, pending=True)
                status = "正在生成回答…"
                chat[bot] = {"role": "assistant", "content": render.status_line(status)}
            elif ev.kind == "token":
                text += ev.data
                chat[bot] = {"role": "assistant", "content": render.answer_message(text, streaming=True)}
            elif ev.kind == "answer":
                answer: Answer = ev.data
                chat[bot] = {"role": "assistant", "content": render.answer_message(answer.answer, answer)}
                panel = render.sources_panel(answer.passage_objs or passages, answer.citations, answer.refused)
                history.append((message, answer.answer))
                records[bot] = {**_record(answer), "turn": export.turn_from_answer(answer).to_json()}
            else:
                continue
            yield "", chat, panel, history, records
    except RagError as exc:
        chat[bot] = {"role": "assistant", "content": render.error_message(str(exc))}
        yield "", chat, panel, history, records
    except Exception:
        log.exception("answering failed")
        chat[bot] = {"role": "assistant", "content": render.error_message("内部错误，回答失败。请稍后重试。")}
        yield "", chat, panel, history, records


def _doc_table(pipe: Pipeline) -> list[list[Any]]:
    """One row a document; a removal over the warning share is flagged ⚠ beside its count."""
    return [
        [
            r["doc"],
            r["title"],
            r["issuer"],
            r["doc_number"],
            r["date"],
            r["chars"],
            f"{r['chars_removed']} ({r['removed_share']:.1%})" + (" ⚠" if r["removed_warning"] else ""),
            r["chunks"],
            r["residual_damage"],
        ]
        for r in document_rows(pipe)
    ]


def clean_report(pipe: Pipeline, doc_id: str | None) -> str:
    """Every line cleaning removed from one document, with the rule that removed it (what clean-report -v prints)."""
    doc = pipe.index.docs.get(doc_id or "")
    if doc is None:
        return "选择一个文件，查看清洗时删除了哪些行。"
    r = doc.report
    head = f"**{render.esc(doc.doc_id)}**：保留 {r.chars_after} 字，删除 {r.chars_removed} 字（{r.removed_share:.1%}）"
    if r.warn:
        head += "　⚠ 删除超过 2%，请核对下面的行是否都是网页杂项。"
    if not r.removed_lines:
        return head + "\n\n没有删除任何行。"
    lines = "\n".join(f"- `{render.esc(x.kind)}` {render.esc(x.text)}" for x in r.removed_lines)
    return f"{head}\n\n{lines}"


def _doc_choices(pipe: Pipeline) -> list[str]:
    return sorted(pipe.index.docs)


def upload_folder() -> Path:
    """Where Gradio's upload route writes files (GRADIO_TEMP_DIR, else <tmp>/gradio)."""
    from gradio.utils import get_upload_folder

    return Path(get_upload_folder()).resolve()


def check_uploaded(path: str | Path) -> Path:
    """Accept only a file that the upload route wrote; any other server path is refused.

    The upload event carries a path chosen by the client. Gradio checks it only
    in some ways of serving, so the rule is kept here as well: the resolved
    path (symlinks followed) must lie inside the upload folder.
    """
    resolved = Path(path).resolve()
    if not resolved.is_relative_to(upload_folder()) or not resolved.is_file():
        log.warning("refused a file that did not come through the upload route: %s", path)
        raise RagError(f"{Path(str(path)).name}: 只接受通过上传按钮上传的文件（not an uploaded file）")
    return resolved


def add_documents(
    pipe: Pipeline,
    files: list[str] | None,
    progress: gr.Progress,
    user: str = "",
    audit: AuditLog | None = None,
) -> tuple[str, Any, Any, None]:
    """Load, clean and index uploaded files; the chat uses the new index as soon as this returns."""
    if not files:
        return "请先选择要上传的文件。", gr.update(), gr.update(), None
    items, refused = [], []
    for path in files:
        try:
            items.append((os.path.basename(str(path)), check_uploaded(path).read_bytes()))
        except RagError as exc:
            refused.append(f"❌ {exc}")
    try:
        result = add_files(
            pipe, items, user, "chat", audit or AuditLog(), progress=lambda f, msg: progress(f, desc=msg)
        )
    except RagError as exc:
        return f"❌ 索引更新失败：{render.esc(exc)}", gr.update(), gr.update(), None
    lines = refused + [f"❌ {e}" for e in result.errors]
    reports = {d.doc_id: d.report for d in result.docs}
    for label, names in (("已添加", result.added), ("已更新", result.replaced)):
        for name in names:
            r = reports[name]
            line = f"✅ {label}：{name}（保留 {r.chars_after} 字，删除 {r.chars_removed} 字，{r.removed_share:.1%}）"
            if r.warn:
                line += "　⚠ 删除超过 2%：请在下面的“清洗报告”中核对删除的行"
            lines.append(line)
    lines += [f"ℹ️ 跳过：{s}" for s in result.skipped]
    table = gr.update(value=_doc_table(pipe))
    dropdown = gr.update(choices=_doc_choices(pipe), value=None)
    return "\n\n".join(render.esc(x) for x in lines) or "没有可添加的文件。", table, dropdown, None


def remove_document(
    pipe: Pipeline, doc_id: str | None, user: str = "", audit: AuditLog | None = None
) -> tuple[str, Any, Any]:
    if not doc_id:
        return "请先选择要删除的文件。", gr.update(), gr.update()
    try:
        removed = remove_docs(pipe, [doc_id], user, "chat", audit or AuditLog())
    except RagError as exc:
        return f"❌ 删除失败：{render.esc(exc)}", gr.update(), gr.update()
    msg = "✅ 已从索引中删除：" + render.esc("、".join(removed))
    return msg, gr.update(value=_doc_table(pipe)), gr.update(choices=_doc_choices(pipe), value=None)


NOT_EDITOR = "❌ 只有编辑账户可以添加或删除文件。(Only editors may add or remove documents.)"


def build(
    pipe: Pipeline, feedback: FeedbackLog, creds: list[Account] | None = None, audit: AuditLog | None = None
) -> gr.Blocks:
    """The whole page; `pipe` is captured by the handlers (one per process).

    With accounts, what a session may do follows its login's role: readers do
    not see the upload and remove controls, and the handlers check the role
    again, since a hidden control can still be called directly.
    """
    creds = creds or []
    audit = audit or AuditLog()

    def _user(request: gr.Request | None) -> str:
        return (getattr(request, "username", None) or "") if request is not None else ""

    def _is_editor(request: gr.Request | None) -> bool:
        return role_of(creds, _user(request)) == EDITOR

    info = pipe.model_info()
    with gr.Blocks(title="政策文件问答") as demo:
        gr.Markdown(
            "## 政策文件问答\n"
            "根据已收录的政策文件回答问题，每句回答都标注来源 [n]；文件中没有的内容会明确说明。"
            "全部在本机离线运行。"
        )
        history = gr.State([])
        records = gr.State({})
        with gr.Tabs():
            with gr.Tab("问答", id="chat"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        chatbot = gr.Chatbot(
                            label="对话",
                            elem_id="chat",
                            height=560,
                            buttons=["copy", "copy_all"],
                            feedback_options=("Like", "Dislike"),
                            examples=[{"text": q} for q in EXAMPLES],
                            placeholder="请输入问题，或点击下面的示例问题：",
                            sanitize_html=True,
                            allow_tags=False,
                            layout="bubble",
                        )
                        options = scope_ui.choices(pipe)
                        with gr.Accordion("检索范围（可选）", open=False, elem_id="scope"):
                            with gr.Row():
                                sc_places = gr.Dropdown(
                                    options["places"], multiselect=True, label="地点", elem_id="scope-places"
                                )
                                sc_types = gr.Dropdown(
                                    options["doc_types"], multiselect=True, label="文件类型", elem_id="scope-types"
                                )
                                sc_issuers = gr.Dropdown(
                                    options["issuers"], multiselect=True, label="发文机关", elem_id="scope-issuers"
                                )
                            with gr.Row():
                                sc_docs = gr.Dropdown(
                                    options["docs"], multiselect=True, label="文件", elem_id="scope-docs", scale=3
                                )
                                sc_since = gr.Textbox(label="起始日期", placeholder="2023 或 2023-06-01", scale=1)
                                sc_until = gr.Textbox(label="截止日期", placeholder="2024-12-31", scale=1)
                        scope_count = gr.Markdown(scope_ui.count_line(pipe, None), elem_id="scope-count")
                        suggest_btn = gr.Button(visible=False, size="sm", elem_id="scope-suggest")
                        suggested = gr.State(None)
                        with gr.Row():
                            box = gr.Textbox(
                                placeholder="输入问题，按回车发送（可以追问，例如“那青州市呢？”）",
                                show_label=False,
                                scale=8,
                                elem_id="question",
                                max_lines=4,
                            )
                            send = gr.Button("发送", variant="primary", scale=1, min_width=70, elem_id="send")
                            clear = gr.Button("新对话", scale=1, min_width=70, elem_id="new-chat")
                        with gr.Row():
                            docx_btn = gr.DownloadButton(
                                "下载对话（Word）", size="sm", interactive=False, elem_id="export-docx"
                            )
                            md_btn = gr.DownloadButton(
                                "下载对话（Markdown）", size="sm", interactive=False, elem_id="export-md"
                            )
                        with gr.Row():
                            answer_dd = gr.Dropdown(
                                choices=[],
                                value=None,
                                label="下载单个回答（默认最新一问）",
                                interactive=False,
                                scale=2,
                                elem_id="export-turn",
                            )
                            with gr.Column(scale=1, min_width=160):  # two small buttons beside the selector
                                one_docx_btn = gr.DownloadButton(
                                    "下载此回答（Word）", size="sm", interactive=False, elem_id="export-one-docx"
                                )
                                one_md_btn = gr.DownloadButton(
                                    "下载此回答（Markdown）", size="sm", interactive=False, elem_id="export-one-md"
                                )
                        gr.Markdown(
                            f"<small>模型：{render.esc(info.llm)} · 向量：{render.esc(info.embedder)} · "
                            "回答仅依据已收录文件，请以原文为准。</small>"
                        )
                    with gr.Column(scale=2):
                        sources = gr.HTML(render.sources_panel([]), elem_id="sources", label="来源")
            with gr.Tab("文件管理", id="docs") as docs_tab:
                gr.Markdown("### 已收录文件\n“残留损坏”是清洗后仍可疑的字符比例（0 表示干净）。")
                table = gr.Dataframe(
                    value=_doc_table(pipe),
                    headers=DOC_HEADERS,
                    interactive=False,
                    wrap=True,
                    column_widths=["15%", "27%", "13%", "12%", "8%", "6%", "8%", "5%", "6%"],
                    elem_id="doc-table",
                )
                with gr.Accordion("清洗报告：删除了哪些行", open=False, elem_id="clean-report"):
                    report_dd = gr.Dropdown(choices=_doc_choices(pipe), label="文件", elem_id="report-doc")
                    report_md = gr.Markdown(clean_report(pipe, None), elem_id="report-lines")
                with gr.Row():
                    with gr.Column():
                        upload = gr.File(
                            label="上传文件（.txt .md .html .pdf .docx）",
                            file_count="multiple",
                            file_types=UPLOAD_TYPES,
                            type="filepath",
                            elem_id="upload",
                        )
                        add_btn = gr.Button("添加到索引", variant="primary", elem_id="add-docs")
                    with gr.Column():
                        remove_dd = gr.Dropdown(choices=_doc_choices(pipe), label="选择要删除的文件", elem_id="remove")
                        remove_btn = gr.Button("从索引中删除", variant="stop", elem_id="remove-doc")
                doc_status = gr.Markdown(elem_id="doc-status")
                role_note = gr.Markdown(visible=False, elem_id="role-note")

        scope_inputs = [sc_places, sc_types, sc_issuers, sc_docs, sc_since, sc_until]

        def _respond(message, chat, hist, recs, *scope_values):
            try:
                scope = scope_ui.from_inputs(*scope_values)
            except RagError as exc:
                chat = [*(chat or []), {"role": "assistant", "content": render.error_message(f"检索范围有误：{exc}")}]
                yield message, chat, render.sources_panel([]), hist, recs
                return
            yield from respond(pipe, message, chat, hist, recs, scope)

        def _count(*scope_values):
            return scope_ui.count_for_inputs(pipe, *scope_values)

        for control in scope_inputs:
            control.change(_count, scope_inputs, scope_count, api_name=False)

        def _suggest(question: str):
            """A place or issuing year in the question is offered as a button, never applied silently."""
            hint = scope_ui.suggestion(pipe, question or "")
            if hint is None:
                return gr.update(visible=False), None
            return gr.update(value=scope_ui.suggestion_label(hint), visible=True), hint.to_json()

        box.input(_suggest, box, [suggest_btn, suggested], api_name=False, trigger_mode="always_last")

        def _apply_suggestion(hint: dict | None, places: list[str] | None, since: str, until: str):
            hint = hint or {}
            merged = sorted({*(places or []), *hint.get("places", [])})
            return (
                gr.update(value=merged),
                hint.get("since", since) or since,
                hint.get("until", until) or until,
                gr.update(visible=False),
            )

        suggest_btn.click(
            _apply_suggestion,
            [suggested, sc_places, sc_since, sc_until],
            [sc_places, sc_since, sc_until, suggest_btn],
            api_name=False,
        )

        turn = [box, chatbot, history, records, *scope_inputs]
        outputs = [box, chatbot, sources, history, records]
        exports = [docx_btn, md_btn, answer_dd, one_docx_btn, one_md_btn]
        box.submit(_respond, turn, outputs, api_name=False).then(exports_update, records, exports, api_name=False)
        send.click(_respond, turn, outputs, api_name=False).then(exports_update, records, exports, api_name=False)

        def _example(evt: gr.SelectData) -> str:
            value = evt.value if isinstance(evt.value, dict) else {}
            return value.get("text", "")

        chatbot.example_select(_example, None, box, api_name=False).then(_respond, turn, outputs, api_name=False).then(
            exports_update, records, exports, api_name=False
        )

        def _reset():
            return [], render.sources_panel([]), [], {}, ""

        clear.click(_reset, None, [chatbot, sources, history, records, box], api_name=False).then(
            exports_update, records, exports, api_name=False
        )
        chatbot.clear(_reset, None, [chatbot, sources, history, records, box], api_name=False).then(
            exports_update, records, exports, api_name=False
        )

        def _like(recs: dict[int, dict[str, Any]], evt: gr.LikeData) -> None:
            index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
            entry = (recs or {}).get(index) or (recs or {}).get(str(index))
            if entry is None:
                entry = {"answer": str(evt.value), "question": "", "passages": []}
            liked = evt.liked if isinstance(evt.liked, bool) else None
            entry = {k: v for k, v in entry.items() if k != "turn"}  # the export record stays out of the feedback log
            feedback.record(liked, {**entry, "message_index": index, "feedback": str(evt.liked)})
            gr.Info("感谢反馈！" if liked is not False else "已记录，我们会改进。")

        chatbot.like(_like, records, None, api_name=False)
        answer_dd.input(answer_buttons_update, [records, answer_dd], [one_docx_btn, one_md_btn], api_name=False)

        def _add(files, request: gr.Request, progress=gr.Progress()):  # noqa: B008  (Gradio injects both)
            if not _is_editor(request):
                return NOT_EDITOR, gr.update(), gr.update(), None
            return add_documents(pipe, files, progress, _user(request), audit)

        def _remove(doc_id, request: gr.Request):
            if not _is_editor(request):
                return NOT_EDITOR, gr.update(), gr.update()
            return remove_document(pipe, doc_id, _user(request), audit)

        def _scope_choices(*values):
            """The selector's choices follow the indexed documents (added or removed here or elsewhere)."""
            options = scope_ui.choices(pipe)
            keep = [
                [v for v in (values[i] or []) if v in {c[1] if isinstance(c, tuple) else c for c in options[key]}]
                for i, key in enumerate(("places", "doc_types", "issuers", "docs"))
            ]
            updates = [
                gr.update(choices=options[k], value=v)
                for k, v in zip(("places", "doc_types", "issuers", "docs"), keep, strict=True)
            ]
            return [*updates, scope_ui.count_for_inputs(pipe, *keep, *values[4:])]

        scope_lists = [sc_places, sc_types, sc_issuers, sc_docs]
        refresh = (_scope_choices, scope_inputs, [*scope_lists, scope_count])
        add_btn.click(_add, upload, [doc_status, table, remove_dd, upload], api_name=False).then(
            *refresh, api_name=False
        )
        remove_btn.click(_remove, remove_dd, [doc_status, table, remove_dd], api_name=False).then(
            *refresh, api_name=False
        )
        demo.load(*refresh, api_name=False)

        def _controls(request: gr.Request):
            """Readers see the list only; the note says why the controls are missing."""
            editor = _is_editor(request)
            note = "" if editor else "当前账户为只读：可以查看文件列表，不能添加或删除文件。"
            return [gr.update(visible=editor)] * 4 + [gr.update(value=note, visible=not editor)]

        demo.load(_controls, None, [upload, add_btn, remove_dd, remove_btn, role_note], api_name=False)

        def _current_docs(selected: str | None = None):
            """The list as the index has it now: another session or the CLI may have changed it."""
            try:
                pipe.reload_if_changed()
            except RagError as exc:
                log.warning("index reload failed, still serving the previous version: %s", exc)
            choices = _doc_choices(pipe)
            return gr.update(value=_doc_table(pipe)), gr.update(
                choices=choices, value=selected if selected in choices else None
            )

        demo.load(_current_docs, None, [table, remove_dd], api_name=False)
        docs_tab.select(_current_docs, remove_dd, [table, remove_dd], api_name=False)
        remove_dd.focus(_current_docs, remove_dd, [table, remove_dd], api_name=False)

        def _report_choices(selected: str | None):
            choices = _doc_choices(pipe)
            return gr.update(choices=choices, value=selected if selected in choices else None)

        report_dd.focus(_report_choices, report_dd, report_dd, api_name=False)
        report_dd.change(lambda d: clean_report(pipe, d), report_dd, report_md, api_name=False)
    return demo
