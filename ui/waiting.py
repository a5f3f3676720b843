"""Run a pipeline stream in a thread of its own so the chat can show the user's place in the model's queue.

While a question waits for the model (the local one, or remote servers that
are all busy), the pipeline is blocked inside the generator and yields
nothing; the chat's handler must keep yielding to update the page. The stream
runs in a worker thread with a wait listener set (rag.waitqueue), and its
events and the queue places arrive here through one queue, in order.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator

from rag.pipeline import Event
from rag.waitqueue import report_waits
from rag.worker import drain


def with_queue_places(start: Callable[[], Iterator[Event]]) -> Iterator[Event]:
    """The events of `start()`, with Event("queue", n) whenever n questions are ahead (0: its turn has come)."""
    out: queue.Queue[tuple[str, object]] = queue.Queue()
    stop = threading.Event()

    def run() -> None:
        try:
            with report_waits(lambda ahead: out.put(("event", Event("queue", ahead)))):
                events = start()
                try:
                    for ev in events:
                        out.put(("event", ev))
                        if stop.is_set():  # the page was closed: stop at the next step
                            break
                finally:
                    events.close()  # type: ignore[attr-defined]
        except BaseException as exc:
            out.put(("error", exc))
        finally:
            out.put(("end", None))

    threading.Thread(target=run, name="chat-turn", daemon=True).start()
    try:
        yield from drain(out, "event")
    finally:
        stop.set()


def queue_line(ahead: int) -> str:
    return f"排队中：前面还有 {ahead} 个问题，请稍候…"
