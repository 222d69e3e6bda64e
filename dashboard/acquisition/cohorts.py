"""Acquisition cohorts: customers grouped by the month of their first valid order.

A cell is (first-order month, months since first order): month 0 is the month of the first order,
month 1 the next calendar month, and so on up to the month of the analysis date (the last column
of each cohort may be a partial month). Retention = share of the cohort's customers with at least
one valid order in that month; cumulative revenue per customer = the cohort's net revenue from
month 0 to that month, divided by the cohort's size. Cells are kept per acquisition channel, so
any set of channels can be combined by adding them up.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import ibis.expr.types as ir
import pandas as pd

from dashboard import order_rules

CELL_COLUMNS = [
    "channel",
    "cohort_month",
    "months_since",
    "customers",
    "active_customers",
    "revenue",
]
COHORT_COLUMNS = [
    "cohort_month",
    "months_since",
    "customers",
    "active_customers",
    "retention",
    "revenue",
    "cumulative_revenue_per_customer",
]


def count_months_between(start: dt.date, end: dt.date) -> int:
    """Return the calendar months from the month of ``start`` to the month of ``end``."""
    return (end.year - start.year) * 12 + end.month - start.month


def build_cohort_cells(
    orders: ir.Table,
    attribution: ir.Table,
    as_of: dt.date,
    counting: order_rules.CountingRules = order_rules.DEFAULT_RULES,
) -> pd.DataFrame:
    """Per channel, first-order month and months since: cohort size, active customers, revenue.

    In: canonical ``orders``; the table of ``channels.attribute_channels`` (same ``as_of`` and
    ``counting``); active customers have a valid order in the month.
    Out: CELL_COLUMNS, one row for every month from each cohort's first month to the month of
    ``as_of`` (zeros where nobody ordered); cohort_month is the first day of the month; revenue is
    the net total of the cohort's counted orders in that month (float). Sorted by channel,
    cohort_month, months_since.
    """
    firsts = attribution.select(
        "customer_id", "channel", cohort_month=attribution.first_order_on.truncate("M")
    )
    counted = order_rules.select_counted_orders(orders, counting, as_of)
    counted = counted.select(
        "customer_id", "ordered_at", "net_total", is_valid=order_rules.is_valid(counted, counting)
    )
    joined = counted.join(firsts, "customer_id")
    months_since = (joined.ordered_at.year() - joined.cohort_month.year()) * 12 + (
        joined.ordered_at.month() - joined.cohort_month.month()
    )
    activity = (
        joined.mutate(months_since=months_since)
        .group_by(["channel", "cohort_month", "months_since"])
        .aggregate(
            active_customers=joined.customer_id.nunique(where=joined.is_valid),
            revenue=joined.net_total.sum().cast("float64"),
        )
        .to_pandas()
    )
    sizes = firsts.group_by(["channel", "cohort_month"]).aggregate(customers=firsts.count())
    sizes = sizes.to_pandas()
    if sizes.empty:
        return pd.DataFrame(columns=CELL_COLUMNS)
    sizes["cohort_month"] = pd.to_datetime(sizes.cohort_month).dt.date
    activity["cohort_month"] = pd.to_datetime(activity.cohort_month).dt.date
    grid = sizes.loc[
        sizes.index.repeat([count_months_between(m, as_of) + 1 for m in sizes.cohort_month])
    ]
    grid = grid.assign(months_since=grid.groupby(level=0).cumcount()).reset_index(drop=True)
    cells = grid.merge(activity, on=["channel", "cohort_month", "months_since"], how="left")
    cells["active_customers"] = cells.active_customers.fillna(0).astype("int64")
    cells["revenue"] = cells.revenue.fillna(0.0).astype("float64")
    cells["customers"] = cells.customers.astype("int64")
    cells["months_since"] = cells.months_since.astype("int64")
    return cells[CELL_COLUMNS].sort_values(CELL_COLUMNS[:3]).reset_index(drop=True)


def combine_cohorts(cells: pd.DataFrame, chosen: Sequence[str] | None = None) -> pd.DataFrame:
    """Cohorts over the chosen channels (all when ``chosen`` is None or empty).

    In: the output of ``build_cohort_cells``. Out: COHORT_COLUMNS, one row per cohort month and
    months since, sorted; retention and cumulative revenue per customer as fractions / floats.
    """
    if chosen:
        cells = cells[cells.channel.isin(list(chosen))]
    if cells.empty:
        return pd.DataFrame(columns=COHORT_COLUMNS)
    combined = (
        cells.groupby(["cohort_month", "months_since"], as_index=False)[
            ["customers", "active_customers", "revenue"]
        ]
        .sum()
        .sort_values(["cohort_month", "months_since"])
    )
    size = combined.customers.where(combined.customers > 0)
    combined["retention"] = combined.active_customers / size
    cumulative = combined.groupby("cohort_month").revenue.cumsum()
    combined["cumulative_revenue_per_customer"] = cumulative / size
    return combined[COHORT_COLUMNS].reset_index(drop=True)


def average_curve(cohorts: pd.DataFrame) -> pd.DataFrame:
    """The customer-weighted average cohort: one row per months since first order.

    In: the output of ``combine_cohorts``. Out: months_since, cohorts (how many cohorts have
    reached that month), customers (their total size), retention, cumulative_revenue_per_customer
    (summed over those cohorts, divided by their customers).
    """
    frame = cohorts.assign(
        cumulative_revenue=cohorts.cumulative_revenue_per_customer * cohorts.customers
    )
    curve = frame.groupby("months_since", as_index=False).agg(
        cohorts=("cohort_month", "count"),
        customers=("customers", "sum"),
        active_customers=("active_customers", "sum"),
        cumulative_revenue=("cumulative_revenue", "sum"),
    )
    size = curve.customers.where(curve.customers > 0)
    curve["retention"] = curve.active_customers / size
    curve["cumulative_revenue_per_customer"] = curve.cumulative_revenue / size
    return curve[
        ["months_since", "cohorts", "customers", "retention", "cumulative_revenue_per_customer"]
    ]


def read_curve(curve: pd.DataFrame, months_since: int, column: str) -> float | None:
    """Return ``column`` of an ``average_curve`` at ``months_since`` (None: no cohort got there)."""
    row = curve[curve.months_since == months_since]
    return None if row.empty else float(row[column].iloc[0])


def pivot_cohorts(cohorts: pd.DataFrame, value: str) -> pd.DataFrame:
    """Cohort months (rows, labelled ``2025-03``) x months since first order (columns) of ``value``.

    In: the output of ``combine_cohorts``; ``value`` one of its columns. Cells a cohort has not
    reached yet are empty.
    """
    table = cohorts.pivot(index="cohort_month", columns="months_since", values=value)
    table.index = [f"{m:%Y-%m}" for m in table.index]
    table.index.name = "cohort"
    return table


def label_cohorts(cohorts: pd.DataFrame) -> dict[str, str]:
    """Return each cohort's row label with its size, e.g. ``"2025-03": "2025-03 (1,234)"``.

    In: the output of ``combine_cohorts``. Keys are ``pivot_cohorts``' row labels.
    """
    sizes = cohorts.groupby("cohort_month").customers.first()
    return {f"{m:%Y-%m}": f"{m:%Y-%m} ({int(n):,})" for m, n in sizes.items()}
