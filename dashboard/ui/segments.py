"""Segments-page widgets: cut sliders, the segment table, headline figures and downloads."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import formatting, ui
from dashboard.export import to_csv_bytes
from dashboard.rfm import analysis, cut_points, schemes, sensitivity
from dashboard.ui import customer_base, session
from dashboard.ui.text import escape_markdown

SUGGESTED_FREQUENCY_CUTS = (2.0, 3.0, 5.0, 10.0)


def _rising_defaults(values: tuple[float | None, ...], floor: float, step: float) -> list[float]:
    out: list[float] = []
    for value in values:
        candidate = floor if value is None else max(float(value), floor)
        if out and candidate <= out[-1]:
            candidate = out[-1] + step
        out.append(round(candidate / step) * step)
    return out


def cut_sliders(
    selection: ui.Selection, quantile: cut_points.Cuts, limits: dict[str, float]
) -> cut_points.Cuts:
    """Draw one slider per cut point (R, F, M in three columns) and return the chosen cuts."""
    n = selection.scheme.n_scores
    frequency_defaults = SUGGESTED_FREQUENCY_CUTS[-(n - 1) :] if n < 5 else SUGGESTED_FREQUENCY_CUTS
    specs = [
        ("recency", "R: days since last order", _rising_defaults(quantile.recency, 0, 1), 1.0),
        ("frequency", "F: orders", list(frequency_defaults), 1.0),
        ("monetary", "M: net revenue", _rising_defaults(quantile.monetary, 0, 1), 1.0),
    ]
    units = {"frequency": "orders", "monetary": selection.currency or "net revenue"}
    chosen: dict[str, tuple[float, ...]] = {}
    for column, (measure, title, defaults, step) in zip(st.columns(3), specs, strict=True):
        with column:
            st.markdown(f"**{title}**")
            upper = max(limits[measure], defaults[-1] + step)
            values = []
            for i, default in enumerate(defaults):
                score = n - i if measure == "recency" else i + 2
                label = f"{measure[0].upper()} {score}: " + (
                    "at most (days)" if measure == "recency" else f"at least ({units[measure]})"
                )
                values.append(
                    st.slider(
                        label,
                        min_value=0.0,
                        max_value=float(upper),
                        value=float(default),
                        step=step,
                        format="%.0f",
                        key=f"cut_{selection.dataset}_{n}_{measure}_{i}",
                    )
                )
            chosen[measure] = tuple(values)
    return cut_points.validate_cuts(
        cut_points.Cuts(chosen["recency"], chosen["frequency"], chosen["monetary"])
    )


def summary_column_config(currency: str | None) -> dict[str, object]:
    """Column labels and number formats of the segment table (shares shown as percentages)."""
    money = formatting.table_money_format(currency)
    unit = f" ({currency})" if currency else ""
    return {
        "segment": st.column_config.TextColumn("Segment"),
        "customers": st.column_config.NumberColumn("Customers", format="localized"),
        "share_customers": st.column_config.NumberColumn("% of customers", format="%.1f%%"),
        "revenue": st.column_config.NumberColumn(f"Revenue{unit}", format=money),
        "share_revenue": st.column_config.NumberColumn("% of revenue", format="%.1f%%"),
        "orders": st.column_config.NumberColumn("Orders", format="localized"),
        "aov": st.column_config.NumberColumn(f"AOV{unit}", format=money),
        "revenue_per_customer": st.column_config.NumberColumn(
            f"Value per customer{unit}", format=money
        ),
        "avg_recency_days": st.column_config.NumberColumn("Avg. recency (days)", format="%.0f"),
    }


def present_summary(summary: pd.DataFrame) -> pd.DataFrame:
    """Return the segment table for the screen: shares as percentages (0-100)."""
    return summary.assign(
        share_customers=summary.share_customers * 100, share_revenue=summary.share_revenue * 100
    )


def warn_collapsed_bins(base: analysis.CustomerBase, cuts: cut_points.Cuts) -> None:
    """Say which scores ties made unreachable, with the one-time buyer share and a remedy."""
    collapsed = cut_points.collapsed_scores(cuts)
    if not collapsed:
        return
    lost = "; ".join(
        f"a {measure} score of {' or '.join(map(str, scores))}"
        for measure, scores in collapsed.items()
    )
    one_time = cut_points.share_one_time_buyers(base.measures)
    st.warning(
        f"Ties merged some quantile bins: no customer can get {lost}. "
        f"{formatting.format_percent(one_time)} of scored customers bought exactly once. "
        "Switch to custom cut points (for example frequency 2, 3, 5 and 10 orders) to separate "
        "them."
    )


def show_headline(summary: pd.DataFrame, currency: str | None) -> None:
    """Four headline figures: customers, of whom prospects, net revenue and AOV."""
    scored = summary[summary.segment != schemes.PROSPECTS]
    columns = st.columns(4)
    columns[0].metric("Customers", formatting.format_count(summary.customers.sum()))
    columns[1].metric(
        "Prospects (no valid order)",
        formatting.format_count(summary.customers.sum() - scored.customers.sum()),
    )
    columns[2].metric("Net revenue", formatting.format_money(summary.revenue.sum(), currency))
    orders = scored.orders.sum()
    columns[3].metric(
        "Average order value",
        formatting.format_money(scored.revenue.sum() / orders if orders else None, currency),
    )


def explain_computation(
    base: analysis.CustomerBase, scheme: schemes.Scheme, cuts: cut_points.Cuts
) -> None:
    """An expander stating the scheme rule, what counts, the window and the cut points."""
    window = base.window
    with st.expander("How these numbers are computed"):
        st.markdown(f"**Scheme.** {escape_markdown(scheme.rule)}")
        st.markdown(
            f"**What counts.** {base.rules.describe()} Whether orders with a total of 0 count "
            "is the sidebar's 'Count zero-value orders as purchases'."
        )
        text = f"**Window.** Analysis date {window.as_of:%d %b %Y}; " + (
            f"orders since {window.start:%d %b %Y}." if window.start else "all history."
        )
        if base.customers_outside_window:
            text += (
                f" {base.customers_outside_window:,} customers bought only before the window "
                "and are left out."
            )
        st.markdown(text)
        st.markdown("**Cut points.** Each score and the rule that gives it:")
        st.dataframe(cuts.as_rows(), hide_index=True, width="stretch")


def offer_segment_download(
    selection: ui.Selection,
    base: analysis.CustomerBase,
    cuts: cut_points.Cuts,
    summary: pd.DataFrame,
) -> None:
    """Pick a segment (or everyone) and download its customers as a formula-safe CSV."""
    st.subheader("Download customers")
    everyone = "All customers (prospects included)"
    choice = st.selectbox("Segment", [everyone, *summary.segment[summary.customers > 0]])
    segment = None if choice == everyone else choice
    count = (
        summary.customers.sum()
        if segment is None
        else summary.customers[summary.segment == segment].sum()
    )
    st.download_button(
        f"Download {count:,} customers (CSV)",
        session.defer_in_session(
            lambda: to_csv_bytes(analysis.segment_members(base, cuts, selection.scheme, segment))
        ),
        file_name=f"{selection.dataset}-{(segment or 'all').lower().replace(' ', '-')}.csv",
        mime="text/csv",
        on_click="ignore",
    )


def show_segment_changes(
    base: analysis.CustomerBase, scheme: schemes.Scheme, cuts: cut_points.Cuts
) -> None:
    """Remember ``cuts`` and say how many customers changed segment at the last move of the cuts.

    The comparison is kept until the cuts move again; a new dataset, date or scheme starts over.
    """
    context = customer_base.cut_context(scheme)
    previous = st.session_state.get(customer_base.LAST_CUTS)
    if previous is None or previous[0] != context:
        st.session_state.pop("last_change", None)
    elif previous[1] != cuts:
        changes = sensitivity.segment_changes(base, previous[1], cuts, scheme)
        total = float(changes.transitions.revenue.sum())
        share = changes.revenue_changed / total if total else 0.0
        st.session_state["last_change"] = (context, changes.customers_changed, share)
    st.session_state[customer_base.LAST_CUTS] = (context, cuts)
    change = st.session_state.get("last_change")
    if change is not None:
        customers, share = formatting.format_count(change[1]), formatting.format_percent(change[2])
        st.info(f"{customers} customers ({share} of revenue) changed segment since the last move.")
