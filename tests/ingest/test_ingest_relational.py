"""Relational exports (Olist): orders, order items and customers in separate files.

tests/fixtures/olist/ holds six orders of four people. By hand, price + freight per order:
o1 = 10.00 + 2.50 + 5.00 + 1.25 = 18.75; o2 = 100.00 + 15.10 = 115.10;
o3 = 2 x (29.90 + 8.72) = 77.24; o4 = 49.99 + 10.01 = 60.00; o5 (canceled) = 20.00 + 5.00 =
25.00; o6 (unavailable) has no item, so no total. Person u...1 placed o1 and o2 (per-order keys
c...1, c...2), person u...2 placed o3 and o4 (c...3, c...4): each has frequency 2 and monetary
18.75 + 115.10 = 133.85 and 77.24 + 60.00 = 137.24. Persons u...3 (only a cancelled order) and
u...4 (only an unavailable one) have no valid order: prospects.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from dashboard import ingest
from dashboard.ingest import IngestError
from dashboard.rfm import analysis
from dashboard.workspace import store

OLIST = Path(__file__).resolve().parents[1] / "fixtures" / "olist"
FILES = {
    "orders": OLIST / "olist_orders_dataset.csv",
    "items": OLIST / "olist_order_items_dataset.csv",
    "customers": OLIST / "olist_customers_dataset.csv",
}
ORDER = "a10000000000000000000000000000{:02d}"
PERSON = "u10000000000000000000000000000{:02d}"
# order -> (person, total, net total, cancelled), from the module docstring.
EXPECTED_ORDERS = [
    (ORDER.format(1), PERSON.format(1), Decimal("18.75"), Decimal("18.75"), False),
    (ORDER.format(2), PERSON.format(1), Decimal("115.10"), Decimal("115.10"), False),
    (ORDER.format(3), PERSON.format(2), Decimal("77.24"), Decimal("77.24"), False),
    (ORDER.format(4), PERSON.format(2), Decimal("60.00"), Decimal("60.00"), False),
    (ORDER.format(5), PERSON.format(3), Decimal("25.00"), Decimal("25.00"), True),
    (ORDER.format(6), PERSON.format(4), Decimal("0.00"), Decimal("0.00"), True),
]
STILL_WITHOUT_TOTAL = (
    "1 orders of the dataset still have no total: their orders file has none and no order line "
    "of theirs is loaded, so they are stored with a total of 0 and RFM does not count them as "
    "purchases. Load their order lines file to fill them."
)
REPEATED_PERSONS = (
    "2 rows repeat the 'customer_unique_id' of an earlier row: each person is one customer, with "
    "the values of their first row, and every customer key of theirs leads to them."
)


def query(workspace: Path, sql: str) -> list[tuple]:
    """Run ``sql`` on the stored dataset 'olist' (read-only) and return all rows."""
    con = duckdb.connect(str(store.dataset_path(workspace, "olist")), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def load(workspace: Path, *kinds: str) -> list[ingest.IngestReport]:
    """Load the Olist files named by ``kinds`` in that order, each detected by its header."""
    return [ingest.ingest_file(workspace, "olist", FILES[kind]) for kind in kinds]


def read_stored_orders(workspace: Path) -> list[tuple]:
    return query(
        workspace,
        "SELECT order_id, customer_id, order_total, net_total, is_cancelled FROM orders "
        "ORDER BY order_id",
    )


def read_measures(workspace: Path) -> dict[str, tuple]:
    """customer -> (status, frequency, monetary) from the RFM customer base on 2017-06-01."""
    base = analysis.load_customer_base(workspace, "olist", as_of=dt.date(2017, 6, 1))
    try:
        frame = base.measures.to_pandas()
    finally:
        base.close()
    return {
        row.customer_id: (row.status, int(row.frequency), Decimal(str(row.monetary)))
        for row in frame.itertuples()
    }


def assert_people_and_totals(workspace: Path) -> None:
    assert read_stored_orders(workspace) == EXPECTED_ORDERS
    assert read_measures(workspace) == {
        PERSON.format(1): ("scored", 2, Decimal("133.85")),
        PERSON.format(2): ("scored", 2, Decimal("137.24")),
        PERSON.format(3): ("prospect", 0, Decimal("0.00")),
        PERSON.format(4): ("prospect", 0, Decimal("0.00")),
    }
    # One customer per person, with the values of the person's first row (city of c...1).
    assert query(workspace, "SELECT customer_id, city FROM customers ORDER BY 1") == [
        (PERSON.format(1), "sao paulo"),
        (PERSON.format(2), "rio de janeiro"),
        (PERSON.format(3), "belo horizonte"),
        (PERSON.format(4), "curitiba"),
    ]


def test_the_three_files_are_recognised_by_their_headers() -> None:
    formats = {kind: ingest.detect_format(ingest.read_headers(p)) for kind, p in FILES.items()}
    assert formats == {"orders": "generic", "items": "order-lines", "customers": "customers"}
    assert ingest.guess_mapping(ingest.read_headers(FILES["orders"]), "generic")["ordered_at"] == (
        "order_purchase_timestamp"
    )
    lines = ingest.guess_mapping(ingest.read_headers(FILES["items"]), "order-lines")
    assert (lines["price"], lines["freight"]) == ("price", "freight_value")
    people = ingest.guess_mapping(ingest.read_headers(FILES["customers"]), "customers")
    assert (people["customer_id"], people["person_id"]) == ("customer_id", "customer_unique_id")


def test_orders_then_items_then_customers(workspace: Path) -> None:
    orders, items, customers = load(workspace, "orders", "items", "customers")
    assert (orders.rows_loaded, items.rows_loaded, customers.rows_loaded) == (6, 7, 4)
    assert customers.rows_duplicate == 2
    assert orders.notes[0] == (
        "The file has no order total column: each order's total is the sum of its order lines "
        "(price x quantity + freight), matched on 'order_id'. 0 orders took it from lines already "
        "loaded; 6 have no lines yet and are stored with a total of 0 until their order lines "
        "file is loaded (meanwhile RFM does not count them as purchases)."
    )
    assert not any("have a total of 0" in note for note in orders.notes)
    assert items.notes[:2] == [
        "The totals of 5 orders were set from these lines (price x quantity + freight): their "
        "orders file has no total.",
        STILL_WITHOUT_TOTAL,
    ]
    assert customers.notes[:2] == [
        REPEATED_PERSONS,
        "6 orders loaded earlier under a per-order customer key now belong to their person's "
        "key from this file, so one person's orders are one customer.",
    ]
    assert_people_and_totals(workspace)
    # The load history keeps the notes written inside each file's transaction.
    assert (
        STILL_WITHOUT_TOTAL
        in query(workspace, "SELECT notes FROM ingests WHERE ingest_id = 2")[0][0]
    )


def test_customers_then_items_then_orders(workspace: Path) -> None:
    customers, items, orders = load(workspace, "customers", "items", "orders")
    assert customers.notes[0] == REPEATED_PERSONS
    assert items.notes == [
        "7 lines belong to 5 orders that are not in the dataset yet; load the orders file too, "
        "with the same order ids, to see them in order figures."
    ]
    assert orders.notes[:2] == [
        "The file has no order total column: each order's total is the sum of its order lines "
        "(price x quantity + freight), matched on 'order_id'. 5 orders took it from lines already "
        "loaded; 1 have no lines yet and are stored with a total of 0 until their order lines "
        "file is loaded (meanwhile RFM does not count them as purchases).",
        "6 orders are keyed by their person's id instead of their per-order customer key, as the "
        "customers file loaded earlier maps them, so one person's orders are one customer.",
    ]
    assert_people_and_totals(workspace)


def test_reloading_any_of_the_files_changes_nothing(workspace: Path) -> None:
    load(workspace, "orders", "customers", "items")
    again = load(workspace, "orders", "items", "customers")
    assert [(r.rows_loaded, r.rows_duplicate, r.rows_rejected) for r in again] == [
        (0, 6, 0),
        (0, 7, 0),
        (0, 6, 0),
    ]
    assert_people_and_totals(workspace)


def test_lines_never_change_a_total_the_orders_file_gave(workspace: Path, tmp_path: Path) -> None:
    orders = tmp_path / "orders.csv"
    orders.write_text("order id,customer,date,total\n7,a,2024-01-02,30.00\n", encoding="utf-8")
    lines = tmp_path / "lines.csv"
    lines.write_text("order id,product,price,freight\n7,Mug,20.00,4.00\n", encoding="utf-8")
    ingest.ingest_file(workspace, "olist", orders)
    report = ingest.ingest_file(workspace, "olist", lines, file_format="order-lines")
    assert not any("totals" in note for note in report.notes)
    assert query(workspace, "SELECT order_total, total_from_lines FROM orders") == [
        (Decimal("30.00"), None)
    ]
    assert query(workspace, "SELECT price, freight FROM order_lines") == [
        (Decimal("20.00"), Decimal("4.00"))
    ]


def test_orders_with_totals_loaded_after_the_customers_are_keyed_by_person(
    workspace: Path, tmp_path: Path
) -> None:
    # A clean file with totals would take the one-pass load, which knows no aliases.
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "order id,customer id,date,total\n"
        "1,c1000000000000000000000000000001,2017-01-05,10.00\n"
        "2,c1000000000000000000000000000002,2017-03-10,12.50\n",
        encoding="utf-8",
    )
    load(workspace, "customers")
    ingest.ingest_file(workspace, "olist", orders)
    assert query(workspace, "SELECT order_id, customer_id, order_total FROM orders ORDER BY 1") == [
        ("1", PERSON.format(1), Decimal("10.00")),
        ("2", PERSON.format(1), Decimal("12.50")),
    ]


@pytest.mark.parametrize(
    ("status", "cancelled"),
    [("canceled", True), ("unavailable", True), ("Failed", True), ("voided", True)]
    + [("delivered", False), ("shipped", False), ("invoiced", False)],
)
def test_order_statuses_that_mean_no_sale_are_cancelled(
    workspace: Path, tmp_path: Path, status: str, cancelled: bool
) -> None:
    orders = tmp_path / "orders.csv"
    orders.write_text(
        f"order id,customer,date,total,order_status\n1,a,2024-01-02,5.00,{status}\n",
        encoding="utf-8",
    )
    ingest.ingest_file(workspace, "olist", orders)
    assert query(workspace, "SELECT is_cancelled FROM orders") == [(cancelled,)]


def test_without_a_total_the_order_id_is_required(workspace: Path, tmp_path: Path) -> None:
    orders = tmp_path / "orders.csv"
    orders.write_text("customer,date\na,2024-01-02\n", encoding="utf-8")
    with pytest.raises(IngestError) as caught:
        ingest.ingest_file(workspace, "olist", orders, file_format="generic")
    assert str(caught.value) == (
        "Missing required column: order total (map it, or map the order id so that each "
        "order's total comes from an order lines file)."
    )
