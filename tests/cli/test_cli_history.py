"""The command line's load reports: ``ingest --report-out`` and ``history`` (the loads of a
dataset, one load's report printed or written as CSV)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard import cli, ingest
from dashboard.ingest import history
from dashboard.ingest.report import IngestReport, render_report_csv
from dashboard.workspace import store

# Line 3 is rejected (its amount is a formula); line 4 has no customer (a warning).
ORDERS = (
    "order_id,customer,date,amount\n"
    "A1,ann@x.com,2024-01-01 10:00:00,10.00\n"
    "A2,bob@x.com,2024-01-02 10:00:00,=1+1\n"
    "A3,,2024-01-03 10:00:00,7.00\n"
)
MAPPING = {
    "order_id": "order_id",
    "customer_id": "customer",
    "ordered_at": "date",
    "order_total": "amount",
}
MAP = [f"{field}={header}" for field, header in MAPPING.items()]


@pytest.fixture
def orders_csv(tmp_path: Path) -> Path:
    path = tmp_path / "orders.csv"
    path.write_text(ORDERS, encoding="utf-8")
    return path


def read_past(workspace: Path, ingest_id: int) -> IngestReport:
    with store.open_for_read(workspace, "shop") as backend:
        return history.read_report(backend, ingest_id)


def test_ingest_writes_the_report_csv(
    workspace: Path, orders_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "reports" / "load.csv"
    argv = ["ingest", str(orders_csv), "--workspace", str(workspace), "--dataset", "shop"]
    assert cli.main([*argv, "--map", *MAP, "--report-out", str(out)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[:2] == [
        "orders.csv: 3 orders rows read, 2 loaded, 1 rejected, 1 loaded with a warning.",
        "  3 records in the file = 2 loaded + 1 rejected + 0 already loaded.",
    ]
    written = out.read_bytes()
    assert written == render_report_csv(read_past(workspace, 1))
    lines = written.decode("utf-8").split("\r\n")
    assert lines[6:13] == [
        "records in the file,3",
        "rows read,3",
        "rows loaded,2",
        "rows rejected,1",
        "rows already loaded (skipped),0",
        "rows loaded with a warning,1",
        "reconciliation,3 records in the file = 2 loaded + 1 rejected + 0 already loaded.",
    ]
    assert "3,amount,rejected,amount is not a number,'=1+1" in lines


def test_ingest_of_several_files_writes_their_reports_one_after_the_other(
    workspace: Path, orders_csv: Path, tmp_path: Path
) -> None:
    again = tmp_path / "again.csv"
    again.write_text(ORDERS, encoding="utf-8")
    out = tmp_path / "loads.csv"
    argv = ["ingest", str(orders_csv), str(again), "--workspace", str(workspace)]
    assert cli.main([*argv, "--dataset", "shop", "--map", *MAP, "--report-out", str(out)]) == 0
    first, second = read_past(workspace, 1), read_past(workspace, 2)
    assert (second.file_name, second.rows_duplicate, second.rows_rejected) == ("again.csv", 2, 1)
    assert out.read_bytes() == render_report_csv(first) + b"\r\n" + render_report_csv(second)


def test_history_lists_the_loads_newest_first(
    workspace: Path, orders_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = ingest.ingest_file(workspace, "shop", orders_csv, mapping=MAPPING)
    second = ingest.ingest_file(workspace, "shop", orders_csv, mapping=MAPPING)
    capsys.readouterr()
    assert cli.main(["history", "--workspace", str(workspace), "--dataset", "shop"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"#2  {second.loaded_at:%Y-%m-%d %H:%M}  orders.csv (generic into orders): 3 records, "
        "3 rows read, 0 loaded, 1 rejected, 2 already loaded, 0 with a warning",
        f"#1  {first.loaded_at:%Y-%m-%d %H:%M}  orders.csv (generic into orders): 3 records, "
        "3 rows read, 2 loaded, 1 rejected, 0 already loaded, 1 with a warning",
    ]


def test_history_prints_and_writes_one_loads_report(
    workspace: Path, orders_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = ingest.ingest_file(workspace, "shop", orders_csv, mapping=MAPPING)
    capsys.readouterr()
    out = tmp_path / "load-1.csv"
    argv = ["history", "--workspace", str(workspace), "--dataset", "shop", "--ingest", "1"]
    assert cli.main([*argv, "--out", str(out)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "orders.csv: 3 orders rows read, 2 loaded, 1 rejected, 1 loaded with a warning.",
        "  3 records in the file = 2 loaded + 1 rejected + 0 already loaded.",
        "  rejected 1: amount is not a number - lines 3",
        "  warning 1: no customer key: kept for store totals, not scored",
        f"Wrote the report of load 1 to {out}.",
    ]
    assert out.read_bytes() == render_report_csv(report)


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--out", "TMP/x.csv"], "give --ingest N too"),
        (["--ingest", "9"], "no load number 9"),
        (["--ingest", "1", "--dataset", "nope"], "no dataset called 'nope'"),
    ],
)
def test_history_refuses_bad_input_in_one_line(
    workspace: Path,
    orders_csv: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    words: str,
) -> None:
    ingest.ingest_file(workspace, "shop", orders_csv, mapping=MAPPING)
    capsys.readouterr()
    extra = [arg.replace("TMP", str(tmp_path)) for arg in extra]
    argv = ["history", "--workspace", str(workspace), "--dataset", "shop", *extra]
    assert cli.main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert words in captured.err and captured.err.count("\n") == 1, captured.err
    assert not (tmp_path / "x.csv").exists()
