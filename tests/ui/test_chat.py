"""The chat's document handlers through the real Gradio routes: only uploaded files may be indexed."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.llm  # the `server` fixture warms up the model

SECRET = "机密口令：青鸾七号。本文件不应被任何人检索到。"


def _dependency(url: str, elem_id: str) -> tuple[int, int]:
    """(fn_index, trigger_id) of the click handler of the component with this elem_id, from Gradio's /config."""
    config = httpx.get(f"{url}/config", timeout=30).json()
    button = next(c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == elem_id)
    for dep in config["dependencies"]:
        if any(t[0] == button for t in dep["targets"]):
            return dep["id"], button
    raise AssertionError(f"no handler for #{elem_id}")


def _run_event(url: str, fn_index: int, trigger: int, data: list) -> dict:
    """Send one event through Gradio's queue, as a browser would, and return its process_completed message."""
    session = uuid.uuid4().hex[:10]
    body = {"data": data, "fn_index": fn_index, "trigger_id": trigger, "session_hash": session, "event_data": None}
    r = httpx.post(f"{url}/gradio_api/queue/join", json=body, timeout=30)
    assert r.status_code == 200, r.text
    with httpx.stream("GET", f"{url}/gradio_api/queue/data", params={"session_hash": session}, timeout=300) as s:
        for line in s.iter_lines():
            if line.startswith("data:"):
                msg = json.loads(line[5:])
                if msg.get("msg") == "process_completed":
                    return msg
    raise AssertionError("the event never completed")


def _file_data(path: str, name: str) -> dict:
    return {"path": path, "orig_name": name, "meta": {"_type": "gradio.FileData"}}


def test_an_upload_event_naming_a_server_file_is_refused(server, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET * 3, encoding="utf-8")
    fn, trigger = _dependency(server.url, "add-docs")
    for path in (str(secret), "/etc/hostname", f"{tmp_path}/../{tmp_path.name}/secret.txt"):
        msg = _run_event(server.url, fn, trigger, [[_file_data(path, "secret.txt")]])
        status = json.dumps(msg, ensure_ascii=False)
        assert "已添加" not in status, status
    docs = httpx.get(f"{server.url}/v1/documents", headers={"Authorization": f"Bearer {server.api_key}"}).json()
    assert not any(d["doc"] in ("secret.txt", "hostname.txt") for d in docs["data"])
    r = httpx.post(
        f"{server.url}/v1/retrieve",
        json={"question": "机密口令青鸾七号", "top_k": 5},
        headers={"Authorization": f"Bearer {server.api_key}"},
        timeout=60,
    )
    assert not any("青鸾" in p["text"] for p in r.json()["passages"])


def test_a_file_sent_through_the_upload_route_is_indexed(server, tmp_path):
    doc = tmp_path / "baisha_report.txt"
    doc.write_text("白沙县2024年县域经济发展报告\n2024年，白沙县地区生产总值达到123.4亿元。\n", encoding="utf-8")
    with doc.open("rb") as f:
        r = httpx.post(f"{server.url}/gradio_api/upload", files={"files": (doc.name, f, "text/plain")}, timeout=60)
    assert r.status_code == 200, r.text
    uploaded = r.json()[0]
    fn, trigger = _dependency(server.url, "add-docs")
    msg = _run_event(server.url, fn, trigger, [[_file_data(uploaded, doc.name)]])
    assert msg["success"], msg
    assert "已添加" in json.dumps(msg["output"], ensure_ascii=False)
    hits = server.pipe.retrieve("白沙县地区生产总值", 3)
    assert any("123.4亿元" in p.chunk.text for p in hits)


def test_handler_refuses_paths_outside_the_upload_folder(tmp_path):
    from rag.errors import RagError
    from ui.chat import check_uploaded, upload_folder

    outside = tmp_path / "x.txt"
    outside.write_text("正文", encoding="utf-8")
    with pytest.raises(RagError, match="上传"):
        check_uploaded(outside)
    inside = upload_folder() / f"test-{uuid.uuid4().hex}"
    inside.mkdir(parents=True)
    try:
        (inside / "x.txt").write_text("正文", encoding="utf-8")
        assert check_uploaded(inside / "x.txt") == (inside / "x.txt").resolve()
        link = inside / "link.txt"  # a link inside the folder that points out of it
        link.symlink_to(outside)
        with pytest.raises(RagError):
            check_uploaded(link)
        with pytest.raises(RagError):
            check_uploaded(inside / ".." / ".." / Path(*outside.parts[1:]))
    finally:
        import shutil

        shutil.rmtree(inside)
