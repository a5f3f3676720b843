"""The tune/test split of a gold dataset: a fixed-seed, stratified, deterministic assignment, frozen in the data.

Every question carries `split`: `tune` (may be looked at while changing the
system) or `test` (never looked at; the headline of every report). Within each
stratum (question type × script; two-turn follow-ups form their own stratum per
script) the ids are ordered by sha256(f"{seed}:{id}") and the first
ceil(TEST_SHARE × n) become `test`, the rest `tune`. The order depends only on
the seed and the id, never on answers or scores, so nobody can steer a question
into either split. Only rows without a split are assigned: an existing split is
never changed (tests/eval/test_split.py checks a checksum of the test ids).
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

SEED = 0
TEST_SHARE = 0.4
SPLITS = ("tune", "test")


def stratum(row: Mapping[str, Any]) -> tuple[str, str]:
    """(type, lang) for a single question; ("followup", lang) for a question with earlier turns."""
    if row.get("history"):
        return ("followup", str(row["lang"]))
    return (str(row["type"]), str(row["lang"]))


def order_key(qid: str, seed: int = SEED) -> str:
    return hashlib.sha256(f"{seed}:{qid}".encode()).hexdigest()


def assign_splits(rows: Iterable[Mapping[str, Any]], seed: int = SEED, share: float = TEST_SHARE) -> dict[str, str]:
    """Split for every row: existing `split` values are kept, rows without one are assigned stratum by stratum."""
    rows = list(rows)
    out = {str(r["id"]): str(r["split"]) for r in rows if r.get("split")}
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for r in rows:
        if not r.get("split"):
            groups[stratum(r)].append(str(r["id"]))
    for ids in groups.values():
        ordered = sorted(ids, key=lambda qid: order_key(qid, seed))
        n_test = math.ceil(share * len(ordered))
        for i, qid in enumerate(ordered):
            out[qid] = "test" if i < n_test else "tune"
    return out


def split_checksum(rows: Iterable[Mapping[str, Any]]) -> str:
    """sha256 of the sorted test-split ids, one a line: the value the freeze test pins."""
    ids = sorted(str(r["id"]) for r in rows if r.get("split") == "test")
    return hashlib.sha256("\n".join(ids).encode()).hexdigest()


def counts(rows: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    """{"type/lang" (or "followup/lang"): {"tune": n, "test": n}}, for the README tables."""
    out: dict[str, dict[str, int]] = {}
    for r in rows:
        cell = out.setdefault("/".join(stratum(r)), {"tune": 0, "test": 0})
        key = str(r.get("split") or "none")
        cell[key] = cell.get(key, 0) + 1
    return dict(sorted(out.items()))
