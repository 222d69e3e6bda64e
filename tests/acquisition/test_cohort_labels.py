"""Issue 18 #11: each cohort row of the heatmaps names its size; cell text stays short."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from dashboard.acquisition import cohorts
from dashboard.charts import acquisition_charts

D = dt.date


def cells() -> pd.DataFrame:
    """Two cohorts: 1,234 customers in March 2024 (channels A and B), 5 in April."""
    return pd.DataFrame(
        {
            "channel": ["A", "A", "B", "B", "A"],
            "cohort_month": [D(2024, 3, 1), D(2024, 3, 1), D(2024, 3, 1), D(2024, 3, 1)]
            + [D(2024, 4, 1)],
            "months_since": [0, 1, 0, 1, 0],
            "customers": [1_000, 1_000, 234, 234, 5],
            "active_customers": [1_000, 100, 234, 20, 5],
            "revenue": [50_000.0, 12_345.0, 10_000.0, 800.0, 250.0],
        }
    )


def test_rows_are_labelled_with_the_cohort_size() -> None:
    table = cohorts.combine_cohorts(cells())
    labels = cohorts.label_cohorts(table)
    assert labels == {"2024-03": "2024-03 (1,234)", "2024-04": "2024-04 (5)"}
    pivot = cohorts.pivot_cohorts(table, "cumulative_revenue_per_customer")
    figure = acquisition_charts.plot_cohort_heatmap(pivot, "money", "EUR", labels)
    heatmap = figure.data[0]
    assert list(heatmap.y) == ["2024-03 (1,234)", "2024-04 (5)"]
    # (50,000 + 10,000) / 1,234 = 48.62; + (12,345 + 800) / 1,234 = 59.27; 250 / 5 = 50.
    assert [list(row) for row in heatmap.text] == [["49", "59"], ["50", ""]]
    assert figure.layout.yaxis.automargin and figure.layout.xaxis.tickangle == 0


def test_money_cells_are_compact() -> None:
    assert [
        acquisition_charts.format_compact(v)
        for v in (85.4, 1_234.0, 12_345.0, 2_500_000.0, float("nan"))
    ] == ["85", "1.2k", "12k", "2.5M", ""]
