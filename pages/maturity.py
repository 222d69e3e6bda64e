"""Maturity: the store's stage over time and whether its retention effort fits the stage."""

import streamlit as st

from dashboard import ui
from dashboard.charts import acquisition_charts
from dashboard.ui import acquisition as ui_acquisition
from dashboard.ui import maturity as ui_maturity
from dashboard.ui import progress
from dashboard.ui import traffic as ui_traffic

ui.require_entry_point("pages/maturity.py")
st.title("Maturity")
st.caption(
    "The store's business stage month by month, read from its own sales (months open, sales a "
    "day), the share of effort on retention each stage calls for beside the share returning "
    "customers actually bring, the share of spend on retention against the stage, where to move "
    "budget, and the CLV : CAC health for the stage."
)

selection = ui.require_selection()

with ui.friendly_errors():
    thresholds = ui_maturity.edit_stage_thresholds()
    settings = ui_acquisition.acquisition_settings(selection, thresholds=thresholds)
    with progress.show_steps("Reading the store's stages…") as step:
        step("Attributing each customer to a channel (for the Direct signal and CLV : CAC)…")
        ui_acquisition.get_attribution(selection, settings)
        if ui_acquisition.dataset_has_spend(selection):
            step("Following the cohorts…")
            ui_acquisition.get_cohort_cells(selection, settings)
        step("Reading sales and returning customers month by month…")
        report = ui_acquisition.get_maturity(selection, settings)
        direct_share = ui_traffic.get_direct_share(selection)

    ui_maturity.show_store_totals(report.store, selection.currency)
    ui_acquisition.warn_missing_customer_key(selection)
    ui_maturity.show_headline(report.stages, report.effort, thresholds, direct_share)
    st.markdown(report.paragraph)
    ui_acquisition.show_clv_cac_health(report.health_level, report.health_text)
    ui_maturity.show_effort_verdict(report.effort_verdict, selection.currency)

    st.plotly_chart(acquisition_charts.plot_maturity_timeline(report.stages), width="stretch")
    st.plotly_chart(acquisition_charts.plot_retention_effort(report.effort), width="stretch")
    st.caption(
        "Actual shares are of valid orders by known customers; guest orders are left out because "
        "nobody knows whether they come back. Spend shares need spend rows tagged acquisition or "
        "retention."
    )

    st.dataframe(
        report.effort,
        hide_index=True,
        width="stretch",
        column_config=ui_maturity.effort_column_config(selection.currency),
        key="effort_table",
    )
    with st.expander("Stage signals per month, and the thresholds used"):
        st.dataframe(
            report.stages,
            hide_index=True,
            width="stretch",
            column_config=ui_maturity.stage_column_config(),
        )
        st.dataframe(
            thresholds.describe(),
            hide_index=True,
            width="stretch",
            column_config={
                "recommended_retention_share": st.column_config.NumberColumn(
                    "Recommended retention share", format="percent"
                )
            },
        )
