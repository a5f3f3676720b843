"""Settings: the generation rules are all on unless an ablation switches one off by name."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from rag.config import GENERATION_RULES, Settings


def test_generation_rules_are_on_unless_switched_off_by_name():
    assert all(Settings().runs(r) for r in GENERATION_RULES)
    s = Settings(off=("recheck",))
    assert not s.runs("recheck") and all(s.runs(r) for r in GENERATION_RULES if r != "recheck")


def test_an_unknown_rule_is_a_clear_error():
    with pytest.raises(ValidationError, match=r"unknown rule.*rechek.*known: substitution"):
        Settings(off=("rechek",))
