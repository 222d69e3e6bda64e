"""Segment membership: how many customers, their share of customers and of revenue, the list.

In: a feature table and a definition compiled over it (``compiler.compile_definition``).
Reference: docs/behaviour.md §3, "Size of a segment".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import ibis
import ibis.expr.types as ir
import pandas as pd

from dashboard.behaviour.catalogue import DATE, FEATURES, NUMBER
from dashboard.behaviour.compiler import flag_segments
from dashboard.behaviour.definitions import Definition, DefinitionError

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
    highest_first: str | None = None,
) -> pd.DataFrame:
    """Return the members (``columns`` of the feature table), ordered by customer_id, or by the
    feature ``highest_first`` descending (missing values last, ties by customer_id).

    Columns must be features; customer_id is always first. ``limit`` keeps the first rows only.
    """
    unknown = [c for c in [*columns, highest_first or "customer_id"] if c not in FEATURES]
    if unknown:
        raise DefinitionError(f"Unknown columns: {', '.join(unknown)}.")
    chosen = ["customer_id", *(c for c in dict.fromkeys(columns) if c != "customer_id")]
    members = table.filter(condition)
    keys = [ibis.desc(members[highest_first], nulls_first=False)] if highest_first else []
    members = members.order_by([*keys, "customer_id"]).select(*chosen)
    if limit is not None:
        members = members.limit(limit)
    return members.to_pandas()


def choose_sort_feature(definition: Definition) -> str:
    """Return the feature a preview of the members is sorted by: the first number or date
    feature the definition tests, else net revenue."""
    for condition in definition.conditions():
        if FEATURES[condition.feature].kind in (NUMBER, DATE):
            return condition.feature
    return "net_revenue"


def count_members(
    base: ir.Table, definitions: Mapping[str, Definition], workspace: Path
) -> dict[str, int]:
    """Return the number of members of each segment, in one query.

    In: the materialised base features (BASE_COLUMNS) and segments by name; each is scored with
    its own RFM spec (``compiler.flag_segments``). Out: segment name -> members.
    """
    if not definitions:
        return {}
    table, columns = flag_segments(base, definitions, workspace)
    row = (
        table.aggregate(
            **{
                f"n_{i}": table[columns[name]].cast("int64").sum()
                for i, name in enumerate(definitions)
            }
        )
        .to_pandas()
        .iloc[0]
    )
    return {
        name: 0 if pd.isna(row[f"n_{i}"]) else int(row[f"n_{i}"])
        for i, name in enumerate(definitions)
    }
