"""Maturity-page widgets: the stage thresholds, the store's totals and the table formats."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import formatting
from dashboard.acquisition import maturity, spend_effort, traffic
from dashboard.ui import traffic as ui_traffic


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
        trailing = cols[0].number_input(
            "Sales a day over (months)",
            1,
            24,
            value=d.trailing_months,
            help="Calendar months averaged, ending with the month read.",
        )
        hold = cols[0].number_input(
            "A change holds after (months)",
            1,
            24,
            value=d.hold_months,
            help="Consecutive complete months a new stage must last before it counts.",
        )
    return maturity.StageThresholds(
        gaining_sales_per_week=float(per_week),
        consistent_months=int(consistent_months),
        consistent_sales_per_day=float(consistent_day),
        established_months=int(established_months),
        established_sales_per_day=float(established_day),
        well_established_months=int(well_months),
        well_established_sales_per_day=float(well_day),
        trailing_months=int(trailing),
        hold_months=int(hold),
    )


def show_store_totals(totals: maturity.StoreTotals, currency: str | None) -> None:
    """Four figures of the whole store, guest orders included: orders, revenue, AOV, months."""
    columns = st.columns(4)
    columns[0].metric(
        "Valid orders, whole history",
        formatting.format_count(totals.orders),
        help="Valid orders up to the analysis date (not cancelled, total above 0), "
        f"{totals.orders_without_customer:,} of them without a customer.",
    )
    columns[1].metric(
        "Net revenue, whole history",
        formatting.format_money(totals.revenue, currency),
        help="Order totals minus refunds and returns, cancelled orders left out.",
    )
    columns[2].metric("Average order value", formatting.format_money(totals.aov, currency))
    columns[3].metric(
        "Months open",
        formatting.format_count(totals.months_open),
        help="Whole months from the first sale to the analysis date.",
    )
    st.caption(
        "These totals count every valid order up to the analysis date, guest orders included; the "
        "Segments page counts only the orders of known customers inside its analysis window, "
        "so its totals differ."
    )


def show_headline(
    stages: pd.DataFrame,
    effort: pd.DataFrame,
    thresholds: maturity.StageThresholds,
    direct_share: traffic.DirectShare | None = None,
) -> None:
    """The stage of the last complete month, its sales a day and its retention shares, and
    beside them the Direct share of sessions when GA4 reports give it (evidence only).

    In: ``maturity.detect_stages`` and ``maturity.compare_effort`` outputs (non-empty).
    """
    position = maturity.find_headline(stages)
    current, effort_now = stages.iloc[position], effort.iloc[position]
    window = maturity.describe_window(current)
    columns = st.columns([1.5, 1, 1, 1] + ([1.5] if direct_share else []))
    if direct_share:
        ui_traffic.show_direct_share(direct_share, columns[4])
    columns[0].metric(
        f"Stage, {current.month:%b %Y}",
        str(current.stage),
        help=f"Read on the last complete month; a change of stage counts once it has held for "
        f"{thresholds.hold_months} consecutive complete months.",
    )
    columns[1].metric(
        "Sales a day",
        f"{current.sales_per_day:,.1f}",
        help=f"Valid orders a day over {window}.",
    )
    columns[2].metric(
        "Recommended retention share",
        formatting.format_percent(current.recommended_retention_share, 0),
    )
    columns[3].metric(
        "Returning revenue share",
        formatting.format_percent(effort_now.returning_share_revenue, 0),
        help=f"{current.month:%B %Y}'s share of revenue from customers who had ordered before.",
    )
    st.caption(
        f"Sales a day are averaged over {thresholds.trailing_months} calendar months "
        f"({window} here); a partial current month never decides the stage."
    )


def show_effort_verdict(verdict: spend_effort.EffortVerdict, currency: str | None) -> None:
    """The stage period's spend split against the recommendation, the Direct signal of the last
    stage, and the channels to move acquisition budget to (docs/acquisition.md §6)."""
    st.subheader(f"Effort {verdict.period.describe()}")
    split = verdict.spend
    if split.judgement == "about right":
        st.success(split.sentence)
    elif split.judgement in ("less", "more"):
        st.warning(split.sentence)
    else:
        st.info(split.sentence)
    if verdict.direct is not None:
        st.markdown(verdict.direct.sentence)
    st.markdown(spend_effort.describe_budget(verdict.budget, currency))
    if not verdict.budget.empty:
        money = formatting.table_money_format(currency)
        st.dataframe(
            verdict.budget,
            hide_index=True,
            width="stretch",
            key="budget_table",
            column_config={
                "rank": st.column_config.NumberColumn("Rank", format="%d"),
                "channel": st.column_config.TextColumn("Channel"),
                "acquisition_spend": st.column_config.NumberColumn(
                    "Acquisition spend", format=money
                ),
                "new_customers": st.column_config.NumberColumn("New customers", format="localized"),
                "cac": st.column_config.NumberColumn("CAC", format=money),
                "clv_to_cac": st.column_config.NumberColumn("CLV : CAC", format="%.1f"),
            },
        )
        st.caption(
            "Best CLV : CAC first, then lowest CAC; the Channels page's figures over the whole "
            "history."
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
            f"Returning revenue{unit}",
            format=money,
            help="Revenue from customers who had ordered before.",
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
        "complete": st.column_config.CheckboxColumn("Complete month"),
        "months_open": st.column_config.NumberColumn("Whole months open", format="%d"),
        "window_start": st.column_config.DateColumn("Window from"),
        "orders_trailing": st.column_config.NumberColumn("Sales in the window", format="localized"),
        "sales_per_day": st.column_config.NumberColumn("Sales a day", format="%.1f"),
        "sales_per_week": st.column_config.NumberColumn("Sales a week", format="%.1f"),
        "signal_stage": st.column_config.TextColumn("Stage of the month's signals"),
        "stage": st.column_config.TextColumn("Stage (held)"),
        "recommended_retention_share": st.column_config.NumberColumn(
            "Recommended retention share", format="percent"
        ),
    }
