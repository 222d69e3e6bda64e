"""Gateway products: what customers buy first, and whether those who start with it come back.

A customer's first order is their first valid order (``dashboard/order_rules.py``; ties on the
same second broken by order id, as in channel attribution). Docs: docs/products.md, "Gateway
products".
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import ibis
import ibis.expr.types as ir
import pandas as pd

from dashboard import order_rules
from dashboard.errors import UserError
from dashboard.products.intervals import estimate_wilson_interval
from dashboard.products.lines import describe_products, select_valid_lines

UNCATEGORISED = "Uncategorised"
GROUPINGS = ("product", "category", "channel")
GATEWAY_COLUMNS = [
    "key",
    "name",
    "category",
    "customers",
    "reordered",
    "reorder_rate",
    "reorder_low",
    "reorder_high",
    "revenue_per_customer",
]
FIRST_AND_LATER_COLUMNS = [
    "key",
    "name",
    "category",
    "first_order_buyers",
    "later_buyers",
    "first_share",
]


class HorizonError(UserError):
    """The horizon in days is not a whole number of at least 1."""


def measure_gateway(
    orders: ir.Table,
    order_lines: ir.Table,
    as_of: dt.date,
    horizon_days: int = 365,
    by: str = "product",
    rules: order_rules.CountingRules = order_rules.DEFAULT_RULES,
    attribution: ir.Table | None = None,
) -> pd.DataFrame:
    """Per product, category or channel of the first order: how many customers came back.

    In: canonical ``orders`` and ``order_lines``; ``by`` "product", "category" (lines without
    one count as UNCATEGORISED) or "channel" (then ``attribution``, the table of
    ``acquisition.channels.attribute_channels`` built with the same as_of and rules, is needed).
    The cohort is the customers whose first valid order is on or before as_of - horizon_days,
    so each has been watched for the whole horizon. A customer counts once per product or
    category in their first order (a first order with two products counts for both) and once
    for their channel.
    Out: GATEWAY_COLUMNS, one row per key: customers; reordered, those with a valid order on a
    later day at most horizon_days after the first; reorder_rate with its Wilson 95 % interval
    (reorder_low, reorder_high); revenue_per_customer, the net total of their counted orders from
    the first order's day to horizon_days after it, the first order included (returns lower it).
    category is null unless by="product". Sorted by customers descending, then key. Nobody in
    the cohort: the columns, no rows.
    """
    if by not in GROUPINGS:
        raise ValueError(f"by must be one of {GROUPINGS}, not {by!r}")
    if by == "channel" and attribution is None:
        raise ValueError("by='channel' needs the attribution table")
    if isinstance(horizon_days, bool) or not isinstance(horizon_days, int) or horizon_days < 1:
        raise HorizonError(
            f"The horizon must be a whole number of days of at least 1, not {horizon_days!r}."
        )
    firsts = _rank_first_orders(orders, rules, as_of)
    cohort = firsts.filter(
        firsts.first_day <= ibis.literal(as_of - dt.timedelta(days=horizon_days))
    )
    outcomes = _measure_outcomes(orders, cohort, as_of, horizon_days, rules)
    bought = select_valid_lines(orders, order_lines, as_of, rules, with_guests=False)
    if by == "channel":
        keys = attribution.select("customer_id", key=attribution.channel)
    else:
        keys = _key_first_orders(bought, cohort, by)
    joined = keys.join(outcomes, "customer_id")
    per_key = joined.group_by("key").aggregate(
        customers=joined.count(),
        reordered=joined.reordered.sum(),
        revenue=joined.revenue.sum(),
    )
    if by == "product":
        products = describe_products(bought).rename(key="product_key")
        per_key = per_key.left_join(products, "key").drop("key_right")
    else:
        per_key = per_key.mutate(name=per_key.key, category=ibis.null("string"))
    frame = per_key.to_pandas()
    if frame.empty:
        return _type_gateway(pd.DataFrame({c: [] for c in GATEWAY_COLUMNS}))
    frame["reorder_rate"] = frame.reordered / frame.customers
    frame["reorder_low"], frame["reorder_high"] = estimate_wilson_interval(
        frame.reordered, frame.customers
    )
    frame["revenue_per_customer"] = [
        float(Decimal(revenue) / customers)
        for revenue, customers in zip(frame.revenue, frame.customers, strict=True)
    ]
    frame = frame.sort_values(["customers", "key"], ascending=[False, True], kind="mergesort")
    return _type_gateway(frame[GATEWAY_COLUMNS].reset_index(drop=True))


def compare_first_and_later(
    orders: ir.Table,
    order_lines: ir.Table,
    as_of: dt.date,
    rules: order_rules.CountingRules = order_rules.DEFAULT_RULES,
) -> pd.DataFrame:
    """Which products customers buy first and which only later.

    In: canonical ``orders`` and ``order_lines``; valid orders of known customers up to as_of.
    Out: FIRST_AND_LATER_COLUMNS, one row per product: first_order_buyers (customers with it in
    their first valid order), later_buyers (customers who bought it in a later valid order and
    not in their first), first_share = first_order_buyers / (first_order_buyers +
    later_buyers). Sorted by first_share descending, then key.
    """
    firsts = _rank_first_orders(orders, rules, as_of)
    bought = select_valid_lines(orders, order_lines, as_of, rules, with_guests=False)
    tagged = bought.join(firsts, "customer_id")
    tagged = tagged.mutate(in_first=(tagged.order_id == tagged.first_order_id).cast("int64"))
    per_customer = tagged.group_by(["customer_id", "product_key"]).aggregate(
        in_first=tagged.in_first.max()
    )
    per_key = per_customer.group_by("product_key").aggregate(
        first_order_buyers=per_customer.in_first.sum(),
        later_buyers=(1 - per_customer.in_first).sum(),
    )
    per_key = per_key.join(describe_products(bought), "product_key")
    frame = per_key.rename(key="product_key").to_pandas()
    frame["first_share"] = frame.first_order_buyers / (
        frame.first_order_buyers + frame.later_buyers
    )
    frame = frame.sort_values(["first_share", "key"], ascending=[False, True], kind="mergesort")
    frame = frame[FIRST_AND_LATER_COLUMNS].reset_index(drop=True)
    frame = frame.astype(
        {
            "key": "object",
            "name": "object",
            "category": "object",
            "first_order_buyers": "int64",
            "later_buyers": "int64",
            "first_share": "float64",
        }
    )
    frame["category"] = frame.category.where(frame.category.notna(), None)
    return frame


def _rank_first_orders(
    orders: ir.Table, rules: order_rules.CountingRules, as_of: dt.date
) -> ir.Table:
    """Each known customer's first valid order up to as_of: customer_id, first_order_id,
    first_day (date)."""
    valid = order_rules.select_valid_orders(orders, rules, as_of)
    rank = ibis.row_number().over(group_by="customer_id", order_by=["ordered_at", "order_id"])
    firsts = valid.mutate(rank=rank).filter(lambda t: t["rank"] == 0)
    return firsts.select(
        "customer_id", first_order_id=firsts.order_id, first_day=firsts.ordered_at.date()
    )


def _measure_outcomes(
    orders: ir.Table,
    cohort: ir.Table,
    as_of: dt.date,
    horizon_days: int,
    rules: order_rules.CountingRules,
) -> ir.Table:
    """Per cohort customer: reordered (1 or 0) and revenue (decimal net total) within the
    horizon, from ``_rank_first_orders`` rows."""
    counted = order_rules.select_counted_orders(orders, rules, as_of)
    counted = counted.select(
        "customer_id",
        "net_total",
        day=counted.ordered_at.date(),
        is_valid=order_rules.is_valid(counted, rules),
    )
    joined = counted.join(cohort, "customer_id")
    age = joined.day.delta(joined.first_day, unit="day")
    # Counted orders include the valid first order, so every cohort customer has a row.
    inside = joined.filter((joined.day >= joined.first_day) & (age <= horizon_days))
    is_reorder = inside.is_valid & (inside.day > inside.first_day)
    return inside.group_by("customer_id").aggregate(
        reordered=is_reorder.cast("int64").max(),
        revenue=inside.net_total.sum(),
    )


def _key_first_orders(bought: ir.Table, cohort: ir.Table, by: str) -> ir.Table:
    """The products or categories in each cohort customer's first order.

    In: lines of ``select_valid_lines(..., with_guests=False)``; the cohort (customer_id,
    first_order_id, ...). Out: customer_id, key; one row per customer and key.
    """
    first = bought.join(cohort, "customer_id").filter(lambda t: t.order_id == t.first_order_id)
    key = first.product_key if by == "product" else first.category.fill_null(UNCATEGORISED)
    return first.select("customer_id", key=key).distinct()


def _type_gateway(frame: pd.DataFrame) -> pd.DataFrame:
    """The same dtypes whatever the engine: counts int64, rates float64, text object."""
    frame = frame.astype(
        {
            "key": "object",
            "name": "object",
            "category": "object",
            "customers": "int64",
            "reordered": "int64",
            "reorder_rate": "float64",
            "reorder_low": "float64",
            "reorder_high": "float64",
            "revenue_per_customer": "float64",
        }
    )
    frame["category"] = frame.category.where(frame.category.notna(), None)
    return frame
