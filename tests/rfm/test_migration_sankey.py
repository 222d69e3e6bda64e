"""Issue 18 #11: the migration Sankey keeps the scheme's order and colours on both sides, and
its nodes are placed so that their labels cannot overlap."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard.charts import rfm_charts
from dashboard.rfm import migration
from dashboard.rfm.schemes import PRESETS

LABELS = migration.order_segments(PRESETS["shopify"])


def transitions() -> pd.DataFrame:
    # Rows in an order unlike the scheme's: the chart must not follow it.
    return pd.DataFrame(
        {
            "segment_from": ["Dormant", "Champions", migration.NOT_YET, "Champions"],
            "segment_to": ["Dormant", "Loyal", "New", "Champions"],
            "customers": [2_000, 300, 100, 600],
        }
    )


def test_both_sides_follow_the_scheme_order_with_segment_colours() -> None:
    figure = rfm_charts.plot_migration_sankey(transitions(), LABELS)
    node = figure.data[0].node
    assert list(node.label) == [
        "Champions (900)",
        "Dormant (2,000)",
        "Not a customer yet (100)",
        "Champions (600)",
        "Loyal (300)",
        "New (100)",
        "Dormant (2,000)",
    ]
    colours = rfm_charts.colour_segments(LABELS)
    assert colours["Champions"] == rfm_charts.SEGMENT_PALETTE[0]
    assert colours["Loyal"] == rfm_charts.SEGMENT_PALETTE[1]
    assert colours[migration.NOT_YET] == rfm_charts.NOT_SEGMENT_COLOUR
    assert list(node.color) == [
        colours[s]
        for s in ["Champions", "Dormant", migration.NOT_YET, "Champions", "Loyal", "New", "Dormant"]
    ]
    assert rfm_charts.CUSTOMERS_COLOUR not in node.color  # no longer one grey-blue for all
    assert list(node.x) == [0.001] * 3 + [0.999] * 4


def test_nodes_are_stacked_by_size_without_overlap() -> None:
    # Sizes 900, 2000, 100 of 3,000 with a gap of 0.04: the room is 0.92.
    centres = rfm_charts.place_nodes([900, 2_000, 100], 0.04)
    heights = [0.92 * 900 / 3000, 0.92 * 2000 / 3000, 0.92 * 100 / 3000]
    assert centres == pytest.approx(
        [heights[0] / 2, heights[0] + 0.04 + heights[1] / 2, 1 - heights[2] / 2]
    )
    tops = [c - h / 2 for c, h in zip(centres, heights, strict=True)]
    bottoms = [c + h / 2 for c, h in zip(centres, heights, strict=True)]
    assert all(tops[i + 1] - bottoms[i] == pytest.approx(0.04) for i in range(2))
