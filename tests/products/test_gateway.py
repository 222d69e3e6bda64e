"""Gateway products and first vs later purchases (docs/products.md, "Gateway products").

Every figure below is computed by hand from ORDERS and LINES, in the comment next to it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pytest

from dashboard import engines
from dashboard.errors import UserError
from dashboard.products import gateway
from dashboard.products.intervals import estimate_wilson_interval

AS_OF = dt.date(2024, 12, 31)
HORIZON = 30  # cohort: first valid order on or before 2024-12-01


def _order(order_id, customer, day, total, **extra):
    return {
        "order_id": order_id,
        "customer_id": customer,
        "ordered_at": f"{day} 10:00",
        "order_total": total,
        **extra,
    }


ORDERS = [
    # A: first order with two products; a reorder exactly on day 30 (counts, net 10 - 4 = 6) and
    # one on day 31 (neither a reorder nor revenue). Revenue 30 + 6 = 36, reordered.
    _order("o1", "A", "2024-01-01", "30"),
    _order("o2", "A", "2024-01-31", "10", refunded_amount="4"),
    _order("o3", "A", "2024-02-01", "100"),
    # B: a second valid order the same day (revenue, not a reorder), one on day 31 (neither).
    # Revenue 20 + 5 = 25, not reordered.
    _order("o4", "B", "2024-03-01", "20"),
    {**_order("o6", "B", "2024-03-01", "5"), "ordered_at": "2024-03-01 15:00"},
    _order("o5", "B", "2024-04-01", "15"),
    # C: first order after 2024-12-01, too recent for the cohort.
    _order("o8", "C", "2024-12-20", "9"),
    # A guest order: never in customer figures.
    _order("o9", None, "2024-02-01", "12"),
    # D: a cancelled order before the first valid one (not the first order), a reorder on day 19.
    # Revenue 12 + 8 = 20, reordered.
    _order("o11", "D", "2024-04-01", "50", is_cancelled=True),
    _order("o10", "D", "2024-05-01", "12"),
    _order("o12", "D", "2024-05-20", "8"),
    # E: a product without category; a return on day 9 is counted (revenue) but not valid (no
    # reorder). Revenue 5 - 5 = 0, not reordered.
    _order("o13", "E", "2024-06-01", "5"),
    _order("o15", "E", "2024-06-10", "-5"),
]
LINES = [
    {"order_id": "o1", "sku": "BEAN", "product": "Beans", "category": "Coffee", "price": "10"},
    {"order_id": "o1", "sku": "MUG", "product": "Mug", "category": "Mugs", "price": "20"},
    {"order_id": "o2", "sku": "FILT", "product": "Filters", "category": "Coffee", "price": "10"},
    {"order_id": "o3", "sku": "BEAN", "product": "Beans", "category": "Coffee", "price": "100"},
    {"order_id": "o4", "sku": "BEAN", "product": "Beans", "category": "Coffee", "price": "20"},
    {"order_id": "o6", "sku": "FILT", "product": "Filters", "category": "Coffee", "price": "5"},
    {"order_id": "o5", "sku": "MUG", "product": "Mug", "category": "Mugs", "price": "15"},
    {"order_id": "o8", "sku": "BEAN", "product": "Beans", "category": "Coffee", "price": "9"},
    {"order_id": "o9", "sku": "BEAN", "product": "Beans", "category": "Coffee", "price": "12"},
    {"order_id": "o11", "sku": "BEAN", "product": "Beans", "category": "Coffee", "price": "50"},
    {"order_id": "o10", "sku": "MUG", "product": "Mug", "category": "Mugs", "price": "12"},
    {"order_id": "o12", "sku": "BEAN", "product": "Beans", "category": "Coffee", "price": "8"},
    {"order_id": "o13", "sku": "STK", "product": "Sticker", "price": "5"},
]
# Cohort at H = 30: A, B, D, E (C is too recent). Reordered: A, D.
# Channels (a stand-in for attribute_channels' table): Email A, D, C; Paid Search B, E.
CHANNELS = {"A": "Email", "B": "Paid Search", "C": "Email", "D": "Email", "E": "Paid Search"}


def _wilson(successes: int, trials: int) -> list[float]:
    low, high = estimate_wilson_interval(successes, trials)
    return [float(low), float(high)]


def _measure(workspace: Path, **kwargs) -> pd.DataFrame:
    with engines.open_tables("duckdb", workspace=workspace, dataset="shop") as tables:
        if kwargs.get("by") == "channel":
            kwargs["attribution"] = ibis.memtable(
                pd.DataFrame({"customer_id": list(CHANNELS), "channel": list(CHANNELS.values())})
            )
        return gateway.measure_gateway(tables.orders, tables["order_lines"], AS_OF, **kwargs)


@pytest.fixture
def shop(make_dataset, make_lines) -> None:
    make_dataset("shop", ORDERS)
    make_lines("shop", LINES)


def test_wilson_interval_checked_by_hand():
    # 8 of 10: p = .8, z^2 = 3.8416, scale = 1.38416, centre = .99208 / 1.38416 = .71674,
    # half = 1.96 * sqrt(.016 + .009604) / 1.38416 = .22658 -> .4902, .9433
    low, high = estimate_wilson_interval(np.array([8, 0]), np.array([10, 0]))
    assert low[0] == pytest.approx(0.4902, abs=1e-4)
    assert high[0] == pytest.approx(0.9433, abs=1e-4)
    assert np.isnan(low[1]) and np.isnan(high[1])
    # 1 of 2: centre .5, half 1.96 * sqrt(.125 + .2401) / 2.9208 = .40547
    assert _wilson(1, 2) == pytest.approx([0.0945, 0.9055], abs=1e-4)


def test_gateway_by_product(workspace: Path, shop):
    table = _measure(workspace, horizon_days=HORIZON)
    assert list(table.columns) == gateway.GATEWAY_COLUMNS
    # BEAN: first orders of A and B (C too recent, the guest and D's cancelled order do not
    # count); MUG: A and D; STK: E. Ties on 2 customers broken by key.
    assert list(table.key) == ["BEAN", "MUG", "STK"]
    assert list(table["name"]) == ["Beans", "Mug", "Sticker"]
    assert list(table.category) == ["Coffee", "Mugs", None]
    assert list(table.customers) == [2, 2, 1]
    assert list(table.reordered) == [1, 2, 0]  # A (day 30 counts); A and D; nobody
    assert list(table.reorder_rate) == [0.5, 1.0, 0.0]
    # 2 of 2: centre (1 + .9604) / 2.9208 = .67119, half 1.96 * .49 / 2.9208 = .32881 -> .3424, 1
    # 0 of 1: centre = half = 1.9208 / 4.8416 = .39673 -> 0, .7935
    lows_highs = [_wilson(1, 2), _wilson(2, 2), _wilson(0, 1)]
    assert [
        [lo, hi] for lo, hi in zip(table.reorder_low, table.reorder_high, strict=True)
    ] == lows_highs
    assert table.reorder_low.tolist() == pytest.approx([0.0945, 0.3424, 0.0], abs=1e-4)
    assert table.reorder_high.tolist() == pytest.approx([0.9055, 1.0, 0.7935], abs=1e-4)
    # BEAN (A 36 + B 25) / 2 = 30.5; MUG (A 36 + D 20) / 2 = 28; STK E (5 - 5) / 1 = 0
    assert list(table.revenue_per_customer) == [30.5, 28.0, 0.0]


def test_gateway_horizon_edge(workspace: Path, shop):
    # H = 29: A's order on day 30 is out (no reorder, revenue 30); D's day-19 reorder stays.
    table = _measure(workspace, horizon_days=29).set_index("key")
    assert table.loc["BEAN", "reordered"] == 0
    assert table.loc["MUG", "reordered"] == 1
    assert table.loc["BEAN", "revenue_per_customer"] == (30 + 25) / 2
    # H = 31: A's day-31 order counts too (revenue 30 + 6 + 100 = 136) and so does B's (20 +
    # 5 + 15 = 40, reordered).
    wide = _measure(workspace, horizon_days=31).set_index("key")
    assert wide.loc["BEAN", "reordered"] == 2
    assert wide.loc["BEAN", "revenue_per_customer"] == (136 + 40) / 2


def test_gateway_by_category_and_channel(workspace: Path, shop):
    categories = _measure(workspace, horizon_days=HORIZON, by="category")
    # Coffee: A, B (A once although only Beans); Mugs: A, D; Uncategorised: E
    assert list(categories.key) == ["Coffee", "Mugs", "Uncategorised"]
    assert list(categories["name"]) == ["Coffee", "Mugs", "Uncategorised"]
    assert categories.category.isna().all()
    assert list(categories.customers) == [2, 2, 1]
    assert list(categories.reordered) == [1, 2, 0]
    assert list(categories.revenue_per_customer) == [30.5, 28.0, 0.0]
    channels = _measure(workspace, horizon_days=HORIZON, by="channel")
    # Email: A, D (C not in the cohort), both reordered, (36 + 20) / 2 = 28;
    # Paid Search: B, E, none, (25 + 0) / 2 = 12.5
    assert list(channels.key) == ["Email", "Paid Search"]
    assert list(channels.customers) == [2, 2]
    assert list(channels.reordered) == [2, 0]
    assert list(channels.reorder_rate) == [1.0, 0.0]
    assert list(channels.revenue_per_customer) == [28.0, 12.5]
    assert channels.category.isna().all()


def test_gateway_horizon_leaving_nobody_and_bad_horizon(workspace: Path, shop):
    # The earliest first order is 2024-01-01, 365 days before AS_OF: nobody at 366.
    empty = _measure(workspace, horizon_days=366)
    assert empty.empty
    assert list(empty.columns) == gateway.GATEWAY_COLUMNS
    assert list(_measure(workspace, horizon_days=365).key) == ["BEAN", "MUG"]  # A only
    with pytest.raises(UserError):
        _measure(workspace, horizon_days=0)


def test_first_and_later_purchases(workspace: Path, shop):
    with engines.open_tables("duckdb", workspace=workspace, dataset="shop") as tables:
        table = gateway.compare_first_and_later(
            tables.orders, tables["order_lines"], AS_OF, gateway.order_rules.DEFAULT_RULES
        )
    assert list(table.columns) == gateway.FIRST_AND_LATER_COLUMNS
    # STK: first E. BEAN: first A, B, C; later only D (A's repeat in o3 had it first; the
    # guest and D's cancelled order do not count). MUG: first A, D; later only B.
    # FILT: later only A and B.
    assert list(table.key) == ["STK", "BEAN", "MUG", "FILT"]
    assert list(table.category) == [None, "Coffee", "Mugs", "Coffee"]
    assert list(table.first_order_buyers) == [1, 3, 2, 0]
    assert list(table.later_buyers) == [0, 1, 1, 2]
    assert table.first_share.tolist() == [1.0, 0.75, 2 / 3, 0.0]
