"""Document changes over the HTTP API: editors only, and every change in the audit log (real server and index)."""

from __future__ import annotations

import hashlib

import httpx
import pytest

from rag.audit import AuditLog

pytestmark = pytest.mark.llm  # the server fixture warms up the model

CONTENT = "青石县关于推进数字乡村建设的通知\n各乡镇：\n2025年，青石县建成数字乡村示范村15个。\n".encode()


def test_document_changes_need_the_editor_key_and_are_audited(auth_server):
    url = auth_server.url
    reader = {"Authorization": f"Bearer {auth_server.api_key}"}
    editor = {"Authorization": f"Bearer {auth_server.editor_key}"}
    files = {"files": ("qingshi.txt", CONTENT, "text/plain")}

    r = httpx.post(f"{url}/v1/documents", files=files, headers=reader, timeout=60)
    assert r.status_code == 403 and r.json()["error"]["code"] == "not_editor"
    assert httpx.post(f"{url}/v1/documents", files=files, timeout=60).status_code == 401

    r = httpx.post(f"{url}/v1/documents", files=files, headers=editor, timeout=300)
    assert r.status_code == 200, r.text
    assert r.json()["added"] == ["qingshi.txt"] and r.json()["errors"] == []
    listed = httpx.get(f"{url}/v1/documents", headers=reader, timeout=30).json()["data"]
    assert "qingshi.txt" in {d["doc"] for d in listed}

    r = httpx.post(f"{url}/v1/documents", files={"files": ("x.exe", b"MZ", "application/octet-stream")}, headers=editor)
    assert r.status_code == 200 and r.json()["added"] == [] and "x.exe" in r.json()["errors"][0]

    assert httpx.delete(f"{url}/v1/documents/qingshi.txt", headers=reader, timeout=60).status_code == 403
    r = httpx.delete(f"{url}/v1/documents/qingshi.txt", headers=editor, timeout=60)
    assert r.status_code == 200 and r.json()["removed"] == ["qingshi.txt"]
    r = httpx.delete(f"{url}/v1/documents/qingshi.txt", headers=editor, timeout=60)
    assert r.status_code == 404 and r.json()["error"]["code"] == "document_not_found"

    rows = [a for a in AuditLog(auth_server.audit).read() if a["file"] == "qingshi.txt"]
    assert [(a["action"], a["via"], a["user"]) for a in rows] == [
        ("add", "api", "api-editor"),
        ("remove", "api", "api-editor"),
    ]
    assert rows[0]["sha256"] == hashlib.sha256(CONTENT).hexdigest()
    assert rows[0]["chars_kept"] > 0 and rows[0]["chars_removed"] >= 0 and rows[0]["time"]
