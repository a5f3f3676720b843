"""Bounded load test: N simulated users ask through the HTTP API at once for a fixed time.

Each user loops over its own questions. Retrieval is deterministic, so every
reply to one question must carry the same passages, name that question, and
cite only its own passages: anything else means replies were mixed between
users. (Answer texts are reported too; llama.cpp may vary slightly with what
its prompt cache holds, so they are not the mixing check.) The server's /health
reports how many threads were ever inside the LLM at once (must be 1).

Misbehaving clients can be mixed in: `--disconnectors` start a streamed answer
and hang up after its first token, `--oversized` send 2 MB bodies. The well-
behaved users must still get every answer, and at the end /health must show
the model free (`active: 0`): a client that vanished must not keep it.

    .venv/bin/python scripts/loadtest.py --url http://127.0.0.1:7860 --users 8 --duration 120 --out artifacts/load
    .venv/bin/python scripts/loadtest.py --users 8 --disconnectors 2 --oversized 1 --duration 120 --out artifacts/load-bad
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from pathlib import Path

import httpx

DEFAULT_QUESTIONS = [
    "寿光市2025年的GDP目标是多少？",
    "潍坊市县域经济发展的主要目标是什么？",
    "临沂市强县富民的目标是什么？",
    "衢州市规上工业总产值目标是多少？",
    "山东省县域经济2035年的目标是什么？",
    "沂水县获得了什么荣誉？",
    "青岛市2024年县域经济GDP是多少？",
    "县域经济高质量发展的评价激励怎么做？",
]


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[k]


def disconnector(client: httpx.Client, question: str) -> str:
    """Start a streamed answer, hang up after its first token; return what happened."""
    body = {"model": "rag", "stream": True, "messages": [{"role": "user", "content": question}]}
    with client.stream("POST", "/v1/chat/completions", json=body) as r:
        if r.status_code != 200:
            return f"status {r.status_code}"
        for line in r.iter_lines():
            if line.startswith("data: {") and json.loads(line[6:])["choices"][0]["delta"].get("content"):
                return "hung up"
    return "finished before a token"


def oversized(client: httpx.Client) -> str:
    body = {"model": "rag", "messages": [{"role": "user", "content": "县" * (2 * 1024 * 1024)}]}
    r = client.post("/v1/chat/completions", json=body)
    return "refused" if r.status_code == 413 else f"status {r.status_code}"


def run(
    url: str,
    users: int,
    duration: float,
    questions: list[str],
    api_key: str = "",
    disconnectors: int = 0,
    oversize: int = 0,
) -> dict:
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    deadline = time.monotonic() + duration
    lock = threading.Lock()
    latencies: list[float] = []
    first_tokens: list[float] = []
    errors: list[str] = []
    answers: dict[str, set[str]] = {}
    passage_sets: dict[str, set[tuple[str, ...]]] = {}
    wrong_question = 0
    foreign_citations = 0
    done = 0

    def user(i: int) -> None:
        nonlocal wrong_question, foreign_citations, done
        with httpx.Client(base_url=url, headers=headers, timeout=600) as client:
            k = i
            while time.monotonic() < deadline:
                q = questions[k % len(questions)]
                k += users
                t0 = time.perf_counter()
                try:
                    r = client.post(
                        "/v1/chat/completions", json={"model": "rag", "messages": [{"role": "user", "content": q}]}
                    )
                    r.raise_for_status()
                    rag = r.json()["rag"]
                except Exception as exc:  # every failure is a finding, reported below
                    with lock:
                        errors.append(f"user {i}: {type(exc).__name__}: {exc}")
                    continue
                dt = (time.perf_counter() - t0) * 1000
                with lock:
                    done += 1
                    latencies.append(dt)
                    first_tokens.append(float(rag["timings_ms"]["first_token"]))
                    if rag["question"] != q:
                        wrong_question += 1
                    answers.setdefault(q, set()).add(rag["answer"])
                    ids = tuple(p["chunk_id"] for p in rag["passages"])
                    passage_sets.setdefault(q, set()).add(ids)
                    if any(c["chunk_id"] not in ids for c in rag["citations"]):
                        foreign_citations += 1

    bad: dict[str, int] = {}

    def misbehave(i: int, kind: str) -> None:
        with httpx.Client(base_url=url, headers=headers, timeout=600) as client:
            k = i
            while time.monotonic() < deadline:
                k += 1
                try:
                    what = disconnector(client, questions[k % len(questions)]) if kind == "d" else oversized(client)
                except Exception as exc:
                    what = f"{type(exc).__name__}"
                with lock:
                    bad[f"{kind}:{what}"] = bad.get(f"{kind}:{what}", 0) + 1
                time.sleep(1.0)

    threads = [threading.Thread(target=user, args=(i,), daemon=True) for i in range(users)]
    threads += [threading.Thread(target=misbehave, args=(i, "d"), daemon=True) for i in range(disconnectors)]
    threads += [threading.Thread(target=misbehave, args=(i, "o"), daemon=True) for i in range(oversize)]
    t_start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t_start
    health = httpx.get(f"{url}/health", timeout=30).json()
    for _ in range(50):  # a hung-up stream is stopped within a token; allow the last one to wind down
        if health.get("llm", {}).get("active") == 0:
            break
        time.sleep(0.1)
        health = httpx.get(f"{url}/health", timeout=30).json()
    mixed = sum(1 for ids in passage_sets.values() if len(ids) > 1)
    varied = sum(1 for a in answers.values() if len(a) > 1)
    return {
        "users": users,
        "duration_s": round(wall, 1),
        "requests": done,
        "errors": len(errors),
        "error_samples": errors[:5],
        "throughput_per_min": round(done / wall * 60, 2) if wall else 0.0,
        "latency_p50_ms": round(_percentile(latencies, 0.5)),
        "latency_p95_ms": round(_percentile(latencies, 0.95)),
        "latency_min_ms": round(min(latencies, default=0)),
        "latency_max_ms": round(max(latencies, default=0)),
        "latency_mean_ms": round(statistics.fmean(latencies)) if latencies else 0,
        "first_token_p50_ms": round(_percentile(first_tokens, 0.5)),  # includes the wait for the model
        "first_token_p95_ms": round(_percentile(first_tokens, 0.95)),
        "questions_with_differing_passages": mixed,
        "answers_naming_another_question": wrong_question,
        "answers_citing_foreign_passages": foreign_citations,
        "questions_with_varied_answer_text": varied,
        "llm_max_concurrent": health.get("llm", {}).get("max_active"),
        "llm_calls": health.get("llm", {}).get("calls"),
        "misbehaving_clients": {"disconnectors": disconnectors, "oversized": oversize, "outcomes": bad},
        "health_at_end": {"status": health.get("status"), "active": health.get("llm", {}).get("active")},
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", default="http://127.0.0.1:7860")
    ap.add_argument("--users", type=int, default=8)
    ap.add_argument("--duration", type=float, default=120.0, help="seconds; requests in flight are finished")
    ap.add_argument("--api-key", default="")
    ap.add_argument("--disconnectors", type=int, default=0, help="clients that hang up after the first token")
    ap.add_argument("--oversized", type=int, default=0, help="clients that send 2 MB bodies")
    ap.add_argument("--out", type=Path, default=None, help="folder for load.json")
    args = ap.parse_args(argv)
    report = run(
        args.url, args.users, args.duration, DEFAULT_QUESTIONS, args.api_key, args.disconnectors, args.oversized
    )
    text = json.dumps(report, ensure_ascii=False, indent=1)
    print(text)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "load.json").write_text(text, encoding="utf-8")
    ok = (
        report["errors"] == 0
        and report["questions_with_differing_passages"] == 0
        and report["answers_naming_another_question"] == 0
        and report["answers_citing_foreign_passages"] == 0
        and report["llm_max_concurrent"] == 1
        and report["health_at_end"] == {"status": "ok", "active": 0}
        and all(k in ("d:hung up", "o:refused") for k in report["misbehaving_clients"]["outcomes"])
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
