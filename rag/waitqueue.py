"""First come, first served admission to a model with a fixed number of slots, telling each waiter its place.

One local model holds one answer at a time, a remote server a few; the rest
wait. A plain lock wakes waiters in no fixed order and cannot say how many
are ahead, so a user would see only "busy". Here every caller takes a ticket,
is admitted in ticket order, and a listener set by the caller (the chat) hears
how many questions are ahead of it whenever that number changes.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

WaitListener = Callable[[int], None]  # called with the number of questions ahead (0: admitted)
_listener: ContextVar[WaitListener | None] = ContextVar("wait_listener", default=None)


@contextmanager
def report_waits(listener: WaitListener) -> Iterator[None]:
    """Model calls started in this thread inside the block report their place in the queue to `listener`."""
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)


def current_listener() -> WaitListener | None:
    """The listener of the calling thread; a generator reads it before handing work to its own thread."""
    return _listener.get()


class WaitQueue:
    """`slots` callers inside at once, the others admitted strictly in arrival order."""

    def __init__(self, slots: int = 1) -> None:
        self.slots = max(1, slots)
        self._cond = threading.Condition()
        self._tickets = itertools.count()
        self._waiting: list[int] = []  # tickets in arrival order
        self.inside = 0

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def acquire(
        self,
        stop: threading.Event | None = None,
        listener: WaitListener | None = None,
        can_enter: Callable[[], bool] | None = None,
    ) -> bool:
        """Wait for a slot; False if `stop` was set first. `can_enter` may refuse a slot that exists (pool rules)."""
        with self._cond:
            ticket = next(self._tickets)
            self._waiting.append(ticket)
            told = -1
            try:
                while True:
                    ahead = self._waiting.index(ticket)
                    free = self.inside < self.slots and (can_enter is None or can_enter())
                    if ahead == 0 and free:
                        self.inside += 1
                        if listener and told > 0:
                            listener(0)
                        return True
                    if stop is not None and stop.is_set():
                        return False
                    shown = ahead + self.inside  # waiting before this one, and being answered
                    if listener and shown != told:
                        told = shown
                        listener(shown)
                    self._cond.wait(timeout=0.25)  # also wakes to look at `stop`
            finally:
                self._waiting.remove(ticket)
                self._cond.notify_all()

    def release(self) -> None:
        with self._cond:
            self.inside -= 1
            self._cond.notify_all()

    def notify(self) -> None:
        """Something `can_enter` looks at changed (an endpoint came back)."""
        with self._cond:
            self._cond.notify_all()

    # `with queue:` takes a slot without a stop flag, like a lock
    def __enter__(self) -> WaitQueue:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
