"""Charts of the Channels, Cohorts and Maturity pages: DataFrame -> plotly Figure (no Streamlit)."""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd
import plotly.graph_objects as go

from dashboard import formatting
from dashboard.acquisition.maturity import STAGES
from dashboard.charts.labels import escape_label, escape_labels
from dashboard.charts.rfm_charts import CUSTOMERS_COLOUR, REVENUE_COLOUR

HORIZON_COLOURS = ("#9CC3DA", "#4F8FB8", "#1F4E79")
STAGE_COLOURS = dict(
    zip(STAGES, ("#F2F2F2", "#FDEBD0", "#D6EAF8", "#D5F5E3", "#E8DAEF"), strict=True)
)
HEALTH_COLOURS = {
    "healthy": "#2E8B57",
    "low": "#E0A800",
    "warning": "#D9534F",
    "critical": "#B22222",
    "unknown": "#999999",
}
LOG_TICKS = (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)
MARGIN = {"l": 10, "r": 30, "t": 40, "b": 10}


def _money_tick(currency: str | None) -> str:
    return formatting.CURRENCY_SYMBOLS.get(currency or "", "")


def plot_channel_shares(table: pd.DataFrame) -> go.Figure:
    """Grouped horizontal bars: each channel's share of new customers and of revenue.

    In: ``channels.summarise_channels`` output (channel, new_customers, share_new_customers,
    share_revenue), drawn top to bottom in its order.
    """
    ordered = escape_labels(table.iloc[::-1], "channel")
    figure = go.Figure()
    figure.add_bar(
        y=ordered.channel,
        x=ordered.share_new_customers,
        name="Share of new customers",
        orientation="h",
        marker_color=CUSTOMERS_COLOUR,
        customdata=ordered.new_customers,
        text=[formatting.format_percent(v) for v in ordered.share_new_customers],
        textposition="outside",
        hovertemplate="%{y}: %{x:.1%} of new customers (%{customdata:,})<extra></extra>",
    )
    figure.add_bar(
        y=ordered.channel,
        x=ordered.share_revenue,
        name="Share of revenue",
        orientation="h",
        marker_color=REVENUE_COLOUR,
        text=[formatting.format_percent(v) for v in ordered.share_revenue],
        textposition="outside",
        hovertemplate="%{y}: %{x:.1%} of their revenue<extra></extra>",
    )
    top = max([0.01, *table.share_new_customers, *table.share_revenue])
    figure.update_layout(
        barmode="group",
        height=max(340, 60 * len(table)),
        margin=MARGIN,
        legend={"orientation": "h", "y": 1.08, "x": 0},
        xaxis={
            "tickformat": ".0%",
            "title": "Share of all new customers / of their revenue",
            "range": [0, top * 1.18],
        },
        yaxis={"title": None},
    )
    return figure


def plot_channel_value(table: pd.DataFrame, currency: str | None = None) -> go.Figure:
    """Grouped horizontal bars: revenue per customer in the first 90, 180 and 365 days.

    In: ``channels.summarise_channels`` output (revenue_per_customer_{N}d and customers_{N}d),
    drawn top to bottom in its order.
    """
    ordered = escape_labels(table.iloc[::-1], "channel")
    figure = go.Figure()
    for days, colour in zip((365, 180, 90), HORIZON_COLOURS[::-1], strict=True):
        values = ordered[f"revenue_per_customer_{days}d"]
        figure.add_bar(
            y=ordered.channel,
            x=values,
            name=f"First {days} days",
            orientation="h",
            marker_color=colour,
            customdata=ordered[f"customers_{days}d"],
            text=[formatting.format_money(v, currency).split(".")[0] for v in values],
            textposition="outside",
            hovertemplate=f"%{{y}}: %{{x:,.2f}} per customer in the first {days} days "
            "(%{customdata:,} customers seen that long)<extra></extra>",
        )
    top = max([1.0, *[v for v in ordered.revenue_per_customer_365d if pd.notna(v)]])
    figure.update_layout(
        barmode="group",
        height=max(340, 60 * len(table)),
        margin=MARGIN,
        legend={"orientation": "h", "y": 1.08, "x": 0, "traceorder": "reversed"},
        xaxis={
            "title": "Revenue per customer since their first order",
            "tickprefix": _money_tick(currency),
            "range": [0, top * 1.18],
        },
        yaxis={"title": None},
    )
    return figure


def plot_channel_segments(shares: pd.DataFrame) -> go.Figure:
    """Heatmap: share of each channel's customers (rows) in each RFM segment (columns).

    In: ``channels.pivot_channel_segments`` of share_of_channel (fractions).
    """
    z = shares.to_numpy(dtype="float64")
    figure = go.Figure(
        go.Heatmap(
            z=z,
            x=[escape_label(c) for c in shares.columns],
            y=[escape_label(i) for i in shares.index],
            colorscale="Blues",
            zmin=0,
            text=[[formatting.format_percent(v, 0) for v in row] for row in z],
            texttemplate="%{text}",
            hovertemplate="%{y} customers now in %{x}: %{z:.1%}<extra></extra>",
            colorbar={"title": "Share of the channel", "tickformat": ".0%"},
        )
    )
    figure.update_layout(
        height=max(320, 40 * len(shares) + 140),
        margin=MARGIN,
        xaxis={"title": "RFM segment today", "side": "top"},
        yaxis={"title": "Acquisition channel", "autorange": "reversed"},
    )
    return figure


def plot_cac(cac: pd.DataFrame, currency: str | None = None) -> go.Figure:
    """Lines: customer acquisition cost per channel and month.

    In: ``spend.summarise_cac`` output (month, channel, acquisition_spend, new_customers, cac).
    """
    figure = go.Figure()
    for channel, rows in cac.groupby("channel", sort=True):
        figure.add_scatter(
            x=pd.to_datetime(rows.month),
            y=rows.cac,
            name=escape_label(channel),
            mode="lines+markers",
            customdata=list(zip(rows.acquisition_spend, rows.new_customers, strict=True)),
            hovertemplate=f"{channel} %{{x|%b %Y}}: CAC %{{y:,.2f}} "
            "(spend %{customdata[0]:,.0f} / %{customdata[1]:,} new customers)<extra></extra>",
        )
    figure.update_layout(
        height=400,
        margin=MARGIN,
        legend={"orientation": "h", "y": 1.12, "x": 0},
        yaxis={"title": "Acquisition spend per new customer", "tickprefix": _money_tick(currency)},
        xaxis={"title": "Month of first order", "dtick": "M3", "tickformat": "%b %Y"},
    )
    return figure


def plot_clv_cac(economics: pd.DataFrame) -> go.Figure:
    """Horizontal bars: CLV : CAC per channel, with the 3 : 1 guide and the 1 : 1 break-even.

    In: ``spend.summarise_economics`` output (channel, clv_to_cac, health).
    """
    shown = escape_labels(economics[economics.clv_to_cac.notna()].iloc[::-1], "channel")
    figure = go.Figure(
        go.Bar(
            y=shown.channel,
            x=shown.clv_to_cac,
            orientation="h",
            marker_color=[HEALTH_COLOURS.get(h, "#999999") for h in shown.health],
            text=[f"{v:.1f} : 1" for v in shown.clv_to_cac],
            textposition="outside",
            customdata=shown.health,
            hovertemplate="%{y}: CLV is %{x:.1f} x CAC (%{customdata})<extra></extra>",
        )
    )
    top = max([3.5, *[v * 1.15 for v in shown.clv_to_cac if not math.isnan(v)]])
    for ratio, dash in ((3, "dash"), (1, "dot")):
        figure.add_vline(x=ratio, line_dash=dash, line_color="#555555", line_width=2)
    figure.update_layout(
        height=max(300, 44 * len(shown) + 80),
        margin=MARGIN,
        xaxis={
            "title": "Simple CLV divided by CAC (dashed line: the 3 : 1 guide; dotted: 1 : 1)",
            "range": [0, top],
        },
        yaxis={"title": None},
        showlegend=False,
    )
    return figure


def format_compact(value: float) -> str:
    """Return a cell's money figure in at most 5 characters: 85, 1.2k, 12k, 1.2M."""
    if math.isnan(value):
        return ""
    size = abs(value)
    if size < 1_000:
        return f"{value:,.0f}"
    if size < 10_000:
        return f"{value / 1_000:.1f}k"
    if size < 1_000_000:
        return f"{value / 1_000:.0f}k"
    return f"{value / 1_000_000:.1f}M"


def plot_cohort_heatmap(
    pivot: pd.DataFrame,
    kind: str = "percent",
    currency: str | None = None,
    labels: Mapping[str, str] | None = None,
) -> go.Figure:
    """Heatmap of cohorts (rows, oldest on top) by months since first order (columns).

    In: ``cohorts.pivot_cohorts`` output; ``kind`` "percent" (retention) or "money"
    (cumulative revenue per customer); ``labels`` the row labels to show per cohort
    (``cohorts.label_cohorts``: the month and its size). Cell text is kept to a few characters
    and dropped when the columns are too narrow for it; the hover always has the figure.
    """
    z = pivot.to_numpy(dtype="float64")
    columns = len(pivot.columns)
    if kind == "percent":
        text = [["" if math.isnan(v) else f"{v:.0%}" for v in row] for row in z]
        hover, title = "%{z:.1%}", "Customers<br>ordering"
    else:
        text = [[format_compact(v) for v in row] for row in z]
        hover = f"{_money_tick(currency)}%{{z:,.2f}}"
        title = "Revenue per<br>customer"
    rows = [labels.get(str(c), str(c)) for c in pivot.index] if labels else list(pivot.index)
    figure = go.Figure(
        go.Heatmap(
            z=z,
            x=[str(c) for c in pivot.columns],
            y=rows,
            colorscale="Blues",
            text=text if columns <= 30 else None,
            texttemplate="%{text}" if columns <= 30 else None,
            textfont={"size": 10 if columns <= 18 else 8},
            hovertemplate=f"Cohort %{{y}}, month %{{x}}: {hover}<extra></extra>",
            xgap=1,
            ygap=1,
            colorbar={
                "title": {"text": title, "side": "top"},
                "tickformat": ".0%" if kind == "percent" else ",.0f",
                "thickness": 12,
            },
        )
    )
    figure.update_layout(
        height=max(360, 26 * len(pivot) + 150),
        margin={"l": 10, "r": 10, "t": 90, "b": 10},
        font={"size": 12},
        xaxis={
            "title": {"text": "Months since first order (0 = the month of the first order)"},
            "side": "top",
            "type": "category",
            "tickangle": 0,
            "automargin": True,
        },
        yaxis={
            "title": {"text": "Month of first order (customers)"},
            "autorange": "reversed",
            "type": "category",
            "automargin": True,
            "tickfont": {"size": 11},
        },
    )
    return figure


def _stage_runs(stages: pd.DataFrame) -> list[tuple[str, pd.Timestamp, pd.Timestamp]]:
    runs: list[tuple[str, pd.Timestamp, pd.Timestamp]] = []
    for month, stage in zip(pd.to_datetime(stages.month), stages.stage, strict=True):
        end = month + pd.offsets.MonthBegin(1)
        if runs and runs[-1][0] == stage:
            runs[-1] = (stage, runs[-1][1], end)
        else:
            runs.append((stage, month, end))
    return runs


def plot_maturity_timeline(stages: pd.DataFrame) -> go.Figure:
    """Sales per day (trailing months, at each month end) with the stage of each month as bands.

    In: ``maturity.detect_stages`` output (month, sales_per_day, sales_per_week, stage).
    """
    months = pd.to_datetime(stages.month)
    figure = go.Figure()
    for stage, start, end in _stage_runs(stages):
        figure.add_vrect(
            x0=start,
            x1=end,
            fillcolor=STAGE_COLOURS[stage],
            opacity=1,
            layer="below",
            line_width=0,
            annotation_text=stage.replace(" ", "<br>"),
            annotation_position="top left",
            annotation_font_size=11,
        )
    figure.add_scatter(
        x=months + pd.Timedelta(days=14),
        y=stages.sales_per_day,
        mode="lines+markers",
        name="Sales per day",
        line_color=CUSTOMERS_COLOUR,
        customdata=list(zip(stages.stage, stages.sales_per_week, strict=True)),
        hovertemplate="%{x|%b %Y}: %{y:,.1f} sales a day (%{customdata[1]:,.0f} a week), "
        "%{customdata[0]}<extra></extra>",
    )
    rates = [v for v in stages.sales_per_day if v > 0] or [1.0]
    low, high = math.log10(min(min(rates), 1) * 0.6), math.log10(max(max(rates), 10) * 1.6)
    for per_day, label in ((1, "1 sale a day"), (10, "10 sales a day")):
        figure.add_hline(y=per_day, line_dash="dot", line_color="#888888")
        # On a log axis annotations are placed in powers of ten, unlike shapes.
        figure.add_annotation(
            x=1,
            xref="paper",
            y=math.log10(per_day),
            text=label,
            showarrow=False,
            xanchor="right",
            yanchor="bottom",
            font={"size": 11, "color": "#555555"},
        )
    figure.update_layout(
        height=440,
        margin={**MARGIN, "t": 60},
        showlegend=False,
        yaxis={
            "title": "Sales a day (trailing months, log scale)",
            "type": "log",
            "range": [low, high],
            "tickvals": LOG_TICKS,
            "ticktext": [f"{v:g}" for v in LOG_TICKS],
        },
        xaxis={"title": None, "dtick": "M3", "tickformat": "%b %Y"},
    )
    return figure


def plot_retention_effort(effort: pd.DataFrame) -> go.Figure:
    """Lines: recommended retention share of the month's stage vs the actual shares.

    In: ``maturity.compare_effort`` output (month, recommended_retention_share,
    returning_share_orders, returning_share_revenue, retention_spend_share).
    """
    months = pd.to_datetime(effort.month)
    figure = go.Figure()
    figure.add_scatter(
        x=months,
        y=effort.recommended_retention_share,
        name="Recommended for the stage",
        mode="lines",
        line={"shape": "hv", "dash": "dash", "color": "#555555", "width": 3},
        hovertemplate="%{x|%b %Y}: recommended %{y:.0%}<extra></extra>",
    )
    series = (
        ("returning_share_revenue", "Returning customers' share of revenue", REVENUE_COLOUR),
        ("returning_share_orders", "Returning customers' share of orders", CUSTOMERS_COLOUR),
        ("retention_spend_share", "Share of spend on retention", "#2E8B57"),
    )
    for column, name, colour in series:
        if effort[column].notna().any():
            figure.add_scatter(
                x=months,
                y=effort[column],
                name=name,
                mode="lines+markers",
                line_color=colour,
                hovertemplate=f"%{{x|%b %Y}}: {name.lower()} %{{y:.1%}}<extra></extra>",
            )
    figure.update_layout(
        height=400,
        margin=MARGIN,
        legend={"orientation": "h", "y": 1.14, "x": 0},
        yaxis={"title": "Share", "tickformat": ".0%", "range": [0, 1]},
        xaxis={"title": None, "dtick": "M3", "tickformat": "%b %Y"},
    )
    return figure
