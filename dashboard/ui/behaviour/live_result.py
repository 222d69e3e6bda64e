"""A segment's live result: its size, share and revenue, and a preview of its members."""

from __future__ import annotations

import ibis.expr.types as ir
import streamlit as st

from dashboard import formatting
from dashboard.behaviour.catalogue import DATE, FEATURES
from dashboard.behaviour.compiler import compile_definition
from dashboard.behaviour.definitions import Definition
from dashboard.behaviour.membership import (
    PREVIEW_ROWS,
    choose_sort_feature,
    list_members,
    measure_segment,
)

PREVIEW_COLUMNS = ("customer_id", "email", "orders", "net_revenue", "last_order_on", "rfm_segment")
# Probabilities held as fractions (0.7) and shown as percentages (70 %).
PERCENT_FEATURES = ("p_alive", "churn_risk")


def show_live_result(
    view: ir.Table, definition: Definition, currency: str | None, key: str
) -> None:
    """Customers, share of customers and revenue, and a preview of the members sorted by the
    definition's first measure (``membership.choose_sort_feature``), highest first."""
    condition = compile_definition(view, definition)
    size = measure_segment(view, condition)
    columns = st.columns(3)
    columns[0].metric("Customers", formatting.format_count(size["customers"]))
    columns[1].metric("Share of customers", formatting.format_percent(size["share_customers"]))
    columns[2].metric(
        "Revenue (share)",
        formatting.format_money(size["revenue"], currency),
        formatting.format_percent(size["share_revenue"]) + " of revenue",
        delta_color="off",
        delta_arrow="off",
    )
    sort_by = choose_sort_feature(definition)
    columns = [*PREVIEW_COLUMNS[:2], sort_by, *PREVIEW_COLUMNS[2:]]
    preview = list_members(view, condition, columns, PREVIEW_ROWS, highest_first=sort_by)
    st.dataframe(
        preview,
        hide_index=True,
        width="stretch",
        column_config=feature_column_config(preview.columns, currency),
        key=f"bh_preview_{key}",
        placeholder="—",
    )
    order = "latest" if FEATURES[sort_by].kind == DATE else "highest"
    shown = (
        f"The first {formatting.format_count_of(len(preview), 'member')}"
        if size["customers"] > len(preview)
        else "The members"
    )
    st.caption(f"{shown}, {order} {FEATURES[sort_by].label.lower()} first.")


def feature_column_config(columns: object, currency: str | None) -> dict[str, object]:
    """Column labels and number formats for a table of feature columns."""
    money = formatting.table_money_format(currency)
    config: dict[str, object] = {}
    for name in columns:
        label = FEATURES[name].label if name in FEATURES else str(name)
        spec = FEATURES.get(name)
        if name == "aov" or (spec is not None and spec.dtype.startswith("decimal")):
            config[name] = st.column_config.NumberColumn(label, format=money)
        elif name in PERCENT_FEATURES:
            config[name] = st.column_config.NumberColumn(label, format="percent")
        elif spec is not None and spec.kind == DATE:
            config[name] = st.column_config.DateColumn(label)
        else:
            config[name] = label
    return config
