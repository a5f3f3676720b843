"""Who may use the server: Gradio login for the chat, a bearer key for the HTTP API, and roles.

Off loopback the server refuses to start without both, so an office PC never
exposes the documents to the whole network by accident. These checks run
before any model is loaded, so a misconfigured start fails in a second.

Roles: a reader asks; an editor also adds and removes documents. Without any
login the server is one person's own tool and that person is an editor.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import NamedTuple

LOOPBACK = {"127.0.0.1", "::1", "localhost"}
ROLES = ("reader", "editor")
EDITOR = "editor"
READER = "reader"


class Account(NamedTuple):
    user: str
    password: str
    role: str = READER  # least privilege: a line without a role may ask, not change documents


class ConfigError(Exception):
    """A start-up setting that makes serving unsafe or impossible; the message says what to do."""


def is_loopback(host: str) -> bool:
    return host.strip().strip("[]").lower() in LOOPBACK


def read_auth_file(path: str | Path) -> list[Account]:
    """Lines `user:password` or `user:password:role` (reader, editor); blank lines and `#` comments are skipped.

    A password may contain ':'; the role is taken from the last field only when it names a role.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read --auth-file {p}: {exc.strerror or exc}") from exc
    creds: list[Account] = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        user, sep, rest = line.partition(":")
        password, role = rest, READER
        head, sep2, last = rest.rpartition(":")
        if sep2 and last.strip() in ROLES:
            password, role = head, last.strip()
        if not sep or not user.strip() or not password:
            raise ConfigError(f"{p}:{n}: expected a line 'user:password' or 'user:password:role' (reader|editor)")
        creds.append(Account(user.strip(), password, role))
    if not creds:
        raise ConfigError(f"{p}: no 'user:password' lines")
    return creds


def credentials(auth_file: str | None, env: Mapping[str, str] | None = None) -> list[Account]:
    """Accounts from --auth-file, else the one of RAG_UI_USER / RAG_UI_PASSWORD (an editor); empty when none."""
    env = os.environ if env is None else env
    if auth_file:
        return read_auth_file(auth_file)
    user, password = env.get("RAG_UI_USER", ""), env.get("RAG_UI_PASSWORD", "")
    if user and password:
        return [Account(user, password, env.get("RAG_UI_ROLE", EDITOR))]
    if user or password:
        raise ConfigError("set both RAG_UI_USER and RAG_UI_PASSWORD (only one is set)")
    return []


def api_key(arg: str | None, env: Mapping[str, str] | None = None, env_name: str = "RAG_API_KEY") -> str:
    env = os.environ if env is None else env
    return (arg or env.get(env_name, "")).strip()


def check_exposure(host: str, creds: list[Account], key: str) -> None:
    """Raise ConfigError when a non-loopback host would serve without login or without an API key."""
    if is_loopback(host):
        return
    missing = []
    if not creds:
        missing.append("chat login (RAG_UI_USER and RAG_UI_PASSWORD, or --auth-file FILE with lines user:password)")
    if not key:
        missing.append("an API key for /v1 (RAG_API_KEY or --api-key KEY)")
    if missing:
        raise ConfigError(
            f"refusing to serve on {host}, which other machines can reach, without " + " and ".join(missing) + ". "
            "Set them, or use --host 127.0.0.1 for this computer only."
        )


def key_matches(given: str, expected: str) -> bool:
    return secrets.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def accounts(creds: list[Account] | list[tuple[str, ...]] | None) -> list[Account]:
    """Accept (user, password) or (user, password, role) tuples as well as Accounts."""
    return [c if isinstance(c, Account) else Account(*c) for c in creds or []]


def role_of(creds: list[Account], user: str | None) -> str:
    """The role of a logged-in user; without any accounts the single local user is an editor."""
    if not creds:
        return EDITOR
    for c in creds:
        if c.user == user:
            return c.role
    return READER


class LoginThrottle:
    """Slow down guessing: after `free` failed logins for one name, each further try waits, doubling to `cap` s.

    The wait applies to every try of that name, right or wrong, so a guesser
    cannot tell a right password by its speed; a success resets the count.
    Failures older than `window` seconds are forgotten.
    """

    def __init__(self, free: int = 3, cap: float = 30.0, window: float = 900.0) -> None:
        self.free, self.cap, self.window = free, cap, window
        self._fails: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def delay(self, user: str) -> float:
        with self._lock:
            count, last = self._fails.get(user, (0, 0.0))
        if count < self.free or time.monotonic() - last > self.window:
            return 0.0
        return min(self.cap, 2.0 ** (count - self.free))

    def failed(self, user: str) -> None:
        with self._lock:
            if len(self._fails) > 10_000:  # made-up names must not grow this without bound
                self._fails.clear()
            count, last = self._fails.get(user, (0, 0.0))
            if time.monotonic() - last > self.window:
                count = 0
            self._fails[user] = (count + 1, time.monotonic())

    def succeeded(self, user: str) -> None:
        with self._lock:
            self._fails.pop(user, None)


def login_checker(creds: list[Account], throttle: LoginThrottle | None = None) -> Callable[[str, str], Awaitable[bool]]:
    """A Gradio auth callable: constant-time comparison, and slowed down after repeated failures.

    Async, so the wait does not hold up other requests (Gradio awaits it).
    """
    throttle = throttle or LoginThrottle()

    async def check(user: str, password: str) -> bool:
        name = (user or "").strip()
        wait = throttle.delay(name)
        if wait:
            await asyncio.sleep(wait)
        ok = False
        for c in creds:
            ok |= key_matches(name, c.user) & key_matches(password or "", c.password)
        if ok:
            throttle.succeeded(name)
        else:
            throttle.failed(name)
        return ok

    return check
