"""The audit log (dashboard/workspace/audit.py) and the events the engine records in it."""

from __future__ import annotations

import getpass
from pathlib import Path

import pytest

from dashboard import ingest
from dashboard.workspace import audit, store

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_events_are_appended_one_json_line_each_and_read_back_in_order(workspace: Path) -> None:
    first = audit.record_event(workspace, "export", "shop", "ana", segment="vip", rows=3)
    audit.record_event(workspace, "delete", "old")
    lines = audit.audit_path(workspace).read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    events = audit.read_events(workspace)
    assert events[0] == first
    assert events[0]["details"] == {"segment": "vip", "rows": 3}
    assert events[0]["user"] == "ana"
    assert (events[1]["action"], events[1]["dataset"]) == ("delete", "old")
    assert events[1]["user"] == getpass.getuser()
    assert events[1]["details"] == {}


def test_a_line_cut_short_by_a_crash_is_skipped(workspace: Path) -> None:
    audit.record_event(workspace, "load", "shop", "ana", rows_loaded=4)
    with audit.audit_path(workspace).open("a", encoding="utf-8") as log:
        log.write('{"at": "2025-')
    assert [e["action"] for e in audit.read_events(workspace)] == ["load"]
    # the next event starts on a line of its own, after the torn one
    audit.record_event(workspace, "delete", "shop", "ana")
    assert [e["action"] for e in audit.read_events(workspace)] == ["load", "delete"]


def test_no_log_reads_as_no_events_and_unknown_actions_are_refused(workspace: Path) -> None:
    assert audit.read_events(workspace) == []
    with pytest.raises(ValueError):
        audit.record_event(workspace, "peek", "shop")


def test_a_load_and_a_delete_are_recorded(workspace: Path) -> None:
    report = ingest.ingest_file(workspace, "shop", FIXTURES / "generic_orders.csv")
    store.delete_dataset(workspace, "shop")
    load, delete = audit.read_events(workspace)
    assert load["action"] == "load" and load["dataset"] == "shop"
    # generic_orders.csv: 4 orders, all with a date and a total
    assert load["details"] == {"file": "generic_orders.csv", "rows_loaded": 4}
    assert report.rows_loaded == 4
    assert (delete["action"], delete["dataset"]) == ("delete", "shop")


def test_a_failed_load_is_not_recorded(workspace: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("Order Number,Order Date,Total\n", encoding="utf-8")
    with pytest.raises(ingest.IngestError):
        ingest.ingest_file(workspace, "shop", empty)
    assert audit.read_events(workspace) == []
