"""Maturity-page widgets: the stage thresholds, the store's totals and the table formats."""

from __future__ import annotations

import streamlit as st

from dashboard import formatting
from dashboard.acquisition import maturity


def edit_stage_thresholds() -> maturity.StageThresholds:
    """Number inputs for the stage signals (docs/acquisition.md §6); returns the thresholds."""
    d = maturity.DEFAULT_THRESHOLDS
    with st.expander("Stage thresholds (editable)"):
        cols = st.columns(4)
        per_week = cols[0].number_input(
            "Gaining traction: sales a week", 0.0, value=d.gaining_sales_per_week, step=1.0
        )
        consistent_months = cols[1].number_input(
            "Consistent: months open", 0, value=d.consistent_months
        )
        consistent_day = cols[1].number_input(
            "Consistent: sales a day", 0.0, value=d.consistent_sales_per_day, step=1.0
        )
        established_months = cols[2].number_input(
            "Established: months open", 0, value=d.established_months
        )
        established_day = cols[2].number_input(
            "Established: sales a day", 0.0, value=d.established_sales_per_day, step=1.0
        )
        well_months = cols[3].number_input(
            "Well established: months open", 0, value=d.well_established_months
        )
        well_day = cols[3].number_input(
            "Well established: sales a day", 0.0, value=d.well_established_sales_per_day, step=1.0
        )
    return maturity.StageThresholds(
        gaining_sales_per_week=float(per_week),
        consistent_months=int(consistent_months),
        consistent_sales_per_day=float(consistent_day),
        established_months=int(established_months),
        established_sales_per_day=float(established_day),
        well_established_months=int(well_months),
        well_established_sales_per_day=float(well_day),
    )


def show_store_totals(totals: maturity.StoreTotals, currency: str | None) -> None:
    """Four figures of the whole store, guest orders included: orders, revenue, AOV, months."""
    columns = st.columns(4)
    columns[0].metric(
        "Orders",
        formatting.format_count(totals.orders),
        help="Valid orders up to the analysis date (not cancelled, total above 0), "
        f"{totals.orders_without_customer:,} of them without a customer.",
    )
    columns[1].metric(
        "Net revenue",
        formatting.format_money(totals.revenue, currency),
        help="Order totals minus refunds and returns, cancelled orders left out.",
    )
    columns[2].metric("Average order value", formatting.format_money(totals.aov, currency))
    columns[3].metric(
        "Months open",
        formatting.format_count(totals.months_open),
        help="Whole months from the first sale to the analysis date.",
    )


def effort_column_config(currency: str | None) -> dict[str, object]:
    """Column labels and number formats of the stage and effort table."""
    money = formatting.table_money_format(currency)
    unit = f" ({currency})" if currency else ""
    return {
        "month": st.column_config.DateColumn("Month", format="MMM YYYY"),
        "stage": st.column_config.TextColumn("Stage"),
        "recommended_retention_share": st.column_config.NumberColumn(
            "Recommended retention share", format="percent"
        ),
        "orders": st.column_config.NumberColumn("Orders (known customers)", format="localized"),
        "returning_orders": st.column_config.NumberColumn(
            "Orders by returning customers", format="localized"
        ),
        "returning_share_orders": st.column_config.NumberColumn(
            "Returning share of orders", format="percent"
        ),
        "revenue": st.column_config.NumberColumn(f"Revenue{unit}", format=money),
        "returning_revenue": st.column_config.NumberColumn(
            f"Revenue from returning customers{unit}", format=money
        ),
        "returning_share_revenue": st.column_config.NumberColumn(
            "Returning share of revenue", format="percent"
        ),
        "retention_spend_share": st.column_config.NumberColumn(
            "Share of spend on retention", format="percent"
        ),
    }


def stage_column_config() -> dict[str, object]:
    """Column labels and number formats of the stage timeline table."""
    return {
        "month": st.column_config.DateColumn("Month", format="MMM YYYY"),
        "evaluated_on": st.column_config.DateColumn("Read on"),
        "months_open": st.column_config.NumberColumn("Whole months open", format="%d"),
        "orders_trailing": st.column_config.NumberColumn(
            "Sales in the last 28 days", format="localized"
        ),
        "sales_per_day": st.column_config.NumberColumn("Sales a day", format="%.1f"),
        "sales_per_week": st.column_config.NumberColumn("Sales a week", format="%.1f"),
        "stage": st.column_config.TextColumn("Stage"),
        "recommended_retention_share": st.column_config.NumberColumn(
            "Recommended retention share", format="percent"
        ),
    }
