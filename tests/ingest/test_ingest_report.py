"""The ingest report kept in the load history: stored with each load, rebuilt for a past load,
and rendered as CSV (the same bytes for the report of a load just made and for a past one).

Files are written inline, so their line numbers (header = line 1) are visible in the test.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from dashboard import ingest
from dashboard.ingest import history, ledger, one_pass
from dashboard.ingest.report import IngestReport, RowIssue, render_report_csv
from dashboard.workspace import store

MAPPING = {
    "order_id": "order_id",
    "customer_id": "customer",
    "ordered_at": "date",
    "order_total": "amount",
    "currency": "currency",
}
# Line 3 is rejected (its amount is a formula), line 4 has no customer (a warning) and a total
# of 0 (a note), and the orders are in two currencies (a note).
ORDERS = (
    "order_id,customer,date,amount,currency\n"
    "A1,ann@x.com,2024-01-01 10:00:00,10.00,EUR\n"
    "A2,bob@x.com,2024-01-02 10:00:00,=1+1,EUR\n"
    "A3,,2024-01-03 10:00:00,0,EUR\n"
    "A4,cy@x.com,2024-01-04 10:00:00,5.00,USD\n"
)
NO_CUSTOMER = "no customer key: kept for store totals, not scored"
ZERO_NOTE = (
    "1 orders have a total of 0 (loaded; RFM does not count them as purchases unless asked to)."
)
CURRENCY_NOTE = (
    "The dataset holds orders in 2 currencies: EUR (2 orders), USD (1 orders). Amounts are never "
    "converted or added across currencies without saying so: compare monetary figures within one "
    "currency, or load each currency into its own dataset."
)


def write(tmp_path: Path, text: str, name: str = "orders.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def read_past(workspace: Path, ingest_id: int) -> IngestReport:
    with store.open_for_read(workspace, "shop") as backend:
        return history.read_report(backend, ingest_id)


def csv_lines(report: IngestReport) -> list[str]:
    """The report's CSV split at its CRLF row ends (the file ends with one)."""
    text = render_report_csv(report).decode("utf-8")
    assert text.endswith("\r\n")
    return text.split("\r\n")[:-1]


def test_a_past_load_gives_back_the_report_returned_at_ingest(
    workspace: Path, tmp_path: Path
) -> None:
    path = write(tmp_path, ORDERS)
    report = ingest.ingest_file(workspace, "shop", path, mapping=MAPPING)
    assert (
        report.records_read,
        report.rows_read,
        report.rows_loaded,
        report.rows_rejected,
        report.rows_duplicate,
        report.rows_warned,
    ) == (4, 4, 3, 1, 0, 1)
    assert report.issues == [
        RowIssue(3, "amount", "amount is not a number", "=1+1", "rejected"),
        RowIssue(4, "customer", NO_CUSTOMER, None, "warning"),
    ]
    # Both notes are written after the ingests row, by the orders' own step.
    assert report.notes == [ZERO_NOTE, CURRENCY_NOTE]

    past = read_past(workspace, 1)
    assert past == report
    assert (
        past.reconciliation() == "4 records in the file = 3 loaded + 1 rejected + 0 already loaded."
    )
    assert render_report_csv(past) == render_report_csv(report)
    assert csv_lines(past) == [
        "item,value",
        "file,orders.csv",
        "format,generic",
        "table,orders",
        "load number,1",
        f"loaded at,{report.loaded_at:%Y-%m-%d %H:%M:%S}",
        "records in the file,4",
        "rows read,4",
        "rows loaded,3",
        "rows rejected,1",
        "rows already loaded (skipped),0",
        "rows loaded with a warning,1",
        "reconciliation,4 records in the file = 3 loaded + 1 rejected + 0 already loaded.",
        "",
        "note",
        ZERO_NOTE,
        f'"{CURRENCY_NOTE}"',
        "",
        "severity,reason,rows",
        "rejected,amount is not a number,1",
        f'warning,"{NO_CUSTOMER}",1',
        "",
        "line,column,severity,reason,value",
        "3,amount,rejected,amount is not a number,'=1+1",
        f'4,customer,warning,"{NO_CUSTOMER}",',
    ]

    # The same file again: three orders already loaded, the bad row rejected again.
    again = ingest.ingest_file(workspace, "shop", path, mapping=MAPPING)
    assert read_past(workspace, 2) == again
    assert again.reconciliation() == (
        "4 records in the file = 0 loaded + 1 rejected + 3 already loaded."
    )
    assert read_past(workspace, 1) == report
    with store.open_for_read(workspace, "shop") as backend:
        loads = store.read_ingest_history(backend)
    assert loads[
        ["ingest_id", "records_read", "rows_loaded", "rows_duplicate"]
    ].values.tolist() == [
        [2, 4, 0, 3],
        [1, 4, 3, 0],
    ]


def test_a_clean_file_loaded_in_one_pass_keeps_its_notes(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean = ORDERS.replace("=1+1", "20.00")
    real = one_pass.load_clean_orders
    returned: list[IngestReport | None] = []

    def spy(*args: object, **kwargs: object) -> IngestReport | None:
        returned.append(real(*args, **kwargs))
        return returned[-1]

    monkeypatch.setattr(one_pass, "load_clean_orders", spy)
    report = ingest.ingest_file(workspace, "shop", write(tmp_path, clean), mapping=MAPPING)
    assert returned == [report], "the clean file must take the one-pass load"
    assert (report.records_read, report.rows_loaded, report.rows_warned) == (4, 4, 1)
    assert report.notes == [
        ZERO_NOTE,
        CURRENCY_NOTE.replace("EUR (2 orders)", "EUR (3 orders)"),
    ]
    assert read_past(workspace, 1) == report


def test_an_unterminated_quote_stays_named_in_the_history(workspace: Path, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "order_id,customer,date,amount\n"
        "1,a@x.com,2024-01-01,10.00\n"
        '2,"b@x.com,2024-01-02,20.00\n'  # 3: the quote never closes and swallows lines 4-5
        "3,c@x.com,2024-01-03,30.00\n"
        "4,d@x.com,2024-01-04,40.00\n",
    )
    mapping = {k: v for k, v in MAPPING.items() if k != "currency"}
    report = ingest.ingest_file(workspace, "shop", path, mapping=mapping)
    past = read_past(workspace, 1)
    assert past == report
    assert (past.records_read, past.rows_loaded, past.rows_rejected) == (2, 1, 1)
    assert (
        past.reconciliation() == "2 records in the file = 1 loaded + 1 rejected + 0 already loaded."
    )
    assert (
        "An unterminated quote near line 3 swallowed the 2 line(s) after it (up to line 5); "
        "those rows were not loaded: fix the quote and load the file again." in past.notes
    )
    # The record's own lines 3-5, without the line end after the last (as for any record).
    swallowed = (
        '2,"b@x.com,2024-01-02,20.00\n3,c@x.com,2024-01-03,30.00\n4,d@x.com,2024-01-04,40.00'
    )
    assert past.issues == [
        RowIssue(3, None, "broken quoting: a quote is opened but not closed properly", swallowed)
    ]


def test_rows_per_reason_beyond_the_examples_kept_are_stored(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ledger, "MAX_ISSUES_PER_REASON", 2)
    bad = "".join(f"B{n},b{n}@x.com,2024-01-0{n},lots,EUR\n" for n in range(1, 6))
    path = write(tmp_path, "order_id,customer,date,amount,currency\n" + bad)
    report = ingest.ingest_file(workspace, "shop", path, mapping=MAPPING)
    past = read_past(workspace, 1)
    assert past == report
    assert past.issue_counts == {("rejected", "amount is not a number"): 5}
    assert [i.line_number for i in past.issues] == [2, 3]
    assert not past.has_all_issues()
    assert past.notes == [
        "5 rows have the issue 'amount is not a number'; the report and the dataset's load "
        "history keep the first 2 of them as examples."
    ]
    lines = csv_lines(past)
    assert lines[lines.index("severity,reason,rows") + 1] == "rejected,amount is not a number,5"
    assert lines[lines.index("line,column,severity,reason,value") + 1 :] == [
        "2,amount,rejected,amount is not a number,lots",
        "3,amount,rejected,amount is not a number,lots",
    ]


def test_a_load_by_an_earlier_version_shows_what_was_not_recorded(
    workspace: Path, tmp_path: Path
) -> None:
    """An earlier version's ingests had no records_read, notes or issue_counts: its load is
    shown from what it kept, before and after a new load brings the dataset up to date."""
    new_columns = ("records_read", "notes", "issue_counts")
    old = ",\n".join(
        line.strip().rstrip(",")
        for line in store.SCHEMA["ingests"].strip().splitlines()
        if not line.strip().startswith(new_columns)
    )
    con = duckdb.connect(str(store.dataset_path(workspace, "shop")))
    con.execute(f"CREATE TABLE ingests ({old})")
    con.execute(f"CREATE TABLE ingest_issues ({store.SCHEMA['ingest_issues']})")
    con.execute(
        "INSERT INTO ingests VALUES (1, '+old.csv', 'generic', 'orders', 3, 1, 1, 0, 1, "
        "TIMESTAMP '2023-12-01 10:00:00', 'abc')"
    )
    con.execute(
        "INSERT INTO ingest_issues VALUES (1, 4, 'amount', 'rejected', 'missing amount', NULL), "
        "(1, 2, 'customer', 'warning', ?, NULL)",
        [NO_CUSTOMER],
    )
    con.close()
    expected = IngestReport(
        file_name="+old.csv",
        file_format="generic",
        table_name="orders",
        records_read=None,
        rows_read=3,
        rows_loaded=1,
        rows_rejected=1,
        rows_duplicate=0,
        issues=[
            RowIssue(2, "customer", NO_CUSTOMER, None, "warning"),
            RowIssue(4, "amount", "missing amount", None, "rejected"),
        ],
        issue_counts={("rejected", "missing amount"): 1, ("warning", NO_CUSTOMER): 1},
        notes=[history.EARLIER_VERSION_NOTE],
        ingest_id=1,
        loaded_at=dt.datetime(2023, 12, 1, 10, 0),
    )
    # Read-only, as the Data page opens it: the table is not brought up to date.
    assert read_past(workspace, 1) == expected
    with store.open_for_read(workspace, "shop") as backend:
        assert store.read_ingest_history(backend).records_read.isna().tolist() == [True]
    assert expected.reconciliation() == (
        "Records in the file: not recorded; 3 orders rows read = 1 loaded + 1 rejected + "
        "0 already loaded."
    )
    lines = csv_lines(expected)
    assert lines[1] == "file,'+old.csv"
    assert lines[6] == "records in the file,not recorded"

    ingest.ingest_file(workspace, "shop", write(tmp_path, ORDERS), mapping=MAPPING)
    assert read_past(workspace, 1) == expected
    assert read_past(workspace, 2).records_read == 4


def test_a_load_the_dataset_does_not_have_is_refused(workspace: Path, tmp_path: Path) -> None:
    ingest.ingest_file(workspace, "shop", write(tmp_path, ORDERS), mapping=MAPPING)
    with pytest.raises(store.WorkspaceError, match="no load number 7"):
        read_past(workspace, 7)


def test_a_folded_file_reconciles_its_records_with_the_rows_they_made() -> None:
    report = IngestReport(
        file_name="=1+1.csv",
        file_format="shopify-orders",
        table_name="order_lines",
        records_read=8,
        rows_read=5,
        rows_loaded=3,
        rows_rejected=1,
        rows_duplicate=1,
        notes=["-2 notes", "@sum"],
        ingest_id=4,
    )
    assert report.reconciliation() == (
        "8 records in the file, read as 5 order lines rows = 3 loaded + 1 rejected + "
        "1 already loaded."
    )
    assert csv_lines(report) == [
        "item,value",
        "file,'=1+1.csv",
        "format,shopify-orders",
        "table,order_lines",
        "load number,4",
        "loaded at,",
        "records in the file,8",
        "rows read,5",
        "rows loaded,3",
        "rows rejected,1",
        "rows already loaded (skipped),1",
        "rows loaded with a warning,0",
        'reconciliation,"8 records in the file, read as 5 order lines rows = 3 loaded + '
        '1 rejected + 1 already loaded."',
        "",
        "note",
        "'-2 notes",
        "'@sum",
        "",
        "severity,reason,rows",
        "",
        "line,column,severity,reason,value",
    ]
