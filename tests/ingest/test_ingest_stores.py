"""WooCommerce order exports and the UCI Online Retail layout, detected from their headers.

Small files are written inline with hand-computed expectations; the real UCI France and
Germany subsets and the whole UCI file (tests/data, see its README) are checked against counts
pandas computes here.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from dashboard import ingest
from dashboard.workspace import store

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DATA = Path(__file__).resolve().parents[1] / "data"
WOO_EXAMPLE = FIXTURES / "woocommerce_order_export_example.csv"

WOO = (
    (
        "Order Number;Order Status;Order Date;Email (Billing);Phone (Billing);Item Name;Quantity;"
        "Item Cost;Order Total Amount\n"
    )
    + """\
100;Completed;2025/12/31 11:23;Ann@Example.com;+44 7700 900123;Mug - Blue;2;10,00;25,50
100;Completed;2025/12/31 11:23;Ann@Example.com;+44 7700 900123;Gift Card;1;5,50;25,50
101;Cancelled;2025/12/30 09:00;;+44 (7700) 900-124;Mug - Blue;1;10,00;10,00
102;Refunded;2025/12/29 08:00;bob@example.com;;Kettle;1;1.234,00;1.234,00
103;Failed;2025/12/28 07:00;carol@example.com;;Kettle;1;99,00;99,00
104;Processing;2025/12/27 06:00;;;Kettle;1;99,00;99,00
"""
)
UCI = """\
\ufeffInvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
536365,85123A,WHITE HANGING HEART,6,12/1/2010 8:26,2.55,17850,United Kingdom
536365,71053,WHITE METAL LANTERN,6,12/1/2010 8:26,3.39,17850,United Kingdom
536366,22633,HAND WARMER,6,12/1/2010 8:28,1.85,17850.0,United Kingdom
C536379,D,Discount,-1,12/1/2010 9:41,27.50,14527,United Kingdom
536380,22961,JAM MAKING SET,24,12/1/2010 9:41,0.85,,United Kingdom
536381,22139,RETROSPOT TEA SET,x,12/1/2010 9:45,4.95,15311,United Kingdom
536381,22140,TEA SET 2,1,12/1/2010 9:45,4.95,15311,United Kingdom
"""


def query(workspace: Path, dataset: str, sql: str, params: list | None = None) -> list[tuple]:
    """Run ``sql`` on the stored dataset (read-only) and return all rows."""
    con = duckdb.connect(str(store.dataset_path(workspace, dataset)), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def write(tmp_path: Path, text: str, name: str) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def test_woocommerce_example_folds_item_rows_into_orders(workspace: Path) -> None:
    assert ingest.detect_format(ingest.read_headers(WOO_EXAMPLE)) == "woocommerce-orders"
    report = ingest.ingest_file(workspace, "shop", WOO_EXAMPLE)
    # 23 item rows of 15 orders (16000-16014)
    assert (report.records_read, report.rows_read, report.rows_loaded) == (23, 15, 15)
    assert report.file_format == "woocommerce-orders" and report.rows_rejected == 0
    assert query(
        workspace,
        "shop",
        "SELECT count(*), sum(order_total), count(DISTINCT currency), bool_or(is_cancelled) "
        "FROM orders",
    ) == [(15, Decimal("1971.00"), 0, False)]
    # 16000: the first row says Completed, the second Processing; the phone is the key
    assert query(
        workspace,
        "shop",
        "SELECT customer_id, ordered_at, order_total, financial_status FROM orders "
        "WHERE order_id = '16000'",
    ) == [("0600934896", dt.datetime(2025, 11, 21, 11, 32), Decimal("134.00"), "completed")]
    assert query(
        workspace,
        "shop",
        "SELECT line_number, product, category FROM order_lines WHERE order_id = '16000' "
        "ORDER BY 1",
    ) == [(1, "Ceramic Mug - Sand", "Ceramic Mug"), (2, "Gift Card", None)]
    assert query(workspace, "shop", "SELECT count(*) FROM order_lines") == [(23,)]
    assert report.notes == [
        "7 orders have a different 'Order Status' on different item rows; each order's first "
        "row was used.",
        "15 orders have no e-mail and are keyed by 'Phone (Billing)' (spaces and dashes dropped).",
        "The export has no currency column: amounts are stored without a currency.",
    ]


def test_woocommerce_statuses_keys_and_decimal_commas(workspace: Path, tmp_path: Path) -> None:
    report = ingest.ingest_file(workspace, "shop", write(tmp_path, WOO, "woo.csv"))
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (5, 5, 0)
    assert query(
        workspace,
        "shop",
        "SELECT order_id, customer_id, order_total, refunded_amount, net_total, is_cancelled, "
        "financial_status FROM orders ORDER BY order_id",
    ) == [
        # e-mail lower-cased; the phone is not needed
        ("100", "ann@example.com", Decimal("25.50"), 0, Decimal("25.50"), False, "completed"),
        # no e-mail: the phone without spaces, brackets and dashes
        ("101", "+447700900124", Decimal("10.00"), 0, Decimal("10.00"), True, "cancelled"),
        # Refunded without a refund column: refunded in full; 1.234,00 is 1234.00
        ("102", "bob@example.com", Decimal("1234.00"), Decimal("1234.00"), 0, False, "refunded"),
        # a failed payment is no sale
        ("103", "carol@example.com", Decimal("99.00"), 0, Decimal("99.00"), True, "failed"),
        ("104", None, Decimal("99.00"), 0, Decimal("99.00"), False, "processing"),
    ]
    assert query(
        workspace,
        "shop",
        "SELECT line_number, product, quantity, price FROM order_lines WHERE order_id = '100' "
        "ORDER BY 1",
    ) == [(1, "Mug - Blue", 2, Decimal("10.00")), (2, "Gift Card", 1, Decimal("5.50"))]
    assert [(i.line_number, i.severity, i.reason) for i in report.issues] == [
        (7, "warning", "no customer key: kept for store totals, not scored")
    ]
    assert (
        "Amounts were read with a decimal comma ('Order Total Amount', line 2: '25,50'), points "
        "and spaces being thousands separators." in report.notes
    )
    assert any(n.startswith("1 orders with the status Refunded were taken") for n in report.notes)


def test_uci_invoices_returns_and_missing_customers(workspace: Path, tmp_path: Path) -> None:
    path = write(tmp_path, UCI, "retail.csv")
    assert ingest.read_headers(path)[0] == "InvoiceNo"  # the BOM is not part of the name
    assert ingest.detect_format(ingest.read_headers(path)) == "uci-online-retail"
    report = ingest.ingest_file(workspace, "shop", path)
    # 5 invoices on 7 lines: 4 loaded, 536381 rejected for its unreadable quantity
    assert (report.records_read, report.rows_read, report.rows_loaded) == (7, 5, 4)
    assert [
        (i.line_number, i.column, i.severity, i.reason, i.raw_value) for i in report.issues
    ] == [
        (6, "CustomerID", "warning", "no customer key: kept for store totals, not scored", None),
        (7, "Quantity x UnitPrice", "rejected", "amount is not a number", "x x 4.95"),
    ]
    assert query(
        workspace,
        "shop",
        "SELECT order_id, customer_id, ordered_at, order_total, refunded_amount, net_total, "
        "is_cancelled, financial_status, country FROM orders ORDER BY order_id",
    ) == [
        # 6 x 2.55 + 6 x 3.39
        (
            "536365",
            "17850",
            dt.datetime(2010, 12, 1, 8, 26),
            Decimal("35.64"),
            0,
            Decimal("35.64"),
            False,
            None,
            "United Kingdom",
        ),
        # 17850.0 is the same customer
        (
            "536366",
            "17850",
            dt.datetime(2010, 12, 1, 8, 28),
            Decimal("11.10"),
            0,
            Decimal("11.10"),
            False,
            None,
            "United Kingdom",
        ),
        (
            "536380",
            None,
            dt.datetime(2010, 12, 1, 9, 41),
            Decimal("20.40"),
            0,
            Decimal("20.40"),
            False,
            None,
            "United Kingdom",
        ),
        # a return: nothing bought, 27.50 given back, not cancelled
        (
            "C536379",
            "14527",
            dt.datetime(2010, 12, 1, 9, 41),
            0,
            Decimal("27.50"),
            Decimal("-27.50"),
            False,
            "returned",
            "United Kingdom",
        ),
    ]
    assert query(
        workspace,
        "shop",
        "SELECT order_id, line_number, sku, product, quantity, price FROM order_lines "
        "WHERE order_id IN ('536365', 'C536379') ORDER BY 1, 2",
    ) == [
        ("536365", 1, "85123A", "WHITE HANGING HEART", 6, Decimal("2.55")),
        ("536365", 2, "71053", "WHITE METAL LANTERN", 6, Decimal("3.39")),
        ("C536379", 1, "D", "Discount", -1, Decimal("27.50")),
    ]
    assert report.notes[0] == (
        "Dates in 'InvoiceDate' like '12/1/2010 8:26' (line 2) were read month-first (as this "
        "export format writes them)."
    )
    assert any(n.startswith("1 invoices starting with 'C' are returns") for n in report.notes)
    assert any(n.startswith("1 lines (1 invoices) have no CustomerID") for n in report.notes)
    again = ingest.ingest_file(workspace, "shop", path)
    assert (again.rows_loaded, again.rows_duplicate, again.rows_rejected) == (0, 4, 1)


def test_uci_dates_can_be_read_day_first(workspace: Path, tmp_path: Path) -> None:
    path = write(tmp_path, UCI, "retail.csv")
    ingest.ingest_file(workspace, "shop", path, date_order="day-first")
    assert query(workspace, "shop", "SELECT DISTINCT CAST(ordered_at AS DATE) FROM orders") == [
        (dt.date(2010, 1, 12),)
    ]


@pytest.mark.parametrize("name", ["online_retail_france.csv", "online_retail_germany.csv"])
def test_uci_country_files_match_counts_computed_with_pandas(workspace: Path, name: str) -> None:
    path = DATA / name
    lines = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    lines["value"] = [
        int(q) * Decimal(p) for q, p in zip(lines.Quantity, lines.UnitPrice, strict=True)
    ]
    is_return = lines.InvoiceNo.str.startswith("C")
    expected = (
        lines.InvoiceNo.nunique(),
        lines.InvoiceNo[is_return].nunique(),
        lines.CustomerID[lines.CustomerID != ""].nunique(),
        sum(lines.value[~is_return], Decimal(0)),
        -sum(lines.value[is_return], Decimal(0)),
        len(lines),
    )

    report = ingest.ingest_file(workspace, "retail", path)
    assert report.file_format == "uci-online-retail"
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (
        expected[0],
        expected[0],
        0,
    )
    stored = query(
        workspace,
        "retail",
        """
        SELECT count(*), count(*) FILTER (WHERE refunded_amount > 0),
               count(DISTINCT customer_id), sum(order_total), sum(refunded_amount),
               (SELECT count(*) FROM order_lines)
        FROM orders
        """,
    )[0]
    assert stored == expected
    assert query(workspace, "retail", "SELECT sum(net_total) FROM orders") == [
        (expected[3] - expected[4],)
    ]
    dates = pd.to_datetime(lines.InvoiceDate, format="%m/%d/%Y %H:%M")
    assert query(workspace, "retail", "SELECT min(ordered_at), max(ordered_at) FROM orders") == [
        (dates.min().to_pydatetime(), dates.max().to_pydatetime())
    ]


def test_the_whole_uci_file_loads_as_pandas_counts_it(workspace: Path) -> None:
    path = DATA / "online_retail.parquet"
    lines = pd.read_parquet(path)
    # Ten-thousandths of a pound, exact in integers: no unit price has more than 4 decimals.
    lines["value"] = lines.Quantity.astype("int64") * (lines.UnitPrice * 10_000).round().astype(
        "int64"
    )
    lines["line"] = np.arange(len(lines)) + 2  # counted like a CSV's lines, the header first
    first = lines.drop_duplicates("InvoiceNo").set_index("InvoiceNo")
    invoices = pd.DataFrame(
        {
            "value": lines.groupby("InvoiceNo").value.sum(),
            "line": first.line,
            "customer": first.CustomerID,
        }
    )
    # Each invoice's total to the cent, half away from zero.
    invoices["cents"] = np.sign(invoices.value) * ((invoices.value.abs() + 50) // 100)
    is_return = invoices.index.str.startswith("C")
    refused = invoices[~is_return & (invoices.cents < 0)]
    kept = invoices.drop(refused.index)
    kept_return = kept.index.str.startswith("C")
    keyless = lines.CustomerID.isna()

    report = ingest.ingest_file(workspace, "retail", path)

    assert report.file_format == "uci-online-retail"
    assert (report.records_read, report.rows_read) == (len(lines), len(invoices))
    assert (report.rows_loaded, report.rows_rejected) == (len(kept), len(refused))
    # Two "Adjust bad debt" invoices (A563186, A563187) are negative sales, not C returns.
    assert len(refused) == 2
    reason = "negative amount: returns must be given as refunded_amount"
    assert report.reason_counts().most_common() == [(reason, len(refused))]
    assert [(i.line_number, i.raw_value) for i in report.issues if i.severity == "rejected"] == [
        (line, str(Decimal(int(cents)).scaleb(-2)))
        for line, cents in zip(refused.line, refused.cents, strict=True)
    ]
    no_customer = int(kept.customer.isna().sum())
    assert report.rows_warned == no_customer
    assert (
        f"{keyless.sum():,} lines ({lines.InvoiceNo[keyless].nunique():,} invoices) have no "
        "CustomerID: kept for store totals, not scored." in report.notes
    )
    assert any(
        n.startswith(f"{is_return.sum():,} invoices starting with 'C' are returns")
        for n in report.notes
    )
    stored = query(
        workspace,
        "retail",
        """
        SELECT count(*), count(*) FILTER (WHERE is_cancelled),
               count(*) FILTER (WHERE financial_status = 'returned' AND refunded_amount > 0),
               count(*) FILTER (WHERE order_total = 0 AND refunded_amount = 0),
               count(DISTINCT customer_id), count(*) FILTER (WHERE customer_id IS NULL),
               sum(net_total), (SELECT count(*) FROM order_lines)
        FROM orders
        """,
    )[0]
    assert stored == (
        len(kept),
        0,  # the file has no cancellations: C invoices are returns
        int(kept_return.sum()),
        int((~kept_return & (kept.cents == 0)).sum()),
        kept.customer.nunique(),
        no_customer,
        Decimal(int(kept.cents.sum())).scaleb(-2),
        int(lines.InvoiceNo.isin(kept.index).sum()),
    )


def test_store_formats_can_be_forced_and_say_what_they_miss(
    workspace: Path, tmp_path: Path
) -> None:
    path = write(tmp_path, "Order Number;Order Date;Order Total\n1;2025/01/01 10:00;5\n", "w.csv")
    with pytest.raises(ingest.IngestError) as caught:
        ingest.ingest_file(workspace, "shop", path, file_format="woocommerce-orders")
    assert str(caught.value) == (
        "Missing required column: Order Status (this is not a complete WooCommerce order export)."
    )
    with pytest.raises(ingest.IngestError) as caught:
        ingest.ingest_file(workspace, "shop", path, file_format="uci-online-retail")
    assert str(caught.value) == (
        "Missing required column: InvoiceNo (this is not a complete UCI Online Retail file)."
    )
    with pytest.raises(ingest.IngestError) as caught:
        ingest.ingest_file(
            workspace, "shop", WOO_EXAMPLE, mapping={"customer_id": "Phone (Billing)"}
        )
    assert str(caught.value).startswith(
        "A woocommerce-orders file is read by its column names; a column mapping is only for"
    )
    assert not store.dataset_exists(workspace, "shop")
