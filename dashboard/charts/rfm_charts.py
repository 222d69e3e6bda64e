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
    # Horizontal grouped bars stack traces bottom-up: revenue first puts customers on top, and
    # the reversed legend then lists customers first too.
    figure.add_bar(
        y=ordered.segment,
        x=ordered.share_revenue,
        name="Share of revenue",
        orientation="h",
        marker_color=REVENUE_COLOUR,
        hovertemplate="%{y}: %{x:.1%} of revenue<extra></extra>",
        text=[f"{v:.1%}" for v in ordered.share_revenue],
        textposition="outside",
        textfont={"size": 12},
    )
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
        textfont={"size": 12},
    )
    figure.update_layout(
        barmode="group",
        height=max(360, 38 * len(summary)),
        margin={"l": 10, "r": 30, "t": 30, "b": 10},
        legend={"orientation": "h", "y": 1.08, "x": 0, "traceorder": "reversed"},
        font={"size": 13},
        xaxis={"tickformat": ".0%", "title": "Share of all customers / all revenue"},
        yaxis={"title": None},
    )
    return figure


def plot_transition_heatmap(matrix: pd.DataFrame, value_label: str = "Customers") -> go.Figure:
    """Heatmap of a transition matrix: segment at the first date (rows) x at the second (columns).

    In: the output of ``migration.pivot_transitions`` (numbers, labelled index and columns).
    """
    figure = go.Figure(
        go.Heatmap(
            z=matrix.to_numpy(),
            x=list(matrix.columns),
            y=list(matrix.index),
            colorscale="Blues",
            text=matrix.round(0).astype("int64").to_numpy(),
            texttemplate="%{text:,}",
            hovertemplate="%{y} -> %{x}: %{z:,.0f}<extra></extra>",
            colorbar={"title": value_label},
        )
    )
    figure.update_layout(
        height=max(360, 34 * len(matrix) + 120),
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        xaxis={"title": "Segment at the second date", "side": "top"},
        yaxis={"title": "Segment at the first date", "autorange": "reversed"},
    )
    return figure


def plot_migration_sankey(transitions: pd.DataFrame, value: str = "customers") -> go.Figure:
    """Sankey diagram of segment moves: left nodes the first date, right nodes the second.

    In: one row per (segment_from, segment_to) pair with the numeric column ``value``.
    """
    flows = transitions[transitions[value] > 0]
    left = list(dict.fromkeys(flows.segment_from))
    right = list(dict.fromkeys(flows.segment_to))
    figure = go.Figure(
        go.Sankey(
            arrangement="snap",
            node={"label": left + right, "pad": 12, "thickness": 14, "color": CUSTOMERS_COLOUR},
            link={
                "source": [left.index(s) for s in flows.segment_from],
                "target": [len(left) + right.index(s) for s in flows.segment_to],
                "value": flows[value].astype("float64").tolist(),
                "hovertemplate": "%{source.label} -> %{target.label}: %{value:,.0f}<extra></extra>",
            },
        )
    )
    figure.update_layout(height=max(420, 28 * max(len(left), len(right))), margin={"t": 30})
    return figure


def plot_repeat_rates(table: pd.DataFrame) -> go.Figure:
    """Horizontal bars: share of each segment's customers who ordered again in the period.

    In: a backtest table (segment, repeat_rate, customers).
    """
    ordered = table.iloc[::-1]
    figure = go.Figure(
        go.Bar(
            y=ordered.segment,
            x=ordered.repeat_rate,
            orientation="h",
            marker_color=CUSTOMERS_COLOUR,
            customdata=ordered.customers,
            text=[f"{v:.1%}" for v in ordered.repeat_rate],
            textposition="outside",
            hovertemplate="%{y}: %{x:.1%} of %{customdata:,} customers<extra></extra>",
        )
    )
    figure.update_layout(
        height=max(320, 34 * len(table)),
        margin={"l": 10, "r": 30, "t": 30, "b": 10},
        xaxis={"tickformat": ".0%", "title": "Customers with at least one order in the period"},
        yaxis={"title": None},
    )
    return figure
