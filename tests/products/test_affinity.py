"""Basket affinity (docs/products.md, "Basket affinity"): pairs bought together and next-order
sequences, computed by hand on small tables and, on UCI Online Retail, against pandas."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench import step_affinity
from bench.checks import find_differences
from dashboard import engines
from dashboard.products import affinity, lines
from dashboard.workspace import store

AS_OF = dt.date(2024, 1, 31)


def order(order_id: str, customer_id: str | None, day: str, total: str = "10", **flags):
    """One order row for ``make_dataset``."""
    return {
        "order_id": order_id,
        "customer_id": customer_id,
        "ordered_at": f"2024-{day}",
        "order_total": total,
        **flags,
    }


def line(order_id: str, sku: str | None, product: str | None = None, category=None):
    """One order line for ``make_lines``."""
    return {"order_id": order_id, "sku": sku, "product": product, "category": category}


# Baskets of the valid orders up to 2024-01-31 (product keys; "Gift card" has no SKU):
#   1 {B1, F1, M1}   2 {B1, F1}   3 (guest) {B1, F1}   4 {B1, M1}   5 {F1}   8 {B1, Gift card}
# Orders holding each: B1 5 (1,2,3,4,8), F1 4 (1,2,3,5), M1 2 (1,4), Gift card 1; total 6.
# Pairs: (B1, F1) 3 (1,2,3); (B1, M1) 2 (1,4); (B1, Gift card) 1 (8); (F1, M1) 1 (1).
PAIR_ORDERS = [
    order("1", "A", "01-01 09:00"),
    order("2", "A", "01-10 09:00"),
    order("3", None, "01-05 09:00"),
    order("4", "B", "01-03 09:00"),
    order("5", "B", "01-20 09:00"),
    order("6", "C", "01-16 09:00", is_cancelled=True),
    order("7", "C", "01-17 09:00", total="0"),
    order("8", "C", "01-15 09:00"),
    order("9", "C", "02-15 09:00"),
]
PAIR_LINES = [
    line("1", "B1", "Coffee beans", "Coffee"),
    line("1", "F1", "Filters", "Brewing"),
    line("1", "M1", "Mug"),
    line("2", "B1", "Coffee beans", "Coffee"),
    line("2", "F1", "Filters", "Brewing"),
    line("3", "B1", "Beans"),
    line("3", "F1", "Paper filters", "Filters"),
    line("4", "B1", "Coffee beans"),
    line("4", "M1", "Mug"),
    line("5", "F1", "Filters"),
    # the same product twice in one order: one basket entry, two lines for its name
    line("8", "B1", "Beans"),
    line("8", "B1", "Beans"),
    line("8", None, "Gift card"),  # ingest stores an empty SKU as NULL
    # cancelled, zero-value and after the analysis date: no pair, no count, no name
    line("6", "B1", "Coffee beans"),
    line("6", "F1", "Filters"),
    line("7", "B1", "Coffee beans"),
    line("7", "M1", "Mug"),
    line("9", "B1", "Coffee beans"),
    line("9", "F1", "Filters"),
]


def valid_lines(workspace: Path, name: str, compute):
    """Run ``compute`` on the valid lines (guests included) of dataset ``name`` up to AS_OF."""
    with engines.open_tables("duckdb", workspace=workspace, dataset=name) as tables:
        kept = lines.select_valid_lines(tables.orders, tables["order_lines"], AS_OF)
        return compute(kept)


@pytest.fixture
def pairs(workspace: Path, make_dataset, make_lines) -> pd.DataFrame:
    """Every pair of the small shop (floor 1)."""
    make_dataset("shop", PAIR_ORDERS)
    make_lines("shop", PAIR_LINES)
    return valid_lines(workspace, "shop", lambda t: affinity.count_pairs(t, floor=1))


def test_pairs_count_orders_holding_both_with_guests_and_only_valid_orders(pairs):
    assert list(pairs.columns) == list(affinity.PAIR_COLUMNS)
    # sorted by orders desc, then product_a, product_b ("Gift card" < "M1")
    assert list(zip(pairs.product_a, pairs.product_b, pairs.orders, strict=True)) == [
        ("B1", "F1", 3),  # orders 1, 2 and the guest order 3; cancelled 6 and 9 left out
        ("B1", "M1", 2),  # orders 1, 4; zero-value 7 left out
        ("B1", "Gift card", 1),  # order 8, keyed by name (empty SKU)
        ("F1", "M1", 1),  # order 1
    ]
    assert list(pairs.orders_a) == [5, 5, 5, 4]  # B1: 1,2,3,4,8; F1: 1,2,3,5
    assert list(pairs.orders_b) == [4, 2, 1, 2]


def test_pairs_support_confidence_and_lift(pairs):
    first, second = pairs.iloc[0], pairs.iloc[1]
    # (B1, F1): 3 of 6 orders; 3/5 of B1's orders; 3/4 of F1's; 0.5 / (5/6 * 4/6) = 0.9
    assert first.support == pytest.approx(0.5)
    assert first.confidence_a_b == pytest.approx(0.6)
    assert first.confidence_b_a == pytest.approx(0.75)
    assert first.lift == pytest.approx(0.9)
    # (B1, M1): 2/6; 2/5; 2/2; (1/3) / (5/6 * 2/6) = 1.2
    assert second.support == pytest.approx(1 / 3)
    assert second.confidence_a_b == pytest.approx(0.4)
    assert second.confidence_b_a == pytest.approx(1.0)
    assert second.lift == pytest.approx(1.2)
    # (B1, Gift card): 1/6; 1/5; 1/1; (1/6) / (5/6 * 1/6) = 1.2
    assert pairs.iloc[2].lift == pytest.approx(1.2)


def test_pairs_names_and_categories_are_the_most_frequent_of_valid_lines(pairs):
    # B1's valid lines: "Coffee beans" 3 (orders 1, 2, 4), "Beans" 3 (3, 8, 8): a tie, the
    # smaller name wins; the cancelled and zero-value orders' "Coffee beans" lines do not count.
    # F1: "Filters" 3 (1, 2, 5) over "Paper filters" 1. Categories: B1 "Coffee" (its only one),
    # F1 "Brewing" 2 over "Filters" 1, M1 and Gift card none.
    assert list(pairs.name_a) == ["Beans", "Beans", "Beans", "Filters"]
    assert list(pairs.name_b) == ["Filters", "Mug", "Gift card", "Mug"]
    assert list(pairs.category_a) == ["Coffee", "Coffee", "Coffee", "Brewing"]
    assert pairs.category_b.isna().tolist() == [False, True, True, True]
    assert pairs.category_b.iloc[0] == "Brewing"


def test_pairs_floor_keeps_pairs_with_enough_orders(workspace: Path, make_dataset, make_lines):
    make_dataset("shop", PAIR_ORDERS)
    make_lines("shop", PAIR_LINES)
    kept = valid_lines(workspace, "shop", affinity.count_pairs)  # default floor 2
    assert list(zip(kept.product_a, kept.product_b, strict=True)) == [("B1", "F1"), ("B1", "M1")]
    none = valid_lines(workspace, "shop", lambda t: affinity.count_pairs(t, floor=4))
    assert none.empty and list(none.columns) == list(affinity.PAIR_COLUMNS)


def test_filter_pairs_by_minimum_orders_and_category(pairs):
    def keys(frame):
        return list(zip(frame.product_a, frame.product_b, strict=True))

    assert keys(affinity.filter_pairs(pairs, 2)) == [("B1", "F1"), ("B1", "M1")]
    # F1's category is Brewing: the pairs holding F1
    assert keys(affinity.filter_pairs(pairs, 1, "Brewing")) == [("B1", "F1"), ("F1", "M1")]
    assert keys(affinity.filter_pairs(pairs, 3, "Coffee")) == [("B1", "F1")]
    empty = affinity.filter_pairs(pairs, 1, "Mugs")
    assert empty.empty and list(empty.columns) == list(affinity.PAIR_COLUMNS)


# Customers' valid orders in time order (baskets), guests and invalid orders left out:
#   A: 1 {B1, F1, M1} -> 2 {B1, F1}
#   B: 4 {B1, M1} -> 5 {F1} -> 13 {F1}
#   C: 8 {B1} only (6 cancelled, 7 zero-value, 9 after the analysis date): no transition
#   D: 10 {F1} -> 11 {B1} (same time: order id breaks the tie) -> 12 {B1, F1}
#   E: 14 {M1} -> 15 {F1} -> 16 {M1} -> 17 {F1}
# Transitions: (B1,B1) A, D = 2; (B1,F1) A, B, D = 3; (F1,B1) A, D = 2; (F1,F1) A, B = 2;
#   (M1,B1) A = 1; (M1,F1) A, B, E twice = 4 by 3 customers; (F1,M1) E = 1.
# Orders holding A with a next order: B1 1, 4, 11 = 3; F1 1, 5, 10, 15 = 4; M1 1, 4, 14, 16 = 4.
SEQUENCE_ORDERS = [
    order("1", "A", "01-01 09:00"),
    order("2", "A", "01-10 09:00"),
    order("3", None, "01-05 09:00"),
    order("3b", None, "01-06 09:00"),
    order("4", "B", "01-03 09:00"),
    order("5", "B", "01-20 09:00"),
    order("13", "B", "01-28 09:00"),
    order("8", "C", "01-15 09:00"),
    order("6", "C", "01-16 09:00", is_cancelled=True),
    order("7", "C", "01-17 09:00", total="0"),
    order("9", "C", "02-15 09:00"),
    order("10", "D", "01-02 09:00"),
    order("11", "D", "01-02 09:00"),
    order("12", "D", "01-25 09:00"),
    order("14", "E", "01-04 09:00"),
    order("15", "E", "01-06 09:00"),
    order("16", "E", "01-08 09:00"),
    order("17", "E", "01-09 09:00"),
]
SEQUENCE_LINES = [
    line("1", "B1", "Beans"),
    line("1", "F1", "Filters"),
    line("1", "M1", "Mug"),
    line("2", "B1", "Beans"),
    line("2", "F1", "Filters"),
    line("3", "B1", "Beans"),
    line("3", "F1", "Filters"),
    line("3b", "B1", "Beans"),
    line("3b", "F1", "Filters"),
    line("4", "B1", "Beans"),
    line("4", "M1", "Mug"),
    line("5", "F1", "Filters"),
    line("13", "F1", "Filters"),
    line("8", "B1", "Beans"),
    line("6", "B1", "Beans"),
    line("7", "B1", "Beans"),
    line("9", "B1", "Beans"),
    line("10", "F1", "Filters"),
    line("11", "B1", "Beans"),
    line("12", "B1", "Beans"),
    line("12", "F1", "Filters"),
    line("14", "M1", "Mug"),
    line("15", "F1", "Filters"),
    line("16", "M1", "Mug"),
    line("17", "F1", "Filters"),
]


@pytest.fixture
def sequences(workspace: Path, make_dataset, make_lines) -> str:
    """The dataset of next-order sequences."""
    make_dataset("seq", SEQUENCE_ORDERS)
    make_lines("seq", SEQUENCE_LINES)
    return "seq"


def test_next_order_pairs_count_transitions_customers_and_shares(workspace: Path, sequences):
    found = valid_lines(workspace, sequences, affinity.count_next_order_pairs)  # floor 2
    assert list(found.columns) == list(affinity.NEXT_ORDER_COLUMNS)
    rows = list(
        zip(
            found.product_a,
            found.product_b,
            found.transitions,
            found.customers,
            found.orders_with_a_and_next,
            strict=True,
        )
    )
    assert rows == [
        ("M1", "F1", 4, 3, 4),  # A, B and E twice; M1 then a next order: 1, 4, 14, 16
        ("B1", "F1", 3, 3, 3),  # A, B, D; B1 then a next order: 1, 4, 11
        ("B1", "B1", 2, 2, 3),  # repurchase by A and D
        ("F1", "B1", 2, 2, 4),  # A, D (10 before 11); F1 then a next order: 1, 5, 10, 15
        ("F1", "F1", 2, 2, 4),  # A, B (5 -> 13)
    ]
    assert found.share.tolist() == pytest.approx([4 / 4, 3 / 3, 2 / 3, 2 / 4, 2 / 4])
    assert list(found.name_a) == ["Mug", "Beans", "Beans", "Filters", "Filters"]
    assert list(found.name_b) == ["Filters", "Filters", "Beans", "Beans", "Filters"]


def test_next_order_pairs_floor_one_keeps_single_transitions(workspace: Path, sequences):
    found = valid_lines(workspace, sequences, lambda t: affinity.count_next_order_pairs(t, 1))
    singles = found[found.transitions == 1]
    # (F1, M1): E's 15 -> 16, share 1 of F1's 4; (M1, B1): A's 1 -> 2, 1 of M1's 4
    assert list(zip(singles.product_a, singles.product_b, strict=True)) == [
        ("F1", "M1"),
        ("M1", "B1"),
    ]
    assert singles.share.tolist() == pytest.approx([0.25, 0.25])
    assert len(found) == 7


# ---------------------------------------------------------------- UCI Online Retail

PARQUET = Path(__file__).resolve().parents[1] / "data" / "online_retail.parquet"
# The same conversion as tests/test_conformance_spark.py: one order per invoice (a cancellation
# invoice "C..." is a return with order_total 0, so never a valid order), one line per row.
CONVERT_UCI = """
INSERT INTO orders (order_id, customer_id, ordered_at, order_total, refunded_amount, net_total,
                    currency, is_cancelled, country, ingest_id)
SELECT order_id, customer_id, ordered_at,
       CASE WHEN order_id LIKE 'C%' THEN 0 ELSE amount END,
       CASE WHEN order_id LIKE 'C%' THEN -amount ELSE 0 END,
       amount, 'GBP', false, country, 1
FROM (
    SELECT InvoiceNo AS order_id,
           CAST(max(CustomerID) AS VARCHAR) AS customer_id,
           min(InvoiceDate) AS ordered_at,
           CAST(sum(Quantity * CAST(UnitPrice AS DECIMAL(18, 3))) AS DECIMAL(18, 2)) AS amount,
           min(Country) AS country
    FROM read_parquet(?)
    GROUP BY InvoiceNo
)
"""
CONVERT_UCI_LINES = """
INSERT INTO order_lines (order_id, line_number, product, sku, quantity, price, ingest_id)
SELECT InvoiceNo,
       row_number() OVER (PARTITION BY InvoiceNo
                          ORDER BY StockCode, Description, Quantity, UnitPrice),
       Description, StockCode, CAST(Quantity AS INTEGER), CAST(UnitPrice AS DECIMAL(18, 2)), 1
FROM read_parquet(?)
"""
UCI_FLOOR = 20
UCI_SLICES = 8


def count_uci_pairs_with_pandas() -> tuple[pd.DataFrame, int]:
    """Pairs of products in the same valid invoice, straight from the parquet with pandas.

    A valid invoice is not a cancellation ("C...") and its amount, rounded to cents, is above
    0; a product is its trimmed StockCode, else its trimmed Description. Returns the pairs with
    at least UCI_FLOOR invoices (product_a, product_b, orders, orders_a, orders_b) and the
    number of valid invoices with a product.
    """
    raw = pd.read_parquet(PARQUET)
    milli = (raw.UnitPrice * 1000).round().astype("int64") * raw.Quantity.astype("int64")
    amount = milli.groupby(raw.InvoiceNo).sum()
    # amount in thousandths; rounded to cents it is above 0 from 0.005 on
    valid = amount.index[(amount >= 5) & ~amount.index.str.startswith("C")]
    key = raw.StockCode.str.strip().replace("", pd.NA)
    key = key.fillna(raw.Description.str.strip().replace("", pd.NA))
    baskets = pd.DataFrame({"invoice": raw.InvoiceNo, "key": key})
    baskets = baskets[baskets.invoice.isin(valid) & baskets.key.notna()].drop_duplicates()
    total = baskets.invoice.nunique()
    per_key = baskets.groupby("key").size()
    # a pair held by UCI_FLOOR invoices has both products in at least that many
    frequent = baskets[baskets.key.map(per_key) >= UCI_FLOOR]
    codes = pd.Categorical(frequent.key)  # categories sorted: code order is key order
    coded = pd.DataFrame(
        {
            "invoice": pd.factorize(frequent.invoice)[0].astype("int32"),
            "code": codes.codes.astype("int32"),
        }
    )
    # merged a slice of invoices at a time (all at once would hold ~57M rows); each pair
    # (x, y) is counted in the bin x * size + y
    size = len(codes.categories)
    counts = np.zeros(size * size, dtype="int64")
    for part in range(UCI_SLICES):
        piece = coded[coded.invoice % UCI_SLICES == part]
        both = piece.merge(piece, on="invoice")
        both = both[both.code_x < both.code_y]
        counts += np.bincount(
            both.code_x.to_numpy("int64") * size + both.code_y.to_numpy("int64"),
            minlength=size * size,
        )
    frequent_bins = np.flatnonzero(counts >= UCI_FLOOR)
    counted = pd.DataFrame(
        {
            "code_x": frequent_bins // size,
            "code_y": frequent_bins % size,
            "orders": counts[frequent_bins],
        }
    )
    names = pd.Series(codes.categories)
    pairs = pd.DataFrame(
        {
            "product_a": names[counted.code_x].to_numpy(),
            "product_b": names[counted.code_y].to_numpy(),
            "orders": counted.orders.to_numpy(),
        }
    )
    pairs["orders_a"] = pairs.product_a.map(per_key).to_numpy()
    pairs["orders_b"] = pairs.product_b.map(per_key).to_numpy()
    return pairs, total


@pytest.fixture(scope="module")
def uci_pairs(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """count_pairs over UCI Online Retail loaded as canonical orders and order lines."""
    workspace = store.resolve_workspace(tmp_path_factory.mktemp("uci") / "workspace")
    with store.open_for_write(workspace, "uci") as con:
        con.begin()
        con.execute(CONVERT_UCI, [str(PARQUET)])
        con.execute(CONVERT_UCI_LINES, [str(PARQUET)])
        con.commit()
    with engines.open_tables("duckdb", workspace=workspace, dataset="uci") as tables:
        valid = lines.select_valid_lines(
            tables.orders, tables["order_lines"], dt.date(2011, 12, 31)
        )
        return affinity.count_pairs(valid, floor=UCI_FLOOR)


def test_uci_pairs_equal_an_independent_pandas_count(uci_pairs: pd.DataFrame):
    expected, total = count_uci_pairs_with_pandas()
    assert len(expected) > 1000  # a real check: many frequent pairs
    expected = expected.sort_values(["product_a", "product_b"]).reset_index(drop=True)
    found = uci_pairs.sort_values(["product_a", "product_b"]).reset_index(drop=True)
    assert list(found.product_a) == list(expected.product_a)
    assert list(found.product_b) == list(expected.product_b)
    for column in ("orders", "orders_a", "orders_b"):
        assert found[column].tolist() == expected[column].tolist(), column
    support = expected.orders / total
    lift = support / ((expected.orders_a / total) * (expected.orders_b / total))
    assert found.support.to_numpy() == pytest.approx(support.to_numpy(), rel=1e-12)
    assert found.lift.to_numpy() == pytest.approx(lift.to_numpy(), rel=1e-12)
    assert found.confidence_a_b.to_numpy() == pytest.approx(
        (expected.orders / expected.orders_a).to_numpy(), rel=1e-12
    )
    # sorted by orders descending, then product_a, product_b
    assert uci_pairs.orders.is_monotonic_decreasing


def test_the_bench_reference_query_counts_the_same_pairs(tmp_path: Path):
    workspace = store.resolve_workspace(tmp_path / "workspace")
    written = step_affinity.build_dataset(workspace, "bench", 150_000)
    assert 145_000 < written < 155_000  # 1 to 5 lines (3 on average) per order
    ours = step_affinity.count_pairs_ours(workspace, "bench")
    reference = step_affinity.count_pairs_duckdb(store.dataset_path(workspace, "bench"))
    assert len(ours) > 10
    figures = step_affinity.read_figures(ours), step_affinity.read_figures(reference)
    assert find_differences(*figures) == []  # counts equal, sums of support and lift to 1e-12
