"""Shopify orders and customers exports: folding, local times, header generations, re-uploads.

Expected values come from tests/fixtures/shopify_orders_small.csv (see fixtures/README.md):
physical lines are 1 header, 2-4 #2001 (its Note Attributes cell spans three lines), 5 #2001,
6 #2002, 7 #2003 (guest), 8 #2004, 9-10 #2005 (two-line note), 11 and 12 #2005.
"""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from dashboard import ingest
from dashboard.rfm import analysis
from dashboard.workspace import store

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SMALL = FIXTURES / "shopify_orders_small.csv"
# docs/ingest.md §2.1: 73 columns = 79 minus these six; 78 has all of them but Payment ID.
ADDED_IN_79 = ("Payment ID",)
ADDED_IN_78 = ("Outstanding Balance", "Employee", "Location", "Device ID", "Payment References")
ORDER_COLUMNS = (
    "order_id, customer_id, ordered_at, order_total, refunded_amount, net_total, currency, "
    "discount_code, is_cancelled, channel, country, source_name, utm_source, utm_medium, "
    "utm_campaign, referrer, tags, financial_status"
)


def query(workspace: Path, dataset: str, sql: str, params: list | None = None) -> list[tuple]:
    """Run ``sql`` on the stored dataset (read-only) and return all rows."""
    con = duckdb.connect(str(store.dataset_path(workspace, dataset)), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def rewrite(source: Path, target: Path, drop: tuple[str, ...] = (), **changes: str) -> Path:
    """Copy a CSV without the ``drop`` columns; ``changes`` maps 'Name|Column' to a new value."""
    with source.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    header = [c for c in rows[0] if c not in drop]
    for key, value in changes.items():
        name, column = key.split("|")
        for row in rows:
            if row["Name"] == name and row["Total"]:
                row[column] = value
    with target.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=header, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return target


def test_line_items_fold_into_orders(workspace: Path) -> None:
    report = ingest.ingest_file(workspace, "shop", SMALL)
    assert report.file_format == "shopify-orders" and report.table_name == "orders"
    # 8 line-item rows are 5 orders; the guest order loads with a warning
    assert (report.records_read, report.rows_read, report.rows_loaded) == (8, 5, 5)
    assert (report.rows_rejected, report.rows_duplicate, report.rows_warned) == (0, 0, 1)
    rows = query(workspace, "shop", f"SELECT {ORDER_COLUMNS} FROM orders ORDER BY order_id")
    assert rows == [
        # -0700 dropped: 21:41 local; e-mail lower-cased; utm lines of the note parsed
        (
            "#2001",
            "alice@example.com",
            dt.datetime(2024, 3, 20, 21, 41),
            Decimal("137.00"),
            Decimal("0.00"),
            Decimal("137.00"),
            "USD",
            "SPRING20",
            False,
            None,
            "US",
            "web",
            "google",
            "cpc",
            "brand",
            None,
            "vip, repeat",
            "paid",
        ),
        # -0800 (winter) kept as 17:30; 50.00 - 20.00 refunded; no billing country -> shipping
        (
            "#2002",
            "alice@example.com",
            dt.datetime(2024, 1, 17, 17, 30),
            Decimal("50.00"),
            Decimal("20.00"),
            Decimal("30.00"),
            "USD",
            None,
            False,
            "Instagram",
            "CA",
            "web",
            None,
            None,
            None,
            None,
            None,
            "partially_refunded",
        ),
        # guest order: no e-mail, kept for store totals; empty Refunded Amount = 0
        (
            "#2003",
            None,
            dt.datetime(2024, 11, 3, 1, 30),
            Decimal("0.00"),
            Decimal("0.00"),
            Decimal("0.00"),
            "USD",
            None,
            False,
            None,
            "GB",
            "pos",
            None,
            None,
            None,
            None,
            None,
            "paid",
        ),
        # Cancelled at set -> cancelled
        (
            "#2004",
            "bob@example.com",
            dt.datetime(2024, 5, 2, 9, 15),
            Decimal("39.54"),
            Decimal("0.00"),
            Decimal("39.54"),
            "USD",
            None,
            True,
            None,
            "DE",
            "shopify_draft_order",
            None,
            None,
            None,
            None,
            None,
            "voided",
        ),
        # " bob@example.com " trimmed; 23:30 on June 30 stays June 30 (UTC would be July 1)
        (
            "#2005",
            "bob@example.com",
            dt.datetime(2024, 6, 30, 23, 30),
            Decimal("100.00"),
            Decimal("0.00"),
            Decimal("100.00"),
            "USD",
            None,
            False,
            None,
            "US",
            "580111",
            None,
            None,
            None,
            "https://www.bing.com/",
            None,
            "paid",
        ),
    ]


def test_guest_order_is_kept_with_a_warning(workspace: Path) -> None:
    report = ingest.ingest_file(workspace, "shop", SMALL)
    assert [(i.line_number, i.column, i.severity, i.reason) for i in report.issues] == [
        (7, "Email", "warning", "no customer key: kept for store totals, not scored")
    ]
    assert query(workspace, "shop", "SELECT rows_warned FROM ingests") == [(1,)]
    assert query(workspace, "shop", "SELECT line_number, severity FROM ingest_issues") == [
        (7, "warning")
    ]


@pytest.mark.parametrize("drop", [(), ("Cancelled at",)], ids=["cancelled-at", "no-cancelled-at"])
def test_a_voided_order_is_cancelled_without_cancelled_at(
    workspace: Path, tmp_path: Path, drop: tuple[str, ...]
) -> None:
    # alice's #2001 (137.00 on 03-20) voided, Cancelled at empty; spelled as exports vary
    path = rewrite(SMALL, tmp_path / "voided.csv", drop, **{"#2001|Financial Status": " Voided "})
    ingest.ingest_file(workspace, "shop", path)
    assert query(workspace, "shop", "SELECT order_id, is_cancelled FROM orders ORDER BY 1") == [
        ("#2001", True),
        ("#2002", False),
        ("#2003", False),
        ("#2004", True),  # voided, and cancelled at 10:00 when that column is there
        ("#2005", False),
    ]
    base = analysis.load_customer_base(workspace, "shop")
    try:
        measures = base.measures.order_by("customer_id").to_pandas()
    finally:
        base.close()
    # as of 2024-11-03 (#2003): alice keeps #2002 alone, 01-17, 50.00 - 20.00 refunded, 291 days
    # before (14 + 29 + 31 + 30 + 31 + 30 + 31 + 31 + 30 + 31 + 3); bob keeps #2005, 06-30, 126
    assert measures[["customer_id", "frequency", "monetary", "recency_days"]].values.tolist() == [
        ["alice@example.com", 1, Decimal("30.00"), 291],
        ["bob@example.com", 1, Decimal("100.00"), 126],
    ]


def test_order_lines_keep_file_order_and_categories(workspace: Path) -> None:
    ingest.ingest_file(workspace, "shop", SMALL)
    lines = query(
        workspace,
        "shop",
        "SELECT order_id, line_number, product, sku, quantity, price, category, ingest_id "
        "FROM order_lines ORDER BY order_id, line_number",
    )
    assert lines == [
        ("#2001", 1, "Ceramic Mug - Sand", "MUG-SND", 2, Decimal("24.00"), "Ceramic Mug", 1),
        ("#2001", 2, "Pour-over Kettle", "KET-01", 1, Decimal("89.00"), "Kiln & Co", 1),
        (
            "#2002",
            1,
            "Coffee Beans 1kg - Ethiopia",
            "BEAN-ETH",
            1,
            Decimal("50.00"),
            "Coffee Beans 1kg",
            1,
        ),
        ("#2003", 1, "Sample Sachet", "SAMPLE", 1, Decimal("0.00"), "Roastery", 1),
        ("#2004", 1, "Gift Card", "GC-50", 1, Decimal("39.54"), "Store", 1),
        ("#2005", 1, "Ceramic Mug - Sand", "MUG-SND", 1, Decimal("24.00"), "Ceramic Mug", 1),
        (
            "#2005",
            2,
            "Coffee Beans 1kg - Ethiopia",
            "BEAN-ETH",
            2,
            Decimal("32.50"),
            "Coffee Beans 1kg",
            1,
        ),
        ("#2005", 3, "Gift Card", "GC-50", 1, Decimal("11.00"), "Store", 1),
    ]


@pytest.mark.parametrize(
    ("width", "drop"), [(79, ()), (78, ADDED_IN_79), (73, ADDED_IN_79 + ADDED_IN_78)]
)
def test_every_orders_header_generation_loads_the_same(
    workspace: Path, tmp_path: Path, width: int, drop: tuple[str, ...]
) -> None:
    path = rewrite(SMALL, tmp_path / f"orders_{width}.csv", drop=drop)
    headers = ingest.read_headers(path)
    assert len(headers) == width
    assert ingest.detect_format(headers) == "shopify-orders"
    reference = store.resolve_workspace(tmp_path / "reference")
    ingest.ingest_file(reference, "shop", SMALL)
    report = ingest.ingest_file(workspace, "shop", path)
    assert (report.rows_loaded, report.rows_rejected) == (5, 0)
    sql = f"SELECT {ORDER_COLUMNS} FROM orders ORDER BY order_id"
    assert query(workspace, "shop", sql) == query(reference, "shop", sql)
    lines = "SELECT * FROM order_lines ORDER BY order_id, line_number"
    assert query(workspace, "shop", lines) == query(reference, "shop", lines)


def test_columns_are_matched_by_name_not_position(workspace: Path, tmp_path: Path) -> None:
    with SMALL.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    shuffled = tmp_path / "reversed.csv"
    with shuffled.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(row[::-1] for row in rows)
    report = ingest.ingest_file(workspace, "shop", shuffled)
    assert report.rows_loaded == 5
    # 137.00 + (50.00 - 20.00) + 0.00 + 39.54 + 100.00
    assert query(workspace, "shop", "SELECT sum(net_total) FROM orders") == [(Decimal("306.54"),)]
    assert query(workspace, "shop", "SELECT count(*) FROM order_lines") == [(8,)]


def test_the_shared_example_export_loads_cleanly(workspace: Path) -> None:
    path = FIXTURES / "shopify_orders_export_example.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    first_rows = [r for r in rows if r["Total"]]
    report = ingest.ingest_file(workspace, "shop", path)
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (40, 40, 0)
    assert report.records_read == len(rows) == 76
    # #1005 is the one guest order
    assert [(i.line_number, i.reason) for i in report.issues] == [
        (15, "no customer key: kept for store totals, not scored")
    ]
    totals = query(
        workspace,
        "shop",
        "SELECT sum(order_total), sum(refunded_amount), count(*) FILTER (WHERE is_cancelled) "
        "FROM orders",
    )
    expected_total = sum(Decimal(r["Total"]) for r in first_rows)
    # refunds: #1012 61.95 (refunded) + #1030 50.00 (partially); cancelled: #1007 and #1021
    assert totals == [(expected_total, Decimal("111.95"), 2)]
    assert query(workspace, "shop", "SELECT count(*) FROM order_lines") == [(len(rows),)]
    assert query(
        workspace,
        "shop",
        "SELECT utm_source, utm_medium, utm_campaign FROM orders WHERE order_id = '#1003'",
    ) == [("google", "cpc", "brand")]


def assert_keys_unique(workspace: Path, dataset: str) -> None:
    """Orders and order lines have no PRIMARY KEY: ingest alone keeps their keys unique."""
    assert query(workspace, dataset, "SELECT count(*) - count(DISTINCT order_id) FROM orders") == [
        (0,)
    ]
    assert query(
        workspace,
        dataset,
        "SELECT count(*) - count(DISTINCT (order_id, line_number)) FROM order_lines",
    ) == [(0,)]


def test_reupload_is_idempotent(workspace: Path) -> None:
    ingest.ingest_file(workspace, "shop", SMALL)
    before = query(workspace, "shop", "SELECT * FROM orders ORDER BY order_id")
    again = ingest.ingest_file(workspace, "shop", SMALL)
    assert (again.rows_read, again.rows_loaded, again.rows_duplicate) == (5, 0, 5)
    assert (again.rows_rejected, again.rows_warned, again.ingest_id) == (0, 0, 2)
    assert query(workspace, "shop", "SELECT * FROM orders ORDER BY order_id") == before
    assert query(workspace, "shop", "SELECT count(*) FROM order_lines") == [(8,)]
    assert_keys_unique(workspace, "shop")
    assert query(
        workspace, "shop", "SELECT ingest_id, rows_loaded, rows_duplicate FROM ingests ORDER BY 1"
    ) == [(1, 5, 0), (2, 0, 5)]


def test_overlapping_exports_add_only_new_orders(workspace: Path, tmp_path: Path) -> None:
    with SMALL.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    later = tmp_path / "later.csv"
    with later.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(r for r in rows if r["Name"] == "#2005")
        writer.writerow({**rows[-1], "Name": "#2006", "Total": "11.00", "Created at": "2024-07-01"})
    ingest.ingest_file(workspace, "shop", SMALL)
    report = ingest.ingest_file(workspace, "shop", later)
    assert (report.rows_read, report.rows_loaded, report.rows_duplicate) == (2, 1, 1)
    assert query(workspace, "shop", "SELECT count(*) FROM orders") == [(6,)]
    assert query(workspace, "shop", "SELECT count(*) FROM order_lines") == [(9,)]


def test_two_overlapping_date_ranges_collapse_duplicates_and_report_conflicts(
    workspace: Path, tmp_path: Path
) -> None:
    with SMALL.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))

    def export(name: str, orders: tuple[str, ...], **refunds: str) -> Path:
        path = tmp_path / name
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            for row in rows:
                if row["Name"] in orders:
                    refund = refunds.get(row["Name"].lstrip("#"))
                    writer.writerow(
                        {**row, "Refunded Amount": refund} if refund and row["Total"] else row
                    )
        return path

    # January-June, then May-November: #2004 and #2005 are in both; #2005 was refunded since
    first = export("jan-jun.csv", ("#2001", "#2002", "#2004", "#2005"))
    second = export("may-nov.csv", ("#2004", "#2005", "#2003"), **{"2005": "10.00"})
    assert ingest.ingest_file(workspace, "shop", first).rows_loaded == 4
    report = ingest.ingest_file(workspace, "shop", second)
    assert (report.rows_read, report.rows_loaded, report.rows_duplicate, report.rows_rejected) == (
        3,
        1,
        1,
        1,
    )
    assert [(i.column, i.reason, i.raw_value) for i in report.issues] == [
        ("Email", "no customer key: kept for store totals, not scored", None),  # #2003, a guest
        ("Name", "order id already loaded with different values", "#2005"),
    ]
    assert query(workspace, "shop", "SELECT order_id, refunded_amount FROM orders ORDER BY 1") == [
        ("#2001", 0),
        ("#2002", Decimal("20.00")),
        ("#2003", 0),
        ("#2004", 0),
        ("#2005", 0),
    ]
    assert query(workspace, "shop", "SELECT count(*) FROM order_lines") == [(8,)]
    assert_keys_unique(workspace, "shop")


def test_an_order_pasted_twice_into_one_file_is_read_once(workspace: Path, tmp_path: Path) -> None:
    text = SMALL.read_text(encoding="utf-8")
    last_order = text[text.index("#2005,") :]  # #2005 and its three line items, at the end
    path = tmp_path / "pasted.csv"
    path.write_text(text + last_order, encoding="utf-8")
    report = ingest.ingest_file(workspace, "shop", path)
    assert (report.records_read, report.rows_read, report.rows_loaded) == (11, 5, 5)
    assert (
        "1 orders appear more than once in this file (overlapping exports pasted together?); "
        "each was read once, from its first copy." in report.notes
    )
    assert query(workspace, "shop", "SELECT count(*) FROM order_lines") == [(8,)]


def test_unreadable_line_item_values_warn_but_keep_the_order(
    workspace: Path, tmp_path: Path
) -> None:
    text = SMALL.read_text(encoding="utf-8")
    # line 5 is #2001's second item: quantity "1" -> "one"; line 11 is #2005's second item
    text = text.replace(",1,Pour-over Kettle,89.00,", ",one,Pour-over Kettle,89.00,")
    text = text.replace(
        ",2,Coffee Beans 1kg - Ethiopia,32.50,", ",2,Coffee Beans 1kg - Ethiopia,n/a,"
    )
    path = tmp_path / "odd_lines.csv"
    path.write_text(text, encoding="utf-8")
    report = ingest.ingest_file(workspace, "shop", path)
    assert (report.rows_loaded, report.rows_rejected) == (5, 0)
    assert [
        (i.line_number, i.column, i.reason, i.raw_value)
        for i in report.issues
        if i.reason.startswith("line item")
    ] == [
        (5, "Lineitem quantity", "line item quantity is not a whole number (left empty)", "one"),
        (11, "Lineitem price", "line item price is not a number (left empty)", "n/a"),
    ]
    assert query(
        workspace,
        "shop",
        "SELECT order_id, line_number, quantity, price FROM order_lines "
        "WHERE quantity IS NULL OR price IS NULL ORDER BY 1",
    ) == [("#2001", 2, None, Decimal("89.00")), ("#2005", 2, 2, None)]


def test_a_changed_order_is_rejected_not_overwritten(workspace: Path, tmp_path: Path) -> None:
    ingest.ingest_file(workspace, "shop", SMALL)
    refunded = rewrite(SMALL, tmp_path / "refunded.csv", **{"#2001|Refunded Amount": "10.00"})
    report = ingest.ingest_file(workspace, "shop", refunded)
    assert (report.rows_loaded, report.rows_duplicate, report.rows_rejected) == (0, 4, 1)
    [issue] = [i for i in report.issues if i.severity == "rejected"]
    assert (issue.line_number, issue.column, issue.reason, issue.raw_value) == (
        2,
        "Name",
        "order id already loaded with different values",
        "#2001",
    )
    assert query(
        workspace, "shop", "SELECT refunded_amount FROM orders WHERE order_id = '#2001'"
    ) == [(Decimal("0.00"),)]


@pytest.mark.parametrize(
    "name",
    ["shopify_customers_2023.csv", "shopify_customers_2021.csv", "shopify_customers_2018.csv"],
)
def test_every_customers_header_generation_loads(workspace: Path, name: str) -> None:
    path = FIXTURES / name
    assert ingest.detect_format(ingest.read_headers(path)) == "shopify-customers"
    report = ingest.ingest_file(workspace, "shop", path)
    assert report.table_name == "customers" and report.rows_rejected == 0
    rows = query(
        workspace,
        "shop",
        "SELECT customer_id, email, first_name, accepts_marketing, accepts_sms, country, city, "
        "tags, total_spent, total_orders FROM customers WHERE email IS NOT NULL ORDER BY 1",
    )
    sms = name != "shopify_customers_2018.csv" or None  # the oldest export has no SMS column
    assert rows == [
        (
            "alice@example.com",
            "alice@example.com",
            "Alice",
            True,
            False if sms else None,
            "US",
            "Portland",
            "vip, repeat",
            Decimal("187.00"),
            2,
        ),
        (
            "bob@example.com",
            "bob@example.com",
            "Bob",
            False,
            True if sms else None,
            "DE",
            "Berlin",
            None,
            Decimal("139.54"),
            2,
        ),
        # a prospect: no orders yet
        (
            "lead@example.com",
            "lead@example.com",
            "Lea",
            True,
            False if sms else None,
            "GB",
            "Leeds",
            "newsletter",
            Decimal("0.00"),
            0,
        ),
    ]


def test_customer_without_email_is_keyed_by_customer_id_with_a_warning(workspace: Path) -> None:
    report = ingest.ingest_file(workspace, "shop", FIXTURES / "shopify_customers_2023.csv")
    assert (report.rows_read, report.rows_loaded, report.rows_warned) == (4, 4, 1)
    [warning] = report.issues
    assert (warning.line_number, warning.severity, warning.raw_value) == (
        5,
        "warning",
        "7100000000004",
    )
    assert warning.reason == "no email: keyed by Customer ID, so it cannot match orders"
    assert any("keyed by their Customer ID" in note for note in report.notes)
    assert query(
        workspace,
        "shop",
        "SELECT email, country FROM customers WHERE customer_id = ?",
        ["7100000000004"],
    ) == [(None, "CA")]


def test_customers_reupload_skips_identical_and_updates_changed(
    workspace: Path, tmp_path: Path
) -> None:
    ingest.ingest_file(workspace, "shop", FIXTURES / "shopify_customers_2021.csv")
    same = ingest.ingest_file(workspace, "shop", FIXTURES / "shopify_customers_2021.csv")
    assert (same.rows_loaded, same.rows_duplicate) == (0, 3)
    changed = tmp_path / "customers.csv"
    changed.write_text(
        (FIXTURES / "shopify_customers_2021.csv")
        .read_text(encoding="utf-8")
        .replace("139.54,2", "200.00,3"),
        encoding="utf-8",
    )
    report = ingest.ingest_file(workspace, "shop", changed)
    assert (report.rows_loaded, report.rows_duplicate) == (1, 2)
    assert "1 customers already in the dataset were updated with this file's values." in (
        report.notes
    )
    assert query(
        workspace,
        "shop",
        "SELECT total_spent, total_orders, ingest_id FROM customers "
        "WHERE customer_id = 'bob@example.com'",
    ) == [(Decimal("200.00"), 3, 3)]


def test_the_shared_customers_example_loads_prospects(workspace: Path) -> None:
    report = ingest.ingest_file(
        workspace, "shop", FIXTURES / "shopify_customers_export_example.csv"
    )
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (24, 24, 0)
    assert report.issues == []
    assert query(
        workspace,
        "shop",
        "SELECT count(*) FILTER (WHERE total_orders = 0), count(*) FROM customers",
    ) == [(6, 24)]


def test_checkouts_export_is_not_taken_for_orders() -> None:
    with SMALL.open(encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    checkouts = [
        h
        for h in header
        if h not in ("Financial Status", "Paid at", "Cancelled at", "Refunded Amount")
    ]
    assert ingest.detect_format(header) == "shopify-orders"
    assert ingest.detect_format(checkouts) == "shopify-checkouts"


def test_missing_shopify_column_is_named(workspace: Path, tmp_path: Path) -> None:
    path = rewrite(SMALL, tmp_path / "no_created.csv", drop=("Created at",))
    with pytest.raises(ingest.IngestError) as caught:
        ingest.ingest_file(workspace, "shop", path, file_format="shopify-orders")
    assert str(caught.value) == (
        "Missing required column: Created at (this is not a complete Shopify orders export)."
    )
    assert not store.dataset_exists(workspace, "shop")


def test_demo_store_loads_without_rejections(demo_dataset: tuple[Path, str]) -> None:
    workspace, name = demo_dataset
    history = query(
        workspace, name, "SELECT file_format, rows_read, rows_loaded, rows_rejected FROM ingests"
    )
    assert [h[0] for h in history] == ["shopify-orders", "shopify-customers"]
    assert all(rows_read == loaded and rejected == 0 for _, rows_read, loaded, rejected in history)
    assert history[0][2] > 50_000
    assert query(workspace, name, "SELECT count(*) FROM orders") == [(history[0][2],)]
