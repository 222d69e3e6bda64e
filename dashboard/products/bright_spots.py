"""Bright spots: the products and categories a segment buys more often than customers at large.

The expensive step (``count_product_buyers``) scans the order lines once per dataset, analysis
date and counting rules; ``find_bright_spots`` then runs per segment, level and minimum count on
that small per-customer table (docs/products.md, "Bright spots").
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import pandas as pd

from dashboard.products.intervals import estimate_wilson_interval
from dashboard.products.lines import describe_products

UNCATEGORISED = "Uncategorised"
LEVELS = ("product", "category")
BRIGHT_SPOT_COLUMNS = [
    "key",
    "name",
    "category",
    "segment_buyers",
    "segment_customers",
    "segment_share",
    "all_buyers",
    "all_customers",
    "all_share",
    "index",
    "share_low",
    "share_high",
    "revenue_share",
]
# Revenue is summed as a decimal so that every engine adds it up to the same number.
_MONEY = "decimal(38, 2)"


def count_product_buyers(lines: ir.Table) -> ir.Table:
    """Who bought what: one row per known customer and product.

    In: ``lines.select_valid_lines(..., with_guests=False)`` (guest lines, if any, are left out).
    Out: customer_id, product_key, product (the key's display name), category (nullable; both
    from ``lines.describe_products``), revenue (decimal(38, 2): the customer's line revenue on
    the product).
    """
    known = lines.filter(lines.customer_id.notnull())
    spent = known.group_by(["customer_id", "product_key"]).aggregate(
        revenue=known.revenue.cast(_MONEY).sum()
    )
    named = spent.join(describe_products(known), "product_key")
    return named.select(
        "customer_id",
        "product_key",
        product=named["name"],
        category=named.category,
        revenue=named.revenue,
    )


def find_bright_spots(
    buyers: ir.Table, members: ir.Table, level: str = "product", min_customers: int = 5
) -> pd.DataFrame:
    """The products (or categories) a segment's customers buy, against all customers.

    In: ``buyers`` from ``count_product_buyers``; ``members``, any table with a customer_id
    column on the same backend (an RFM group, a preset's members, a saved segment, a band);
    ``level`` "product" or "category" (lines without a category count as UNCATEGORISED).
    Out: BRIGHT_SPOT_COLUMNS, one row per key bought by at least ``min_customers`` members:
    segment_buyers of segment_customers (members who bought anything: the denominator, so
    members without a purchase do not dilute it), segment_share, the same for all customers who
    bought anything (all_buyers, all_customers, all_share), index = segment_share / all_share,
    share_low and share_high (Wilson 95 % interval of segment_share), and revenue_share (the
    segment's revenue on the key / its revenue on all products). Sorted by index descending,
    then segment_buyers descending, then key. category is null at category level.
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, not {level!r}")
    per_key = _group_buyers(buyers, level)
    segment = per_key.semi_join(members.select("customer_id").distinct(), "customer_id")
    all_customers = int(per_key.customer_id.nunique().to_pyarrow().as_py())
    segment_customers = int(segment.customer_id.nunique().to_pyarrow().as_py())
    everyone = per_key.group_by("key").aggregate(all_buyers=per_key.count())
    in_segment = segment.group_by(["key", "name", "category"]).aggregate(
        segment_buyers=segment.count(),
        segment_revenue=segment.revenue.sum(),
    )
    counts = (
        in_segment.filter(in_segment.segment_buyers >= min_customers)
        .join(everyone, "key")
        .to_pandas()
    )
    if counts.empty:
        return _empty_bright_spots()
    total_revenue = float(segment.revenue.sum().to_pyarrow().as_py() or 0)
    revenue = counts.segment_revenue.astype("float64")
    counts["segment_customers"] = segment_customers
    counts["all_customers"] = all_customers
    counts["segment_share"] = counts.segment_buyers / segment_customers
    counts["all_share"] = counts.all_buyers / all_customers
    counts["index"] = counts.segment_share / counts.all_share
    counts["share_low"], counts["share_high"] = estimate_wilson_interval(
        counts.segment_buyers, counts.segment_customers
    )
    counts["revenue_share"] = revenue / total_revenue if total_revenue else float("nan")
    counts = counts.sort_values(
        ["index", "segment_buyers", "key"], ascending=[False, False, True], kind="mergesort"
    )
    return _type_bright_spots(counts[BRIGHT_SPOT_COLUMNS].reset_index(drop=True))


def _group_buyers(buyers: ir.Table, level: str) -> ir.Table:
    """``buyers`` keyed at ``level``: customer_id, key, name, category, revenue (one row per
    customer and key)."""
    if level == "product":
        return buyers.select(
            "customer_id",
            key=buyers.product_key,
            name=buyers["product"],
            category=buyers.category,
            revenue=buyers.revenue,
        )
    keyed = buyers.mutate(key=buyers.category.fill_null(UNCATEGORISED))
    per_customer = keyed.group_by(["customer_id", "key"]).aggregate(revenue=keyed.revenue.sum())
    return per_customer.mutate(name=per_customer.key, category=ibis.null("string"))


def _empty_bright_spots() -> pd.DataFrame:
    """No key reaches the minimum count: the columns, no rows."""
    return _type_bright_spots(pd.DataFrame({c: [] for c in BRIGHT_SPOT_COLUMNS}))


def _type_bright_spots(frame: pd.DataFrame) -> pd.DataFrame:
    """The same dtypes whatever the engine: counts int64, shares float64, text object."""
    counts = ["segment_buyers", "segment_customers", "all_buyers", "all_customers"]
    text = ["key", "name", "category"]
    typed = {c: "int64" for c in counts} | {c: "object" for c in text}
    floats = {c: "float64" for c in BRIGHT_SPOT_COLUMNS if c not in typed}
    frame = frame.astype(typed | floats)
    frame["category"] = frame.category.where(frame.category.notna(), None)
    return frame
