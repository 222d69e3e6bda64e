"""Charts of the Products page: DataFrame -> plotly Figure, names from data shown as text
(no Streamlit, no queries)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard import formatting
from dashboard.charts.labels import escape_label
from dashboard.charts.rfm_charts import CUSTOMERS_COLOUR, REVENUE_COLOUR

TOP_ROWS = 15
LAYOUT = {"margin": {"l": 10, "r": 30, "t": 40, "b": 10}, "font": {"size": 13}}
RETENTION_COLOUR = "#2E8B57"
CHURN_COLOUR = "#D9534F"
# Days per bar of the time-to-second-order histogram.
HISTOGRAM_DAYS = 7


def _label_rows(frame: pd.DataFrame, name: str, key: str) -> pd.Series:
    """Each row's name as plotly shows it literally, with its key added where two rows share a
    name (two SKUs of one product name would otherwise share one bar)."""
    shared = frame[name].duplicated(keep=False)
    labels = frame[name].where(~shared, frame[name] + " (" + frame[key] + ")")
    return labels.map(escape_label)


def _bar_height(rows: int) -> int:
    """Room for every bar's label of a horizontal bar chart of ``rows`` bars."""
    return max(320, 120 + 28 * rows)


def plot_bright_spots(spots: pd.DataFrame, top: int = TOP_ROWS) -> go.Figure:
    """Horizontal bars of the index of the ``top`` rows, with the Wilson interval as error bars.

    In: ``bright_spots.find_bright_spots`` (name, index, segment_share, share_low, share_high,
    all_share, segment_buyers), already sorted by index. The interval of the share is carried to
    the index by dividing by all_share (the same for every customer of the segment).
    """
    shown = spots.head(top).iloc[::-1]
    low = shown.share_low / shown.all_share
    high = shown.share_high / shown.all_share
    figure = go.Figure(
        go.Bar(
            y=_label_rows(shown, "name", "key"),
            x=shown["index"],
            orientation="h",
            marker_color=CUSTOMERS_COLOUR,
            error_x={
                "type": "data",
                "symmetric": False,
                "array": high - shown["index"],
                "arrayminus": shown["index"] - low,
            },
            customdata=list(
                zip(shown.segment_share, shown.all_share, shown.segment_buyers, strict=True)
            ),
            hovertemplate="%{y}: index %{x:.2f} (%{customdata[0]:.1%} of the segment, "
            "%{customdata[1]:.1%} of all customers; %{customdata[2]:,} buyers)<extra></extra>",
        )
    )
    figure.add_vline(x=1, line_dash="dot", line_color="#888888")
    figure.update_layout(
        title=f"Top {len(shown)} by index (bars: 95% interval)",
        xaxis={"title": "Index: share of the segment / share of all customers (1 = the same)"},
        yaxis={"title": None, "type": "category"},
        height=_bar_height(len(shown)),
        **LAYOUT,
    )
    return figure


def plot_reorder_rates(gateway: pd.DataFrame, horizon_days: int, top: int = TOP_ROWS) -> go.Figure:
    """Bars of the reorder rate of the ``top`` groups with the most customers, Wilson interval as
    error bars.

    In: ``gateway.measure_gateway`` (name, customers, reorder_rate, reorder_low, reorder_high),
    sorted by customers.
    """
    shown = gateway.head(top).iloc[::-1]
    figure = go.Figure(
        go.Bar(
            y=_label_rows(shown, "name", "key"),
            x=shown.reorder_rate,
            orientation="h",
            marker_color=RETENTION_COLOUR,
            error_x={
                "type": "data",
                "symmetric": False,
                "array": shown.reorder_high - shown.reorder_rate,
                "arrayminus": shown.reorder_rate - shown.reorder_low,
            },
            customdata=shown.customers,
            hovertemplate="%{y}: %{x:.1%} of %{customdata:,} customers ordered again"
            "<extra></extra>",
        )
    )
    figure.update_layout(
        title=f"Ordered again within {horizon_days:,} days (the {len(shown)} largest groups; "
        "bars: 95% interval)",
        xaxis={"title": "Share of customers who ordered again", "tickformat": ".0%"},
        yaxis={"title": None, "type": "category"},
        height=_bar_height(len(shown)),
        **LAYOUT,
    )
    return figure


def plot_cycles(cycles: pd.DataFrame, top: int = TOP_ROWS) -> go.Figure:
    """Horizontal bars of the median days between purchases of the ``top`` products with the
    most repeat pairs, the 25th to 75th percentile as error bars.

    In: ``replenishment.measure_cycles`` (product, repeat_pairs, median_days, p25_days,
    p75_days), sorted by repeat_pairs.
    """
    shown = cycles.head(top).iloc[::-1]
    figure = go.Figure(
        go.Bar(
            y=_label_rows(shown, "product", "product_key"),
            x=shown.median_days,
            orientation="h",
            marker_color=REVENUE_COLOUR,
            error_x={
                "type": "data",
                "symmetric": False,
                "array": shown.p75_days - shown.median_days,
                "arrayminus": shown.median_days - shown.p25_days,
            },
            customdata=list(zip(shown.p25_days, shown.p75_days, shown.repeat_pairs, strict=True)),
            hovertemplate="%{y}: median %{x:,.1f} days (half between %{customdata[0]:,.1f} and "
            "%{customdata[1]:,.1f}; %{customdata[2]:,} repeat purchases)<extra></extra>",
        )
    )
    figure.update_layout(
        title="Days between purchases of the same product (bars: 25th to 75th percentile)",
        xaxis={"title": "Median days between two purchases by the same customer"},
        yaxis={"title": None, "type": "category"},
        height=_bar_height(len(shown)),
        **LAYOUT,
    )
    return figure


def plot_retention_rates(retention: pd.DataFrame) -> go.Figure:
    """Lines of the retention and churn rate per period. In: ``retention.measure_retention``."""
    figure = go.Figure()
    for column, name, colour in (
        ("retention_rate", "Retention rate", RETENTION_COLOUR),
        ("churn_rate", "Churn rate", CHURN_COLOUR),
    ):
        figure.add_scatter(
            x=retention.period_start,
            y=retention[column],
            name=name,
            mode="lines+markers",
            line_color=colour,
            hovertemplate=f"%{{x|%b %Y}}: {name.lower()} %{{y:.1%}}<extra></extra>",
        )
    figure.update_layout(
        title="Retention and churn: customers of the previous period who ordered again, or not",
        xaxis={"title": "Period"},
        yaxis={"title": "Share of the previous period's customers", "tickformat": ".0%"},
        legend={"orientation": "h", "y": -0.2},
        **LAYOUT,
    )
    return figure


def plot_new_and_returning(retention: pd.DataFrame) -> go.Figure:
    """Stacked bars of new and returning customers per period. In: ``measure_retention``."""
    figure = go.Figure()
    for column, name, colour in (
        ("new_customers", "New", CUSTOMERS_COLOUR),
        ("returning_customers", "Returning", REVENUE_COLOUR),
    ):
        figure.add_bar(
            x=retention.period_start,
            y=retention[column],
            name=name,
            marker_color=colour,
            hovertemplate=f"%{{x|%b %Y}}: %{{y:,}} {name.lower()} customers<extra></extra>",
        )
    figure.update_layout(
        title="Active customers: new and returning",
        barmode="stack",
        xaxis={"title": "Period"},
        yaxis={"title": "Customers with a valid order in the period"},
        legend={"orientation": "h", "y": -0.2},
        **LAYOUT,
    )
    return figure


def plot_repeat_rate(retention: pd.DataFrame) -> go.Figure:
    """The repeat purchase rate of everyone acquired so far, per period. In:
    ``measure_retention``."""
    figure = go.Figure(
        go.Scatter(
            x=retention.period_start,
            y=retention.repeat_purchase_rate,
            mode="lines+markers",
            line_color=CUSTOMERS_COLOUR,
            hovertemplate="%{x|%b %Y}: %{y:.1%} bought on 2 or more days<extra></extra>",
        )
    )
    figure.update_layout(
        title="Repeat purchase rate of every customer so far",
        xaxis={"title": "Period"},
        yaxis={"title": "Customers with 2+ purchase days", "tickformat": ".0%"},
        **LAYOUT,
    )
    return figure


def plot_time_to_second_order(distribution: pd.DataFrame, median_days: float | None) -> go.Figure:
    """Histogram of the days from the first to the second purchase day, a week per bar, with
    the median marked.

    In: ``retention.measure_time_to_second_order`` (days, customers) and its median.
    """
    figure = go.Figure(
        go.Histogram(
            x=distribution.days,
            y=distribution.customers,
            histfunc="sum",
            xbins={"start": 0.5, "size": HISTOGRAM_DAYS},
            marker_color=CUSTOMERS_COLOUR,
            hovertemplate="%{x} days: %{y:,} customers<extra></extra>",
        )
    )
    if median_days is not None:
        figure.add_vline(
            x=median_days,
            line_dash="dash",
            line_color=CHURN_COLOUR,
            annotation_text=f"median {median_days:,.1f} days",
        )
    figure.update_layout(
        title=f"Days from the first to the second purchase ({HISTOGRAM_DAYS} days per bar)",
        xaxis={"title": "Days between the first and the second purchase day"},
        yaxis={"title": "Customers"},
        bargap=0.05,
        **LAYOUT,
    )
    return figure


def plot_conversion(conversion: pd.DataFrame) -> go.Figure:
    """Lines of the conversion rate per period, one per channel (All first).

    In: ``retention.measure_conversion`` (period_start, channel, conversion_rate, sessions).
    """
    figure = go.Figure()
    for channel, rows in conversion.groupby("channel", sort=False):
        label = escape_label(channel)
        figure.add_scatter(
            x=rows.period_start,
            y=rows.conversion_rate,
            name=label,
            mode="lines+markers",
            customdata=rows.sessions,
            hovertemplate=f"{label}, %{{x|%b %Y}}: %{{y:.1%}} of %{{customdata:,}} sessions"
            "<extra></extra>",
        )
    figure.update_layout(
        title="Conversion rate: sessions with a purchase / sessions",
        xaxis={"title": "Period"},
        yaxis={"title": "Sessions with a purchase", "tickformat": ".1%"},
        legend={"orientation": "h", "y": -0.2},
        **LAYOUT,
    )
    return figure


def plot_value_left(
    abandoned: pd.DataFrame, currency: str | None, top: int = TOP_ROWS
) -> go.Figure:
    """Horizontal bars of the value left in abandoned checkouts, the ``top`` largest.

    In: ``abandoned.summarise_abandoned`` (name, value_left, checkouts).
    """
    largest = abandoned.sort_values("value_left", ascending=False, kind="mergesort").head(top)
    shown = largest.iloc[::-1]
    money = [
        escape_label(formatting.format_money(float(value), currency)) for value in shown.value_left
    ]
    figure = go.Figure(
        go.Bar(
            y=_label_rows(shown, "name", "key"),
            x=shown.value_left.astype("float64"),
            orientation="h",
            marker_color=CHURN_COLOUR,
            customdata=list(zip(money, shown.checkouts, strict=True)),
            hovertemplate="%{y}: %{customdata[0]} left in %{customdata[1]:,} checkouts"
            "<extra></extra>",
        )
    )
    symbol = formatting.CURRENCY_SYMBOLS.get(currency or "", "")
    figure.update_layout(
        title=f"Value left in abandoned checkouts (the {len(shown)} largest)",
        xaxis={"title": "Value left (price x quantity)", "tickprefix": symbol},
        yaxis={"title": None, "type": "category"},
        height=_bar_height(len(shown)),
        **LAYOUT,
    )
    return figure
