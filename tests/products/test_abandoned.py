"""Abandoned checkouts by product, category and channel, and the builder's abandoned-cart
features and presets (docs/products.md, "Abandoned checkouts"; docs/behaviour.md §2, §4).

Every figure below is computed by hand from ORDERS, LINES, CHECKOUTS and CHECKOUT_LINES, in the
comment next to it. Analysis date 2024-06-30.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import ibis
import pandas as pd
import pytest

from dashboard import engines, order_rules
from dashboard.behaviour import (
    compiler,
    definitions,
    feature_inputs,
    feature_table,
    membership,
    presets,
)
from dashboard.products import abandoned
from dashboard.workspace import store

AS_OF = dt.date(2024, 6, 30)


def _order(order_id, customer, at, total, **extra):
    base = {"order_id": order_id, "customer_id": customer, "ordered_at": at, "order_total": total}
    return base | extra


ORDERS = [
    # A's only valid order up to the date is before its checkout K1; o5 is after the date.
    _order("o1", "A", "2024-01-10 10:00", "30"),
    _order("o5", "A", "2024-07-05 10:00", "50"),
    # A guest order: names its products, never recovers a checkout.
    _order("o2", None, "2024-02-01 10:00", "10"),
    # B orders after both its checkouts (K8 04-20, K2 05-01): both recovered.
    _order("o3", "B", "2024-05-10 10:00", "12"),
    # C's only order is cancelled: no valid order, so no channel ("No purchase yet").
    _order("o4", "C", "2024-03-01 10:00", "40", is_cancelled=True),
    # E orders at the very second of its checkout K7: recovered (at or after).
    _order("o6", "E", "2024-03-15 12:00", "24"),
]
LINES = [
    {"order_id": "o1", "sku": "BEAN", "product": "Beans", "category": "Coffee", "price": "10"},
    {"order_id": "o1", "sku": "MUG", "product": "Mug", "category": "Mugs", "price": "20"},
    {"order_id": "o2", "sku": "BEAN", "product": "Beans", "category": "Coffee", "price": "10"},
    # A cancelled order's line names nothing: KETTLE stays unsold.
    {"order_id": "o4", "sku": "KETTLE", "product": "Kettle", "category": "Gear", "price": "40"},
]
CHECKOUTS = [
    # checkout_id, customer_id, created_at, total
    ("K1", "A", "2024-06-01 10:00", "50"),
    ("K2", "B", "2024-05-01 10:00", "60"),
    ("K3", None, "2024-04-01 10:00", "55"),
    ("K4", "C", "2024-06-10 10:00", "45"),
    ("K5", "A", "2024-07-02 10:00", "50"),  # after the date: left out everywhere
    ("K6", "D", "2024-06-20 10:00", "30"),  # no line items
    ("K7", "E", "2024-03-15 12:00", "24"),
    ("K8", "B", "2024-04-20 10:00", "10"),
    ("K9", "C", "2024-06-10 10:00", "12"),  # the same second as K4
]
CHECKOUT_LINES = [
    # checkout_id, product, sku, quantity, price
    ("K1", "Beans 1kg", "BEAN", 2, "10"),  # 20; named "Beans" by the order lines
    ("K1", "Gift card", None, None, "25"),  # quantity missing = 1: 25
    ("K2", "Mug", "MUG", 1, "12"),  # 12
    ("K2", "Steel kettle", "KETTLE", 1, "40"),  # 40
    ("K3", "Beans", "BEAN", 1, "10"),  # 10
    ("K3", "Gift card", None, 1, None),  # no price: 0
    ("K3", "Kettle", "KETTLE", 1, "40"),  # 40
    ("K4", "Steel kettle", "KETTLE", 1, "40"),  # 40
    ("K5", "Beans", "BEAN", 5, "10"),
    ("K7", "Mug", "MUG", 2, "12"),  # 24
    ("K8", "Beans", "BEAN", 1, "10"),  # 10
    ("K9", "Mug", "MUG", 1, "12"),  # 12
    ("K9", None, None, 3, "99"),  # neither SKU nor name: left out
]
# Recovered: K2, K8 (B ordered 05-10), K7 (E ordered at the checkout's second). Not: K1 (A's
# order o5 is after the date), K3 (guest), K4 and K9 (C's order is cancelled), K6 (D never
# ordered).
CHANNELS = {"A": "Email", "B": "Paid Search", "E": "Email"}


def _write_checkouts(workspace: Path, name: str) -> None:
    numbers: dict[str, int] = {}
    rows = []
    for checkout_id, product, sku, quantity, price in CHECKOUT_LINES:
        numbers[checkout_id] = numbers.get(checkout_id, 0) + 1
        price = None if price is None else Decimal(price)
        rows.append((checkout_id, numbers[checkout_id], product, sku, quantity, price))
    with store.open_for_write(workspace, name) as con:
        con.begin()
        con.executemany(
            "INSERT INTO abandoned_checkouts (checkout_id, customer_id, created_at, total,"
            " currency, ingest_id) VALUES (?, ?, ?, ?, 'EUR', 2)",
            [(k, c, dt.datetime.fromisoformat(at), Decimal(t)) for k, c, at, t in CHECKOUTS],
        )
        con.executemany(
            "INSERT INTO checkout_lines (checkout_id, line_number, product, sku, quantity, price,"
            " ingest_id) VALUES (?, ?, ?, ?, ?, ?, 2)",
            rows,
        )
        con.commit()


@pytest.fixture
def shop(workspace: Path, make_dataset, make_lines) -> Path:
    make_dataset("shop", ORDERS)
    make_lines("shop", LINES)
    _write_checkouts(workspace, "shop")
    return workspace


def _summarise(workspace: Path, by: str, **kwargs) -> pd.DataFrame:
    with engines.open_tables("duckdb", workspace=workspace, dataset="shop") as tables:
        return abandoned.summarise_abandoned(tables, AS_OF, by, **kwargs)


def _attribution() -> ibis.Table:
    return ibis.memtable(
        pd.DataFrame({"customer_id": list(CHANNELS), "channel": list(CHANNELS.values())})
    )


def _rows(table: pd.DataFrame) -> list[tuple]:
    return [tuple(row) for row in table.itertuples(index=False)]


def test_has_checkout_lines(workspace: Path, shop, make_dataset) -> None:
    with engines.open_tables("duckdb", workspace=workspace, dataset="shop") as tables:
        assert abandoned.has_checkout_lines(tables)
    make_dataset("bare", ORDERS)
    with engines.open_tables("duckdb", workspace=workspace, dataset="bare") as tables:
        assert not abandoned.has_checkout_lines(tables)


def test_by_product(shop: Path) -> None:
    table = _summarise(shop, "product")
    assert list(table.columns) == abandoned.ABANDONED_COLUMNS
    assert _rows(table) == [
        # KETTLE: K2, K3, K4; customers B, C; 3 units; 40 x 3; K2 recovered. Never sold, so its
        # most frequent checkout name: "Steel kettle" (2) over "Kettle" (1).
        ("KETTLE", "Steel kettle", 3, 2, 3, 120.0, 1, pytest.approx(1 / 3)),
        # MUG: K2, K7, K9; B, E, C; 1 + 2 + 1; 12 + 24 + 12; K2, K7 recovered.
        ("MUG", "Mug", 3, 3, 4, 48.0, 2, pytest.approx(2 / 3)),
        # BEAN: K1, K3 (guest), K8; A, B; 2 + 1 + 1; 20 + 10 + 10; K8 recovered. Sold as "Beans".
        ("BEAN", "Beans", 3, 2, 4, 40.0, 1, pytest.approx(1 / 3)),
        # Gift card (no SKU: keyed by name): K1, K3; A; 1 (missing) + 1; 25 + 0.
        ("Gift card", "Gift card", 2, 1, 2, 25.0, 0, 0.0),
    ]
    assert table.dtypes.astype(str).tolist() == [
        "object", "object", "int64", "int64", "int64", "float64", "int64", "float64"
    ]  # fmt: skip


def test_by_category(shop: Path) -> None:
    table = _summarise(shop, "category")
    assert _rows(table) == [
        # KETTLE (its only order is cancelled) and Gift card (never sold): K1, K2, K3, K4; A, B,
        # C; 3 + 2 units; 120 + 25; K2 recovered.
        ("Uncategorised", "Uncategorised", 4, 3, 5, 145.0, 1, 0.25),
        ("Mugs", "Mugs", 3, 3, 4, 48.0, 2, pytest.approx(2 / 3)),
        ("Coffee", "Coffee", 3, 2, 4, 40.0, 1, pytest.approx(1 / 3)),
    ]


def test_by_channel(shop: Path) -> None:
    table = _summarise(shop, "channel", attribution=_attribution())
    assert _rows(table) == [
        # K1 (A: 3 units, 45) and K7 (E: 2 units, 24, recovered).
        ("Email", "Email", 2, 2, 5, 69.0, 1, 0.5),
        # K2 (2 units, 52) and K8 (1 unit, 10), both B's, both recovered.
        ("Paid Search", "Paid Search", 2, 1, 3, 62.0, 2, 1.0),
        # K4, K9 (C: cancelled order only) and K6 (D, no lines: counted, 0 units, 0 value).
        ("No purchase yet", "No purchase yet", 3, 2, 2, 52.0, 0, 0.0),
        # K3, the guest's: no customer.
        ("Anonymous", "Anonymous", 1, 0, 3, 50.0, 0, 0.0),
    ]
    # The value left adds up to the same whatever the grouping.
    assert table.value_left.sum() == _summarise(shop, "product").value_left.sum() == 233.0


def test_by_channel_attributes_with_the_default_rules(shop: Path) -> None:
    table = _summarise(shop, "channel")
    # No order carries evidence: A, B and E are Unattributed (K1, K2, K7, K8).
    assert _rows(table)[0] == ("Unattributed", "Unattributed", 4, 3, 8, 131.0, 3, 0.75)
    assert list(table.key) == ["Unattributed", "No purchase yet", "Anonymous"]


def test_counting_rules_reach_recovery(shop: Path) -> None:
    # Keeping cancelled orders makes C's o4 (03-01) valid: still before K4 and K9, so not
    # recovered, but C now has a channel.
    keep = order_rules.CountingRules(exclude_cancelled=False)
    table = _summarise(shop, "channel", rules=keep)
    assert "No purchase yet" in set(table.key)  # D still has no order
    no_purchase = table.set_index("key").loc["No purchase yet"]
    assert (no_purchase.checkouts, no_purchase.customers) == (1, 1)
    # KETTLE is now sold (in a valid order) as "Kettle" in category Gear.
    products = _summarise(shop, "product", rules=keep).set_index("key")
    assert products.loc["KETTLE", "name"] == "Kettle"
    categories = _summarise(shop, "category", rules=keep).set_index("key")
    assert categories.loc["Gear"].tolist() == ["Gear", 3, 2, 3, 120.0, 1, pytest.approx(1 / 3)]


def test_an_unknown_grouping_is_one_sentence(shop: Path) -> None:
    with pytest.raises(abandoned.AbandonedGroupingError, match=r"^Abandoned checkouts are grouped"):
        _summarise(shop, "sku")


def test_a_dataset_without_checkouts_gives_empty_tables(workspace: Path, make_dataset) -> None:
    make_dataset("shop", ORDERS)
    for by in abandoned.GROUPINGS:
        table = _summarise(workspace, by)
        assert list(table.columns) == abandoned.ABANDONED_COLUMNS
        assert table.empty


def _features(workspace: Path) -> pd.DataFrame:
    with store.open_for_read(workspace, "shop") as backend:
        table = feature_table.build_behaviour_features(
            feature_inputs.read_tables(backend), order_rules.Window(as_of=AS_OF)
        )
        return table.to_pandas().set_index("customer_id")


def test_features_read_the_latest_checkout_only(shop: Path) -> None:
    table = _features(shop)
    products = {c: table.loc[c, "abandoned_products"] for c in "ABCDE"}
    categories = {c: table.loc[c, "abandoned_categories"] for c in "ABCDE"}
    # A: K1 (K5 is after the date); B: K2, not the earlier K8; C: K4 and K9, the same second;
    # D: K6 has no lines; E: K7.
    assert {c: None if v is None else list(v) for c, v in products.items()} == {
        "A": ["Beans", "Gift card"],
        "B": ["Mug", "Steel kettle"],
        "C": ["Mug", "Steel kettle"],
        "D": None,
        "E": ["Mug"],
    }
    assert {c: None if v is None else list(v) for c, v in categories.items()} == {
        "A": ["Coffee", "Uncategorised"],
        "B": ["Mugs", "Uncategorised"],
        "C": ["Mugs", "Uncategorised"],
        "D": None,
        "E": ["Mugs"],
    }


@pytest.mark.parametrize(
    ("key", "values", "expected"),
    [
        # Abandoned carts (30 days, no order after): A (29 days), C (20), D (10); B (60 days,
        # ordered after) and E (107 days, ordered at the checkout) are out. D left nothing.
        ("abandoned_product_carts", {"products": ["Steel kettle"]}, {"C"}),
        ("abandoned_product_carts", {"products": ["Beans", "Steel kettle"]}, {"A", "C"}),
        ("abandoned_product_carts", {"products": ["Mug"], "days": 365}, {"C"}),
        ("abandoned_category_carts", {"categories": ["Uncategorised"]}, {"A", "C"}),
        ("abandoned_category_carts", {"categories": ["Coffee"]}, {"A"}),
        ("abandoned_category_carts", {"categories": ["Mugs"], "days": 25}, {"C"}),
    ],
)
def test_presets_by_product_and_category(shop: Path, key, values, expected) -> None:
    with store.open_for_read(shop, "shop") as backend:
        table = feature_table.build_customer_features(
            feature_inputs.read_tables(backend), order_rules.Window(as_of=AS_OF)
        )
        definition = presets.preset_definition(presets.PRESETS[key], values)
        condition = compiler.compile_definition(table, definition)
        found = set(membership.list_members(table, condition, ["customer_id"]).customer_id)
    assert found == expected
    assert definitions.validate_definition(definition) == definition
