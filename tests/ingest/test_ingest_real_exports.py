"""Real exports recognised (issue 18, items 13, 14, 15 and 17).

A Shopify abandoned-checkouts export with the orders export's 72-column header, compact and
epoch-microsecond dates, a GA4 BigQuery events export (sessions, or purchases as orders), Meta
Ads and Google Ads spend exports, a GA4 traffic acquisition report with its '#' preamble
(sessions by channel; more in test_ingest_ga4_reports.py), and a marketing file no table holds
(a Klaviyo campaign report). The fixtures are synthetic (tests/fixtures/README.md); every
expected number is computed by hand in a comment.
"""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from dashboard import cli, ingest
from dashboard.ingest import IngestError, validation, values
from dashboard.workspace import store

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CHECKOUTS_72 = FIXTURES / "shopify_checkouts_export_72.csv"


def query(workspace: Path, dataset: str, sql: str) -> list[tuple]:
    con = duckdb.connect(str(store.dataset_path(workspace, dataset)), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def rewrite(source: Path, target: Path, change) -> Path:
    """Copy the CSV ``source`` to ``target``, passing each data row (a dict) through ``change``."""
    with source.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
        header = list(rows[0])
    with target.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(change(dict(row)) for row in rows)
    return target


# --- 13: Shopify abandoned checkouts with the orders export's header ----------------------


def test_checkouts_export_with_the_full_orders_header_loads_as_checkouts(
    workspace: Path,
) -> None:
    headers = ingest.read_headers(CHECKOUTS_72)
    assert len(headers) == 72
    assert {"Financial Status", "Paid at", "Fulfillment Status"} <= set(headers)
    # The header alone is an orders export's: only the values tell.
    assert ingest.detect_format(headers) == "shopify-orders"
    detection = ingest.describe_file(CHECKOUTS_72)
    assert (detection.format, detection.confident, detection.refusal) == (
        "shopify-checkouts",
        True,
        None,
    )
    assert "checkout ids ('#36250846539853')" in detection.reason
    report = ingest.ingest_file(workspace, "shop", CHECKOUTS_72)
    assert report.table_name == "abandoned_checkouts"
    # 4 line-item rows fold into 3 checkouts; the third has no e-mail (a warning).
    assert (report.records_read, report.rows_read, report.rows_loaded) == (4, 3, 3)
    assert report.rows_warned == 1
    # Line items were only counted in a note before; they are now stored (issue 18 #13).
    assert "4 line items of the new checkouts were stored (checkout lines)." in report.notes
    assert query(
        workspace,
        "shop",
        "SELECT checkout_id, line_number, product, sku, quantity, price "
        "FROM checkout_lines ORDER BY checkout_id, line_number",
    ) == [
        ("#36250846539853", 1, "Ceramic Mug - Sand", "MUG-SND", 1, Decimal("24.00")),
        ("#36250846539853", 2, "Ceramic Mug - Moss", "MUG-MOS", 1, Decimal("24.00")),
        ("#36250912345678", 1, "Tea Towel", "TOWEL", 2, Decimal("7.75")),
        ("#36251000000001", 1, "Linen Apron - Rust", "APRON-R", 1, Decimal("30.00")),
    ]
    # Loaded again: the checkouts are duplicates, and none of their lines is stored twice.
    again = ingest.ingest_file(workspace, "shop", CHECKOUTS_72)
    assert (again.rows_loaded, again.rows_duplicate) == (0, 3)
    assert query(workspace, "shop", "SELECT count(*) FROM checkout_lines") == [(4,)]
    assert query(
        workspace,
        "shop",
        "SELECT checkout_id, customer_id, created_at, total "
        "FROM abandoned_checkouts ORDER BY checkout_id",
    ) == [
        ("#36250846539853", "ann@example.com", dt.datetime(2024, 3, 20, 21, 41), Decimal("48.00")),
        ("#36250912345678", "bob@example.com", dt.datetime(2024, 4, 2, 9, 5), Decimal("20.45")),
        ("#36251000000001", None, dt.datetime(2024, 4, 10, 18, 0), Decimal("30.00")),
    ]
    assert query(workspace, "shop", "SELECT count(*) FROM orders") == [(0,)]


def test_checkout_names_under_another_file_name_still_load_as_checkouts(
    workspace: Path, tmp_path: Path
) -> None:
    path = rewrite(CHECKOUTS_72, tmp_path / "export_1.csv", lambda row: row)
    assert ingest.describe_file(path).format == "shopify-checkouts"
    assert ingest.ingest_file(workspace, "shop", path).rows_loaded == 3


@pytest.mark.parametrize(
    ("file_name", "change", "evidence"),
    [
        # Checkout ids, but the payment columns are filled.
        (
            "export.csv",
            lambda row: {**row, "Financial Status": "paid" if row["Total"] else ""},
            "its names are checkout ids ('#36250846539853'), but its Financial Status",
        ),
        # Order numbers and payments, but the file name says checkouts.
        (
            "abandoned_checkouts.csv",
            lambda row: {
                **row,
                "Name": "#" + row["Name"][-4:],
                "Financial Status": "paid" if row["Total"] else "",
            },
            "its file name 'abandoned_checkouts.csv' says checkouts, but its names are order "
            "numbers ('#9853')",
        ),
    ],
)
def test_conflicting_signals_ask_for_the_file_kind(
    workspace: Path, tmp_path: Path, file_name: str, change, evidence: str
) -> None:
    path = rewrite(CHECKOUTS_72, tmp_path / file_name, change)
    detection = ingest.describe_file(path)
    assert detection.confident is False
    assert evidence in detection.refusal
    with pytest.raises(IngestError) as raised:
        ingest.ingest_file(workspace, "shop", path)
    message = str(raised.value)
    assert message.startswith("This Shopify export could be orders or abandoned checkouts: ")
    assert "--format shopify-orders or --format shopify-checkouts" in message
    assert not store.dataset_exists(workspace, "shop")
    # Choosing the kind loads it.
    report = ingest.ingest_file(workspace, "shop", path, file_format="shopify-checkouts")
    assert report.rows_loaded == 3


def test_the_cli_auto_path_reads_values_and_refuses_a_conflict(
    workspace: Path, tmp_path: Path, capsys
) -> None:
    args = ["ingest", "--workspace", str(workspace), "--dataset", "shop"]
    assert cli.main([*args, str(CHECKOUTS_72)]) == 0
    assert query(workspace, "shop", "SELECT count(*) FROM abandoned_checkouts") == [(3,)]
    conflict = rewrite(
        CHECKOUTS_72,
        tmp_path / "export.csv",
        lambda row: {**row, "Financial Status": "paid" if row["Total"] else ""},
    )
    capsys.readouterr()
    assert cli.main([*args, str(conflict)]) == 2
    assert "choose the file kind" in capsys.readouterr().err


def test_an_orders_export_stays_orders() -> None:
    detection = ingest.describe_file(FIXTURES / "shopify_orders_small.csv")
    assert (detection.format, detection.confident, detection.refusal) == (
        "shopify-orders",
        True,
        None,
    )


# --- 14: compact dates and epoch microseconds ---------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("20240315", dt.datetime(2024, 3, 15)),
        (" 19970101 ", dt.datetime(1997, 1, 1)),
        ("20240315T143000", dt.datetime(2024, 3, 15, 14, 30)),
        ("20240315T1430Z", dt.datetime(2024, 3, 15, 14, 30)),
        # 1,710,496,800 s = 2024-03-15 10:00:00 UTC; + 123,456 microseconds.
        ("1710496800123456", dt.datetime(2024, 3, 15, 10, 0, 0, 123456)),
        ("1710496800", dt.datetime(2024, 3, 15, 10, 0)),
        ("1710496800000", dt.datetime(2024, 3, 15, 10, 0)),
        ("20241315", None),  # month 13
        ("20240230", None),  # 30 February
        ("12345678901", None),  # 11 digits: no epoch unit fits
    ],
)
def test_compact_dates_and_epoch_microseconds(raw: str, expected: dt.datetime | None) -> None:
    sql = values.local_timestamp("v", values.DateOrder(None))
    con = duckdb.connect()
    assert con.execute(f"SELECT {sql} FROM (SELECT ? AS v)", [raw]).fetchone()[0] == expected


def test_a_file_of_compact_dates_loads(workspace: Path, tmp_path: Path) -> None:
    path = tmp_path / "cdnow.csv"
    path.write_text(
        "customer_id,date,amount\n00001,19970101,11.77\n00002,19970112,12.00\n"
        "00002,19970112T093000,77.00\n00003,19970230,20.76\n"
    )
    report = ingest.ingest_file(workspace, "cd", path)
    # Line 5 has 30 February: the only rejected row.
    assert (report.rows_loaded, report.rows_rejected) == (3, 1)
    assert report.reason_counts() == {validation.DATE_NOT_RECOGNISED: 1}
    assert query(
        workspace, "cd", "SELECT customer_id, ordered_at, order_total FROM orders ORDER BY 2"
    ) == [
        ("00001", dt.datetime(1997, 1, 1), Decimal("11.77")),
        ("00002", dt.datetime(1997, 1, 12), Decimal("12.00")),
        ("00002", dt.datetime(1997, 1, 12, 9, 30), Decimal("77.00")),
    ]


# --- 15: GA4 BigQuery events exports --------------------------------------------------------


def test_ga4_events_load_as_sessions(workspace: Path) -> None:
    path = FIXTURES / "ga4_events_export.csv"
    assert ingest.describe_file(path).format == "ga4-events"
    report = ingest.ingest_file(workspace, "ga", path)
    assert report.table_name == "sessions"
    # 8 events: session 501 (4 events), 502 (2), 601 (1), and one anonymous event.
    assert (report.records_read, report.rows_read, report.rows_loaded) == (8, 4, 4)
    assert report.rows_rejected == 0
    assert report.rows_warned == 1  # the anonymous event
    assert query(
        workspace,
        "ga",
        "SELECT customer_id, started_at, duration_seconds, pages_viewed, added_to_cart, "
        "purchased FROM sessions ORDER BY started_at, customer_id",
    ) == [
        # 10:00:00 to 10:03:30 = 210 s; two page_view events; an add_to_cart.
        ("1001.17", dt.datetime(2024, 3, 15, 10, 0), 210, 2, True, False),
        ("2002.42", dt.datetime(2024, 3, 15, 11, 0), 0, 1, False, False),
        (None, dt.datetime(2024, 3, 15, 11, 0, 5), 0, 0, False, False),
        # 10:00:00 to 10:01:00 = 60 s, with the purchase.
        ("1001.17", dt.datetime(2024, 3, 16, 10, 0), 60, 1, False, True),
    ]
    notes = " ".join(report.notes)
    assert "The 8 events were grouped into 4 sessions" in notes
    assert "loaded without a customer" not in notes


def test_ga4_purchase_events_load_as_orders(workspace: Path) -> None:
    path = FIXTURES / "ga4_purchases_export.csv"
    assert ingest.describe_file(path).format == "ga4-purchases"
    report = ingest.ingest_file(workspace, "ga", path)
    assert report.table_name == "orders"
    # 3 item rows of 2 transactions.
    assert (report.records_read, report.rows_read, report.rows_loaded) == (3, 2, 2)
    assert query(
        workspace,
        "ga",
        "SELECT order_id, customer_id, ordered_at, order_total, currency FROM orders ORDER BY 1",
    ) == [
        # 1,710,583,260 s = 2024-03-16 10:01:00 UTC; 1,712,052,000 s = 2024-04-02 10:00 UTC.
        ("T-9001", "1001.17", dt.datetime(2024, 3, 16, 10, 1), Decimal("55.00"), "USD"),
        ("T-9002", "2002.42", dt.datetime(2024, 4, 2, 10, 0), Decimal("24.00"), "USD"),
    ]
    assert query(
        workspace, "ga", "SELECT order_id, sku, quantity, price FROM order_lines ORDER BY 1, 2"
    ) == [
        ("T-9001", "SKU-1", 1, Decimal("24.00")),
        ("T-9001", "SKU-7", 2, Decimal("15.50")),
        ("T-9002", "SKU-1", 1, Decimal("24.00")),
    ]


def test_ga4_events_read_as_purchases_skip_the_other_events_with_a_note(
    workspace: Path,
) -> None:
    report = ingest.ingest_file(
        workspace, "ga", FIXTURES / "ga4_events_export.csv", file_format="ga4-purchases"
    )
    assert (report.rows_read, report.rows_loaded) == (1, 1)
    assert "7 rows are other events than purchases and were skipped" in " ".join(report.notes)


# --- 17: marketing exports ------------------------------------------------------------------


def test_meta_ads_export_loads_as_paid_social_spend(workspace: Path) -> None:
    path = FIXTURES / "meta_ads_export.csv"
    assert ingest.describe_file(path).format == "meta-ads"
    report = ingest.ingest_file(workspace, "ads", path)
    assert report.table_name == "marketing_spend"
    # March: 120.50 + 30.25 + 70.00 (the week of 29 March - 4 April counts in March) = 220.75.
    # April: 15 April - 31 May runs into May and is rejected, so April's key (with the 1000.00
    # of 5-11 April) is rejected whole rather than loaded short.
    assert query(workspace, "ads", "SELECT month, channel, spend FROM marketing_spend") == [
        (dt.date(2024, 3, 1), "Meta Ads", Decimal("220.75"))
    ]
    assert (report.rows_loaded, report.rows_rejected) == (3, 2)
    assert report.reason_counts() == {
        "reporting period runs into another month (export with a breakdown by day, week or "
        "month)": 1,
        "another row with the same key was rejected": 1,
    }
    notes = " ".join(report.notes)
    assert "Spend of 1 campaign was loaded, one total per month and campaign" in notes
    assert "1 rows of a week that runs into the next month were counted in the month" in notes
    assert "Amounts are in USD" in notes


def test_google_ads_report_loads_as_paid_search_spend(workspace: Path) -> None:
    path = FIXTURES / "google_ads_report.csv"
    assert ingest.describe_file(path).format == "google-ads"
    report = ingest.ingest_file(workspace, "ads", path)
    # Per month and campaign: March Search - Brand 12.34 + 1,000.00 = 1,012.34, PMax 5.66
    # (the month 1,018.00 as before); April 10.00; the Total row is rejected.
    assert query(
        workspace,
        "ads",
        "SELECT month, channel, campaign, spend FROM marketing_spend ORDER BY 1, 3",
    ) == [
        (dt.date(2024, 3, 1), "Google Ads", "PMax - All", Decimal("5.66")),
        (dt.date(2024, 3, 1), "Google Ads", "Search - Brand", Decimal("1012.34")),
        (dt.date(2024, 4, 1), "Google Ads", "Search - Brand", Decimal("10.00")),
    ]
    assert report.reason_counts() == {"a total row of the report (not a period's spend)": 1}


def test_a_marketing_file_no_table_holds_is_refused_in_one_sentence(workspace: Path) -> None:
    path = FIXTURES / "klaviyo_campaign_report.csv"
    start = "This is a Klaviyo campaign report"
    detection = ingest.describe_file(path)
    assert detection.refusal.startswith(start)
    assert ". " not in detection.refusal and detection.refusal.endswith(".")
    with pytest.raises(IngestError, match=f"^{start}"):
        ingest.ingest_file(workspace, "m", path)
    assert not store.dataset_exists(workspace, "m")


def test_a_ga4_traffic_acquisition_report_loads_below_its_preamble(workspace: Path) -> None:
    # Was refused ("no table for sessions by channel"); issue 18 #17 asks for it to load.
    path = FIXTURES / "ga4_traffic_acquisition_report.csv"
    detection = ingest.describe_file(path)
    assert (detection.format, detection.confident, detection.refusal) == (
        "ga4-acquisition",
        True,
        None,
    )
    report = ingest.ingest_file(workspace, "m", path)
    assert (report.table_name, report.rows_read, report.rows_loaded) == ("channel_sessions", 3, 3)
    # Week 0001 of a report starting 2024-01-01 starts 7 days later; 0002, 14 days later.
    assert query(
        workspace, "m", "SELECT week_start, channel, sessions FROM channel_sessions ORDER BY 1, 2"
    ) == [
        (dt.date(2024, 1, 8), "Direct", 900),
        (dt.date(2024, 1, 8), "Organic Search", 1200),
        (dt.date(2024, 1, 15), "Paid Social", 400),
    ]


def test_a_ga4_report_header_is_read_below_its_preamble() -> None:
    headers = ingest.read_headers(FIXTURES / "ga4_traffic_acquisition_report.csv")
    assert headers[:3] == [
        "Session primary channel group (Default Channel Group)",
        "Week",
        "Sessions",
    ]


def test_one_comment_line_is_still_a_header(tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_text("# of items,total\n3,9.00\n")
    assert ingest.read_headers(path) == ["# of items", "total"]
