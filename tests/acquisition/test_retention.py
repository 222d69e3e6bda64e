"""Retention KPIs (docs/products.md, Retention): hand-computed figures on a toy store."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pandas as pd
import pytest

from dashboard import engines, order_rules
from dashboard.acquisition import retention
from dashboard.errors import UserError
from dashboard.workspace import store

AS_OF = dt.date(2024, 4, 20)
# A: Jan (two orders on one day) and Feb; B: Jan and Apr; C: Feb only (its March orders are
# cancelled or zero-value); D: Apr (its second order is after the analysis date); E: only a
# cancelled order; a guest order in March. Nobody known is active in March.
ORDERS = [
    {"order_id": "a1", "customer_id": "A", "ordered_at": "2024-01-05 09:00", "order_total": "10"},
    {"order_id": "a2", "customer_id": "A", "ordered_at": "2024-01-05 18:00", "order_total": "20"},
    {"order_id": "a3", "customer_id": "A", "ordered_at": "2024-02-10 10:00", "order_total": "15"},
    {"order_id": "b1", "customer_id": "B", "ordered_at": "2024-01-20 10:00", "order_total": "30"},
    {"order_id": "b2", "customer_id": "B", "ordered_at": "2024-04-02 10:00", "order_total": "30"},
    {"order_id": "c1", "customer_id": "C", "ordered_at": "2024-02-14 10:00", "order_total": "25"},
    {
        "order_id": "c2",
        "customer_id": "C",
        "ordered_at": "2024-03-05 10:00",
        "order_total": "25",
        "is_cancelled": True,
    },
    {"order_id": "c3", "customer_id": "C", "ordered_at": "2024-03-10 10:00", "order_total": "0"},
    {"order_id": "d1", "customer_id": "D", "ordered_at": "2024-04-15 10:00", "order_total": "40"},
    {"order_id": "d2", "customer_id": "D", "ordered_at": "2024-04-25 10:00", "order_total": "40"},
    {
        "order_id": "e1",
        "customer_id": "E",
        "ordered_at": "2024-01-08 10:00",
        "order_total": "50",
        "is_cancelled": True,
    },
    {"order_id": "g1", "customer_id": None, "ordered_at": "2024-03-01 10:00", "order_total": "9"},
]


def _open(workspace: Path, make_dataset, orders=ORDERS) -> engines.EngineTables:
    make_dataset("shop", orders)
    return engines.open_tables("duckdb", workspace=workspace, dataset="shop")


def _nan_or(values: pd.Series) -> list[object]:
    return ["nan" if isinstance(v, float) and math.isnan(v) else v for v in values]


def test_monthly_retention_churn_new_returning_and_repeat(workspace: Path, make_dataset):
    with _open(workspace, make_dataset) as tables:
        table = retention.measure_retention(tables.orders, AS_OF)
    assert list(table.columns) == retention.RETENTION_COLUMNS
    assert list(table.period_start) == [dt.date(2024, m, 1) for m in (1, 2, 3, 4)]
    # Periods end on their last day; April ends at the analysis date and is partial.
    assert list(table.period_end) == [
        dt.date(2024, 1, 31),
        dt.date(2024, 2, 29),
        dt.date(2024, 3, 31),
        dt.date(2024, 4, 20),
    ]
    assert list(table.is_partial) == [False, False, False, True]
    # Jan: A, B. Feb: A, C. Mar: nobody (C's orders are cancelled / zero-value; a guest). Apr: B, D.
    assert list(table.active_customers) == [2, 2, 0, 2]
    # New: A, B in Jan; C in Feb; D in Apr (E never has a valid order).
    assert list(table.new_customers) == [2, 1, 0, 1]
    # Returning = active - new: A in Feb, B in Apr.
    assert list(table.returning_customers) == [0, 1, 0, 1]
    assert table.previous_active.isna().tolist() == [True, False, False, False]
    assert list(table.previous_active[1:]) == [2, 2, 0]
    # Retained: A (Jan and Feb); nobody Feb -> Mar; nobody Mar -> Apr.
    assert table.retained.isna().tolist() == [True, False, False, False]
    assert list(table.retained[1:]) == [1, 0, 0]
    # Retention 1/2 in Feb, 0/2 in Mar, undefined in Jan (no previous) and Apr (previous 0).
    assert _nan_or(table.retention_rate) == ["nan", 0.5, 0.0, "nan"]
    assert _nan_or(table.churn_rate) == ["nan", 0.5, 1.0, "nan"]
    # Customers so far: 2, 3, 3, 4. Repeat (2+ purchase days): A from Feb 10 (its two Jan 5
    # orders are one day), B from Apr 2; D's second order is after the analysis date.
    assert list(table.customers_to_date) == [2, 3, 3, 4]
    assert list(table.repeat_customers_to_date) == [0, 1, 1, 2]
    assert list(table.repeat_purchase_rate) == [0.0, 1 / 3, 1 / 3, 0.5]


def test_quarterly_retention_groups_months(workspace: Path, make_dataset):
    with _open(workspace, make_dataset) as tables:
        table = retention.measure_retention(tables.orders, AS_OF, period="quarter")
    assert list(table.period_start) == [dt.date(2024, 1, 1), dt.date(2024, 4, 1)]
    assert list(table.period_end) == [dt.date(2024, 3, 31), dt.date(2024, 4, 20)]
    assert list(table.is_partial) == [False, True]
    # Q1: A, B, C all new. Q2: B (returning, retained from Q1) and D (new).
    assert list(table.active_customers) == [3, 2]
    assert list(table.new_customers) == [3, 1]
    assert list(table.returning_customers) == [0, 1]
    assert pd.isna(table.previous_active[0]) and table.previous_active[1] == 3
    assert table.retained[1] == 1
    assert table.retention_rate[1] == pytest.approx(1 / 3)
    assert table.churn_rate[1] == pytest.approx(2 / 3)
    assert list(table.customers_to_date) == [3, 4]
    assert list(table.repeat_customers_to_date) == [1, 2]  # A in Q1, then B in Q2
    assert list(table.repeat_purchase_rate) == [1 / 3, 0.5]


def test_counting_rules_decide_which_orders_count(workspace: Path, make_dataset):
    keep_all = order_rules.CountingRules(exclude_cancelled=False, exclude_zero_value=False)
    with _open(workspace, make_dataset) as tables:
        table = retention.measure_retention(tables.orders, AS_OF, rules=keep_all)
    # Cancelled and zero-value orders now count: C is active in March, E is new in January.
    assert list(table.active_customers) == [3, 2, 1, 2]
    assert list(table.new_customers) == [3, 1, 0, 1]
    assert list(table.retained[1:]) == [1, 1, 0]  # A Jan->Feb, C Feb->Mar


def test_an_unknown_period_is_a_user_error(workspace: Path, make_dataset):
    with _open(workspace, make_dataset) as tables, pytest.raises(UserError, match="'week'"):
        retention.measure_retention(tables.orders, AS_OF, period="week")


def test_no_valid_order_gives_an_empty_table(workspace: Path, make_dataset):
    with _open(workspace, make_dataset, ORDERS[-2:]) as tables:
        table = retention.measure_retention(tables.orders, AS_OF)
    assert table.empty and list(table.columns) == retention.RETENTION_COLUMNS


def test_time_to_second_order_and_its_even_median(workspace: Path, make_dataset):
    with _open(workspace, make_dataset) as tables:
        distribution = retention.measure_time_to_second_order(tables.orders, AS_OF)
    # A: Jan 5 -> Feb 10 = 26 + 10 = 36 days; B: Jan 20 -> Apr 2 = 11 + 29 + 31 + 2 = 73 days.
    # C and D have one purchase day up to the analysis date.
    assert distribution.to_dict("list") == {"days": [36, 73], "customers": [1, 1]}
    assert str(distribution.days.dtype) == "int64"
    summary = retention.summarise_time_to_second_order(distribution)
    # Even count: the mean of 36 and 73.
    assert summary == {
        "customers": 2,
        "median_days": 54.5,
        "share_within_30": 0.0,
        "share_within_90": 1.0,
        "share_within_365": 1.0,
    }


def test_time_to_second_order_median_of_an_odd_and_an_even_count():
    odd = pd.DataFrame({"days": [3, 10, 40, 400], "customers": [2, 1, 1, 1]})
    # Five customers: 3, 3, 10, 40, 400 -> the third is 10; within 30: 3 of 5, 90: 4, 365: 4.
    assert retention.summarise_time_to_second_order(odd) == {
        "customers": 5,
        "median_days": 10.0,
        "share_within_30": 0.6,
        "share_within_90": 0.8,
        "share_within_365": 0.8,
    }
    even = pd.DataFrame({"days": [3, 10, 40], "customers": [2, 1, 1]})
    # Four customers: 3, 3, 10, 40 -> the mean of the second and third, (3 + 10) / 2.
    assert retention.summarise_time_to_second_order(even)["median_days"] == 6.5
    empty = pd.DataFrame({"days": [], "customers": []})
    assert retention.summarise_time_to_second_order(empty) == {
        "customers": 0,
        "median_days": None,
        "share_within_30": None,
        "share_within_90": None,
        "share_within_365": None,
    }


CONVERSION_ORDERS = [
    {"order_id": "a1", "customer_id": "A", "ordered_at": "2024-01-03 10:00", "order_total": "10"},
    {"order_id": "b1", "customer_id": "B", "ordered_at": "2024-01-04 10:00", "order_total": "10"},
]
# (customer, started_at, purchased)
SESSIONS = [
    ("A", "2024-01-02 09:00", True),
    ("A", "2024-01-10 09:00", False),
    (None, "2024-01-11 09:00", False),
    (None, "2024-01-12 09:00", True),
    ("B", "2024-01-13 09:00", True),
    ("X", "2024-02-01 09:00", None),  # a known customer without a valid order; unknown flag
    (None, "2024-02-02 09:00", True),
    (None, "2024-02-25 09:00", True),  # after the analysis date
]


def _write_sessions(workspace: Path) -> None:
    with store.open_for_write(workspace, "shop") as con:
        con.begin()
        con.execute(
            "UPDATE orders SET utm_source = ?, utm_medium = ? WHERE order_id = ?",
            ["google", "cpc", "a1"],
        )
        con.executemany(
            "INSERT INTO sessions (customer_id, started_at, purchased, ingest_id) "
            "VALUES (?, ?, ?, 1)",
            [(c, dt.datetime.fromisoformat(t), p) for c, t, p in SESSIONS],
        )
        con.commit()


def test_conversion_overall_and_by_channel_with_anonymous_sessions(workspace: Path, make_dataset):
    make_dataset("shop", CONVERSION_ORDERS)
    _write_sessions(workspace)
    with engines.open_tables("duckdb", workspace=workspace, dataset="shop") as tables:
        table = retention.measure_conversion(tables, dt.date(2024, 2, 20))
    assert list(table.columns) == retention.CONVERSION_COLUMNS
    jan, feb = dt.date(2024, 1, 1), dt.date(2024, 2, 1)
    # Jan: 5 sessions, 3 purchasing. A's first order carries google/cpc -> Paid Search (2, 1);
    # B's carries nothing -> Unattributed (1, 1); two anonymous sessions (2, 1).
    # Feb: X has no valid order -> No purchase yet, its unknown flag is no purchase (1, 0);
    # one anonymous purchasing session; the Feb 25 session is after the analysis date.
    assert table.to_dict("list") == {
        "period_start": [jan, jan, jan, jan, feb, feb, feb],
        "channel": [
            "All",
            "Anonymous",
            "Paid Search",
            "Unattributed",
            "All",
            "Anonymous",
            "No purchase yet",
        ],
        "sessions": [5, 2, 2, 1, 2, 1, 1],
        "purchasing_sessions": [3, 1, 1, 1, 1, 1, 0],
        "conversion_rate": [0.6, 0.5, 0.5, 1.0, 0.5, 1.0, 0.0],
    }


def test_conversion_is_none_without_sessions(workspace: Path, make_dataset):
    with _open(workspace, make_dataset, CONVERSION_ORDERS) as tables:
        assert retention.measure_conversion(tables, dt.date(2024, 2, 20)) is None


def test_demo_store_months_add_up(demo_dataset):
    workspace, name = demo_dataset
    with engines.open_tables("duckdb", workspace=workspace, dataset=name) as tables:
        as_of = order_rules.latest_order_date(tables.orders)
        table = retention.measure_retention(tables.orders, as_of)
    assert len(table) > 3 and table.active_customers.sum() > 0
    assert (table.new_customers + table.returning_customers == table.active_customers).all()
    later = table.iloc[1:]
    assert (later.retained <= later.active_customers).all()
    assert (later.retained <= later.previous_active).all()
    assert table.customers_to_date.is_monotonic_increasing
    assert (table.repeat_customers_to_date <= table.customers_to_date).all()


UCI = Path(__file__).resolve().parents[1] / "data" / "online_retail.parquet"
# UCI invoices -> orders, as tests/test_conformance_spark.py converts them: one order per
# invoice, credit notes ("C...") with a total of 0 and their amount refunded.
CONVERT_UCI = """
INSERT INTO orders (order_id, customer_id, ordered_at, order_total, refunded_amount, net_total,
                    currency, is_cancelled, ingest_id)
SELECT order_id, customer_id, ordered_at,
       CASE WHEN order_id LIKE 'C%' THEN 0 ELSE amount END,
       CASE WHEN order_id LIKE 'C%' THEN -amount ELSE 0 END,
       amount, 'GBP', false, 1
FROM (
    SELECT InvoiceNo AS order_id,
           CAST(max(CustomerID) AS VARCHAR) AS customer_id,
           min(InvoiceDate) AS ordered_at,
           CAST(sum(Quantity * CAST(UnitPrice AS DECIMAL(18, 3))) AS DECIMAL(18, 2)) AS amount
    FROM read_parquet(?)
    GROUP BY InvoiceNo
)
"""


def _count_uci_with_pandas() -> tuple[pd.DataFrame, pd.Series]:
    """Monthly active, new, retained and repeat-to-date customers and the time to a second
    purchase day, computed from the raw invoices with pandas alone."""
    lines = pd.read_parquet(UCI)
    lines["amount"] = lines.Quantity.astype("float64") * lines.UnitPrice
    invoices = lines.groupby("InvoiceNo").agg(
        customer=("CustomerID", "max"), at=("InvoiceDate", "min"), amount=("amount", "sum")
    )
    valid = invoices[
        ~invoices.index.str.startswith("C")
        & (invoices.amount.round(2) > 0)
        & invoices.customer.notna()
    ]
    valid = valid.assign(month=valid["at"].dt.to_period("M"), day=valid["at"].dt.normalize())
    active = valid.groupby("month").customer.nunique()
    first = valid.groupby("customer").month.min()
    pairs = set(zip(valid.customer, valid.month, strict=True))
    retained = pd.Series(
        {m: sum((c, m - 1) in pairs for c, mm in pairs if mm == m) for m in active.index}
    )
    days = valid[["customer", "day"]].drop_duplicates().sort_values(["customer", "day"])
    second = days.groupby("customer").day.nth(1)
    second = pd.Series(second.values, index=days.loc[second.index, "customer"].values)
    firsts = days.groupby("customer").day.min()
    gaps = (second - firsts.loc[second.index]).dt.days
    repeat = second.dt.to_period("M").value_counts().reindex(active.index, fill_value=0).cumsum()
    table = pd.DataFrame(
        {
            "active": active,
            "new": first.value_counts().reindex(active.index, fill_value=0),
            "retained": retained,
            "repeat_to_date": repeat,
        }
    )
    return table, gaps


def test_uci_months_match_an_independent_pandas_count(workspace: Path):
    with store.open_for_write(workspace, "uci") as con:
        con.begin()
        con.execute(CONVERT_UCI, [str(UCI)])
        con.commit()
    as_of = dt.date(2011, 12, 9)
    with engines.open_tables("duckdb", workspace=workspace, dataset="uci") as tables:
        table = retention.measure_retention(tables.orders, as_of)
        distribution = retention.measure_time_to_second_order(tables.orders, as_of)
    expected, gaps = _count_uci_with_pandas()
    assert len(table) == len(expected) == 13  # Dec 2010 .. Dec 2011, every month active
    assert list(table.active_customers) == list(expected.active)
    assert list(table.new_customers) == list(expected.new)
    assert list(table.retained[1:]) == list(expected.retained[1:])
    assert list(table.repeat_customers_to_date) == list(expected.repeat_to_date)
    counted = gaps.value_counts().sort_index()
    assert list(distribution.days) == list(counted.index)
    assert list(distribution.customers) == list(counted.values)
    assert retention.summarise_time_to_second_order(distribution)["median_days"] == gaps.median()
