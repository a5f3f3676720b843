"""The frozen tune/test split of the dev set (eval/split.py, eval/data/README.md) and the all-test extra set."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from eval.split import TEST_SHARE, assign_splits, counts, split_checksum, stratum

REPO = Path(__file__).resolve().parents[2]
DEV = REPO / "eval" / "data" / "dev.jsonl"
EXTRA = REPO / "eval" / "data" / "extra.jsonl"

# sha256 of the sorted dev test-split ids, one a line. Never change it to make a test pass: the test split is
# frozen. Adding questions is a new batch (eval/data/README.md), and only then is this value updated, on purpose.
DEV_TEST_CHECKSUM = "7f9008e9b963be98212111bc3dac9d8b63f4c4f240d1f9434f203c2fc80ee79f"


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_every_question_has_a_split():
    for path in (DEV, EXTRA):
        for r in rows(path):
            assert r.get("split") in ("tune", "test"), f"{path.name} {r['id']}: split {r.get('split')!r}"


def test_dev_test_share_and_strata():
    dev = rows(DEV)
    n_test = sum(r["split"] == "test" for r in dev)
    assert n_test >= TEST_SHARE * len(dev)
    for key, c in counts(dev).items():
        assert c["test"] >= TEST_SHARE * (c["test"] + c["tune"]), key  # every stratum, not only the total
        if c["test"] + c["tune"] >= 2:
            assert c["tune"] >= 1, f"{key}: a stratum of two or more keeps a tune question"
    # every type and every script is in the test split
    test = [r for r in dev if r["split"] == "test"]
    assert {r["type"] for r in test} == {r["type"] for r in dev}
    assert {r["lang"] for r in test} == {"zh-Hans", "zh-Hant", "en"}
    assert Counter(stratum(r)[0] for r in test)["followup"] >= 5


def test_dev_test_split_is_frozen():
    assert split_checksum(rows(DEV)) == DEV_TEST_CHECKSUM


def test_dev_split_is_the_documented_procedure():
    dev = rows(DEV)
    fresh = assign_splits([{k: v for k, v in r.items() if k != "split"} for r in dev])
    assert fresh == {r["id"]: r["split"] for r in dev}


def test_procedure_keeps_existing_splits_and_is_deterministic():
    dev = rows(DEV)
    new = [{"id": f"new-{i}", "type": "fact", "lang": "en"} for i in range(5)]
    a = assign_splits([*dev, *new])
    assert a == assign_splits([*dev, *new])
    assert all(a[r["id"]] == r["split"] for r in dev)  # an existing split never moves
    assert sum(a[r["id"]] == "test" for r in new) == 2  # ceil(0.4 × 5) of the new batch


def test_extra_set_is_all_test():
    assert {r["split"] for r in rows(EXTRA)} == {"test"}


def test_split_command_assigns_only_new_rows(tmp_path, capsys):
    from eval.__main__ import main

    dev = rows(DEV)
    new = {**dev[0], "id": "dev-new-1"}
    del new["split"]
    path = tmp_path / "dev.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in [*dev, new]), encoding="utf-8")
    assert main(["split", "--dataset", str(path)]) == 0
    assert "1 newly assigned" in capsys.readouterr().out and "split" not in rows(path)[-1]  # dry run
    assert main(["split", "--dataset", str(path), "--write"]) == 0
    after = rows(path)
    assert after[-1]["split"] == "test"  # ceil(0.4 × 1): a batch of one is test
    assert [r["split"] for r in after[:-1]] == [r["split"] for r in dev]
    assert f"test-id checksum {DEV_TEST_CHECKSUM}" in (
        main(["split", "--dataset", str(DEV)]) or capsys.readouterr().out
    )
