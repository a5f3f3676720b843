"""Who may use the server: Gradio login for the chat, a bearer key for the HTTP API.

Off loopback the server refuses to start without both, so an office PC never
exposes the documents to the whole network by accident. These checks run
before any model is loaded, so a misconfigured start fails in a second.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

LOOPBACK = {"127.0.0.1", "::1", "localhost"}


class ConfigError(Exception):
    """A start-up setting that makes serving unsafe or impossible; the message says what to do."""


def is_loopback(host: str) -> bool:
    return host.strip().strip("[]").lower() in LOOPBACK


def read_auth_file(path: str | Path) -> list[tuple[str, str]]:
    """Lines `user:password`; blank lines and `#` comments are skipped."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read --auth-file {p}: {exc.strerror or exc}") from exc
    creds: list[tuple[str, str]] = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        user, sep, password = line.partition(":")
        if not sep or not user.strip() or not password:
            raise ConfigError(f"{p}:{n}: expected a line 'user:password'")
        creds.append((user.strip(), password))
    if not creds:
        raise ConfigError(f"{p}: no 'user:password' lines")
    return creds


def credentials(auth_file: str | None, env: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
    """Login pairs from --auth-file, else from RAG_UI_USER / RAG_UI_PASSWORD; empty when none are set."""
    env = os.environ if env is None else env
    if auth_file:
        return read_auth_file(auth_file)
    user, password = env.get("RAG_UI_USER", ""), env.get("RAG_UI_PASSWORD", "")
    if user and password:
        return [(user, password)]
    if user or password:
        raise ConfigError("set both RAG_UI_USER and RAG_UI_PASSWORD (only one is set)")
    return []


def api_key(arg: str | None, env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    return (arg or env.get("RAG_API_KEY", "")).strip()


def check_exposure(host: str, creds: list[tuple[str, str]], key: str) -> None:
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


def login_checker(creds: list[tuple[str, str]]):
    """A Gradio auth callable comparing in constant time (a plain list would work, but leaks timing)."""

    def check(user: str, password: str) -> bool:
        ok = False
        for u, p in creds:
            ok |= key_matches(user or "", u) & key_matches(password or "", p)
        return ok

    return check
