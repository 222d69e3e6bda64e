"""Segment membership: how many customers, their share of customers and of revenue, the list.

In: a feature table and a definition compiled over it (``compiler.compile_definition``).
Reference: docs/behaviour.md §3, "Size of a segment".
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis.expr.types as ir
import pandas as pd

from dashboard.behaviour.catalogue import FEATURES
from dashboard.behaviour.definitions import DefinitionError

PREVIEW_ROWS = 50


def measure_segment(table: ir.Table, condition: ir.BooleanValue) -> dict[str, float]:
    """Return customers, share_customers, revenue and share_revenue of a segment.

    In: a feature table and a boolean over it. Shares are fractions of all rows of the table and
    of their net revenue (0 when there is none).
    """
    # Decimal sums, cast once: exact, whatever order an engine adds the rows in.
    revenue = table.net_revenue
    row = (
        table.aggregate(
            customers=table.count(where=condition),
            total_customers=table.count(),
            revenue=revenue.sum(where=condition).cast("float64"),
            total_revenue=revenue.sum().cast("float64"),
        )
        .to_pandas()
        .iloc[0]
    )
    customers, total = int(row.customers or 0), int(row.total_customers or 0)
    revenue_sum = 0.0 if pd.isna(row.revenue) else float(row.revenue)
    total_revenue = 0.0 if pd.isna(row.total_revenue) else float(row.total_revenue)
    return {
        "customers": customers,
        "share_customers": customers / total if total else 0.0,
        "revenue": revenue_sum,
        "share_revenue": revenue_sum / total_revenue if total_revenue else 0.0,
    }


def list_members(
    table: ir.Table,
    condition: ir.BooleanValue,
    columns: Sequence[str] = ("customer_id", "email", "orders", "net_revenue", "rfm_segment"),
    limit: int | None = None,
) -> pd.DataFrame:
    """Return the members (``columns`` of the feature table), ordered by customer_id.

    Columns must be features; customer_id is always first. ``limit`` keeps the first rows only.
    """
    unknown = [c for c in columns if c not in FEATURES]
    if unknown:
        raise DefinitionError(f"Unknown columns: {', '.join(unknown)}.")
    chosen = ["customer_id", *(c for c in dict.fromkeys(columns) if c != "customer_id")]
    members = table.filter(condition).select(*chosen).order_by("customer_id")
    if limit is not None:
        members = members.limit(limit)
    return members.to_pandas()
