"""The other tables: sessions, marketing spend, survey scores, abandoned checkouts, order lines
and customers, each with its mapping step (or its header) and the same report as orders.

Files are written inline (header = line 1) with hand-computed expectations.
"""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from dashboard import ingest
from dashboard.ingest import IngestError, ledger
from dashboard.workspace import store

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SMALL = FIXTURES / "shopify_orders_small.csv"
# The columns an abandoned checkouts export lacks (they only make sense for an order).
ORDER_ONLY = (
    "Financial Status",
    "Paid at",
    "Fulfillment Status",
    "Fulfilled at",
    "Lineitem fulfillment status",
    "Cancelled at",
    "Refunded Amount",
    "Outstanding Balance",
    "Receipt Number",
)
SESSIONS = """\
customer_email,started_at,duration_seconds,pages_viewed,added_to_cart,purchased
Ann@Example.com,2024-03-01 10:00:00,420,5,true,false
ann@example.com,2024-03-02 11:00:00,7:05,3,no,yes
,2024-03-03 12:00:00,0:01:10,1,false,false
bob@example.com,2024-03-04 13:00:00,long,two,maybe,false
bob@example.com,not a date,60,1,false,false
"""
SPEND = """\
Date,Channel,Cost,Purpose
2025-03-01,Google Ads,100.00,acquisition
2025-03-15,Google Ads,50.50,acquisition
03/2025,Meta Ads,200,
March 2025,Klaviyo,45,Retention
2025-04,Google Ads,-5,acquisition
2025-04,Meta Ads,30,brand
,Meta Ads,1,
"""
SURVEYS = """\
email,score,date
ann@example.com,9,2024-05-01
BOB@example.com,"7,5",2024-05-02
,10,2024-05-03
carol@example.com,great,2024-05-04
dan@example.com,3,
"""
LINES = """\
Order ID,Product,SKU,Qty,Unit Price
A-1,Ceramic Mug,MUG-1,2,12.00
A-1,Kettle,KET-1,1,45.00
A-2,Ceramic Mug,MUG-1,one,12.00
,Ceramic Mug,MUG-1,1,12.00
"""
CUSTOMERS = """\
Customer ID,Email,First Name,Newsletter,Country,Total Orders
c-1,Ann@Example.com,Ann,yes,DE,3
c-2,,Bob,no,FR,0
c-3,carol@example.com,Carol,maybe,GB,x
,dan@example.com,Dan,yes,US,1
"""


def query(workspace: Path, dataset: str, sql: str, params: list | None = None) -> list[tuple]:
    """Run ``sql`` on the stored dataset (read-only) and return all rows."""
    con = duckdb.connect(str(store.dataset_path(workspace, dataset)), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def snapshot(workspace: Path, dataset: str) -> dict[str, list[tuple]]:
    """Every canonical table's rows, sorted: equal snapshots mean an unchanged dataset."""
    return {
        table: sorted(query(workspace, dataset, f"SELECT * FROM {table}"), key=repr)
        for table in store.SCHEMA
    }


def write(tmp_path: Path, text: str, name: str) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def issues(report: ingest.IngestReport) -> list[tuple]:
    return [(i.line_number, i.column, i.severity, i.reason, i.raw_value) for i in report.issues]


def checkouts_export(target: Path) -> Path:
    """The small orders fixture as Shopify exports abandoned checkouts: no order-only columns."""
    with SMALL.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    header = [c for c in rows[0] if c not in ORDER_ONLY]
    with target.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=header, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return target


def test_sessions_map_parse_and_warn(workspace: Path, tmp_path: Path) -> None:
    path = write(tmp_path, SESSIONS, "sessions.csv")
    headers = ingest.read_headers(path)
    assert ingest.detect_format(headers) == "sessions"
    assert ingest.guess_mapping(headers, "sessions") == {
        "customer_id": "customer_email",
        "started_at": "started_at",
        "duration_seconds": "duration_seconds",
        "pages_viewed": "pages_viewed",
        "added_to_cart": "added_to_cart",
        "purchased": "purchased",
    }
    report = ingest.ingest_file(workspace, "shop", path)
    assert (report.table_name, report.rows_read, report.rows_loaded, report.rows_rejected) == (
        "sessions",
        5,
        4,
        1,
    )
    assert query(workspace, "shop", "SELECT * EXCLUDE (ingest_id) FROM sessions ORDER BY 2") == [
        ("ann@example.com", dt.datetime(2024, 3, 1, 10), 420, 5, True, False),
        ("ann@example.com", dt.datetime(2024, 3, 2, 11), 425, 3, False, True),  # 7:05
        (None, dt.datetime(2024, 3, 3, 12), 70, 1, False, False),  # 0:01:10, anonymous
        ("bob@example.com", dt.datetime(2024, 3, 4, 13), None, None, None, False),
    ]
    assert issues(report) == [
        (
            4,
            "customer_email",
            "warning",
            "no customer key: kept for store totals, not scored",
            None,
        ),
        # one row's issues in the order of their reasons
        (5, "added_to_cart", "warning", "added to cart is not yes or no (left empty)", "maybe"),
        (
            5,
            "duration_seconds",
            "warning",
            "duration is not seconds or minutes:seconds (left empty)",
            "long",
        ),
        (5, "pages_viewed", "warning", "pages viewed is not a whole number (left empty)", "two"),
        (
            6,
            "started_at",
            "rejected",
            "date not recognised (use YYYY-MM-DD or YYYY-MM-DD HH:MM:SS)",
            "not a date",
        ),
    ]
    again = ingest.ingest_file(workspace, "shop", path)
    assert (again.rows_loaded, again.rows_duplicate, again.rows_rejected) == (0, 4, 1)


def test_a_session_loaded_with_other_values_is_a_reported_conflict(
    workspace: Path, tmp_path: Path
) -> None:
    ingest.ingest_file(workspace, "shop", write(tmp_path, SESSIONS, "sessions.csv"))
    changed = SESSIONS.replace("420,5,true", "421,5,true") + SESSIONS.splitlines()[1] + "\n"
    report = ingest.ingest_file(workspace, "shop", write(tmp_path, changed, "changed.csv"))
    # line 2 changed; the copy of it at line 7 repeats line 2 with other values than stored
    assert (report.rows_loaded, report.rows_duplicate, report.rows_rejected) == (0, 3, 3)
    assert [(i.line_number, i.reason) for i in report.issues if i.severity == "rejected"] == [
        (2, "already loaded with different values"),
        (6, "date not recognised (use YYYY-MM-DD or YYYY-MM-DD HH:MM:SS)"),
        (7, "listed earlier in this file with different values"),
    ]
    assert query(workspace, "shop", "SELECT count(*), sum(duration_seconds) FROM sessions") == [
        (4, 915)
    ]


def test_marketing_spend_is_added_up_per_month_channel_and_purpose(
    workspace: Path, tmp_path: Path
) -> None:
    path = write(tmp_path, SPEND, "spend.csv")
    assert ingest.detect_format(ingest.read_headers(path)) == "marketing-spend"
    report = ingest.ingest_file(workspace, "shop", path)
    # 7 rows: 4 loaded into 3 totals of March, 1 of April with a warning; 2 rejected
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (7, 5, 2)
    assert query(
        workspace, "shop", "SELECT * EXCLUDE (ingest_id) FROM marketing_spend ORDER BY 1, 2"
    ) == [
        # campaign (last) is NULL: the file has no campaign column
        (dt.date(2025, 3, 1), "Google Ads", Decimal("150.50"), "acquisition", None),
        (dt.date(2025, 3, 1), "Klaviyo", Decimal("45.00"), "retention", None),
        (dt.date(2025, 3, 1), "Meta Ads", Decimal("200.00"), None, None),
        (dt.date(2025, 4, 1), "Meta Ads", Decimal("30.00"), "brand", None),
    ]
    assert issues(report) == [
        (6, "Cost", "rejected", "negative spend", "-5"),
        (
            7,
            "Purpose",
            "warning",
            "purpose is neither acquisition nor retention (counted as acquisition)",
            "brand",
        ),
        (8, "Date", "rejected", "missing month", None),
    ]
    assert "2 rows were added up into 1 totals (rows sharing a key)." in report.notes
    again = ingest.ingest_file(workspace, "shop", path)
    assert (again.rows_loaded, again.rows_duplicate, again.rows_rejected) == (0, 5, 2)


def test_spend_of_a_month_loaded_with_another_total_is_rejected_whole(
    workspace: Path, tmp_path: Path
) -> None:
    ingest.ingest_file(workspace, "shop", write(tmp_path, SPEND, "spend.csv"))
    before = snapshot(workspace, "shop")
    more = "month,channel,spend\n2025-03-20,Google Ads,10\n2025-03-21,Google Ads,ten\n"
    report = ingest.ingest_file(
        workspace,
        "shop",
        write(tmp_path, more, "more.csv"),
        mapping={"month": "month", "channel": "channel", "spend": "spend"},
    )
    # March Google Ads has a rejected row: the key is rejected whole, its total would be short
    assert [(i.line_number, i.reason) for i in report.issues] == [
        (2, "another row with the same key was rejected"),
        (3, "amount is not a number"),
    ]
    assert snapshot(workspace, "shop")["marketing_spend"] == before["marketing_spend"]


def test_survey_scores(workspace: Path, tmp_path: Path) -> None:
    path = write(tmp_path, SURVEYS, "nps.csv")
    assert ingest.detect_format(ingest.read_headers(path)) == "surveys"
    report = ingest.ingest_file(workspace, "shop", path, decimal=",")
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (5, 3, 2)
    assert query(
        workspace, "shop", "SELECT * EXCLUDE (ingest_id) FROM survey_scores ORDER BY 1"
    ) == [
        ("ann@example.com", dt.datetime(2024, 5, 1), 9.0),
        ("bob@example.com", dt.datetime(2024, 5, 2), 7.5),
        ("dan@example.com", None, 3.0),
    ]
    assert [(i.line_number, i.reason, i.raw_value) for i in report.issues] == [
        (4, "no customer key", None),
        (5, "score is not a number", "great"),
    ]


def test_abandoned_checkouts_export(workspace: Path, tmp_path: Path) -> None:
    path = checkouts_export(tmp_path / "checkouts.csv")
    assert ingest.detect_format(ingest.read_headers(path)) == "shopify-checkouts"
    report = ingest.ingest_file(workspace, "shop", path)
    assert (report.records_read, report.rows_read, report.rows_loaded) == (8, 5, 5)
    assert report.table_name == "abandoned_checkouts"
    assert query(
        workspace, "shop", "SELECT * EXCLUDE (ingest_id) FROM abandoned_checkouts ORDER BY 1"
    ) == [
        ("#2001", "alice@example.com", dt.datetime(2024, 3, 20, 21, 41), 137, "USD", "web"),
        ("#2002", "alice@example.com", dt.datetime(2024, 1, 17, 17, 30), 50, "USD", "web"),
        ("#2003", None, dt.datetime(2024, 11, 3, 1, 30), 0, "USD", "pos"),
        ("#2004", "bob@example.com", dt.datetime(2024, 5, 2, 9, 15), Decimal("39.54"), "USD",
         "shopify_draft_order"),
        ("#2005", "bob@example.com", dt.datetime(2024, 6, 30, 23, 30), 100, "USD", "580111"),
    ]  # fmt: skip
    assert [(i.line_number, i.severity, i.reason) for i in report.issues] == [
        (7, "warning", "no e-mail: kept, but it cannot be matched to a customer")
    ]
    assert query(workspace, "shop", "SELECT count(*) FROM orders") == [(0,)]
    again = ingest.ingest_file(workspace, "shop", path)
    assert (again.rows_loaded, again.rows_duplicate) == (0, 5)


def test_order_lines_are_numbered_per_order(workspace: Path, tmp_path: Path) -> None:
    path = write(tmp_path, LINES, "lines.csv")
    assert ingest.detect_format(ingest.read_headers(path)) == "order-lines"
    report = ingest.ingest_file(workspace, "shop", path)
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (4, 3, 1)
    assert query(
        workspace, "shop", "SELECT * EXCLUDE (ingest_id) FROM order_lines ORDER BY 1, 2"
    ) == [
        # order id, line, product, SKU, quantity, price, freight, category
        ("A-1", 1, "Ceramic Mug", "MUG-1", 2, Decimal("12.00"), None, None),
        ("A-1", 2, "Kettle", "KET-1", 1, Decimal("45.00"), None, None),
        ("A-2", 1, "Ceramic Mug", "MUG-1", None, Decimal("12.00"), None, None),
    ]
    assert [(i.line_number, i.severity, i.reason) for i in report.issues] == [
        (4, "warning", "quantity is not a whole number (left empty)"),
        (5, "rejected", "missing order id"),
    ]
    assert (
        "3 lines belong to 2 orders that are not in the dataset yet; load the orders file too, "
        "with the same order ids, to see them in order figures." in report.notes
    )


def test_generic_customers(workspace: Path, tmp_path: Path) -> None:
    path = write(tmp_path, CUSTOMERS, "people.csv")
    assert ingest.detect_format(ingest.read_headers(path)) == "customers"
    mapping = ingest.guess_mapping(ingest.read_headers(path), "customers")
    assert {f: h for f, h in mapping.items() if h} == {
        "customer_id": "Email",
        "first_name": "First Name",
        "accepts_marketing": "Newsletter",
        "country": "Country",
        "total_orders": "Total Orders",
    }
    # this store keys customers by its own id: the analyst says so
    mapping.update(customer_id="Customer ID", email="Email")
    report = ingest.ingest_file(workspace, "shop", path, file_format="customers", mapping=mapping)
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (4, 3, 1)
    assert query(
        workspace,
        "shop",
        "SELECT customer_id, email, first_name, accepts_marketing, country, total_orders "
        "FROM customers ORDER BY 1",
    ) == [
        ("c-1", "ann@example.com", "Ann", True, "DE", 3),
        ("c-2", None, "Bob", False, "FR", 0),
        ("c-3", "carol@example.com", "Carol", None, "GB", None),
    ]
    assert [(i.line_number, i.severity, i.reason) for i in report.issues] == [
        (4, "warning", "accepts marketing is not yes or no (left empty)"),
        (4, "warning", "total orders is not a whole number (left empty)"),
        (5, "rejected", "no customer key (no email or Customer ID)"),
    ]


@pytest.mark.parametrize(
    ("file_format", "text", "message"),
    [
        (
            "sessions",
            "customer,duration\na,5\n",
            "Missing required column: started at (map it to one of the file's columns).",
        ),
        (
            "marketing-spend",
            "month,channel\n2025-01,Google Ads\n",
            "Missing required column: spend (map it to one of the file's columns).",
        ),
        (
            "surveys",
            "email,date\na@x.com,2024-01-01\n",
            "Missing required column: score (map it to one of the file's columns).",
        ),
        (
            "order-lines",
            "product,qty\nMug,1\n",
            "Missing required column: order id (map it to one of the file's columns).",
        ),
        (
            "customers",
            "first name,country\nAnn,DE\n",
            "Missing required column: customer (map it to one of the file's columns).",
        ),
        (
            "shopify-checkouts",
            "Name,Email,Total\n#1,a@x.com,1.00\n",
            "Missing required column: Created at (this is not a complete Shopify abandoned "
            "checkouts export).",
        ),
        (
            "woocommerce-orders",
            "Order Number;Order Date;Order Total Amount\n1;2025/01/01 10:00;5\n",
            "Missing required column: Order Status (this is not a complete WooCommerce order "
            "export).",
        ),
        (
            "uci-online-retail",
            "InvoiceNo,StockCode,Quantity,InvoiceDate\n1,A,1,12/1/2010 8:26\n",
            "Missing required column: UnitPrice (this is not a complete UCI Online Retail file).",
        ),
        (
            "sessions",
            "customer,started,duration\na,03/04/2024 10:00,5\n",
            "Dates in 'started' such as '03/04/2024 10:00' (line 2) could be day-first or "
            "month-first, and no date in the file tells which: choose the date order and load "
            "the file again ('Date order' in the app; --date-order day-first or --date-order "
            "month-first on the command line).",
        ),
    ],
)
def test_a_failed_load_of_any_new_format_changes_nothing(
    workspace: Path, tmp_path: Path, file_format: str, text: str, message: str
) -> None:
    ingest.ingest_file(workspace, "shop", write(tmp_path, SESSIONS, "sessions.csv"))
    ingest.ingest_file(workspace, "shop", write(tmp_path, SPEND, "spend.csv"))
    before = snapshot(workspace, "shop")
    path = write(tmp_path, text, "bad.csv")
    for dataset in ("shop", "fresh"):
        with pytest.raises(IngestError) as caught:
            ingest.ingest_file(workspace, dataset, path, file_format=file_format)
        assert str(caught.value) == message
    assert snapshot(workspace, "shop") == before
    assert not store.dataset_exists(workspace, "fresh")


@pytest.mark.parametrize(
    ("name", "text"),
    [("sessions.csv", SESSIONS), ("spend.csv", SPEND), ("lines.csv", LINES), ("nps.csv", SURVEYS)],
)
def test_a_failure_while_writing_a_table_rolls_everything_back(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, text: str
) -> None:
    ingest.ingest_file(workspace, "shop", checkouts_export(tmp_path / "checkouts.csv"))
    before = snapshot(workspace, "shop")

    def fail(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    # the rows are inserted by then: the failure comes after them, inside the transaction
    monkeypatch.setattr(ledger, "finish_report", fail)
    with pytest.raises(IngestError, match="unexpected error; nothing was changed"):
        ingest.ingest_file(workspace, "shop", write(tmp_path, text, name), decimal=",")
    assert snapshot(workspace, "shop") == before
