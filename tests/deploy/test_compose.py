"""deploy/: the compose files parse as YAML and wire the app to Milvus and the LLM server as documented.

Nothing here starts a container (none can be pulled on these machines); this
only catches a broken file or a renamed option before someone runs it.
"""

from __future__ import annotations

from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def _load(name: str) -> dict:
    return yaml.safe_load((DEPLOY / name).read_text(encoding="utf-8"))


def test_compose_has_milvus_standalone_llm_and_app():
    services = _load("docker-compose.yml")["services"]
    assert {"etcd", "minio", "milvus", "llm", "app", "indexer"} <= set(services)
    milvus = services["milvus"]
    assert milvus["command"] == ["milvus", "run", "standalone"]
    assert milvus["environment"]["ETCD_ENDPOINTS"] == "etcd:2379"
    assert milvus["environment"]["MINIO_ADDRESS"] == "minio:9000"
    for name in ("etcd", "minio", "milvus", "llm", "app"):
        assert "healthcheck" in services[name], name


def test_app_talks_to_milvus_and_the_llm_server_by_service_name():
    services = _load("docker-compose.yml")["services"]
    cmd = services["app"]["command"]
    flag = {cmd[i]: cmd[i + 1] for i in range(len(cmd) - 1) if str(cmd[i]).startswith("--")}
    assert flag["--store"] == "http://milvus:19530"
    assert flag["--llm"] == "openai:http://llm:8000/v1"
    assert flag["--llm-model"]
    assert flag["--host"] == "0.0.0.0"
    assert set(services["app"]["depends_on"]) == {"milvus", "llm"}
    assert services["indexer"]["command"][-2:] == ["--store", "http://milvus:19530"]
    assert services["app"]["env_file"] == ".env"  # keys and login: the app refuses 0.0.0.0 without them


def test_vllm_override_serves_the_same_model_name_on_the_same_port():
    llm = _load("compose.vllm.yml")["services"]["llm"]
    cmd = llm["command"]
    assert cmd[cmd.index("--port") + 1] == "8000"
    assert "--served-model-name" in cmd
    env = dict(
        line.split("=", 1)
        for line in (DEPLOY / "env.example").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    assert {"RAG_API_KEY", "RAG_UI_USER", "RAG_UI_PASSWORD", "RAG_LLM_MODEL"} <= set(env)
