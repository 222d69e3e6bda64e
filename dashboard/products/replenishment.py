"""Replenishment cycles: how many days customers take to buy the same product again, and who is
due to buy it now (docs/products.md, "Replenishment cycles").

The expensive step is ``measure_cycles`` (one scan of the lines per dataset, analysis date and
counting rules); ``schedule_replenishments`` and ``find_due_customers`` apply its cycles to each
customer's last purchase. Gaps are counted in the engine; only the per-(product, gap) counts
reach pandas, where the quartiles are read exactly, so DuckDB and Spark give the same numbers.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from dashboard.products.lines import describe_products

CYCLE_COLUMNS = (
    "product_key",
    "product",
    "category",
    "repeat_pairs",
    "customers",
    "median_days",
    "p25_days",
    "p75_days",
)
DUE_COLUMNS = (
    "customer_id",
    "product_key",
    "product",
    "last_bought_on",
    "cycle_days",
    "due_on",
    "status",
    "days_overdue",
)
# A customer this many cycles past the due date has stopped buying the product: lapsed, not due.
LAPSED_AFTER_CYCLES = 3
_CYCLE_SCHEMA = ibis.schema(
    {"product_key": "string", "product": "string", "cycle_days": "float64", "whole_days": "int64"}
)


def pair_purchase_days(lines: ir.Table) -> ir.Table:
    """Every repeat purchase of a product by a customer, with the days since the previous one.

    In: ``lines.select_valid_lines`` (customers only). Out: customer_id, product_key, day, gap
    (int64 days since the customer's previous distinct day with the product), one row per
    distinct (customer, product, day) after the first.
    """
    days = lines.select("customer_id", "product_key", "day").distinct()
    previous = days.day.lag().over(group_by=["customer_id", "product_key"], order_by="day")
    gaps = days.mutate(gap=days.day.delta(previous, unit="day"))
    return gaps.filter(gaps.gap.notnull())


def read_quantiles(counts: pd.DataFrame, fractions: dict[str, float]) -> pd.DataFrame:
    """The exact quantiles of each product's gaps from how often each gap occurs.

    In: product_key, gap, pairs (how many repeat pairs have that gap). Out: product_key and one
    float64 column per entry of ``fractions``, by linear interpolation between the closest ranks
    (numpy's default, so the median of an even count is the mean of the middle two).
    """
    counts = counts.sort_values(["product_key", "gap"]).reset_index(drop=True)
    ends = counts.pairs.cumsum().to_numpy()
    totals = counts.groupby("product_key", sort=True).pairs.sum()
    starts = totals.cumsum().to_numpy() - totals.to_numpy()
    gaps = counts.gap.to_numpy(dtype="float64")

    def gap_at(rank: np.ndarray) -> np.ndarray:
        return gaps[np.searchsorted(ends, rank, side="right")]

    out = pd.DataFrame({"product_key": totals.index})
    for column, fraction in fractions.items():
        position = (totals.to_numpy() - 1) * fraction
        below = np.floor(position)
        low = gap_at(starts + below)
        high = gap_at(starts + np.ceil(position))
        out[column] = low + (high - low) * (position - below)
    return out


def measure_cycles(lines: ir.Table, min_pairs: int = 5) -> pd.DataFrame:
    """Each product's replenishment cycle: the days between purchases of it by the same customer.

    In: ``lines.select_valid_lines(..., with_guests=False)``. A customer's purchase days of a
    product are its distinct days (lines on the same day count once); each consecutive two make
    a repeat pair, whose gap is the days between them. Out: product_key, product, category
    (``lines.describe_products``: the most frequent, category null when none), repeat_pairs,
    customers (with at least one pair), median_days, p25_days, p75_days (exact, interpolated
    between ranks), for the products with at least ``min_pairs`` repeat pairs, sorted by
    repeat_pairs descending, then product_key.
    """
    gaps = pair_purchase_days(lines)
    per_product = gaps.group_by("product_key").aggregate(
        repeat_pairs=gaps.count(), customers=gaps.customer_id.nunique()
    )
    kept = per_product.filter(per_product.repeat_pairs >= min_pairs)
    names = describe_products(lines).rename(product="name")
    summary = kept.join(names, "product_key").to_pandas()
    kept_gaps = gaps.semi_join(kept, "product_key")
    counts = kept_gaps.group_by(["product_key", "gap"]).aggregate(pairs=kept_gaps.count())
    quantiles = read_quantiles(
        counts.to_pandas(), {"p25_days": 0.25, "median_days": 0.5, "p75_days": 0.75}
    )
    cycles = summary.merge(quantiles, on="product_key", how="left")
    cycles = cycles.astype({"repeat_pairs": "int64", "customers": "int64"})
    cycles["category"] = cycles.category.astype(object).where(cycles.category.notna(), None)
    cycles = cycles.sort_values(["repeat_pairs", "product_key"], ascending=[False, True])
    return cycles[list(CYCLE_COLUMNS)].reset_index(drop=True)


def schedule_replenishments(lines: ir.Table, cycles: pd.DataFrame, as_of: dt.date) -> ir.Table:
    """When each customer is next due to buy each product that has a cycle.

    In: ``lines.select_valid_lines(..., with_guests=False)`` and ``measure_cycles`` of them.
    Out: customer_id, product_key, product, last_bought_on (date), cycle_days (the product's
    median, float64), due_on (last_bought_on + cycle_days rounded half up to whole days),
    days_overdue (int64: as_of - due_on, negative when due later), one row per (customer,
    product). Customers overdue by more than LAPSED_AFTER_CYCLES cycles have stopped buying the
    product: they are left out.
    """
    frame = pd.DataFrame(
        {
            "product_key": cycles.product_key.astype("string"),
            "product": cycles["product"].astype("string"),
            "cycle_days": cycles.median_days.astype("float64"),
            "whole_days": np.floor(cycles.median_days.to_numpy(dtype="float64") + 0.5).astype(
                "int64"
            ),
        }
    )
    known = ibis.memtable(frame, schema=_CYCLE_SCHEMA)
    last = lines.group_by(["customer_id", "product_key"]).aggregate(last_bought_on=lines.day.max())
    joined = last.join(known, "product_key")
    due_on = joined.last_bought_on + joined.whole_days.as_interval("D")
    scheduled = joined.select(
        "customer_id",
        "product_key",
        "product",
        "last_bought_on",
        "cycle_days",
        due_on=due_on.cast("date"),
    )
    scheduled = scheduled.mutate(
        days_overdue=ibis.literal(as_of).delta(scheduled.due_on, unit="day")
    )
    return scheduled.filter(
        scheduled.days_overdue.cast("float64") <= scheduled.cycle_days * LAPSED_AFTER_CYCLES
    )


def find_due_customers(
    lines: ir.Table, cycles: pd.DataFrame, as_of: dt.date, window_days: int = 7
) -> pd.DataFrame:
    """The customers due or overdue to buy a product again, by that product's own cycle.

    In: ``lines.select_valid_lines(..., with_guests=False)`` and ``measure_cycles`` of them.
    Out: DUE_COLUMNS, one row per (customer, product) with status ``overdue`` (due_on before
    ``as_of``) or ``due`` (due_on from ``as_of`` to ``as_of + window_days``); later due dates are
    not listed. Customers overdue by more than LAPSED_AFTER_CYCLES cycles are left out too: they
    have lapsed, they are not due. Sorted by due_on, customer_id, product_key.
    """
    scheduled = schedule_replenishments(lines, cycles, as_of)
    horizon = as_of + dt.timedelta(days=window_days)
    due = scheduled.filter(scheduled.due_on <= ibis.literal(horizon))
    due = due.mutate(
        status=(due.due_on < ibis.literal(as_of)).ifelse("overdue", "due"),
        days_overdue=due.days_overdue.cast("int64"),
    )
    frame = due.select(*DUE_COLUMNS).to_pandas()
    frame = frame.sort_values(["due_on", "customer_id", "product_key"])
    return frame.reset_index(drop=True)
