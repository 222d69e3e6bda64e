"""Cohorts: customers grouped by the month of their first order, followed month by month."""

import streamlit as st

from dashboard import formatting, ui
from dashboard.acquisition import cohorts
from dashboard.charts import acquisition_charts
from dashboard.ui import acquisition as ui_acquisition
from dashboard.ui import progress

ui.require_entry_point("pages/cohorts.py")
st.title("Cohorts")
st.caption(
    "Customers grouped by the month of their first order: the share who order again in each "
    "later month and the revenue per customer the cohort adds up to; filter by acquisition "
    "channel."
)

selection = ui.require_selection()

with ui.friendly_errors():
    settings = ui_acquisition.acquisition_settings(selection)
    with progress.show_steps("Building the cohorts…") as step:
        step("Attributing each customer to a channel…")
        ui_acquisition.get_attribution(selection, settings)
        step("Following each cohort month by month…")
        cells = ui_acquisition.get_cohort_cells(selection, settings)
    chosen = st.multiselect(
        "Acquisition channels",
        sorted(cells.channel.unique()),
        placeholder="All channels",
        help="Channels come from the rules on the Channels page.",
    )
    table = cohorts.combine_cohorts(cells, chosen)
    if table.empty:
        if not ui_acquisition.warn_missing_customer_key(selection):
            st.info("No customer has a valid order yet.")
        st.stop()
    curve = cohorts.average_curve(table)
    labels = cohorts.label_cohorts(table)
    currency = selection.currency
    cumulative = "cumulative_revenue_per_customer"

    totals = st.columns(4)
    totals[0].metric("Customers", formatting.format_count(curve.customers.iloc[0]))
    totals[1].metric(
        "Ordering again in month 1",
        formatting.format_percent(cohorts.read_curve(curve, 1, "retention")),
    )
    totals[2].metric(
        "Revenue per customer by month 6",
        formatting.format_money(cohorts.read_curve(curve, 6, cumulative), currency),
    )
    totals[3].metric(
        "Revenue per customer by month 12",
        formatting.format_money(cohorts.read_curve(curve, 12, cumulative), currency),
    )

    st.markdown("**Customers ordering in each month since their first order**")
    st.plotly_chart(
        acquisition_charts.plot_cohort_heatmap(
            cohorts.pivot_cohorts(table, "retention"), "percent", labels=labels
        ),
        width="stretch",
    )
    st.markdown("**Cumulative revenue per customer**")
    st.plotly_chart(
        acquisition_charts.plot_cohort_heatmap(
            cohorts.pivot_cohorts(table, cumulative), "money", currency, labels
        ),
        width="stretch",
    )
    st.caption(
        "Each row is a cohort, with its number of customers in brackets. Month 0 is the month of "
        "the first order, so it is always 100%. The last cell of each row is the month of the "
        "analysis date and may be incomplete. Revenue is net of refunds (1.2k = 1,200)."
    )
    st.markdown(
        "**The average cohort** (weighted by cohort size, over the cohorts that reached each month)"
    )
    st.dataframe(
        curve,
        hide_index=True,
        width="stretch",
        column_config={
            "months_since": st.column_config.NumberColumn("Months since first order"),
            "cohorts": st.column_config.NumberColumn("Cohorts"),
            "customers": st.column_config.NumberColumn("Customers", format="localized"),
            "retention": st.column_config.NumberColumn("Ordering that month", format="percent"),
            "cumulative_revenue_per_customer": st.column_config.NumberColumn(
                "Cumulative revenue per customer", format="%.2f"
            ),
        },
    )
    with st.expander("Cohort table (customers, active customers and revenue per cell)"):
        st.dataframe(table, hide_index=True, width="stretch")
