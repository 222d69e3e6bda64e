"""Issue 18 #17: reports with a preamble are read below it, and GA4 acquisition reports load.

A preamble (GA4's '#' lines, a Google Ads download's title lines) is skipped, and every line
number the report gives is still the uploaded file's physical line. GA4 traffic and user
acquisition reports load into ``channel_sessions`` by channel group and period start. Every
file is written inline so its lines sit next to the expected numbers.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from dashboard import ingest
from dashboard.ingest import IngestError
from dashboard.workspace import store

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
GA4_PREAMBLE = (
    "# ----------------------------------------\n"
    "# Traffic acquisition: Session default channel group\n"
    "#\n"
    "# Start date: 20240101\n"
    "# End date: 20240131\n"
)  # 5 lines: the header is line 6


def query(workspace: Path, dataset: str, sql: str) -> list[tuple]:
    con = duckdb.connect(str(store.dataset_path(workspace, dataset)), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_rejected_rows_below_a_preamble_name_their_physical_lines(
    workspace: Path, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "traffic.csv",
        GA4_PREAMBLE
        + "Session default channel group,Week,Sessions,Engaged sessions,Key events,Total revenue\n"
        + "Direct,0000,100,50,2,20.00\n"  # line 7
        + "Email,0000,oops,5,1,10.00\n"  # line 8: sessions not a number
        + "Email,0001,10,5,1,10.00,extra\n"  # line 9: one cell too many
        + 'Organic Search,0001,40,20,"4",8.5\n',  # line 10
    )
    report = ingest.ingest_file(workspace, "t", path)
    # 4 data records below the 5 preamble lines and the header; the preamble is no record.
    assert (report.records_read, report.rows_read, report.rows_loaded, report.rows_rejected) == (
        4,
        4,
        2,
        2,
    )
    assert sorted((i.line_number, i.column, i.reason) for i in report.issues) == [
        (8, "Sessions", "not a whole number"),
        (9, None, "row has more columns than the header"),
    ]
    assert "The 5 line(s) above the header (the report's title or '#' comments) were skipped." in (
        report.notes
    )
    # Week 0000 starts on the start date, 0001 seven days later.
    assert query(
        workspace, "t", "SELECT * EXCLUDE (ingest_id) FROM channel_sessions ORDER BY 1"
    ) == [
        (dt.date(2024, 1, 1), "Direct", 100, 50, 2.0, Decimal("20.00")),
        (dt.date(2024, 1, 8), "Organic Search", 40, 20, 4.0, Decimal("8.50")),
    ]


def test_a_multi_line_cell_below_a_preamble_keeps_physical_line_numbers(
    workspace: Path, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "traffic.csv",
        GA4_PREAMBLE
        + "Session default channel group,Week,Sessions\n"
        + '"Direct\nchannel",0000,100\n'  # lines 7-8: a quoted cell over two lines
        + "Email,0000,-5\n",  # line 9: negative
    )
    report = ingest.ingest_file(workspace, "t", path)
    assert [(i.line_number, i.reason) for i in report.issues] == [(9, "negative value")]


def test_google_ads_title_lines_are_skipped(workspace: Path, tmp_path: Path) -> None:
    body = (FIXTURES / "google_ads_report.csv").read_text()
    path = write(tmp_path, "ads.csv", 'Campaign report\n"March 1, 2024 - April 30, 2024"\n' + body)
    assert ingest.describe_file(path).format == "google-ads"
    report = ingest.ingest_file(workspace, "a", path)
    # The fixture's Total row is its line 6; two title lines make it line 8.
    assert [(i.line_number, i.raw_value) for i in report.issues] == [(8, "Total: Account")]
    # Spend is kept per campaign: the month's totals add its campaigns up.
    monthly = "SELECT month, sum(spend) FROM marketing_spend GROUP BY 1 ORDER BY 1"
    assert query(workspace, "a", monthly) == [
        (dt.date(2024, 3, 1), Decimal("1018.00")),
        (dt.date(2024, 4, 1), Decimal("10.00")),
    ]


def test_daily_rows_add_up_into_weeks_starting_on_monday(workspace: Path, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "daily.csv",
        GA4_PREAMBLE + "First user primary channel group (Default Channel Group),Date,Sessions,"
        "Engaged sessions,Key events,Total revenue\n"
        + "Direct,20240101,10,4,1,5.00\n"  # Monday 1 January
        + "Direct,20240107,20,6,0,0\n"  # Sunday 7 January: same week
        + "Direct,20240108,5,1,1,2.50\n"  # Monday 8 January: next week
        + "Unassigned,20240103,3,0,0,0\n",
    )
    assert ingest.describe_file(path).format == "ga4-acquisition"
    report = ingest.ingest_file(workspace, "d", path)
    assert (report.rows_read, report.rows_loaded) == (4, 4)
    # Direct, week of 1 January: 10 + 20 sessions, 4 + 6 engaged, 1 + 0 key events, 5.00.
    assert query(
        workspace, "d", "SELECT * EXCLUDE (ingest_id) FROM channel_sessions ORDER BY 1, 2"
    ) == [
        (dt.date(2024, 1, 1), "Direct", 30, 10, 1.0, Decimal("5.00")),
        (dt.date(2024, 1, 1), "Unassigned", 3, 0, 0.0, Decimal("0.00")),
        (dt.date(2024, 1, 8), "Direct", 5, 1, 1.0, Decimal("2.50")),
    ]
    assert "2 rows were added up into 1 totals (rows sharing a key)." in report.notes
    again = ingest.ingest_file(workspace, "d", path)
    assert (again.rows_loaded, again.rows_duplicate) == (0, 4)


@pytest.mark.parametrize(
    ("period", "value", "expected"),
    [
        ("Week", "01", dt.date(2024, 1, 1)),  # week 01 holds 1 January (a Monday in 2024)
        ("Week", "02", dt.date(2024, 1, 7)),  # weeks start on Sunday: 31 Dec + 7 days
        ("Week", "2024-01-15", dt.date(2024, 1, 15)),
        ("Nth week", "0003", dt.date(2024, 1, 22)),  # 1 January + 3 x 7 days
        ("Month", "02", dt.date(2024, 2, 1)),
        ("Month", "202403", dt.date(2024, 3, 1)),
        ("Nth month", "0002", dt.date(2024, 3, 1)),
        ("Nth day", "0009", dt.date(2024, 1, 8)),  # 10 January, in the week of Monday 8th
    ],
)
def test_period_variants(
    workspace: Path, tmp_path: Path, period: str, value: str, expected: dt.date
) -> None:
    path = write(
        tmp_path,
        "p.csv",
        GA4_PREAMBLE + f"Session default channel group,{period},Sessions\nDirect,{value},7\n",
    )
    ingest.ingest_file(workspace, "p", path)
    assert query(workspace, "p", "SELECT week_start, sessions FROM channel_sessions") == [
        (expected, 7)
    ]


def test_week_numbers_without_a_start_date_are_rejected(workspace: Path, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "weeks.csv",
        "Session default channel group,Week,Sessions\nDirect,0001,7\nEmail,2024-01-08,3\n",
    )
    report = ingest.ingest_file(workspace, "w", path, file_format="ga4-acquisition")
    assert [(i.line_number, i.reason) for i in report.issues] == [
        (
            2,
            "period given as a number, but the report has no '# Start date' line to count it from",
        )
    ]
    assert query(workspace, "w", "SELECT week_start, channel FROM channel_sessions") == [
        (dt.date(2024, 1, 8), "Email")
    ]


def test_a_report_of_range_totals_is_refused(workspace: Path, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "totals.csv",
        GA4_PREAMBLE + "Session default channel group,Sessions,Key events\nDirect,100,3\n",
    )
    with pytest.raises(IngestError, match="^This GA4 report holds totals for its whole date"):
        ingest.ingest_file(workspace, "x", path)
    assert not store.dataset_exists(workspace, "x")


def test_a_report_with_a_preamble_and_unknown_columns_is_refused(
    workspace: Path, tmp_path: Path
) -> None:
    path = write(tmp_path, "pages.csv", GA4_PREAMBLE + "Page path,Views\n/home,10\n")
    detection = ingest.describe_file(path)
    assert detection.refusal.startswith("This file is a report with a title or '#' lines")
    with pytest.raises(IngestError, match="^This file is a report with a title"):
        ingest.ingest_file(workspace, "x", path)


def test_an_older_dataset_gets_the_new_tables(workspace: Path) -> None:
    ingest.ingest_file(workspace, "old", FIXTURES / "google_ads_report.csv")
    con = duckdb.connect(str(store.dataset_path(workspace, "old")))
    con.execute("DROP TABLE channel_sessions")
    con.execute("DROP TABLE checkout_lines")
    con.close()
    report = ingest.ingest_file(workspace, "old", FIXTURES / "ga4_traffic_acquisition_report.csv")
    assert report.rows_loaded == 3
    assert query(workspace, "old", "SELECT count(*) FROM checkout_lines") == [(0,)]
