"""Prediction charts: DataFrame -> plotly Figure, with readable labels (no Streamlit here)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.charts.labels import escape_label
from dashboard.formatting import format_money

ACTUAL_COLOUR = "#2E6F95"
MODEL_COLOUR = "#E07A1F"
BAND_COLOURS = {"Low": "#59A14F", "Medium": "#EDC948", "High": "#E15759"}
HISTOGRAM_BINS = 20
LAYOUT = {"margin": {"l": 10, "r": 20, "t": 40, "b": 10}, "font": {"size": 13}}


def bin_predicted_clv(values: pd.Series, bins: int = HISTOGRAM_BINS) -> pd.DataFrame:
    """Cut positive predicted CLVs into ``bins`` bands of equal width on a log scale.

    In: predicted CLV per customer (nulls and values <= 0 are left out). Out: low, high (the
    band's edges, money), customers (int), one row per band from the lowest value to the
    highest; empty when no value is positive.
    """
    positive = values.dropna().astype("float64")
    positive = positive[positive > 0].to_numpy()
    if positive.size == 0:
        return pd.DataFrame({"low": [], "high": [], "customers": []})
    lowest, highest = positive.min(), positive.max()
    if lowest == highest:
        return pd.DataFrame({"low": [lowest], "high": [highest], "customers": [positive.size]})
    edges = np.geomspace(lowest, highest, bins + 1)
    counts, _ = np.histogram(positive, bins=edges)
    return pd.DataFrame({"low": edges[:-1], "high": edges[1:], "customers": counts})


def plot_clv_distribution(bands: pd.DataFrame, currency: str | None) -> go.Figure:
    """Bars of customers per predicted-CLV band (``bin_predicted_clv``), bands log-spaced."""
    ranges = [
        f"{format_money(low, currency)} – {format_money(high, currency)}"
        for low, high in zip(bands.low, bands.high, strict=True)
    ]
    starts = [escape_label(format_money(low, currency)) for low in bands.low]
    figure = go.Figure(
        go.Bar(
            x=starts,
            y=bands.customers,
            customdata=[escape_label(text) for text in ranges],
            marker_color=ACTUAL_COLOUR,
            hovertemplate="%{customdata}: %{y:,} customers<extra></extra>",
        )
    )
    figure.update_layout(
        title="Customers by predicted CLV (bands equal on a log scale)",
        xaxis={
            "title": "Predicted CLV over the horizon (each bar from the value shown)",
            "tickangle": -45,
            "tickvals": starts[::2],
            "type": "category",
        },
        yaxis={"title": "Customers"},
        bargap=0.05,
        **LAYOUT,
    )
    return figure


def plot_churn_bands(bands: pd.DataFrame) -> go.Figure:
    """Bars of customers per churn band. In: churn_band, customers, share (overview)."""
    figure = go.Figure(
        go.Bar(
            x=bands.churn_band,
            y=bands.customers,
            marker_color=[BAND_COLOURS.get(band, ACTUAL_COLOUR) for band in bands.churn_band],
            text=[f"{share:.1%}" for share in bands.share],
            textposition="outside",
            hovertemplate="%{x} churn risk: %{y:,} customers<extra></extra>",
        )
    )
    figure.update_layout(
        title="Churn risk bands",
        xaxis={"title": "Chance of no order in the churn window: Low < 33% ≤ Medium ≤ 66% < High"},
        yaxis={"title": "Customers"},
        **LAYOUT,
    )
    return figure


def plot_alive_map(cells: pd.DataFrame) -> go.Figure:
    """Heatmap of the mean probability alive by days since last purchase x repeat purchases.

    In: ``overview.map_probability_alive``'s rows (frequency, frequency_order, recency_from,
    recency_to, customers, p_alive).
    """
    width = int(cells.recency_to.iloc[0] - cells.recency_from.iloc[0])
    starts = list(range(0, int(cells.recency_from.max()) + 1, width))
    columns = [f"{start}–{start + width - 1}" for start in starts]
    rows = cells[["frequency_order", "frequency"]].drop_duplicates().sort_values("frequency_order")
    alive = cells.pivot(index="frequency_order", columns="recency_from", values="p_alive")
    counts = cells.pivot(index="frequency_order", columns="recency_from", values="customers")
    alive = alive.reindex(index=rows.frequency_order, columns=starts)
    counts = counts.reindex(index=rows.frequency_order, columns=starts).fillna(0)
    figure = go.Figure(
        go.Heatmap(
            z=alive.to_numpy(),
            x=columns,
            y=list(rows.frequency),
            customdata=counts.to_numpy(),
            zmin=0,
            zmax=1,
            colorscale="RdYlGn",
            colorbar={"title": "P(alive)", "tickformat": ".0%"},
            hovertemplate=(
                "%{y} repeat purchases, %{x} days since last purchase: "
                "%{z:.0%} alive (%{customdata:,} customers)<extra></extra>"
            ),
            hoverongaps=False,
        )
    )
    figure.update_layout(
        title="Probability alive by recency and frequency",
        xaxis={"title": "Days since last purchase", "type": "category"},
        yaxis={"title": "Repeat purchases", "type": "category"},
        height=420,
        **LAYOUT,
    )
    return figure


def plot_tracking(tracking: pd.DataFrame, calibration_end: dt.date) -> go.Figure:
    """Cumulative repeat orders, actual vs model, week by week, with the calibration end marked.

    In: week_start (date), actual_cumulative (int), predicted_cumulative (float).
    """
    figure = go.Figure()
    figure.add_scatter(
        x=tracking.week_start,
        y=tracking.actual_cumulative,
        name="Actual",
        mode="lines",
        line={"color": ACTUAL_COLOUR, "width": 2},
        hovertemplate="Week of %{x}: %{y:,} repeat orders so far<extra>Actual</extra>",
    )
    figure.add_scatter(
        x=tracking.week_start,
        y=tracking.predicted_cumulative,
        name="Model",
        mode="lines",
        line={"color": MODEL_COLOUR, "width": 2, "dash": "dash"},
        hovertemplate="Week of %{x}: %{y:,.0f} repeat orders expected<extra>Model</extra>",
    )
    figure.add_shape(
        type="line",
        x0=calibration_end,
        x1=calibration_end,
        y0=0,
        y1=1,
        yref="paper",
        line={"color": "#555555", "dash": "dot"},
    )
    figure.add_annotation(
        x=calibration_end,
        y=1,
        yref="paper",
        text="Calibration end",
        showarrow=False,
        xanchor="left",
        yanchor="bottom",
    )
    figure.update_layout(
        title="Cumulative repeat orders: actual vs model",
        xaxis={"title": "Week"},
        yaxis={"title": "Repeat orders (cumulative)"},
        legend={"orientation": "h", "y": -0.2},
        **LAYOUT,
    )
    return figure


def plot_by_frequency(by_frequency: pd.DataFrame) -> go.Figure:
    """Holdout orders per customer, actual vs predicted, by calibration repeat purchases.

    In: calibration_repeat_purchases (str), customers (int), actual_mean, predicted_mean.
    """
    figure = go.Figure()
    groups = by_frequency.calibration_repeat_purchases
    figure.add_bar(
        x=groups,
        y=by_frequency.actual_mean,
        name="Actual",
        marker_color=ACTUAL_COLOUR,
        customdata=by_frequency.customers,
        hovertemplate="%{x}: %{y:.2f} orders per customer (%{customdata:,} customers)"
        "<extra>Actual</extra>",
    )
    figure.add_bar(
        x=groups,
        y=by_frequency.predicted_mean,
        name="Model",
        marker_color=MODEL_COLOUR,
        hovertemplate="%{x}: %{y:.2f} orders per customer<extra>Model</extra>",
    )
    figure.update_layout(
        title="Holdout orders per customer by calibration repeat purchases",
        barmode="group",
        xaxis={"title": "Repeat purchases before the calibration end", "type": "category"},
        yaxis={"title": "Mean holdout repeat orders"},
        legend={"orientation": "h", "y": -0.2},
        **LAYOUT,
    )
    return figure
