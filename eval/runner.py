"""Run the real pipeline over a dataset, writing answers in the CLI JSON shape, then score them.

Follow-up questions are asked with their `history` (earlier [question, answer]
turns), exactly as the chat and the batch CLI pass a conversation.
Answers are written line by line as they come, so an interrupted run keeps
what it has and can be scored with `python -m eval score`. Beside them,
trace.jsonl keeps each model reply and the passages it was shown, so the
answer checks can be replayed without the model (`python -m eval replay`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tqdm import tqdm

from eval.dataset import Question
from rag.config import Settings


def answer_all(
    questions: list[Question], settings: Settings, out_path: Path, warmup: bool = True, pipe: Any = None
) -> Path:
    """Answer every question with `pipe` (a new Pipeline for `settings` when None) into out_path."""
    from rag.errors import ModelError, QuestionError
    from rag.pipeline import Pipeline

    if pipe is None:
        pipe = Pipeline(settings)
        if warmup:
            pipe.warmup()
    out_path.parent.mkdir(parents=True, exist_ok=True)
    trace_path = out_path.with_name("trace.jsonl")
    with out_path.open("w", encoding="utf-8") as f, trace_path.open("w", encoding="utf-8") as t:
        for q in tqdm(questions, desc="answering", unit="q"):
            trace: dict[str, Any] = {}
            try:
                record: dict[str, Any] = {}
                for ev in pipe.stream(q.question, q.history_pairs() or None, qid=q.id):
                    if ev.kind == "answer":
                        record, trace = ev.data.to_json(), ev.extra
            except (QuestionError, ModelError) as exc:  # a stalled answer is scored as wrong; the run goes on
                record = {"id": q.id, "question": q.question, "error": str(exc)}
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
            t.write(json.dumps({"id": q.id, **trace}, ensure_ascii=False) + "\n")
            f.flush()
            t.flush()
    return out_path
