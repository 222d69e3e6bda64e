"""The order lines the product analyses read (docs/products.md): valid orders, product keys."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from dashboard import engines
from dashboard.products import lines

ORDERS = [
    {"order_id": "1", "customer_id": "A", "ordered_at": "2024-01-05 10:00", "order_total": "30"},
    {"order_id": "2", "customer_id": None, "ordered_at": "2024-01-06 10:00", "order_total": "12"},
    # cancelled, zero-value and after the analysis date: none of their lines count
    {
        "order_id": "3",
        "customer_id": "A",
        "ordered_at": "2024-01-07 10:00",
        "order_total": "9",
        "is_cancelled": True,
    },
    {"order_id": "4", "customer_id": "B", "ordered_at": "2024-01-08 10:00", "order_total": "0"},
    {"order_id": "5", "customer_id": "B", "ordered_at": "2024-03-01 10:00", "order_total": "5"},
]
LINES = [
    # as ingest stores them: trimmed, NULL when empty
    {"order_id": "1", "sku": "BEAN-ETH", "product": "Beans", "quantity": 2, "price": "10"},
    {"order_id": "1", "sku": None, "product": "Mug", "price": "10", "category": "Mugs"},
    {"order_id": "1", "sku": None, "product": None},  # no key: left out
    {"order_id": "2", "sku": "BEAN-ETH", "product": None, "quantity": None, "price": "12"},
    {"order_id": "3", "sku": "BEAN-ETH", "product": "Beans"},
    {"order_id": "4", "sku": "BEAN-ETH", "product": "Beans"},
    {"order_id": "5", "sku": "BEAN-ETH", "product": "Beans"},
]


def test_lines_of_valid_orders_keyed_by_sku_else_name(workspace: Path, make_dataset, make_lines):
    make_dataset("shop", ORDERS)
    make_lines("shop", LINES)
    with engines.open_tables("duckdb", workspace=workspace, dataset="shop") as tables:
        kept = lines.select_valid_lines(
            tables.orders, tables["order_lines"], dt.date(2024, 1, 31)
        ).to_pandas()
        members = lines.select_valid_lines(
            tables.orders, tables["order_lines"], dt.date(2024, 1, 31), with_guests=False
        ).to_pandas()
    kept = kept.sort_values(["order_id", "product_key"]).reset_index(drop=True)
    assert list(kept.order_id) == ["1", "1", "2"]
    assert list(kept.product_key) == ["BEAN-ETH", "Mug"] + ["BEAN-ETH"]
    assert list(kept["product"]) == ["Beans", "Mug", "BEAN-ETH"]
    assert list(kept.quantity) == [2, 1, 1]
    assert list(kept.revenue) == [20.0, 10.0, 12.0]
    assert kept.category.isna().tolist() == [True, False, True]
    assert kept.customer_id.isna().tolist() == [False, False, True]
    assert list(members.order_id) == ["1", "1"]


RENAMED_ORDERS = [
    {"order_id": f"{c}{n}", "customer_id": c, "ordered_at": f"2024-0{n}-01 10:00"}
    | {"order_total": "10"}
    for c in ("A", "B", "C")
    for n in (1, 2)
]
# SKU BEAN sold as "Beans" twice, then renamed "Beans 250 g" on four lines (in two categories,
# "Coffee" three times); its display name and category are the most frequent ones everywhere.
RENAMED_LINES = [
    {"order_id": "A1", "sku": "BEAN", "product": "Beans", "price": "10", "category": "Food"},
    {"order_id": "B1", "sku": "BEAN", "product": "Beans", "price": "10", "category": "Food"},
    {"order_id": "C1", "sku": "BEAN", "product": "Beans 250 g", "price": "10"},
    {"order_id": "A2", "sku": "BEAN", "product": "Beans 250 g", "category": "Coffee"},
    {"order_id": "B2", "sku": "BEAN", "product": "Beans 250 g", "category": "Coffee"},
    {"order_id": "C2", "sku": "BEAN", "product": "Beans 250 g", "category": "Coffee"},
    {"order_id": "A1", "sku": "MUG", "product": "Mug"},
    {"order_id": "B1", "sku": "MUG", "product": "Mug"},
]


def test_a_renamed_product_has_one_name_in_every_table(workspace: Path, make_dataset, make_lines):
    import ibis

    from dashboard.products import affinity, bright_spots, gateway, replenishment

    make_dataset("shop", RENAMED_ORDERS)
    make_lines("shop", RENAMED_LINES)
    as_of = dt.date(2024, 12, 31)
    with engines.open_tables("duckdb", workspace=workspace, dataset="shop") as tables:
        valid = lines.select_valid_lines(tables.orders, tables["order_lines"], as_of)
        described = lines.describe_products(valid).to_pandas().set_index("product_key")
        pairs = affinity.count_pairs(valid)
        first = gateway.compare_first_and_later(tables.orders, tables["order_lines"], as_of)
        gateways = gateway.measure_gateway(tables.orders, tables["order_lines"], as_of, 30)
        cycles = replenishment.measure_cycles(valid, min_pairs=1)
        buyers = bright_spots.count_product_buyers(valid)
        members = ibis.memtable({"customer_id": ["A", "B", "C"]})
        spots = bright_spots.find_bright_spots(buyers, members, min_customers=1)
    assert described.loc["BEAN", "name"] == "Beans 250 g"
    assert described.loc["BEAN", "category"] == "Coffee"
    assert described.loc["MUG", "name"] == "Mug"
    assert pd.isna(described.loc["MUG", "category"])
    assert (pairs.name_a[0], pairs.category_a[0]) == ("Beans 250 g", "Coffee")
    for table in (first, gateways, spots):
        bean = table.loc[table.key == "BEAN"].iloc[0]
        assert (bean["name"], bean.category) == ("Beans 250 g", "Coffee")
    assert cycles.loc[cycles.product_key == "BEAN", "product"].item() == "Beans 250 g"
    assert cycles.loc[cycles.product_key == "BEAN", "category"].item() == "Coffee"
