"""Accounts, roles and the login slow-down (no model, no server)."""

from __future__ import annotations

import asyncio
import time

import pytest

from ui.auth import (
    EDITOR,
    READER,
    Account,
    ConfigError,
    LoginThrottle,
    login_checker,
    read_auth_file,
    role_of,
)


def test_auth_file_roles(tmp_path):
    f = tmp_path / "accounts.txt"
    f.write_text("# office accounts\nrita:pw1\ned:pw2:editor\nmo:a:b:c\nvi:x:reader\n", encoding="utf-8")
    creds = read_auth_file(f)
    assert creds == [
        Account("rita", "pw1", READER),  # no role: least privilege
        Account("ed", "pw2", EDITOR),
        Account("mo", "a:b:c", READER),  # a password may hold ':'; the last field is a role only if it names one
        Account("vi", "x", READER),
    ]
    assert role_of(creds, "ed") == EDITOR and role_of(creds, "rita") == READER
    assert role_of(creds, "stranger") == READER
    assert role_of([], None) == EDITOR  # no login at all: the one local user edits


def test_bad_auth_lines_are_named(tmp_path):
    f = tmp_path / "accounts.txt"
    f.write_text("ok:pw\n:nouser\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"accounts.txt:2"):
        read_auth_file(f)


def test_repeated_failures_slow_down_every_try_of_that_name():
    throttle = LoginThrottle(free=2, cap=0.4)
    check = login_checker([Account("ed", "right", EDITOR)], throttle)
    assert asyncio.run(check("ed", "wrong")) is False
    assert asyncio.run(check("ed", "wrong")) is False
    assert throttle.delay("ed") > 0 and throttle.delay("someone-else") == 0
    t0 = time.monotonic()
    assert asyncio.run(check("ed", "right")) is True  # right password, but it still had to wait
    assert time.monotonic() - t0 >= 0.4  # the capped delay: a lower bound, it is a sleep
    assert throttle.delay("ed") == 0  # a success resets the count


def test_delay_doubles_up_to_the_cap():
    throttle = LoginThrottle(free=1, cap=4.0)
    delays = []
    for _ in range(6):
        throttle.failed("x")
        delays.append(throttle.delay("x"))
    assert delays == [1.0, 2.0, 4.0, 4.0, 4.0, 4.0]
