"""The browser slider benchmark's reference: the Segments page's widgets with no data work.

``streamlit run bench/reference_app.py`` draws what the Segments page draws, in the same order
and with the same labels (sidebar pickers, the scoring radio, twelve cut sliders in three
columns, the segment-change note, four headline figures, the segment chart, the segment table,
the explanation and the download), from a constant twelve-row summary. The only "computation"
is adding the slider values to the constant counts, so that every move changes the table and
the chart as it does on the real page. No DuckDB, no per-customer data.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard.charts import rfm_charts
from dashboard.rfm.schemes import PRESETS, PROSPECTS
from dashboard.ui import segments as ui_segments

SEGMENTS = [*PRESETS["shopify"].segments, PROSPECTS]
CUSTOMERS = [41_000, 87_000, 66_000, 120_000, 58_000, 95_000, 73_000, 110_000, 49_000, 131_000]
SLIDERS = (
    ("recency", "R: days since last order", (30.0, 90.0, 180.0, 365.0), 730.0),
    ("frequency", "F: orders", (2.0, 3.0, 5.0, 10.0), 20.0),
    ("monetary", "M: net revenue", (75.0, 150.0, 250.0, 400.0), 2_000.0),
)


def build_summary(shift: float) -> pd.DataFrame:
    """Return a constant per-segment summary, its counts moved by ``shift`` customers."""
    counts = [CUSTOMERS[i % len(CUSTOMERS)] + int(shift) * (i + 1) for i in range(len(SEGMENTS))]
    frame = pd.DataFrame({"segment": SEGMENTS, "customers": counts})
    frame["revenue"] = frame.customers * (150.0 + 10 * frame.index)
    frame["orders"] = frame.customers * 2
    frame["share_customers"] = frame.customers / frame.customers.sum()
    frame["share_revenue"] = frame.revenue / frame.revenue.sum()
    frame["aov"] = frame.revenue / frame.orders
    frame["revenue_per_customer"] = frame.revenue / frame.customers
    frame["avg_recency_days"] = 100.0 + frame.index
    return frame


def draw_sidebar() -> None:
    """The shared sidebar's pickers, as the app draws them."""
    st.sidebar.selectbox("Dataset", ["reference"])
    st.sidebar.date_input("Analysis date", value=dt.date(2024, 12, 31))
    st.sidebar.selectbox("Look-back window", ["All history", "Last 12 months", "Last 24 months"])
    st.sidebar.selectbox("Segment scheme", ["Shopify"])
    st.sidebar.selectbox("Scores per measure", [3, 4, 5], index=2)


def draw_sliders() -> float:
    """Twelve cut sliders in three columns, labelled as on the Segments page; their sum."""
    total = 0.0
    for column, (measure, title, defaults, upper) in zip(st.columns(3), SLIDERS, strict=True):
        with column:
            st.markdown(f"**{title}**")
            for i, default in enumerate(defaults):
                score = 5 - i if measure == "recency" else i + 2
                unit = "at most (days)" if measure == "recency" else "at least (orders)"
                if measure == "monetary":
                    unit = "at least (USD)"
                total += st.slider(
                    f"{measure[0].upper()} {score}: {unit}",
                    min_value=0.0,
                    max_value=upper,
                    value=default,
                    step=1.0,
                    format="%.0f",
                )
    return total


def draw_page() -> None:
    """The Segments page's body over the constant summary."""
    st.title("Segments")
    st.caption("The benchmark's reference page: the Segments page's widgets, no data work.")
    mode = st.radio(
        "Scoring", ["Quantiles of your customers", "Custom cut points"], horizontal=True
    )
    shift = draw_sliders() if mode.startswith("Custom") else 0.0
    summary = build_summary(shift)
    if shift:
        st.info(f"{int(shift):,} customers (1.0% of revenue) changed segment since the last move.")
    columns = st.columns(4)
    columns[0].metric("Customers", f"{summary.customers.sum():,}")
    columns[1].metric("Prospects (no valid order)", f"{summary.customers.iloc[-1]:,}")
    columns[2].metric("Net revenue", f"USD {summary.revenue.sum():,.0f}")
    columns[3].metric("Average order value", "USD 75.00")
    st.plotly_chart(rfm_charts.plot_segment_shares(summary), width="stretch")
    st.dataframe(
        ui_segments.present_summary(summary),
        hide_index=True,
        width="stretch",
        column_config=ui_segments.summary_column_config("USD"),
        key="segment_table",
        height="content",
    )
    with st.expander("How these numbers are computed"):
        st.markdown("**Scheme.** A constant reference.")
        st.dataframe(pd.DataFrame({"measure": ["R", "F", "M"], "rule": ["-", "-", "-"]}))
    st.subheader("Download customers")
    choice = st.selectbox("Segment", ["All customers (prospects included)", *SEGMENTS])
    st.download_button(
        f"Download {summary.customers.sum():,} customers (CSV)",
        f"segment\n{choice}\n".encode(),
        file_name="reference.csv",
        mime="text/csv",
        on_click="ignore",
    )


st.set_page_config(page_title="Customer segments (benchmark reference)", layout="wide")
draw_sidebar()
draw_page()
