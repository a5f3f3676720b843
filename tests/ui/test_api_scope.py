"""The `scope` request field of /v1/retrieve and /v1/chat/completions, on the real index, without the LLM.

The chat question here is refused before generation (the scope's documents do
not mention the place asked about), so no model is loaded.
"""

from __future__ import annotations

import shutil

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

WEIFANG, QUZHOU = "002_78ad54bd58fc9a9e.txt", "004_9df9e4a75860d1fb.txt"


@pytest.fixture(scope="module")
def api(index_dir, tmp_path_factory):
    from rag.config import Settings
    from rag.pipeline import Pipeline
    from ui.api import install

    copy = tmp_path_factory.mktemp("api-scope") / "index"
    shutil.copytree(index_dir, copy)
    app = FastAPI()
    install(app, Pipeline(Settings(index_dir=copy)))
    with TestClient(app) as client:
        yield client


def test_retrieve_with_a_place_scope_returns_k_passages_of_that_place(api):
    body = {"question": "衢州市规上工业总产值目标是多少？", "top_k": 5, "scope": {"places": ["潍坊"]}}
    r = api.post("/v1/retrieve", json=body)
    assert r.status_code == 200, r.text
    passages = r.json()["passages"]
    assert len(passages) == 5 and {p["doc"] for p in passages} == {WEIFANG}
    unscoped = api.post("/v1/retrieve", json={"question": body["question"], "top_k": 5}).json()["passages"]
    assert unscoped[0]["doc"] == QUZHOU


def test_retrieve_scope_by_date_and_document(api):
    r = api.post("/v1/retrieve", json={"question": "县域经济发展目标", "scope": {"since": "2024", "until": "2024-12"}})
    assert {p["doc"] for p in r.json()["passages"]} == {WEIFANG}
    r = api.post("/v1/retrieve", json={"question": "县域经济发展目标", "scope": {"docs": [QUZHOU]}})
    assert {p["doc"] for p in r.json()["passages"]} == {QUZHOU}


def test_bad_scopes_are_client_errors(api):
    r = api.post("/v1/retrieve", json={"question": "寿光", "scope": {"since": "last year"}})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_scope"
    r = api.post("/v1/retrieve", json={"question": "寿光", "scope": {"doc_types": ["公告栏"]}})
    assert r.status_code == 400 and "unknown document type" in r.json()["error"]["message"]
    r = api.post("/v1/retrieve", json={"question": "寿光", "scope": {"county": "寿光"}})
    assert r.status_code == 422


def test_a_refused_scoped_question_says_the_scope_left_out_documents(api):
    body = {
        "model": "rag",
        "messages": [{"role": "user", "content": "衢州市规上工业总产值的目标是多少？"}],
        "scope": {"places": ["潍坊"]},
    }
    r = api.post("/v1/chat/completions", json=body)
    assert r.status_code == 200, r.text
    rag = r.json()["rag"]
    assert rag["refused"] and {p["doc"] for p in rag["passages"]} == {WEIFANG}
    scope_check = [c for c in rag["checks"] if c["name"] == "scope"]
    assert scope_check and scope_check[0]["result"] == "fail" and QUZHOU in scope_check[0]["detail"]
