"""Segments: RFM scores and segments of the chosen dataset, tuned with sliders."""

import streamlit as st

from dashboard import analysis, charts, export, formatting, rfm, ui
from dashboard.schemes import PROSPECTS

st.title("Segments")
st.caption(
    "Every customer scored on Recency, Frequency and Monetary value and placed in exactly one "
    "segment; move the sliders and the table, chart and download follow."
)

selection = st.session_state.get("selection")
if selection is None:
    st.info("Choose a dataset in the sidebar, or load your store's exports on the Data page.")
    st.stop()

with ui.friendly_errors():
    base = ui.get_customer_base(selection)
    scheme = selection.scheme
    quantile = ui.get_quantile_cuts(base, scheme)
    mode = st.radio(
        "Scoring",
        ["Quantiles of your customers", "Custom cut points"],
        horizontal=True,
        help="Quantiles split customers into equal groups; custom lets you drag each cut point.",
    )
    if mode.startswith("Custom"):
        limits = analysis.measure_limits(base)
        cuts = ui.cut_sliders(selection, quantile, limits)
    else:
        cuts = quantile
        collapsed = rfm.collapsed_scores(cuts)
        if collapsed:
            one_time = rfm.share_one_time_buyers(base.measures)
            lost = "; ".join(f"{m}: score {', '.join(map(str, s))}" for m, s in collapsed.items())
            st.warning(
                f"Ties merged some quantile bins, so no customer can get {lost}. "
                f"{formatting.format_percent(one_time)} of customers bought exactly once. "
                "Switch to custom cut points (e.g. frequency 2, 3, 5, 10 orders) to separate them."
            )

    ui.show_segment_changes(base, scheme, cuts)
    summary = analysis.segment_summary(base, cuts, scheme)
    currency = selection.currency
    scored = summary[summary.segment != PROSPECTS]
    totals = st.columns(4)
    totals[0].metric("Customers scored", formatting.format_count(scored.customers.sum()))
    totals[1].metric(
        "Prospects (no valid order)",
        formatting.format_count(summary.customers.sum() - scored.customers.sum()),
    )
    totals[2].metric("Net revenue", formatting.format_money(summary.revenue.sum(), currency))
    totals[3].metric(
        "Average order value",
        formatting.format_money(scored.revenue.sum() / max(scored.orders.sum(), 1), currency),
    )

    st.plotly_chart(charts.plot_segment_shares(summary), width="stretch")
    st.dataframe(
        summary,
        hide_index=True,
        width="stretch",
        column_config=ui.summary_column_config(currency),
        key="segment_table",
    )

    with st.expander("How these numbers are computed"):
        st.markdown(f"**Scheme.** {scheme.rule}")
        st.markdown(f"**What counts.** {base.rules.describe()}")
        st.markdown(
            f"**Window.** Analysis date {base.window.as_of:%d %b %Y}; "
            + (f"orders since {base.window.start:%d %b %Y}." if base.window.start else "all history.")
            + (
                f" {base.customers_outside_window:,} customers bought only before the window "
                "and are left out."
                if base.customers_outside_window
                else ""
            )
        )
        st.dataframe(rfm.Cuts.as_rows(cuts), hide_index=True, width="stretch")

    st.subheader("Download customers")
    choice = st.selectbox("Segment", ["All customers", *summary.segment[summary.customers > 0]])
    segment = None if choice == "All customers" else choice
    members = analysis.segment_members(base, cuts, scheme, segment)
    st.download_button(
        f"Download {len(members):,} customers (CSV)",
        export.to_csv_bytes(members),
        file_name=f"{selection.dataset}-{(segment or 'all').lower().replace(' ', '-')}.csv",
        mime="text/csv",
        on_click="ignore",
    )
