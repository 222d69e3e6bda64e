"""Prediction charts (dashboard/charts/predict_charts.py): bins counted by hand, labels escaped."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from dashboard.charts import predict_charts


def test_clv_bins_are_equal_on_a_log_scale() -> None:
    bands = predict_charts.bin_predicted_clv(pd.Series([1.0, 10.0, 100.0, 50.0, 0.0, None]), 2)
    assert bands.low.tolist() == pytest.approx([1.0, 10.0])
    assert bands.high.tolist() == pytest.approx([10.0, 100.0])
    # 0 and the null are left out; 10 opens the second band, 100 closes it.
    assert bands.customers.tolist() == [1, 3]


def test_clv_bins_of_one_value_and_of_none() -> None:
    assert predict_charts.bin_predicted_clv(pd.Series([5.0, 5.0])).customers.tolist() == [2]
    assert predict_charts.bin_predicted_clv(pd.Series([0.0])).empty


def test_clv_distribution_labels_money() -> None:
    bands = predict_charts.bin_predicted_clv(pd.Series([1.0, 10.0, 100.0]), 2)
    figure = predict_charts.plot_clv_distribution(bands, "USD")
    assert list(figure.data[0].x) == ["$1.00", "$10.00"]
    assert list(figure.data[0].customdata) == ["$1.00 – $10.00", "$10.00 – $100.00"]


def test_alive_map_fills_empty_bands() -> None:
    cells = pd.DataFrame(
        {
            "frequency": ["0", "2"],
            "frequency_order": [0, 2],
            "recency_from": [0, 60],
            "recency_to": [30, 90],
            "customers": [4, 1],
            "p_alive": [1.0, 0.25],
        }
    )
    heatmap = predict_charts.plot_alive_map(cells).data[0]
    assert list(heatmap.x) == ["0–29", "30–59", "60–89"]
    assert list(heatmap.y) == ["0", "2"]
    assert heatmap.z[0][0] == 1.0 and heatmap.z[1][2] == 0.25
    assert pd.isna(heatmap.z[0][1])


def test_tracking_marks_the_calibration_end() -> None:
    tracking = pd.DataFrame(
        {
            "week_start": [dt.date(2024, 1, 1), dt.date(2024, 1, 8)],
            "actual_cumulative": [1, 3],
            "predicted_cumulative": [1.5, 2.5],
        }
    )
    figure = predict_charts.plot_tracking(tracking, dt.date(2024, 1, 5))
    assert [trace.name for trace in figure.data] == ["Actual", "Model"]
    assert figure.layout.shapes[0].x0 == dt.date(2024, 1, 5)
