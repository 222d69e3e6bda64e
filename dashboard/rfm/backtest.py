"""Backtest: segments as of a past date against what each segment did in the following N days.

A scheme separates customers when its segments behave differently afterwards: the share of
customers who ordered again (repeat rate) and the revenue per customer in (as_of, as_of + N].
Only customers who existed at the past date count (``migration.segments_at``: from their first
order on). Prospects had never ordered, so they cannot order "again": their row counts how many
placed a first order in the period (conversion) instead.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import ibis
import pandas as pd

from dashboard import engines, order_rules
from dashboard.rfm import cut_points
from dashboard.rfm.cut_points import ScoringSpec
from dashboard.rfm.migration import order_segments, segments_at
from dashboard.rfm.schemes import PROSPECTS
from dashboard.workspace import store

DEFAULT_HORIZON_DAYS = 90
ALL_CUSTOMERS = "All customers"
BACKTEST_COLUMNS = [
    "segment",
    "customers",
    "repeat_customers",
    "repeat_rate",
    "converted_customers",
    "conversion_rate",
    "orders",
    "revenue",
    "revenue_per_customer",
]


@dataclass(frozen=True)
class Backtest:
    """The per-segment outcome of one backtest and the period it covers.

    ``complete`` is False when the data ends before ``horizon_end``, so the period is cut short.
    """

    as_of: dt.date
    horizon_end: dt.date
    data_end: dt.date | None
    cuts: cut_points.Cuts
    table: pd.DataFrame

    @property
    def complete(self) -> bool:
        """Whether the data covers the whole follow-up period."""
        return self.data_end is not None and self.data_end >= self.horizon_end


def run_backtest(
    workspace: Path, dataset: str, as_of: dt.date, horizon_days: int, scoring: ScoringSpec
) -> Backtest:
    """Segment ``dataset`` as of ``as_of`` and measure each segment over the next ``horizon_days``.

    Out: ``table`` with BACKTEST_COLUMNS, one row per segment known at ``as_of`` (display order)
    plus ALL_CUSTOMERS: customers; for customers who had ordered by ``as_of``, repeat_customers
    (>= 1 valid order in the period, by the same counting rules) and repeat_rate (of them);
    for Prospects, converted_customers (a first valid order in the period) and conversion_rate
    (empty where they do not apply); orders (valid orders in the period), revenue (net revenue in
    the period) and revenue_per_customer. Customers who did not exist at ``as_of`` (no order by
    then) are not counted.
    """
    if horizon_days < 1:
        raise cut_points.CutsError("The follow-up period must be at least one day.")
    horizon_end = as_of + dt.timedelta(days=horizon_days)
    following = order_rules.Window(as_of=horizon_end, start=as_of + dt.timedelta(days=1))
    with engines.open_configured_tables(workspace, dataset) as tables:
        labelled, cuts = segments_at(tables, dataset, as_of, scoring)
        orders = tables.orders
        data_end = order_rules.latest_order_date(orders)
        future = cut_points.build_customer_measures(orders, following, scoring.rules)
        activity = future.select("customer_id", "frequency", revenue=future.monetary).to_pyarrow()
    scratch = store.open_scratch()
    try:
        known = scratch.create_table("segments_at", labelled)
        after = scratch.create_table("activity", activity)
        joined = known.left_join(after, known.customer_id == after.customer_id).select(
            known.segment,
            orders=after.frequency.fill_null(0),
            revenue=after.revenue.fill_null(ibis.literal(0, after.revenue.type())),
        )
        per_segment = (
            joined.group_by("segment")
            .aggregate(
                customers=joined.count(),
                ordering_customers=(joined.orders >= 1).sum(),
                orders=joined.orders.sum(),
                revenue=joined.revenue.sum().cast("float64"),
            )
            .order_by("segment")
            .to_pandas()
        )
    finally:
        scratch.disconnect()
    return Backtest(as_of, horizon_end, data_end, cuts, _finish(per_segment, scoring))


def _finish(per_segment: pd.DataFrame, scoring: ScoringSpec) -> pd.DataFrame:
    labels = [
        label for label in order_segments(scoring.scheme) if label in set(per_segment.segment)
    ]
    table = per_segment.set_index("segment").reindex(labels).reset_index()
    prospects = table.segment == PROSPECTS
    table["ordered_before"] = table.customers.where(~prospects, 0)
    table["repeat_customers"] = table.ordering_customers.where(~prospects, 0)
    table["converted_customers"] = table.ordering_customers.where(prospects, 0)
    table["prospects"] = table.customers.where(prospects, 0)
    counts = ["customers", "ordered_before", "repeat_customers", "converted_customers"]
    counts += ["prospects", "orders"]
    total = table[[*counts, "revenue"]].sum()
    table = pd.concat(
        [table, pd.DataFrame([{"segment": ALL_CUSTOMERS, **total}])], ignore_index=True
    )
    table[counts] = table[counts].astype("int64")
    table["repeat_rate"] = table.repeat_customers / table.ordered_before.where(
        table.ordered_before > 0
    )
    table["conversion_rate"] = table.converted_customers / table.prospects.where(
        table.prospects > 0
    )
    for column, base in (
        ("repeat_customers", "ordered_before"),
        ("converted_customers", "prospects"),
    ):
        table[column] = table[column].astype("Int64").where(table[base] > 0)
    table["revenue_per_customer"] = table.revenue / table.customers
    return table[BACKTEST_COLUMNS]


def describe_separation(table: pd.DataFrame) -> str:
    """Return one sentence comparing the best and worst segments' repeat rates.

    In: a backtest table (BACKTEST_COLUMNS). Segments with fewer than 10 customers, and
    Prospects (who had not ordered), are ignored.
    """
    ranked = table[
        (table.segment != ALL_CUSTOMERS) & (table.customers >= 10) & table.repeat_rate.notna()
    ]
    if len(ranked) < 2:
        return "Too few segments with at least 10 customers to compare."
    best = ranked.loc[ranked.repeat_rate.idxmax()]
    worst = ranked.loc[ranked.repeat_rate.idxmin()]
    return (
        f"{best.segment} repeated most ({best.repeat_rate:.1%}), {worst.segment} least "
        f"({worst.repeat_rate:.1%}); all customers {table.iloc[-1].repeat_rate:.1%}."
    )
