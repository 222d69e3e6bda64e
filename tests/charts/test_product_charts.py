"""The Products page's charts show product, category and channel names as text, and give two
products of one name a bar each."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard.charts import product_charts

HOSTILE = '<a href="http://evil.example">Offer</a>'


def assert_no_markup(figure) -> None:
    text = figure.to_json()
    assert "<a href" not in text and "&lt;a href" in text


def test_bright_spots_chart_escapes_names_and_carries_the_interval_to_the_index() -> None:
    spots = pd.DataFrame(
        {
            "key": ["A", "B"],
            "name": [HOSTILE, "Mug"],
            "index": [2.0, 0.5],
            "segment_share": [0.4, 0.1],
            "all_share": [0.2, 0.2],
            "share_low": [0.3, 0.05],
            "share_high": [0.5, 0.2],
            "segment_buyers": [8, 2],
        }
    )
    figure = product_charts.plot_bright_spots(spots)
    assert_no_markup(figure)
    bar = figure.data[0]
    # Drawn bottom-up: Mug first. Index interval = share interval / all_share.
    assert list(bar.x) == [0.5, 2.0]
    assert list(bar.error_x.array) == pytest.approx([0.5, 0.5])  # 0.2/0.2 - 0.5, 0.5/0.2 - 2
    assert list(bar.error_x.arrayminus) == pytest.approx([0.25, 0.5])  # 0.5 - 0.05/0.2, ...


def test_two_products_of_one_name_get_a_bar_each() -> None:
    cycles = pd.DataFrame(
        {
            "product_key": ["MUG-S", "MUG-L"],
            "product": ["Mug", "Mug"],
            "repeat_pairs": [9, 7],
            "median_days": [30.0, 40.0],
            "p25_days": [20.0, 30.0],
            "p75_days": [40.0, 50.0],
        }
    )
    figure = product_charts.plot_cycles(cycles)
    assert list(figure.data[0].y) == ["Mug (MUG-L)", "Mug (MUG-S)"]


def test_gateway_conversion_and_abandoned_charts_escape_names() -> None:
    gateway = pd.DataFrame(
        {
            "key": [HOSTILE],
            "name": [HOSTILE],
            "customers": [10],
            "reorder_rate": [0.5],
            "reorder_low": [0.2],
            "reorder_high": [0.8],
        }
    )
    assert_no_markup(product_charts.plot_reorder_rates(gateway, 365))
    conversion = pd.DataFrame(
        {
            "period_start": [pd.Timestamp("2024-01-01")],
            "channel": [HOSTILE],
            "conversion_rate": [0.1],
            "sessions": [10],
        }
    )
    assert_no_markup(product_charts.plot_conversion(conversion))
    left = pd.DataFrame(
        {"key": [HOSTILE], "name": [HOSTILE], "value_left": [12.5], "checkouts": [3]}
    )
    assert_no_markup(product_charts.plot_value_left(left, "EUR"))
