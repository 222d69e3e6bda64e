"""Names from data in charts: plotly reads HTML in labels, so a segment or channel called
``<a href=...>`` must be shown as text, never drawn as a live link."""

from __future__ import annotations

import pandas as pd

from dashboard.charts import acquisition_charts, rfm_charts
from dashboard.charts.labels import escape_label, escape_labels

HOSTILE = '<a href="http://evil.example">Offer</a>'


def assert_no_markup(figure) -> None:
    text = figure.to_json()
    assert "<a href" not in text and "&lt;a href" in text


def test_escape_label_turns_markup_into_entities() -> None:
    assert escape_label(HOSTILE) == '&lt;a href="http://evil.example"&gt;Offer&lt;/a&gt;'
    assert escape_label("Bed & Bath") == "Bed &amp; Bath"
    frame = escape_labels(pd.DataFrame({"name": [HOSTILE, None], "n": [1, 2]}), "name")
    assert frame.name.iloc[0].startswith("&lt;a") and frame.name.isna().iloc[1]


def test_segment_charts_show_names_as_text() -> None:
    summary = pd.DataFrame(
        {
            "segment": [HOSTILE, "Loyal"],
            "customers": [3, 5],
            "share_customers": [0.375, 0.625],
            "revenue": [30.0, 70.0],
            "share_revenue": [0.3, 0.7],
        }
    )
    assert_no_markup(rfm_charts.plot_segment_shares(summary))
    matrix = pd.DataFrame([[1, 2], [3, 4]], index=[HOSTILE, "Loyal"], columns=[HOSTILE, "Loyal"])
    assert_no_markup(rfm_charts.plot_transition_heatmap(matrix))
    moves = pd.DataFrame(
        {"segment_from": [HOSTILE, "Loyal"], "segment_to": ["Loyal", HOSTILE], "customers": [2, 1]}
    )
    assert_no_markup(rfm_charts.plot_migration_sankey(moves, [HOSTILE, "Loyal"]))


def test_channel_charts_show_names_as_text() -> None:
    table = pd.DataFrame(
        {
            "channel": [HOSTILE],
            "new_customers": [4],
            "share_new_customers": [1.0],
            "share_revenue": [1.0],
            **{f"revenue_per_customer_{d}d": [10.0] for d in (90, 180, 365)},
            **{f"customers_{d}d": [4] for d in (90, 180, 365)},
        }
    )
    assert_no_markup(acquisition_charts.plot_channel_shares(table))
    assert_no_markup(acquisition_charts.plot_channel_value(table))
    shares = pd.DataFrame([[0.5]], index=[HOSTILE], columns=["Loyal"])
    assert_no_markup(acquisition_charts.plot_channel_segments(shares))
    cac = pd.DataFrame(
        {
            "month": ["2024-01-01"],
            "channel": [HOSTILE],
            "acquisition_spend": [100.0],
            "new_customers": [4],
            "cac": [25.0],
        }
    )
    assert_no_markup(acquisition_charts.plot_cac(cac))
