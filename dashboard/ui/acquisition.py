"""Channels, cohorts and maturity widgets: editable rules, cached reports, table formats."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

import pandas as pd
import streamlit as st

from dashboard import formatting, ui
from dashboard.acquisition import channels, maturity, reports, spend
from dashboard.errors import UserError
from dashboard.rfm import analysis
from dashboard.ui import studio as ui_studio

_T = TypeVar("_T")


def _keep(slot: str, key: object, compute: Callable[[], _T]) -> _T:
    """Return the value held in ``slot`` for ``key``, computing and holding it when it differs."""
    held = st.session_state.get(slot)
    if held is None or held[0] != key:
        held = (key, compute())
        st.session_state[slot] = held
    return held[1]


def _data_key(selection: ui.Selection) -> tuple[object, ...]:
    return (selection.dataset, ui.dataset_version(selection.dataset), selection.as_of)


def acquisition_settings(selection: ui.Selection, **changes: object) -> reports.Settings:
    """Return the channel rules and spend mapping last applied in this session and the sidebar's
    counting rules, with ``changes``."""
    held = reports.Settings(
        rules=st.session_state.get("channel_rules", channels.DEFAULT_RULES),
        spend_mapping=st.session_state.get("spend_mapping", spend.DEFAULT_MAPPING),
        counting=selection.rules,
    )
    return replace(held, **changes)


def _edit_table(
    slot: str,
    title: str,
    defaults: pd.DataFrame,
    validate: Callable[[pd.DataFrame], pd.DataFrame],
    column_config: dict[str, object],
    note: str,
) -> None:
    """An expander holding an editable table; "Apply" keeps the checked rows in ``slot``."""
    version = st.session_state.get(f"{slot}_version", 0)
    held = st.session_state.get(slot)
    shown = defaults if held is None else pd.DataFrame(list(held), columns=defaults.columns)
    with st.expander(title), st.form(f"{slot}_form", border=False):
        st.caption(note)
        edited = st.data_editor(
            shown,
            num_rows="dynamic",
            hide_index=True,
            width="stretch",
            column_config=column_config,
            key=f"{slot}_editor_{version}",
        )
        apply, reset = st.columns(2)
        applied = apply.form_submit_button("Apply")
        restored = reset.form_submit_button("Back to the defaults")
    if restored:
        st.session_state.pop(slot, None)
    elif applied:
        try:
            st.session_state[slot] = reports.rows_of(validate(edited))
        except UserError as exc:
            st.error(str(exc))
            return
    if applied or restored:
        st.session_state[f"{slot}_version"] = version + 1


def edit_channel_rules() -> None:
    """Let the analyst edit the channel rules (applied to every page of this session)."""
    _edit_table(
        "channel_rules",
        "Channel rules (editable)",
        channels.default_rules(),
        channels.validate_rules,
        {
            "priority": st.column_config.NumberColumn("Priority", step=1, required=True),
            "field": st.column_config.SelectboxColumn(
                "Evidence", options=list(channels.RULE_FIELDS), required=True
            ),
            "match": st.column_config.SelectboxColumn(
                "Match", options=list(channels.MATCH_KINDS), required=True
            ),
            "pattern": st.column_config.TextColumn("Value (lower case)"),
            "channel": st.column_config.TextColumn("Channel", required=True),
        },
        "The first rule that matches a customer's first order decides the channel (lowest "
        "priority first). 'prefix' matches values that start with the pattern; an empty prefix "
        "matches any value. Nothing matched: Unattributed.",
    )


def edit_spend_mapping() -> None:
    """Let the analyst map the spend table's channel names to channel groups."""
    _edit_table(
        "spend_mapping",
        "Spend names -> channels (editable)",
        spend.default_mapping(),
        spend.validate_mapping,
        {
            "spend_channel": st.column_config.TextColumn("Name in the spend table", required=True),
            "channel": st.column_config.TextColumn("Channel", required=True),
        },
        "Names are matched whatever their case. TikTok Ads counts as Organic Social by default: "
        "TikTok Shop and influencer orders carry no paid UTM tags, so that is where the customers "
        "it wins are attributed.",
    )


def choose_first_order_period(selection: ui.Selection) -> tuple[dt.date, dt.date]:
    """A slider of whole months of first orders; returns (first day, last day) of the choice."""
    first = selection.overview.first_order_on or selection.as_of
    months = pd.date_range(first.replace(day=1), selection.as_of.replace(day=1), freq="MS")
    labels = [f"{m:%b %Y}" for m in months]
    if len(labels) == 1:
        start = end = labels[0]
    else:
        start, end = st.select_slider(
            "First order between",
            options=labels,
            value=(labels[0], labels[-1]),
            key=f"first_order_period_{selection.dataset}",
            help="Only customers whose first order falls in these months are counted.",
        )
    begin = months[labels.index(start)].date()
    finish = (months[labels.index(end)] + pd.offsets.MonthEnd(0)).date()
    return begin, min(finish, selection.as_of)


def dataset_has_spend(selection: ui.Selection) -> bool:
    """Return whether the chosen dataset holds marketing spend rows (kept in the session)."""
    return _keep(
        "has_spend",
        _data_key(selection),
        lambda: reports.has_spend(ui.workspace(), selection.dataset),
    )


def get_attribution(selection: ui.Selection, settings: reports.Settings) -> pd.DataFrame:
    """Return each customer's channel for the selection and rules, computed once per key."""
    return _keep(
        "attribution",
        (*_data_key(selection), settings.rules, settings.counting),
        lambda: reports.load_attribution(
            ui.workspace(),
            selection.dataset,
            selection.as_of,
            settings.rules_frame(),
            settings.counting,
        ),
    )


def get_cohort_cells(selection: ui.Selection, settings: reports.Settings) -> pd.DataFrame:
    """Return the cohort cells per channel for the selection and rules, computed once per key."""
    attribution = get_attribution(selection, settings)
    return _keep(
        "cohort_cells",
        (*_data_key(selection), settings.rules, settings.counting),
        lambda: reports.load_cohort_table(
            ui.workspace(), selection.dataset, selection.as_of, attribution, settings.counting
        ),
    )


def get_channel_report(
    selection: ui.Selection, settings: reports.Settings
) -> reports.ChannelReport:
    """Return the channel table and spend figures for the settings, computed once per key."""
    attribution = get_attribution(selection, settings)
    cells = get_cohort_cells(selection, settings)
    return _keep(
        "channel_report",
        (*_data_key(selection), settings),
        lambda: reports.load_channel_report(
            ui.workspace(), selection.dataset, selection.as_of, settings, attribution, cells
        ),
    )


def get_maturity(selection: ui.Selection, settings: reports.Settings) -> reports.MaturityReport:
    """Return stages, effort and CLV : CAC health (all history), computed once per key."""
    economics = None
    if dataset_has_spend(selection):
        whole_history = replace(
            settings, first_from=None, first_to=None, thresholds=maturity.DEFAULT_THRESHOLDS
        )
        economics = get_channel_report(selection, whole_history).economics
    return _keep(
        "maturity",
        (*_data_key(selection), settings, economics is None),
        lambda: reports.load_maturity(
            ui.workspace(), selection.dataset, selection.as_of, settings, economics
        ),
    )


def get_channel_segments(selection: ui.Selection, attribution: pd.DataFrame) -> pd.DataFrame:
    """Return customers per channel and RFM segment (the Segments page's scoring and scheme)."""
    base = ui.get_customer_base(selection)
    _, cuts = ui_studio.studio_scoring(selection, base)
    members = analysis.segment_members(base, cuts, selection.scheme)
    return channels.count_channel_segments(attribution, members, list(selection.scheme.segments))


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


def warn_missing_customer_key(selection: ui.Selection) -> bool:
    """Show why customer figures are empty when no order of the dataset has a customer key
    (``analysis.explain_missing_customer_key``, from the sidebar's overview); return whether."""
    overview = selection.overview
    missing = analysis.explain_missing_customer_key(
        overview.orders, overview.orders_without_customer
    )
    if missing:
        st.warning(missing)
    return missing is not None


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


def show_clv_cac_health(level: str, text: str) -> None:
    """Show a CLV : CAC verdict in the colour of its level."""
    if level == "healthy":
        st.success(text)
    elif level in ("warning", "critical"):
        st.error(text)
    elif level == "low":
        st.warning(text)
    else:
        st.info(text)


def channel_column_config(currency: str | None) -> dict[str, object]:
    """Column labels and number formats of the per-channel table."""
    money = formatting.table_money_format(currency)
    unit = f" ({currency})" if currency else ""
    config: dict[str, object] = {
        "channel": st.column_config.TextColumn("Channel"),
        "new_customers": st.column_config.NumberColumn("New customers", format="localized"),
        "share_new_customers": st.column_config.NumberColumn(
            "% of new customers", format="percent"
        ),
        "revenue": st.column_config.NumberColumn(f"Revenue{unit}", format=money),
        "share_revenue": st.column_config.NumberColumn("% of revenue", format="percent"),
        "orders": st.column_config.NumberColumn("Orders", format="localized"),
        "aov": st.column_config.NumberColumn(f"AOV{unit}", format=money),
        "repeat_rate": st.column_config.NumberColumn("Repeat rate", format="percent"),
        "orders_per_customer": st.column_config.NumberColumn("Orders per customer", format="%.2f"),
        "revenue_per_customer": st.column_config.NumberColumn(
            f"Revenue per customer{unit}", format=money
        ),
        "orders_per_customer_365d": st.column_config.NumberColumn(
            "Orders in first 365 days", format="%.2f"
        ),
    }
    for days in channels.HORIZONS_DAYS:
        config[f"customers_{days}d"] = st.column_config.NumberColumn(
            f"Customers seen {days}+ days", format="localized"
        )
        config[f"revenue_per_customer_{days}d"] = st.column_config.NumberColumn(
            f"{days}-day revenue per customer{unit}",
            format=money,
            help=f"Only customers whose first order is at least {days} days before the analysis "
            "date count here.",
        )
    return config


def economics_column_config(currency: str | None) -> dict[str, object]:
    """Column labels and number formats of the CAC and CLV : CAC table."""
    money = formatting.table_money_format(currency)
    unit = f" ({currency})" if currency else ""
    return {
        "channel": st.column_config.TextColumn("Channel"),
        "acquisition_spend": st.column_config.NumberColumn(
            f"Acquisition spend{unit}", format=money
        ),
        "new_customers": st.column_config.NumberColumn("New customers", format="localized"),
        "cac": st.column_config.NumberColumn(f"CAC{unit}", format=money),
        "aov": st.column_config.NumberColumn(f"AOV{unit}", format=money),
        "orders_per_year": st.column_config.NumberColumn("Orders per year", format="%.2f"),
        "expected_years": st.column_config.NumberColumn("Expected years", format="%.1f"),
        "simple_clv": st.column_config.NumberColumn(f"Simple CLV{unit}", format=money),
        "observed_ltv_365d": st.column_config.NumberColumn(
            f"Observed 365-day revenue{unit}", format=money
        ),
        "clv_to_cac": st.column_config.NumberColumn("CLV : CAC", format="%.1f : 1"),
        "payback_months": st.column_config.NumberColumn(
            "Months to pay back CAC",
            format="%d",
            help="0 = the first month's orders already cover CAC; empty = not reached yet.",
        ),
        "health": st.column_config.TextColumn("Health"),
    }


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
