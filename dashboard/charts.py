"""DataFrame -> plotly Figure, with readable labels (no Streamlit here)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

CUSTOMERS_COLOUR = "#2E6F95"
REVENUE_COLOUR = "#E07A1F"


def plot_segment_shares(summary: pd.DataFrame) -> go.Figure:
    """Grouped horizontal bars: share of customers and share of revenue per segment.

    In: the per-segment summary (segment, customers, share_customers, revenue, share_revenue).
    """
    ordered = summary.iloc[::-1]
    figure = go.Figure()
    figure.add_bar(
        y=ordered.segment,
        x=ordered.share_customers,
        name="Share of customers",
        orientation="h",
        marker_color=CUSTOMERS_COLOUR,
        customdata=ordered.customers,
        hovertemplate="%{y}: %{x:.1%} of customers (%{customdata:,} customers)<extra></extra>",
        text=[f"{v:.1%}" for v in ordered.share_customers],
        textposition="outside",
    )
    figure.add_bar(
        y=ordered.segment,
        x=ordered.share_revenue,
        name="Share of revenue",
        orientation="h",
        marker_color=REVENUE_COLOUR,
        hovertemplate="%{y}: %{x:.1%} of revenue<extra></extra>",
        text=[f"{v:.1%}" for v in ordered.share_revenue],
        textposition="outside",
    )
    figure.update_layout(
        barmode="group",
        height=max(360, 38 * len(summary)),
        margin={"l": 10, "r": 30, "t": 30, "b": 10},
        legend={"orientation": "h", "y": 1.08, "x": 0},
        xaxis={"tickformat": ".0%", "title": "Share of all customers / all revenue"},
        yaxis={"title": None},
    )
    return figure
