"""Segments: RFM scores and segments of the chosen dataset, tuned with sliders."""

import streamlit as st

from dashboard import ui
from dashboard.charts import rfm_charts
from dashboard.rfm import analysis
from dashboard.ui import customer_base, report_download, segment_scale
from dashboard.ui import segments as ui_segments

ui.require_entry_point("pages/segments.py")
st.title("Segments")
st.caption(
    "Every customer scored on Recency, Frequency and Monetary value and placed in exactly one "
    "segment; move the sliders and the table, chart and download follow."
)

selection = ui.require_selection()

with ui.friendly_errors():
    base = customer_base.get_customer_base(selection)
    scheme = selection.scheme
    quantile = customer_base.get_quantile_cuts(base, scheme)
    mode = st.radio(
        "Scoring",
        ["Quantiles of your customers", "Custom cut points"],
        horizontal=True,
        help="Quantiles split customers into equal groups; custom lets you drag each cut point.",
    )
    if mode.startswith("Custom"):
        cuts = ui_segments.cut_sliders(selection, quantile, customer_base.get_measure_limits(base))
    else:
        cuts = quantile
        ui_segments.warn_collapsed_bins(base, cuts)

    ui_segments.show_segment_changes(base, scheme, cuts)
    predicted = ui_segments.choose_predictions(selection)
    summary = analysis.segment_summary(base, cuts, scheme, predicted)
    ui_segments.show_headline(summary, base, selection.currency)
    st.plotly_chart(rfm_charts.plot_segment_shares(summary), width="stretch")
    st.dataframe(
        ui_segments.present_summary(summary),
        hide_index=True,
        width="stretch",
        column_config=ui_segments.summary_column_config(selection.currency, predicted is not None),
        key="segment_table",
        height="content",
        placeholder="—",
    )
    ui_segments.explain_computation(base, scheme, cuts)
    ui_segments.offer_segment_download(selection, base, cuts, summary, predicted)
    segment_scale.show_rfm_scale(selection, cuts)
    report_download.offer_report_download(selection, summary, predicted, cuts)
