"""Recent API conversations in memory, so a script can export one after asking (`/v1/conversations/{id}/export`).

An OpenAI-style client sends the whole history with every request and gets
no conversation id back, so the server has nothing to export unless it keeps
the answers. They are kept here, in memory only and bounded: the last
`per_owner` conversations of each owner (the API key, and the request's `user`
field when given), each with at most `max_turns` answers; older ones are
dropped first. A restart forgets them; nothing is written to disk.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections import OrderedDict

from ui.export import Turn

PER_OWNER = 50
MAX_TURNS = 100
MAX_OWNERS = 1000


def owner_of(api_key: str, user: str | None = None) -> str:
    """A key's conversations are its own; the key itself is not kept, only a hash of it."""
    return hashlib.sha256(f"{api_key}\0{user or ''}".encode()).hexdigest()[:24]


class ConversationStore:
    def __init__(self, per_owner: int = PER_OWNER, max_turns: int = MAX_TURNS, max_owners: int = MAX_OWNERS) -> None:
        self.per_owner, self.max_turns, self.max_owners = per_owner, max_turns, max_owners
        self._data: OrderedDict[str, OrderedDict[str, list[Turn]]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def new_id() -> str:
        return "conv-" + uuid.uuid4().hex[:20]

    def add(self, owner: str, conversation_id: str, turn: Turn) -> None:
        with self._lock:
            convs = self._data.setdefault(owner, OrderedDict())
            self._data.move_to_end(owner)
            turns = convs.setdefault(conversation_id, [])
            convs.move_to_end(conversation_id)
            turns.append(turn)
            del turns[: -self.max_turns]
            while len(convs) > self.per_owner:
                convs.popitem(last=False)
            while len(self._data) > self.max_owners:
                self._data.popitem(last=False)

    def get(self, owner: str, conversation_id: str) -> list[Turn] | None:
        """The conversation's answers, or None if this owner has none by that id (another owner's included)."""
        with self._lock:
            turns = self._data.get(owner, {}).get(conversation_id)
            return list(turns) if turns is not None else None
