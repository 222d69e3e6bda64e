"""RFM studio widgets: scoring, migration, backtest, clusters, explanations and schemes."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from dashboard import formatting, ui
from dashboard.rfm import analysis, backtest, cut_points, explain, migration, scheme_io, schemes

if TYPE_CHECKING:
    from dashboard.rfm.clustering import Clustering


def _cut_context(scheme: schemes.Scheme) -> tuple[object, schemes.Scheme]:
    return (st.session_state.get("base_key"), scheme)


def studio_scoring(
    selection: ui.Selection, base: analysis.CustomerBase
) -> tuple[cut_points.ScoringSpec, cut_points.Cuts]:
    """Return the scoring the Segments page last used (quantiles unless sliders moved) and cuts.

    The same scoring is applied at every date of the migration and the backtest.
    """
    quantile = ui.get_quantile_cuts(base, selection.scheme)
    last = st.session_state.get("last_cuts")
    cuts = last[1] if last is not None and last[0] == _cut_context(selection.scheme) else quantile
    custom = cuts != quantile
    window_days = (selection.as_of - selection.start).days + 1 if selection.start else None
    scoring = cut_points.ScoringSpec(
        selection.scheme, cuts if custom else None, base.rules, window_days
    )
    return scoring, cuts


def get_migration(
    selection: ui.Selection, scoring: cut_points.ScoringSpec, date_from: dt.date, date_to: dt.date
) -> migration.Migration:
    """Return the segments at both dates, computed once per session and settings."""
    key = (selection.dataset, ui.dataset_version(selection.dataset), date_from, date_to, scoring)
    slot = st.session_state.get("migration")
    if slot is None or slot[0] != key:
        if slot is not None:
            st.session_state.pop("migration")[1].backend.disconnect()
        with st.spinner("Segmenting customers at both dates…"):
            result = migration.load_migration(
                ui.workspace(), selection.dataset, date_from, date_to, scoring
            )
        st.session_state["migration"] = (key, result)
    return st.session_state["migration"][1]


def get_backtest(
    selection: ui.Selection, scoring: cut_points.ScoringSpec, as_of: dt.date, horizon_days: int
) -> backtest.Backtest:
    """Return the backtest for these settings, computed once per session and settings."""
    key = (selection.dataset, ui.dataset_version(selection.dataset), as_of, horizon_days, scoring)
    slot = st.session_state.get("backtest")
    if slot is None or slot[0] != key:
        with st.spinner("Segmenting customers at the past date…"):
            result = backtest.run_backtest(
                ui.workspace(), selection.dataset, as_of, horizon_days, scoring
            )
        st.session_state["backtest"] = (key, result)
    return st.session_state["backtest"][1]


def get_clusters(
    base: analysis.CustomerBase, cuts: cut_points.Cuts, scheme: schemes.Scheme, compute: bool
) -> Clustering | None:
    """Return the clusters for the base, cuts and scheme if computed (now when ``compute``)."""
    # scikit-learn takes seconds to import; only sessions that cluster pay for it.
    from dashboard.rfm import clustering

    key = (st.session_state.get("base_key"), cuts, scheme)
    slot = st.session_state.get("clusters")
    if compute and (slot is None or slot[0] != key):
        with st.spinner("Fitting k-means for k = 2 to 8…"):
            try:
                st.session_state["clusters"] = (
                    key,
                    clustering.cluster_customers(base, cuts, scheme),
                )
            except clustering.ClusteringError as exc:
                st.warning(str(exc))
                return None
        slot = st.session_state["clusters"]
    return slot[1] if slot is not None and slot[0] == key else None


def explain_customer(
    base: analysis.CustomerBase, cuts: cut_points.Cuts, scheme: schemes.Scheme, key: str
) -> dict[str, object] | None:
    """Return the explanation of the customer with id or email ``key`` (None when unknown)."""
    return explain.explain_customer(base, cuts, scheme, key, ui.workspace())


def read_scheme_upload(uploaded: UploadedFile | None) -> schemes.Scheme | None:
    """Return the scheme of an uploaded JSON file, or show why it cannot be used and return None."""
    if uploaded is None:
        return None
    try:
        return scheme_io.scheme_from_json(uploaded.getvalue().decode("utf-8"))
    except UnicodeDecodeError:
        st.error("The scheme file is not UTF-8 text.")
    except schemes.SchemeError as exc:
        st.error(str(exc))
    return None


def read_scheme_edits(
    edited: pd.DataFrame, shown: pd.DataFrame, scheme: schemes.Scheme
) -> schemes.Scheme | None:
    """Return the edited scheme if the table was changed and is valid; else show why, or None."""
    if edited.equals(shown):
        return None
    try:
        return scheme_io.scheme_from_table(edited, scheme, f"{scheme.name} (edited)")
    except schemes.SchemeError as exc:
        st.error(str(exc))
    return None


def save_scheme(scheme: schemes.Scheme, name: str) -> None:
    """Save ``scheme`` as custom scheme ``name`` and rerun so that the sidebar lists it."""
    scheme_io.save_custom_scheme(ui.workspace(), scheme, name)
    # A scheme saved under an old name may have another scale: drop its cached quantile cuts.
    st.session_state.pop("quantile_key", None)
    st.session_state["saved_scheme"] = name
    st.rerun()


def backtest_column_config(currency: str | None) -> dict[str, object]:
    """Column labels and number formats of the backtest table."""
    money = formatting.table_money_format(currency)
    unit = f" ({currency})" if currency else ""
    return {
        "segment": st.column_config.TextColumn("Segment at the date"),
        "customers": st.column_config.NumberColumn("Customers", format="localized"),
        "repeat_customers": st.column_config.NumberColumn("Ordered again", format="localized"),
        "repeat_rate": st.column_config.NumberColumn("Repeat rate", format="percent"),
        "orders": st.column_config.NumberColumn("Orders in the period", format="localized"),
        "revenue": st.column_config.NumberColumn(f"Revenue in the period{unit}", format=money),
        "revenue_per_customer": st.column_config.NumberColumn(
            f"Revenue per customer{unit}", format=money
        ),
    }


def centre_column_config(currency: str | None) -> dict[str, object]:
    """Column labels and number formats of the cluster centres table."""
    money = formatting.table_money_format(currency)
    unit = f" ({currency})" if currency else ""
    return {
        "cluster": st.column_config.TextColumn("Cluster"),
        "customers": st.column_config.NumberColumn("Customers", format="localized"),
        "share_customers": st.column_config.NumberColumn("% of customers", format="percent"),
        "recency_days": st.column_config.NumberColumn(
            "Centre: days since last order", format="%.0f"
        ),
        "frequency": st.column_config.NumberColumn("Centre: orders", format="%.1f"),
        "monetary": st.column_config.NumberColumn(f"Centre: net revenue{unit}", format=money),
        "revenue": st.column_config.NumberColumn(f"Revenue{unit}", format=money),
        "share_revenue": st.column_config.NumberColumn("% of revenue", format="percent"),
    }


def show_explanation(found: dict[str, object], cuts: cut_points.Cuts, currency: str | None) -> None:
    """Draw one explained customer: segment, the rule step by step, measures and cut points."""
    st.subheader(f"{found['customer_id']}: {found['segment'] or 'not scored'}")
    if len(found["matches"]) > 1:
        st.caption("Also matching: " + ", ".join(found["matches"][1:]))
    st.markdown("\n".join(f"- {line}" for line in found["reasons"]))
    measures = found["measures"]
    columns = st.columns(3)
    columns[0].metric("Days since last order", formatting.format_count(measures["recency_days"]))
    columns[1].metric("Valid orders", formatting.format_count(measures["frequency"]))
    columns[2].metric("Net revenue", formatting.format_money(measures["monetary"], currency))
    st.dataframe(cuts.as_rows(), hide_index=True, width="stretch")


def show_move_counts(counts: dict[str, float], currency: str | None) -> None:
    """Draw how many customers changed segment between the dates and their revenue."""
    columns = st.columns(2)
    columns[0].metric(
        "Customers who changed segment",
        f"{counts['customers_moved']:,} of {counts['customers']:,}",
    )
    columns[1].metric(
        "Their revenue at the second date",
        formatting.format_money(counts["revenue_moved"], currency),
        f"{counts['revenue_moved'] / counts['revenue']:.1%} of revenue"
        if counts["revenue"]
        else None,
        delta_color="off",
    )


def offer_to_save(candidate: schemes.Scheme) -> None:
    """Confirm that a checked scheme is a partition and offer to save it under a name."""
    st.success(
        f"'{candidate.name}' puts every cell in exactly one of {len(candidate.segments)} segments."
    )
    name = st.text_input("Save as (letters, digits, - and _)", key="scheme_name")
    if st.button("Save as custom scheme", disabled=not name):
        save_scheme(candidate, name)
    saved = st.session_state.pop("saved_scheme", None)
    if saved is not None:
        st.success(f"Saved '{saved}': pick '{saved} (custom)' under Segment scheme in the sidebar.")


def show_backtest_notes(result: backtest.Backtest) -> None:
    """Warn when the data ends inside the follow-up period; say how far segments differ."""
    if not result.complete:
        st.warning(
            f"The data ends on {result.data_end}, before the follow-up period does "
            f"({result.horizon_end}): the figures cover only part of it."
        )
    st.caption(backtest.describe_separation(result.table))
