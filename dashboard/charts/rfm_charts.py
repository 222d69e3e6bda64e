"""DataFrame -> plotly Figure, with readable labels (no Streamlit here)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go

from dashboard.charts.labels import escape_label, escape_labels

CUSTOMERS_COLOUR = "#2E6F95"
REVENUE_COLOUR = "#E07A1F"
# Ten colours told apart in colour blindness too (Tableau 10), then grey for non-segments.
SEGMENT_PALETTE = (
    "#4E79A7",
    "#59A14F",
    "#F28E2B",
    "#E15759",
    "#76B7B2",
    "#EDC948",
    "#B07AA1",
    "#FF9DA7",
    "#9C755F",
    "#499894",
)
NOT_SEGMENT_COLOUR = "#BAB0AC"
NOT_SEGMENTS = frozenset({"Prospects", "Outside window", "Not a customer yet"})


def plot_segment_shares(summary: pd.DataFrame) -> go.Figure:
    """Grouped horizontal bars: share of customers and share of revenue per segment.

    In: the per-segment summary (segment, customers, share_customers, revenue, share_revenue).
    """
    ordered = escape_labels(summary.iloc[::-1], "segment")
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
            x=[escape_label(c) for c in matrix.columns],
            y=[escape_label(i) for i in matrix.index],
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


def colour_segments(labels: Sequence[str]) -> dict[str, str]:
    """Return a colour per label: the scheme's segments in turn from SEGMENT_PALETTE, and grey
    for the labels that are not segments (Prospects, Outside window, Not a customer yet).

    In: every label in display order (``migration.order_segments``), so that a segment has the
    same colour on every chart of the same scheme.
    """
    segments = [label for label in labels if label not in NOT_SEGMENTS]
    colours = {label: SEGMENT_PALETTE[i % len(SEGMENT_PALETTE)] for i, label in enumerate(segments)}
    return {label: colours.get(label, NOT_SEGMENT_COLOUR) for label in labels}


def place_nodes(sizes: Sequence[float], gap: float) -> list[float]:
    """Return the centre (0 = top, 1 = bottom) of nodes stacked in order with ``gap`` between.

    Each node is as tall as its share of ``sizes``, so labels never sit on top of each other.
    """
    total = float(sum(sizes)) or 1.0
    room = max(0.0, 1.0 - gap * (len(sizes) - 1))
    centres, top = [], 0.0
    for size in sizes:
        height = room * size / total
        centres.append(min(max(top + height / 2, 0.001), 0.999))
        top += height + gap
    return centres


def plot_migration_sankey(
    transitions: pd.DataFrame, labels: Sequence[str], value: str = "customers"
) -> go.Figure:
    """Sankey diagram of segment moves: left nodes the first date, right nodes the second.

    In: one row per (segment_from, segment_to) pair with the numeric column ``value``; every
    label in display order (``migration.order_segments``). Both sides follow that order and
    each segment keeps its colour (``colour_segments``); node positions are fixed so that
    labels do not overlap.
    """
    flows = transitions[transitions[value] > 0]
    left = [label for label in labels if label in set(flows.segment_from)]
    right = [label for label in labels if label in set(flows.segment_to)]
    colours = colour_segments(labels)
    left_sizes = [float(flows[flows.segment_from == s][value].sum()) for s in left]
    right_sizes = [float(flows[flows.segment_to == s][value].sum()) for s in right]
    gap = min(0.04, 0.3 / max(len(left), len(right), 1))
    figure = go.Figure(
        go.Sankey(
            arrangement="fixed",
            node={
                "label": [
                    f"{escape_label(label)} ({size:,.0f})"
                    for label, size in zip(left + right, left_sizes + right_sizes, strict=True)
                ],
                "pad": 10,
                "thickness": 16,
                "color": [colours[label] for label in left + right],
                "x": [0.001] * len(left) + [0.999] * len(right),
                "y": place_nodes(left_sizes, gap) + place_nodes(right_sizes, gap),
                "hovertemplate": "%{label}<extra></extra>",
            },
            link={
                "source": [left.index(s) for s in flows.segment_from],
                "target": [len(left) + right.index(s) for s in flows.segment_to],
                "value": flows[value].astype("float64").tolist(),
                "color": [_fade(colours[s]) for s in flows.segment_from],
                "hovertemplate": "%{source.label} -> %{target.label}: %{value:,.0f}<extra></extra>",
            },
            textfont={"size": 12},
        )
    )
    figure.update_layout(
        height=max(460, 44 * max(len(left), len(right)) + 80),
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        annotations=[
            {
                "x": 0,
                "y": 1.06,
                "xref": "paper",
                "yref": "paper",
                "showarrow": False,
                "text": "<b>First date</b>",
                "xanchor": "left",
            },
            {
                "x": 1,
                "y": 1.06,
                "xref": "paper",
                "yref": "paper",
                "showarrow": False,
                "text": "<b>Second date</b>",
                "xanchor": "right",
            },
        ],
    )
    return figure


def _fade(colour: str, alpha: float = 0.35) -> str:
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red}, {green}, {blue}, {alpha})"


def plot_repeat_rates(table: pd.DataFrame) -> go.Figure:
    """Horizontal bars: share of each segment's customers who ordered again in the period.

    In: a backtest table (segment, customers, repeat_rate, conversion_rate). Prospects had
    never ordered: their bar is the share who placed a first order, drawn in another colour.
    """
    ordered = escape_labels(table.iloc[::-1], "segment")
    first_order = ordered.repeat_rate.isna() & ordered.conversion_rate.notna()
    rates = ordered.repeat_rate.where(~first_order, ordered.conversion_rate).fillna(0.0)
    what = ["placed a first order" if f else "ordered again" for f in first_order]
    figure = go.Figure(
        go.Bar(
            y=ordered.segment,
            x=rates,
            orientation="h",
            marker_color=[REVENUE_COLOUR if f else CUSTOMERS_COLOUR for f in first_order],
            customdata=list(zip(ordered.customers, what, strict=True)),
            text=[
                f"{v:.1%} (first order)" if f else f"{v:.1%}"
                for v, f in zip(rates, first_order, strict=True)
            ],
            textposition="outside",
            hovertemplate="%{y}: %{x:.1%} of %{customdata[0]:,} customers %{customdata[1]}"
            "<extra></extra>",
        )
    )
    figure.update_layout(
        height=max(320, 34 * len(table)),
        margin={"l": 10, "r": 30, "t": 30, "b": 10},
        xaxis={
            "tickformat": ".0%",
            "title": "Customers who ordered again in the period (prospects: a first order)",
        },
        yaxis={"title": None},
    )
    return figure
