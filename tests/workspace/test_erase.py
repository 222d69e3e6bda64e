"""Erasing one customer (dashboard/workspace/erase.py) on the two-customer shop of
tests/erase_shop.py: every table loses exactly Ana's rows, Bob's stay, the file keeps no trace."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest
from erase_shop import ANA_EMAIL, ANA_ROWS, BOB_EMAIL, write_shop

from dashboard.workspace import audit, erase, store


def read_all(path: Path) -> dict[str, list[tuple]]:
    """Every row of every table of the dataset file, sorted, by table."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {t: sorted(con.table(t).fetchall(), key=repr) for t in store.SCHEMA}
    finally:
        con.close()


def test_erasing_by_email_removes_every_row_of_the_customer_and_only_theirs(
    workspace: Path,
) -> None:
    path = write_shop(workspace)
    before = read_all(path)
    assert ANA_EMAIL.encode() in path.read_bytes()

    report = erase.erase_customer(workspace, "shop", "  Ana@EXAMPLE.com ")

    assert report.customer_ids == ("c1",)
    assert report.rows == ANA_ROWS
    assert report.total_rows == 14
    after = read_all(path)
    for table, rows in before.items():
        assert len(rows) - len(after[table]) == ANA_ROWS.get(table, 0), table
    assert after["customers"] == [before["customers"][1]]  # Bob's row, unchanged
    assert [r[0] for r in after["orders"]] == ["o3"]
    assert [(r[0], r[1]) for r in after["order_lines"]] == [("o3", 1)]
    assert sorted(r[0] or "-" for r in after["sessions"]) == ["-", "c2"]
    assert [r[0] for r in after["abandoned_checkouts"]] == ["k2"]
    assert [r[0] for r in after["checkout_lines"]] == ["k2"]
    assert [(r[0], r[2]) for r in after["survey_scores"]] == [("c2", 7.0)]
    assert after["customer_aliases"] == []
    assert [r[5] for r in after["ingest_issues"]] == ["not-a-date"]
    assert after["ingests"] == before["ingests"]
    text = repr(after).lower()
    assert "c1" not in text and "ana" not in text and "a1" not in text
    data = path.read_bytes().lower()
    assert ANA_EMAIL.encode() not in data
    assert BOB_EMAIL.encode() in data
    assert not Path(str(path) + ".wal").exists()


def test_erasing_by_id_or_alias_finds_the_same_customer(workspace: Path) -> None:
    write_shop(workspace, "by_id")
    write_shop(workspace, "by_alias")
    assert erase.erase_customer(workspace, "by_id", "c1").rows == ANA_ROWS
    assert erase.erase_customer(workspace, "by_alias", "a1").rows == ANA_ROWS


def test_an_unknown_customer_changes_nothing(workspace: Path) -> None:
    path = write_shop(workspace)
    before = path.read_bytes()
    # ids are matched exactly: "C1" is not "c1"
    for key in ("zoe@example.com", "C1", "o1"):
        with pytest.raises(erase.UnknownCustomerError, match="No customer"):
            erase.erase_customer(workspace, "shop", key)
    assert path.read_bytes() == before
    assert audit.read_events(workspace) == []


def test_the_audit_event_has_the_counts_and_a_hash_not_the_email(workspace: Path) -> None:
    write_shop(workspace)
    erase.erase_customer(workspace, "shop", "Ana@Example.com", user="dpo")
    (event,) = audit.read_events(workspace)
    assert event["action"] == "erase" and event["dataset"] == "shop" and event["user"] == "dpo"
    assert event["details"] == {
        "customer_sha256": hashlib.sha256(ANA_EMAIL.encode()).hexdigest(),
        "customer_ids": 1,
        "rows": ANA_ROWS,
    }
    assert "ana" not in audit.audit_path(workspace).read_text(encoding="utf-8").lower()


def test_a_failed_rewrite_leaves_the_dataset_as_it_was(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_shop(workspace)
    before = read_all(path)

    def fail(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(store, "replace_dataset", fail)
    with pytest.raises(OSError):
        erase.erase_customer(workspace, "shop", ANA_EMAIL)
    assert read_all(path) == before
    assert audit.read_events(workspace) == []
    assert list(workspace.glob(".ingest-*")) == []
