"""Bright spots of a segment (docs/products.md, "Bright spots").

Every figure below is computed by hand from ORDERS and LINES, in the comment next to it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import ibis
import pandas as pd
import pytest

from dashboard import engines
from dashboard.products import bright_spots, lines
from dashboard.products.intervals import estimate_wilson_interval

AS_OF = dt.date(2024, 6, 30)
ORDERS = [
    {"order_id": "o1", "customer_id": "A", "ordered_at": "2024-01-01 10:00", "order_total": "40"},
    {"order_id": "o2", "customer_id": "A", "ordered_at": "2024-02-01 10:00", "order_total": "10"},
    {"order_id": "o3", "customer_id": "B", "ordered_at": "2024-01-05 10:00", "order_total": "15"},
    {"order_id": "o4", "customer_id": "C", "ordered_at": "2024-01-06 10:00", "order_total": "8"},
    {"order_id": "o5", "customer_id": "D", "ordered_at": "2024-01-07 10:00", "order_total": "3"},
    # a guest order and E's cancelled order: nobody's purchase
    {"order_id": "o6", "customer_id": None, "ordered_at": "2024-01-08 10:00", "order_total": "10"},
    {
        "order_id": "o7",
        "customer_id": "E",
        "ordered_at": "2024-01-09 10:00",
        "order_total": "99",
        "is_cancelled": True,
    },
]
LINES = [
    {
        "order_id": "o1",
        "sku": "BEAN",
        "product": "Beans",
        "category": "Coffee",
        "quantity": 2,
        "price": "10",
    },
    {"order_id": "o1", "sku": "MUG", "product": "Mug", "category": "Mugs", "price": "10"},
    {"order_id": "o2", "sku": "BEAN", "product": "Beans", "category": "Coffee", "price": "10"},
    {"order_id": "o3", "sku": "BEAN", "product": "Beans", "category": "Coffee", "price": "10"},
    {"order_id": "o3", "sku": "FILT", "product": "Filters", "category": "Coffee", "price": "5"},
    {"order_id": "o4", "sku": "MUG", "product": "Mug", "category": "Mugs", "price": "8"},
    {"order_id": "o5", "sku": "STK", "product": "Sticker", "price": "3"},
    {"order_id": "o6", "sku": "BEAN", "product": "Beans", "category": "Coffee", "price": "10"},
    {"order_id": "o7", "sku": "FILT", "product": "Filters", "category": "Coffee", "price": "99"},
]
# Buyers: (A, BEAN, 30), (A, MUG, 10), (B, BEAN, 10), (B, FILT, 5), (C, MUG, 8), (D, STK, 3).
# All customers who bought anything: A, B, C, D = 4. The segment: A, B, E (bought nothing: not
# in the denominator) and Z (unknown): segment customers A, B = 2, segment revenue 55.
MEMBERS = ["A", "B", "E", "Z"]


@pytest.fixture
def spots(workspace: Path, make_dataset, make_lines):
    make_dataset("shop", ORDERS)
    make_lines("shop", LINES)

    def find(**kwargs) -> pd.DataFrame:
        with engines.open_tables("duckdb", workspace=workspace, dataset="shop") as tables:
            valid = lines.select_valid_lines(
                tables.orders, tables["order_lines"], AS_OF, with_guests=False
            )
            buyers = bright_spots.count_product_buyers(valid)
            members = ibis.memtable(pd.DataFrame({"customer_id": MEMBERS}))
            return bright_spots.find_bright_spots(buyers, members, **kwargs)

    return find


def test_product_buyers(workspace: Path, make_dataset, make_lines):
    make_dataset("shop", ORDERS)
    make_lines("shop", LINES)
    with engines.open_tables("duckdb", workspace=workspace, dataset="shop") as tables:
        valid = lines.select_valid_lines(tables.orders, tables["order_lines"], AS_OF)
        buyers = bright_spots.count_product_buyers(valid).to_pandas()
    buyers = buyers.sort_values(["customer_id", "product_key"]).reset_index(drop=True)
    # the guest's line is left out even when guests are passed in
    assert list(zip(buyers.customer_id, buyers.product_key, strict=True)) == [
        ("A", "BEAN"),
        ("A", "MUG"),
        ("B", "BEAN"),
        ("B", "FILT"),
        ("C", "MUG"),
        ("D", "STK"),
    ]
    assert [float(r) for r in buyers.revenue] == [30.0, 10.0, 10.0, 5.0, 8.0, 3.0]
    assert list(buyers.category.fillna("-")) == ["Coffee", "Mugs", "Coffee", "Coffee", "Mugs", "-"]


def test_bright_spots_by_product(spots):
    table = spots(level="product", min_customers=1)
    assert list(table.columns) == bright_spots.BRIGHT_SPOT_COLUMNS
    # BEAN: index 1.0 / .5 = 2 with 2 buyers; FILT: .5 / .25 = 2 with 1; MUG: .5 / .5 = 1.
    # STK: no member bought it.
    assert list(table.key) == ["BEAN", "FILT", "MUG"]
    assert list(table["name"]) == ["Beans", "Filters", "Mug"]
    assert list(table.category) == ["Coffee", "Coffee", "Mugs"]
    assert list(table.segment_buyers) == [2, 1, 1]
    assert list(table.segment_customers) == [2, 2, 2]
    assert list(table.segment_share) == [1.0, 0.5, 0.5]
    assert list(table.all_buyers) == [2, 1, 2]
    assert list(table.all_customers) == [4, 4, 4]
    assert list(table.all_share) == [0.5, 0.25, 0.5]
    assert list(table["index"]) == [2.0, 2.0, 1.0]
    # 2 of 2 -> .3424, 1; 1 of 2 -> .0945, .9055
    assert table.share_low.tolist() == pytest.approx([0.3424, 0.0945, 0.0945], abs=1e-4)
    assert table.share_high.tolist() == pytest.approx([1.0, 0.9055, 0.9055], abs=1e-4)
    low, high = estimate_wilson_interval([2, 1, 1], [2, 2, 2])
    assert table.share_low.tolist() == low.tolist()
    assert table.share_high.tolist() == high.tolist()
    # the segment's revenue: BEAN 30 + 10 = 40, FILT 5, MUG 10, of 55
    assert table.revenue_share.tolist() == pytest.approx([40 / 55, 5 / 55, 10 / 55])


def test_bright_spots_minimum_count(spots):
    assert list(spots(level="product", min_customers=2).key) == ["BEAN"]
    empty = spots()  # default minimum 5: no product qualifies
    assert empty.empty
    assert list(empty.columns) == bright_spots.BRIGHT_SPOT_COLUMNS


def test_bright_spots_by_category(spots):
    table = spots(level="category", min_customers=1)
    # Coffee: A and B, each counted once (B bought Beans and Filters): 2 of 2 in the segment,
    # 2 of 4 overall, index 2, revenue 30 + 10 + 5 = 45 of 55. Mugs: A of 2; A, C of 4; 10 of 55.
    assert list(table.key) == ["Coffee", "Mugs"]
    assert list(table["name"]) == ["Coffee", "Mugs"]
    assert table.category.isna().all()
    assert list(table.segment_buyers) == [2, 1]
    assert list(table.all_buyers) == [2, 2]
    assert list(table["index"]) == [2.0, 1.0]
    assert table.revenue_share.tolist() == pytest.approx([45 / 55, 10 / 55])


def test_uncategorised_lines_grouped(workspace: Path, make_dataset, make_lines):
    make_dataset("shop", ORDERS)
    make_lines("shop", LINES)
    with engines.open_tables("duckdb", workspace=workspace, dataset="shop") as tables:
        valid = lines.select_valid_lines(tables.orders, tables["order_lines"], AS_OF)
        buyers = bright_spots.count_product_buyers(valid)
        members = ibis.memtable(pd.DataFrame({"customer_id": ["C", "D"]}))
        table = bright_spots.find_bright_spots(buyers, members, "category", min_customers=1)
    # segment C, D: Mugs (C, 1 of 2; 2 of 4 overall: index 1), Uncategorised (D, 1 of 2;
    # 1 of 4: index 2); revenue 8 and 3 of 11
    assert list(table.key) == ["Uncategorised", "Mugs"]
    assert list(table["index"]) == [2.0, 1.0]
    assert table.revenue_share.tolist() == pytest.approx([3 / 11, 8 / 11])
