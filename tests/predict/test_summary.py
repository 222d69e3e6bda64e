"""The per-customer purchase summary and its compression (docs/predictions.md, issue 15 item 1).

Every expected number is worked out by hand in the comments next to it.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from pathlib import Path

import pandas as pd

from dashboard import engines, order_rules
from dashboard.predict import summary

AS_OF = dt.date(2024, 3, 31)

ORDERS = [
    # A: first day 2024-01-10 with two orders (one purchase day, 100 + 20 = 120)
    {"order_id": "A1", "customer_id": "A", "ordered_at": "2024-01-10 09:00", "order_total": "100"},
    {"order_id": "A2", "customer_id": "A", "ordered_at": "2024-01-10 18:30", "order_total": "20"},
    # repeat day 2024-02-09: two orders, 30 + 10.50 = 40.50 (the 10.50 partly refunded: net 5.50)
    {"order_id": "A3", "customer_id": "A", "ordered_at": "2024-02-09 08:00", "order_total": "30"},
    {
        "order_id": "A4",
        "customer_id": "A",
        "ordered_at": "2024-02-09 23:59:59",
        "order_total": "10.50",
        "refunded_amount": "5.00",
    },
    # repeat day 2024-03-01: 59.50
    {
        "order_id": "A5",
        "customer_id": "A",
        "ordered_at": "2024-03-01 12:00",
        "order_total": "59.50",
    },
    # cancelled: no purchase day, no revenue
    {
        "order_id": "A6",
        "customer_id": "A",
        "ordered_at": "2024-03-20 12:00",
        "order_total": "500",
        "is_cancelled": True,
    },
    # zero-value: not a purchase (default rules), revenue 0
    {"order_id": "A7", "customer_id": "A", "ordered_at": "2024-03-22 12:00", "order_total": "0"},
    # a return row: never a purchase, its net -15 lowers historic CLV
    {
        "order_id": "A8",
        "customer_id": "A",
        "ordered_at": "2024-03-25 09:00",
        "order_total": "0",
        "refunded_amount": "15",
    },
    # after the analysis date: unseen
    {"order_id": "A9", "customer_id": "A", "ordered_at": "2024-04-01 00:00", "order_total": "999"},
    # B: one purchase on the analysis date itself
    {"order_id": "B1", "customer_id": "B", "ordered_at": "2024-03-31 23:00", "order_total": "25"},
    # C: only a cancelled order -> no row
    {
        "order_id": "C1",
        "customer_id": "C",
        "ordered_at": "2024-02-01",
        "order_total": "80",
        "is_cancelled": True,
    },
    # D: orders only after the analysis date -> no row
    {"order_id": "D1", "customer_id": "D", "ordered_at": "2024-04-05", "order_total": "80"},
    # a guest order: no customer, no row
    {"order_id": "G1", "customer_id": None, "ordered_at": "2024-02-01", "order_total": "70"},
    # E: a zero-value order on 2024-02-01, then a 40 order on 2024-03-01
    {"order_id": "E1", "customer_id": "E", "ordered_at": "2024-02-01", "order_total": "0"},
    {"order_id": "E2", "customer_id": "E", "ordered_at": "2024-03-01", "order_total": "40"},
]


def summary_of(
    workspace: Path, rules: order_rules.CountingRules = order_rules.DEFAULT_RULES
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The summary (indexed by customer_id) and its compression, sorted."""
    with engines.open_tables("duckdb", workspace=workspace, dataset="shop") as tables:
        table = summary.summarise_purchases(tables.orders, AS_OF, rules)
        frame = table.to_pandas().set_index("customer_id").sort_index()
        compressed = (
            summary.compress_purchases(table)
            .to_pandas()
            .sort_values(["repeat_purchases", "t_x_days", "T_days"])
            .reset_index(drop=True)
        )
    return frame, compressed


def test_summary_counts_purchase_days_and_values_by_hand(workspace: Path, make_dataset) -> None:
    make_dataset("shop", ORDERS, ["A", "B", "C", "P"])
    frame, compressed = summary_of(workspace)
    assert list(frame.index) == ["A", "B", "E"]
    assert list(frame.columns) == [
        "first_purchase_on",
        "last_purchase_on",
        "repeat_purchases",
        "t_x_days",
        "T_days",
        "repeat_value_mean",
        "historic_clv",
    ]
    a = frame.loc["A"]
    assert (a.first_purchase_on, a.last_purchase_on) == (
        pd.Timestamp("2024-01-10"),
        pd.Timestamp("2024-03-01"),
    )
    # 3 purchase days (01-10, 02-09, 03-01) -> x = 2
    assert a.repeat_purchases == 2
    # 2024-01-10 -> 2024-03-01: 21 + 29 + 1 = 51 days; -> 2024-03-31: 81 days
    assert (a.t_x_days, a.T_days) == (51, 81)
    # repeat days: 40.50 and 59.50 -> mean 50.00 (the first day's 120 is left out)
    assert a.repeat_value_mean == 50.0
    # net of counted orders: 100 + 20 + 30 + 5.50 + 59.50 + 0 - 15 = 200.00
    assert a.historic_clv == Decimal("200.00")

    b = frame.loc["B"]
    assert (b.repeat_purchases, b.t_x_days, b.T_days) == (0, 0, 0)
    assert b.first_purchase_on == b.last_purchase_on == pd.Timestamp(AS_OF)
    assert math.isnan(b.repeat_value_mean)
    assert b.historic_clv == Decimal("25.00")

    e = frame.loc["E"]
    # the zero-value order is no purchase: first purchase 2024-03-01, 30 days before as_of
    assert (e.repeat_purchases, e.t_x_days, e.T_days) == (0, 0, 30)
    assert e.historic_clv == Decimal("40.00")

    assert compressed.to_dict("records") == [
        {"repeat_purchases": 0, "t_x_days": 0, "T_days": 0, "customers": 1},
        {"repeat_purchases": 0, "t_x_days": 0, "T_days": 30, "customers": 1},
        {"repeat_purchases": 2, "t_x_days": 51, "T_days": 81, "customers": 1},
    ]


def test_zero_value_orders_are_purchases_when_the_rules_count_them(
    workspace: Path, make_dataset
) -> None:
    make_dataset("shop", ORDERS)
    rules = order_rules.CountingRules(exclude_zero_value=False)
    frame, _ = summary_of(workspace, rules)
    a = frame.loc["A"]
    # order_rules makes every order with a total >= 0 valid, the total-0 return row too:
    # purchase days 01-10, 02-09, 03-01, 03-22 and 03-25 -> x = 4, t_x = 51 + 24 = 75;
    # repeat values 40.50, 59.50, 0, 0 -> mean 25
    assert (a.repeat_purchases, a.t_x_days, a.T_days) == (4, 75, 81)
    assert a.repeat_value_mean == 25.0
    assert a.historic_clv == Decimal("200.00")
    e = frame.loc["E"]
    # E now starts on 2024-02-01 (the zero-value order): x = 1, t_x = 29, T = 59; repeat value 40
    assert (e.repeat_purchases, e.t_x_days, e.T_days, e.repeat_value_mean) == (1, 29, 59, 40.0)


def test_compression_counts_customers_with_the_same_history(workspace: Path, make_dataset) -> None:
    orders = [
        {"order_id": f"{c}{i}", "customer_id": c, "ordered_at": day, "order_total": "10"}
        for c in ("K", "L", "M")
        for i, day in enumerate(("2024-03-01", "2024-03-11"))
    ]
    orders.append(
        {"order_id": "N1", "customer_id": "N", "ordered_at": "2024-03-01", "order_total": "5"}
    )
    make_dataset("shop", orders)
    _, compressed = summary_of(workspace)
    # K, L, M: x = 1, t_x = 10, T = 30; N: x = 0, t_x = 0, T = 30
    assert compressed.to_dict("records") == [
        {"repeat_purchases": 0, "t_x_days": 0, "T_days": 30, "customers": 1},
        {"repeat_purchases": 1, "t_x_days": 10, "T_days": 30, "customers": 3},
    ]
