"""Channels: where customers come from, what they are worth, and what they cost."""

import streamlit as st

from dashboard import formatting, ui
from dashboard.acquisition import channels, reports, spend
from dashboard.charts import acquisition_charts
from dashboard.ui import acquisition as ui_acquisition

ui.require_entry_point("pages/channels.py")
st.title("Channels")
st.caption(
    "Each customer's acquisition channel, read from their first order (UTM tags, referrer, "
    "source, discount code, tags), what those customers bought since, which RFM segment they "
    "are in today and, when a spend table is loaded, what they cost."
)

selection = st.session_state.get("selection")
if selection is None:
    st.info("Choose a dataset in the sidebar, or load your store's exports on the Data page.")
    st.stop()

with ui.friendly_errors():
    period, clv_years = st.columns([3, 1])
    with period:
        first_from, first_to = ui_acquisition.choose_first_order_period(selection)
    with_spend = ui_acquisition.dataset_has_spend(selection)
    years = clv_years.number_input(
        "Expected years of buying (simple CLV)",
        min_value=0.5,
        max_value=20.0,
        value=spend.DEFAULT_EXPECTED_YEARS,
        step=0.5,
        disabled=not with_spend,
        help="Simple CLV = AOV x orders per year x these years; needs a spend table for CAC.",
    )
    rules_box, mapping_box = st.columns(2)
    with rules_box:
        ui_acquisition.edit_channel_rules()
    if with_spend:
        with mapping_box:
            ui_acquisition.edit_spend_mapping()
    settings = ui_acquisition.acquisition_settings(
        selection, first_from=first_from, first_to=first_to, expected_years=years
    )
    attribution = reports.select_period(
        ui_acquisition.get_attribution(selection, settings), first_from, first_to
    )
    report = ui_acquisition.get_channel_report(selection, settings)
    table, currency = report.table, selection.currency
    if table.empty:
        if not ui_acquisition.warn_missing_customer_key(selection):
            st.info("No customer placed a first order in these months.")
        st.stop()

    unattributed = table[table.channel == channels.UNATTRIBUTED].new_customers.sum()
    totals = st.columns(4)
    totals[0].metric("New customers", formatting.format_count(table.new_customers.sum()))
    totals[1].metric("Their revenue", formatting.format_money(table.revenue.sum(), currency))
    totals[2].metric(
        "Repeat rate",
        formatting.format_percent(
            (table.repeat_rate * table.new_customers).sum() / table.new_customers.sum()
        ),
    )
    totals[3].metric(
        "Unattributed",
        formatting.format_percent(unattributed / table.new_customers.sum()),
        help="Customers whose first order carries no evidence any rule recognises.",
    )

    left, right = st.columns(2)
    left.plotly_chart(acquisition_charts.plot_channel_shares(table), width="stretch")
    right.plotly_chart(acquisition_charts.plot_channel_value(table, currency), width="stretch")
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config=ui_acquisition.channel_column_config(currency),
        key="channel_table",
    )
    st.caption(
        "Revenue is net of refunds, over all orders up to the analysis date. The 90/180/365-day "
        "columns count only customers whose first order is at least that many days before the "
        "analysis date, and the revenue of their orders in those first days."
    )
    with st.expander("Which evidence decided each channel"):
        st.dataframe(reports.count_evidence(attribution), hide_index=True, width="stretch")

    st.subheader("Where each channel's customers are now")
    cells = ui_acquisition.get_channel_segments(selection, attribution)
    st.plotly_chart(
        acquisition_charts.plot_channel_segments(channels.pivot_channel_segments(cells)),
        width="stretch",
    )
    st.dataframe(
        channels.pivot_channel_segments(cells, "customers"),
        width="stretch",
        column_config={"_index": st.column_config.TextColumn("Customers per channel")},
    )

    st.subheader("Spend, CAC and CLV : CAC")
    if not with_spend:
        st.info(
            "Load a marketing spend table (month, channel, spend, purpose) to see the cost of "
            "each new customer (CAC), CLV : CAC and the months to pay it back."
        )
        st.stop()
    if report.unmapped:
        st.warning(
            "Acquisition spend under names no mapping row covers: "
            + ", ".join(report.unmapped)
            + ". It is counted as Unmapped; add the names to the mapping above."
        )
    economics = report.economics
    total = economics[economics.channel == spend.ALL_CHANNELS]
    if not total.empty:
        ui_acquisition.show_clv_cac_health(*spend.assess_clv_cac(float(total.clv_to_cac.iloc[0])))
    left, right = st.columns(2)
    left.plotly_chart(acquisition_charts.plot_clv_cac(economics), width="stretch")
    right.plotly_chart(acquisition_charts.plot_cac(report.cac, currency), width="stretch")
    st.dataframe(
        economics,
        hide_index=True,
        width="stretch",
        column_config=ui_acquisition.economics_column_config(currency),
        key="economics_table",
    )
    st.caption(
        f"Simple CLV = AOV x orders in a customer's first 365 days x {years:g} expected years "
        "(revenue, not margin); beside it the revenue customers actually brought in their first "
        "365 days. CAC = acquisition spend / new customers of the channel in the chosen months; "
        "spend tagged 'retention' is left out. About 3 : 1 is the usual guide; 1 : 1 or below "
        "loses money on every customer."
    )
