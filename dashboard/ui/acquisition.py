"""What the Channels, Cohorts and Maturity pages share: the editable channel rules and spend
mapping, the first-order period, the reports held per session, and their notes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace

import pandas as pd
import streamlit as st

from dashboard import ui
from dashboard.acquisition import channels, maturity, reports, spend
from dashboard.errors import UserError
from dashboard.rfm import analysis
from dashboard.ui import customer_base, session
from dashboard.ui.text import escape_markdown


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
            st.error(escape_markdown(exc))
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
        "matches any value. Discount codes and tags match each of the order's comma-separated "
        "values: map your own codes here (discount_code, exact, a creator's code -> "
        "Affiliates). Nothing matched: Unattributed.",
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
    return session.cached(
        "has_spend",
        _data_key(selection),
        lambda: reports.has_spend(ui.workspace(), selection.dataset),
    )


def get_attribution(selection: ui.Selection, settings: reports.Settings) -> pd.DataFrame:
    """Return each customer's channel for the selection and rules, computed once per key."""
    return session.cached(
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
    return session.cached(
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
    return session.cached(
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
    attribution = get_attribution(selection, settings)
    return session.cached(
        "maturity",
        (*_data_key(selection), settings, economics is None),
        lambda: reports.load_maturity(
            ui.workspace(), selection.dataset, selection.as_of, settings, economics, attribution
        ),
    )


def get_channel_segments(selection: ui.Selection, attribution: pd.DataFrame) -> pd.DataFrame:
    """Return customers per channel and RFM segment (the Segments page's scoring and scheme)."""
    base = customer_base.get_customer_base(selection)
    _, cuts = customer_base.get_scoring(selection, base)
    members = analysis.segment_members(base, cuts, selection.scheme)
    return channels.count_channel_segments(attribution, members, list(selection.scheme.segments))


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
