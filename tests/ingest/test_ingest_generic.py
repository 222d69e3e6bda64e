"""Generic orders files: header guessing, the confirmed mapping, value parsing, order ids.

Every expected value is worked out by hand from the fixture or the inline file next to it.
"""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from dashboard import ingest
from dashboard.ingest import IngestError
from dashboard.workspace import store

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
GENERIC_MAPPING = {
    "order_id": "Order Number",
    "customer_id": "Customer Email",
    "ordered_at": "Order Date",
    "order_total": "Total",
    "refunded_amount": "Refunded",
    "is_cancelled": "Status",
    "discount_code": "Coupon",
    "country": "Country",
    "currency": "Currency",
    "channel": None,
}
SIMPLE_MAPPING = {"customer_id": "customer", "ordered_at": "date", "order_total": "amount"}


def query(workspace: Path, dataset: str, sql: str, params: list | None = None) -> list[tuple]:
    """Run ``sql`` on the stored dataset (read-only) and return all rows."""
    con = duckdb.connect(str(store.dataset_path(workspace, dataset)), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def write(tmp_path: Path, text: str, name: str = "orders.csv") -> Path:
    """Write ``text`` as a UTF-8 file and return its path."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_generic_file_loads_through_the_confirmed_mapping(workspace: Path) -> None:
    report = ingest.ingest_file(
        workspace, "shop", FIXTURES / "generic_orders.csv", mapping=GENERIC_MAPPING
    )
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (4, 4, 0)
    assert report.file_format == "generic" and report.ingest_id == 1
    rows = query(
        workspace,
        "shop",
        "SELECT order_id, customer_id, ordered_at, order_total, refunded_amount, net_total, "
        "is_cancelled, discount_code, country, currency FROM orders ORDER BY order_id",
    )
    assert rows == [
        # "1,234.50": thousands separator; refunded 0
        (
            "A-1",
            "ann@example.com",
            dt.datetime(2024, 1, 5, 10, 30),
            Decimal("1234.50"),
            Decimal("0.00"),
            Decimal("1234.50"),
            False,
            None,
            "US",
            "USD",
        ),
        # "ann@example.com " trimmed; +01:00 dropped, local 08:00 kept; $80.00 - 20.00 = 60.00
        (
            "A-2",
            "ann@example.com",
            dt.datetime(2024, 2, 10, 8, 0),
            Decimal("80.00"),
            Decimal("20.00"),
            Decimal("60.00"),
            False,
            "SAVE10",
            "US",
            "USD",
        ),
        # a non-email id keeps its case; YYYY/MM/DD HH:MM; empty refund = 0; "cancelled"
        (
            "A-3",
            "cid-42",
            dt.datetime(2024, 3, 1, 12, 15),
            Decimal("45.00"),
            Decimal("0.00"),
            Decimal("45.00"),
            True,
            None,
            "DE",
            "EUR",
        ),
        (
            "A-4",
            "ben@example.com",
            dt.datetime(2024, 4, 30),
            Decimal("0.00"),
            Decimal("0.00"),
            Decimal("0.00"),
            False,
            None,
            "GB",
            "GBP",
        ),
    ]
    assert any("'completed'" in note and "not cancelled" in note for note in report.notes)
    assert any(note.startswith("1 orders have a total of 0") for note in report.notes)
    stored = query(
        workspace,
        "shop",
        "SELECT file_name, file_format, table_name, rows_read, rows_loaded, rows_rejected, "
        "rows_duplicate, rows_warned, length(sha256) FROM ingests",
    )
    assert stored == [("generic_orders.csv", "generic", "orders", 4, 4, 0, 0, 0, 64)]


def test_no_mapping_means_the_guessed_one(workspace: Path) -> None:
    guessed = ingest.guess_mapping(ingest.read_headers(FIXTURES / "generic_orders.csv"))
    assert guessed == GENERIC_MAPPING
    report = ingest.ingest_file(workspace, "shop", FIXTURES / "generic_orders.csv")
    assert report.rows_loaded == 4


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            ["Customer ID", "Order Date", "Total"],
            {"customer_id": "Customer ID", "ordered_at": "Order Date", "order_total": "Total"},
        ),
        (
            ["customer", "date", "amount"],
            {"customer_id": "customer", "ordered_at": "date", "order_total": "amount"},
        ),
        (
            ["email", "created_at", "revenue", "invoice"],
            {
                "customer_id": "email",
                "ordered_at": "created_at",
                "order_total": "revenue",
                "order_id": "invoice",
            },
        ),
        # UCI Online Retail: camel case; no column holds an order total (quantity x price)
        (
            [
                "InvoiceNo",
                "StockCode",
                "Description",
                "Quantity",
                "InvoiceDate",
                "UnitPrice",
                "CustomerID",
                "Country",
            ],
            {
                "order_id": "InvoiceNo",
                "ordered_at": "InvoiceDate",
                "customer_id": "CustomerID",
                "country": "Country",
            },
        ),
        # WooCommerce: the exact "Order Total Amount" wins over "Total products"
        (
            [
                "Order Number",
                "Order Status",
                "Order Date",
                "First Name (Billing)",
                "Phone (Billing)",
                "Item Name",
                "Total products",
                "Order Total Amount",
                "City (Shipping)",
            ],
            {
                "order_id": "Order Number",
                "is_cancelled": "Order Status",
                "ordered_at": "Order Date",
                "customer_id": "Phone (Billing)",
                "order_total": "Order Total Amount",
            },
        ),
        (["foo", "bar"], {}),
    ],
)
def test_guess_mapping_reads_common_header_styles(
    headers: list[str], expected: dict[str, str]
) -> None:
    guessed = ingest.guess_mapping(headers)
    assert set(guessed) == set(ingest.ORDER_FIELDS)
    assert {field: header for field, header in guessed.items() if header} == expected


def test_order_fields_spec() -> None:
    required = {f for f, spec in ingest.ORDER_FIELDS.items() if spec.required}
    # no customer: guest orders (case 18); no total: summed from the order lines (§2.6)
    assert required == {"ordered_at"}
    assert list(ingest.ORDER_FIELDS)[3:] == [
        "order_id",
        "refunded_amount",
        "is_cancelled",
        "discount_code",
        "channel",
        "country",
        "currency",
    ]
    assert ingest.FORMATS == (
        "auto",
        "shopify-orders",
        "shopify-customers",
        "shopify-checkouts",
        "woocommerce-orders",
        "uci-online-retail",
        "ga4-events",
        "ga4-purchases",
        "ga4-acquisition",
        "meta-ads",
        "google-ads",
        "generic",
        "order-lines",
        "customers",
        "sessions",
        "marketing-spend",
        "surveys",
    )
    assert ingest.fields_for("generic") == ingest.ORDER_FIELDS


def test_read_headers_strips_bom_and_names_blank_and_repeated_columns(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_bytes("\ufeffCustomer ID, ,Total,Total\n1,2,3,4\n".encode())
    assert ingest.read_headers(path) == ["Customer ID", "column 2", "Total", "Total (2)"]


def test_parquet_file_loads_with_row_numbers_as_lines(workspace: Path, tmp_path: Path) -> None:
    path = tmp_path / "orders.parquet"
    con = duckdb.connect()
    con.execute(
        """
        COPY (SELECT * FROM (VALUES
            ('c1', TIMESTAMP '2024-05-01 09:00:00', 10.50::DECIMAL(10, 2)),
            ('C2@Example.com', TIMESTAMP '2024-05-02 18:30:00', 20.00::DECIMAL(10, 2)),
            ('c3', NULL, 5.00::DECIMAL(10, 2))) AS t(buyer, placed, value)
        ) TO '"""
        + str(path)
        + "' (FORMAT parquet)"
    )
    con.close()
    assert ingest.read_headers(path) == ["buyer", "placed", "value"]
    report = ingest.ingest_file(
        workspace,
        "shop",
        path,
        mapping={"customer_id": "buyer", "ordered_at": "placed", "order_total": "value"},
    )
    assert (report.rows_loaded, report.rows_rejected) == (2, 1)
    # the third row is line 4: numbered as the same table saved as CSV with a header
    assert [(i.line_number, i.column, i.reason) for i in report.issues] == [
        (4, "placed", "missing date")
    ]
    assert query(
        workspace, "shop", "SELECT customer_id, ordered_at, order_total FROM orders ORDER BY 1"
    ) == [
        ("c1", dt.datetime(2024, 5, 1, 9, 0), Decimal("10.50")),
        ("c2@example.com", dt.datetime(2024, 5, 2, 18, 30), Decimal("20.00")),
    ]


def test_rows_sharing_an_order_id_are_added_up(workspace: Path, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "order,customer,date,amount,refund\n"
        "o1,a@x.com,2024-01-01 10:00,10.00,\n"
        "o1,a@x.com,2024-01-01 10:00,5.50,1.50\n"
        "o2,b@x.com,2024-01-02,7.00,\n"
        "o1,a@x.com,2024-01-01 10:00,2.25,\n",
    )
    report = ingest.ingest_file(
        workspace,
        "shop",
        path,
        mapping={**SIMPLE_MAPPING, "order_id": "order", "refunded_amount": "refund"},
    )
    # 4 rows read and loaded, into 2 orders: o1 = 10.00 + 5.50 + 2.25 = 17.75, refunded 1.50
    assert (report.rows_read, report.rows_loaded) == (4, 4)
    assert query(
        workspace,
        "shop",
        "SELECT order_id, order_total, refunded_amount, net_total FROM orders ORDER BY 1",
    ) == [
        ("o1", Decimal("17.75"), Decimal("1.50"), Decimal("16.25")),
        ("o2", Decimal("7.00"), Decimal("0.00"), Decimal("7.00")),
    ]
    assert "3 rows were added up into 1 orders (rows sharing an order id)." in report.notes


def test_rows_of_one_order_that_disagree_are_rejected(workspace: Path, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "order,customer,date,amount\n"
        "o1,a@x.com,2024-01-01,10.00\n"
        "o1,b@x.com,2024-01-01,5.00\n"
        "o2,c@x.com,2024-01-02,7.00\n"
        "o3,d@x.com,2024-01-03,1.00\n"
        "o3,d@x.com,2024-01-03,x\n",
    )
    report = ingest.ingest_file(
        workspace, "shop", path, mapping={**SIMPLE_MAPPING, "order_id": "order"}
    )
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (5, 1, 4)
    assert [(i.line_number, i.reason) for i in report.issues] == [
        (2, "rows with the same order id disagree on customer or date"),
        (3, "rows with the same order id disagree on customer or date"),
        (5, "another row of the same order was rejected"),
        (6, "amount is not a number"),
    ]
    assert query(workspace, "shop", "SELECT order_id FROM orders") == [("o2",)]


def test_rows_without_order_ids_get_stable_ids(workspace: Path, tmp_path: Path) -> None:
    # Two identical rows are two orders (no id says otherwise); a re-upload adds nothing.
    text = (
        "customer,date,amount\n"
        "a@x.com,2024-01-01 10:00,10.00\n"
        "a@x.com,2024-01-01 10:00,10.00\n"
        "b@x.com,2024-01-02,3.00\n"
    )
    first = ingest.ingest_file(
        workspace, "shop", write(tmp_path, text, "jan.csv"), mapping=SIMPLE_MAPPING
    )
    ids = [r[0] for r in query(workspace, "shop", "SELECT order_id FROM orders ORDER BY 1")]
    assert first.rows_loaded == 3 and len(set(ids)) == 3
    assert all(i.startswith("row-") for i in ids)
    # The same rows under another file name, plus one new row, as an overlapping export would be.
    again = ingest.ingest_file(
        workspace,
        "shop",
        write(tmp_path, text + "c@x.com,2024-01-03,4.00\n", "jan-and-more.csv"),
        mapping=SIMPLE_MAPPING,
    )
    assert (again.rows_loaded, again.rows_duplicate, again.rows_rejected) == (1, 3, 0)
    assert query(workspace, "shop", "SELECT count(*) FROM orders") == [(4,)]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1234.50", Decimal("1234.50")),
        ('"1,234.50"', Decimal("1234.50")),
        ("$12.00", Decimal("12.00")),
        ("€ 7.5", Decimal("7.50")),
        ('"1,000,000"', Decimal("1000000.00")),
        ("0", Decimal("0.00")),
    ],
)
def test_amount_formats(workspace: Path, tmp_path: Path, raw: str, expected: Decimal) -> None:
    path = write(tmp_path, f"customer,date,amount\na,2024-01-01,{raw}\n")
    assert ingest.ingest_file(workspace, "shop", path, mapping=SIMPLE_MAPPING).rows_loaded == 1
    assert query(workspace, "shop", "SELECT order_total FROM orders") == [(expected,)]


@pytest.mark.parametrize("raw", ['"12,50"', "12.3.4", "ten", "1e999", "NaN"])
def test_unreadable_amounts_are_rejected(workspace: Path, tmp_path: Path, raw: str) -> None:
    path = write(tmp_path, f"customer,date,amount\na,2024-01-01,{raw}\nb,2024-01-01,1.00\n")
    report = ingest.ingest_file(workspace, "shop", path, mapping=SIMPLE_MAPPING)
    assert report.rows_loaded == 1
    [issue] = report.issues
    assert (issue.line_number, issue.column, issue.reason) == (
        2,
        "amount",
        "amount is not a number",
    )
    assert issue.raw_value == raw.strip('"')


def test_month_first_dates_load_when_the_file_proves_the_order(
    workspace: Path, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "customer,date,amount\na,3/4/2024 9:05,1.00\nb,12/31/2024 23:59,2.00\nc,1/2/2024,3.00\n",
    )
    report = ingest.ingest_file(workspace, "shop", path, mapping=SIMPLE_MAPPING)
    assert report.rows_loaded == 3
    assert query(workspace, "shop", "SELECT customer_id, ordered_at FROM orders ORDER BY 1") == [
        ("a", dt.datetime(2024, 3, 4, 9, 5)),
        ("b", dt.datetime(2024, 12, 31, 23, 59)),
        ("c", dt.datetime(2024, 1, 2)),
    ]
    assert (
        "Dates in 'date' like 3/4/2024 were read month-first because line 3 has "
        "'12/31/2024 23:59'." in report.notes
    )


def test_day_first_dates_load_when_the_file_proves_the_order(
    workspace: Path, tmp_path: Path
) -> None:
    path = write(tmp_path, "customer,date,amount\na,03/04/2024,1.00\nb,31/01/2024,2.00\n")
    report = ingest.ingest_file(workspace, "shop", path, mapping=SIMPLE_MAPPING)
    assert report.rows_loaded == 2
    assert query(workspace, "shop", "SELECT ordered_at FROM orders WHERE customer_id = 'a'") == [
        (dt.datetime(2024, 4, 3),)
    ]
    assert any("read day-first because line 3" in note for note in report.notes)


def test_dates_that_prove_both_orders_must_be_chosen(workspace: Path, tmp_path: Path) -> None:
    path = write(tmp_path, "customer,date,amount\na,13/04/2024,1.00\nb,04/13/2024,2.00\n")
    with pytest.raises(IngestError) as caught:
        ingest.ingest_file(workspace, "shop", path, mapping=SIMPLE_MAPPING)
    assert str(caught.value) == (
        "Dates in 'date' disagree on the order of day and month: line 2 has '13/04/2024' (day "
        "first) but line 3 has '04/13/2024' (month first); choose the date order and load the "
        "file again ('Date order' in the app; --date-order day-first or --date-order "
        "month-first on the command line). Rows that do not fit the chosen order are rejected."
    )
    assert not store.dataset_exists(workspace, "shop")
    report = ingest.ingest_file(
        workspace, "shop", path, mapping=SIMPLE_MAPPING, date_order="day-first"
    )
    assert report.rows_loaded == 1
    assert [(i.line_number, i.raw_value, i.reason) for i in report.issues] == [
        (
            3,
            "04/13/2024",
            "day and month do not fit the date order this file was read with (see the notes)",
        )
    ]
    assert "Dates in 'date' like '13/04/2024' (line 2) were read day-first (as chosen)." in (
        report.notes
    )


@pytest.mark.parametrize(
    ("word", "cancelled"),
    [
        ("yes", True),
        ("TRUE", True),
        ("1", True),
        ("Cancelled", True),
        ("canceled", True),
        ("no", False),
        ("false", False),
        ("0", False),
        ("", False),
        ("Completed", False),
    ],
)
def test_cancelled_flag_words(workspace: Path, tmp_path: Path, word: str, cancelled: bool) -> None:
    path = write(tmp_path, f"customer,date,amount,state\na,2024-01-01,1.00,{word}\n")
    ingest.ingest_file(workspace, "shop", path, mapping={**SIMPLE_MAPPING, "is_cancelled": "state"})
    assert query(workspace, "shop", "SELECT is_cancelled FROM orders") == [(cancelled,)]


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"customer;date;amount\r\na;2024-01-01;1.50\r\nb;2024-01-02;2.50\r\n", "semicolon.csv"),
        (b"customer\tdate\tamount\na\t2024-01-01\t1.50\nb\t2024-01-02\t2.50", "tabs.tsv"),
        (b"customer|date|amount\na|2024-01-01|1.50\nb|2024-01-02|2.50\n", "pipes.txt"),
        (b"\xef\xbb\xbfcustomer,date,amount\na,2024-01-01,1.50\nb,2024-01-02,2.50\n", "bom.csv"),
    ],
)
def test_delimiters_line_ends_and_bom(
    workspace: Path, tmp_path: Path, content: bytes, name: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    assert ingest.read_headers(path) == ["customer", "date", "amount"]
    report = ingest.ingest_file(workspace, "shop", path, mapping=SIMPLE_MAPPING)
    assert (report.rows_loaded, report.rows_rejected) == (2, 0)
    assert query(workspace, "shop", "SELECT sum(order_total) FROM orders") == [(Decimal("4.00"),)]


def test_float_looking_customer_ids_lose_the_decimal(workspace: Path, tmp_path: Path) -> None:
    path = write(tmp_path, "customer,date,amount\n17850.0,2024-01-01,1.00\n 12583 ,2024-01-01,2\n")
    ingest.ingest_file(workspace, "shop", path, mapping=SIMPLE_MAPPING)
    assert query(workspace, "shop", "SELECT customer_id FROM orders ORDER BY 1") == [
        ("12583",),
        ("17850",),
    ]


def test_progress_is_reported_in_order(workspace: Path) -> None:
    steps: list[tuple[float, str]] = []
    ingest.ingest_file(
        workspace,
        "shop",
        FIXTURES / "generic_orders.csv",
        progress=lambda fraction, message: steps.append((fraction, message)),
    )
    fractions = [f for f, _ in steps]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    assert len(steps) >= 4 and all(message for _, message in steps)


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        (
            {**SIMPLE_MAPPING, "order_total": "Amount in EUR"},
            "The mapping names a column 'Amount in EUR' that is not in the file.",
        ),
        (
            {**SIMPLE_MAPPING, "price": "amount"},
            "'price' is not an orders column; use one of customer_id, ordered_at, order_total, "
            "order_id, refunded_amount, is_cancelled, discount_code, channel, country, currency.",
        ),
        (
            {"customer_id": "customer"},
            "Missing required column: order date (map it to one of the file's columns).",
        ),
        (
            {"customer_id": "customer", "ordered_at": "date"},
            "Missing required column: order total (map it, or map the order id so that each "
            "order's total comes from an order lines file).",
        ),
    ],
)
def test_bad_mappings_are_refused_with_a_sentence(
    workspace: Path, tmp_path: Path, mapping: dict[str, str], message: str
) -> None:
    path = write(tmp_path, "customer,date,amount\na,2024-01-01,1.00\n")
    with pytest.raises(IngestError) as caught:
        ingest.ingest_file(workspace, "shop", path, mapping=mapping)
    assert str(caught.value) == message
    assert not store.dataset_exists(workspace, "shop")


def test_display_name_is_the_recorded_file_name(workspace: Path, tmp_path: Path) -> None:
    path = tmp_path / "upload-1234.csv"
    shutil.copy(FIXTURES / "generic_orders.csv", path)
    report = ingest.ingest_file(workspace, "shop", path, display_name="March orders.csv")
    assert report.file_name == "March orders.csv"
    assert query(
        workspace, "shop", "SELECT DISTINCT file_name FROM orders JOIN ingests USING (ingest_id)"
    ) == [("March orders.csv",)]


def test_several_currencies_in_one_dataset_are_flagged(workspace: Path, tmp_path: Path) -> None:
    report = ingest.ingest_file(workspace, "shop", FIXTURES / "generic_orders.csv")
    assert (
        "The dataset holds orders in 3 currencies: EUR (1 orders), GBP (1 orders), USD (2 orders)."
        " Amounts are never converted or added across currencies without saying so: compare "
        "monetary figures within one currency, or load each currency into its own dataset."
        in report.notes
    )
    one = write(tmp_path, "customer,date,amount,currency\nz,2024-05-01,1.00,usd\n", "usd.csv")
    fresh = ingest.ingest_file(
        workspace, "usd-only", one, mapping={**SIMPLE_MAPPING, "currency": "currency"}
    )
    assert not any("currencies" in note for note in fresh.notes)


def test_a_dataset_of_an_earlier_version_is_brought_to_the_current_schema(
    workspace: Path, tmp_path: Path
) -> None:
    """A dataset whose orders still have source_file (and their old primary key) loads new
    files: the column is dropped, the stored orders are kept, the new file adds its own."""
    old = ",\n".join(
        line.rstrip(",")
        for line in store.SCHEMA["orders"].strip().splitlines()
        if not line.strip().startswith("ingest_id")
    )
    con = duckdb.connect(str(store.dataset_path(workspace, "shop")))
    con.execute(
        f"CREATE TABLE orders ({old}, source_file VARCHAR NOT NULL, ingest_id INTEGER NOT NULL, "
        "PRIMARY KEY (order_id))"
    )
    con.execute(
        "INSERT INTO orders (order_id, customer_id, ordered_at, order_total, refunded_amount, "
        "net_total, is_cancelled, source_file, ingest_id) "
        "VALUES ('OLD-1', 'zoe@example.com', TIMESTAMP '2023-12-01 09:00', 12.5, 0, 12.5, "
        "false, 'old.csv', 1)"
    )
    con.execute(f"CREATE TABLE ingests ({store.SCHEMA['ingests']})")
    con.execute(
        "INSERT INTO ingests (ingest_id, file_name, file_format, table_name, rows_read, "
        "rows_loaded, rows_rejected, rows_duplicate, rows_warned, loaded_at, sha256) "
        "VALUES (1, 'old.csv', 'generic', 'orders', 1, 1, 0, 0, 0, "
        "TIMESTAMP '2023-12-01 10:00', 'abc')"
    )
    con.close()
    path = tmp_path / "new.csv"
    path.write_text("order_id,customer,date,amount\nN-1,al@example.com,2024-01-02,30\n")
    mapping = {"order_id": "order_id", **SIMPLE_MAPPING}
    report = ingest.ingest_file(workspace, "shop", path, mapping=mapping)
    assert report.rows_loaded == 1
    columns = query(
        workspace,
        "shop",
        "SELECT column_name FROM duckdb_columns() "
        "WHERE table_name = 'orders' ORDER BY column_index",
    )
    assert [name for (name,) in columns] == [
        n for n, _ in store._declared_columns(store.SCHEMA["orders"])
    ]
    assert query(
        workspace, "shop", "SELECT order_id, net_total, ingest_id FROM orders ORDER BY order_id"
    ) == [("N-1", Decimal("30.00"), 2), ("OLD-1", Decimal("12.50"), 1)]
