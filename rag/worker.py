"""Reading what a worker thread puts on a queue: its items until it says done, its error re-raised in the reader.

The model runs in a thread that alone holds it, so that a reader that goes
away (a closed stream) can stop it; every such thread reports the same way.
"""

from __future__ import annotations

import queue
from collections.abc import Iterator
from typing import Any


def drain(out: queue.Queue[tuple[str, Any]], item: str) -> Iterator[Any]:
    """Yield each `(item, value)` value; raise a `("error", exc)`; stop at anything else (`("done", None)`)."""
    while True:
        kind, value = out.get()
        if kind == item:
            yield value
        elif kind == "error":
            raise value
        else:
            return
