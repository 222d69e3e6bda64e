"""Channels: where customers come from, what they are worth, and what they cost."""

import streamlit as st

from dashboard import ui
from dashboard.ui import acquisition as ui_acquisition
from dashboard.ui import channels as ui_channels
from dashboard.ui import progress
from dashboard.ui import traffic as ui_traffic

ui.require_entry_point("pages/channels.py")
st.title("Channels")
st.caption(
    "Each customer's acquisition channel, read from their first order (UTM tags, click ids, "
    "referrer, landing site, source, discount code, tags; Direct only for a recorded visit "
    "without referrer), what those customers bought since, which RFM segment they are in "
    "today and, when a spend table is loaded, what they cost."
)

selection = ui.require_selection()

with ui.friendly_errors():
    settings, with_spend = ui_channels.choose_channel_settings(selection)
    with progress.show_steps("Reading the channels…") as step:
        step("Attributing each customer to a channel…")
        attribution = ui_channels.get_period_attribution(selection, settings)
        step("Adding up each channel's customers, revenue and spend…")
        report = ui_acquisition.get_channel_report(selection, settings)
    if report.table.empty:
        if not ui_acquisition.warn_missing_customer_key(selection):
            st.info("No customer placed a first order in these months.")
        st.stop()

    ui_channels.show_channel_totals(report.table, selection.currency)
    ui_channels.show_unattributed_note(report.unattributed_note)
    ui_channels.show_channel_table(report.table, attribution, selection.currency)
    ui_channels.show_channel_segments(selection, attribution)

    st.subheader("Sessions and conversion by channel")
    ui_traffic.show_traffic_by_channel(selection, settings.first_from, settings.first_to)

    st.subheader("Spend, CAC and CLV : CAC")
    if not with_spend:
        st.info(
            "Load a marketing spend table (month, channel, spend, purpose) to see the cost of "
            "each new customer (CAC), CLV : CAC and the months to pay it back."
        )
        st.stop()
    ui_channels.show_spend_economics(report, settings.expected_years, selection.currency)
