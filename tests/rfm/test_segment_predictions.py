"""Predicted CLV and High churn share per segment (issue 15 #4), computed by hand.

Four scored customers in two segments and one prospect, with known predictions. The slider
index (``cell_index.count_cells``) and the Ibis aggregation (``segments.summarise_cells``) must
give the same cells and the same hand-computed summary; the download carries the predicted
fields and adds up to the table's figure.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pytest

from dashboard.rfm import cell_index, cut_points, explain, schemes, segments
from dashboard.workspace import store

# a, b recent (<= 30 days: R2); c, d lapsed (R1); p a prospect; e bought only before the window.
MEASURES = pa.table(
    {
        "customer_id": ["a", "b", "c", "d", "p", "e"],
        "status": ["scored", "scored", "scored", "scored", "prospect", "outside_window"],
        "recency_days": pa.array([10, 20, 50, 90, None, None], pa.int64()),
        "frequency": pa.array([3, 1, 2, 1, 0, 0], pa.int64()),
        "monetary": pa.array(
            [Decimal(v) for v in ("300.00", "40.00", "80.00", "25.00", "0.00", "0.00")],
            pa.decimal128(38, 2),
        ),
    }
)
CUTS = cut_points.Cuts(recency=(30.0,), frequency=(2.0,), monetary=(100.0,))
SCHEME = schemes.build_scheme(
    "two",
    "Two",
    2,
    {
        "Recent": [c for c in schemes.all_cells(2) if c[0] == 2],
        "Lapsed": [c for c in schemes.all_cells(2) if c[0] == 1],
    },
    "R2 is Recent, R1 is Lapsed.",
)
# score_customers' rows: the prospect has no prediction, only a note; e has one (not in any
# segment, so it is counted nowhere).
PREDICTIONS = pd.DataFrame(
    {
        "customer_id": ["a", "b", "c", "d", "p", "e"],
        "repeat_purchases": pd.array([2, 0, 1, 0, None, 0], "Int64"),
        "t_x_days": pd.array([100, 0, 40, 0, None, 0], "Int64"),
        "T_days": pd.array([110, 20, 90, 90, None, 400], "Int64"),
        "p_alive": [0.9, 1.0, 0.4, 1.0, None, 1.0],
        "expected_orders": [2.5, 0.3, 0.2, 0.1, None, 0.05],
        "expected_order_value": [Decimal("48.20"), Decimal("100.83"), Decimal("50.00")]
        + [Decimal("7.50"), None, Decimal("40.00")],
        "predicted_clv": [Decimal("120.50"), Decimal("30.25"), Decimal("10.00")]
        + [Decimal("0.75"), None, Decimal("2.00")],
        "predicted_clv_low": [Decimal("100.00"), Decimal("20.00"), Decimal("5.00")]
        + [Decimal("0.50"), None, Decimal("1.00")],
        "predicted_clv_high": [Decimal("140.00"), Decimal("40.00"), Decimal("15.00")]
        + [Decimal("1.00"), None, Decimal("3.00")],
        "historic_clv": [Decimal("300.00"), Decimal("40.00"), Decimal("80.00")]
        + [Decimal("25.00"), Decimal("0.00"), Decimal("9.00")],
        "total_clv": [Decimal("420.50"), Decimal("70.25"), Decimal("90.00")]
        + [Decimal("25.75"), None, Decimal("11.00")],
        "churn_risk": [0.1, 0.7, 0.9, 0.5, None, 0.99],
        "churn_band": ["Low", "High", "High", "Medium", None, "High"],
        "expected_next_order_on": [dt.date(2024, 7, 1), dt.date(2024, 9, 1), None]
        + [dt.date(2025, 1, 1), None, dt.date(2025, 3, 1)],
        "prediction_note": [None, None, None, None, "No orders yet: no prediction.", None],
    }
)


@pytest.fixture
def measures() -> Iterator[object]:
    scratch = store.open_scratch()
    yield scratch.create_table("customer_measures", MEASURES)
    scratch.disconnect()


def test_both_paths_give_the_hand_computed_cells(measures) -> None:
    index = cell_index.build_cell_index(measures)
    by_index = cell_index.count_cells(index, CUTS, PREDICTIONS)
    by_ibis = segments.summarise_cells(measures, CUTS, PREDICTIONS)
    pd.testing.assert_frame_equal(by_index, by_ibis, check_exact=True)
    # a: R2 F2 M2; b: R2 F1 M1; c: R1 F2 M1; d: R1 F1 M1; then the prospects row.
    cells = by_index[["r_score", "f_score", "m_score", *segments.PREDICTED_CELL_COLUMNS]]
    assert [tuple(row) for row in cells.itertuples(index=False)] == [
        (1, 1, 1, 1, 0.75, 0),
        (1, 2, 1, 1, 10.0, 1),
        (2, 1, 1, 1, 30.25, 1),
        (2, 2, 2, 1, 120.5, 0),
        (0, 0, 0, 0, 0.0, 0),
    ]


def test_summary_by_hand(measures) -> None:
    index = cell_index.build_cell_index(measures)
    summary = segments.summarise_segments(
        cell_index.count_cells(index, CUTS, PREDICTIONS), SCHEME
    ).set_index("segment")
    # Recent: a 120.50 + b 30.25 = 150.75, mean 75.375, b High -> 1/2.
    # Lapsed: c 10.00 + d 0.75 = 10.75, mean 5.375, c High -> 1/2. Prospects: no prediction.
    assert summary.loc["Recent", "predicted_clv"] == 150.75
    assert summary.loc["Recent", "predicted_clv_per_customer"] == 75.375
    assert summary.loc["Recent", "share_high_churn"] == 0.5
    assert summary.loc["Lapsed", "predicted_clv"] == 10.75
    assert summary.loc["Lapsed", "predicted_clv_per_customer"] == 5.375
    assert summary.loc["Lapsed", "share_high_churn"] == 0.5
    assert summary.loc[schemes.PROSPECTS, segments.PREDICTED_COLUMNS].isna().all()
    assert list(summary.columns[-3:]) == segments.PREDICTED_COLUMNS
    ibis_summary = segments.summarise_segments(
        segments.summarise_cells(measures, CUTS, PREDICTIONS), SCHEME
    ).set_index("segment")
    pd.testing.assert_frame_equal(summary, ibis_summary, check_exact=True)


def test_without_predictions_the_summary_is_unchanged(measures) -> None:
    index = cell_index.build_cell_index(measures)
    summary = segments.summarise_segments(cell_index.count_cells(index, CUTS), SCHEME)
    assert list(summary.columns) == segments.SUMMARY_COLUMNS


def test_a_customer_missing_from_the_predictions_weighs_nothing(measures) -> None:
    index = cell_index.build_cell_index(measures)
    without_b = PREDICTIONS[PREDICTIONS.customer_id != "b"]
    summary = segments.summarise_segments(
        cell_index.count_cells(index, CUTS, without_b), SCHEME
    ).set_index("segment")
    assert summary.loc["Recent", "predicted_clv"] == 120.5
    assert summary.loc["Recent", "predicted_clv_per_customer"] == 120.5
    assert summary.loc["Recent", "share_high_churn"] == 0.0
    by_ibis = segments.summarise_segments(
        segments.summarise_cells(measures, CUTS, without_b), SCHEME
    ).set_index("segment")
    pd.testing.assert_frame_equal(summary, by_ibis, check_exact=True)


def test_predictions_are_aligned_once_per_frame(measures, monkeypatch) -> None:
    index = cell_index.build_cell_index(measures)
    calls = []
    weigh = segments.weigh_predictions
    monkeypatch.setattr(segments, "weigh_predictions", lambda p: calls.append(1) or weigh(p))
    moved = cut_points.Cuts(recency=(60.0,), frequency=(3.0,), monetary=(50.0,))
    for cuts in (CUTS, moved, CUTS):
        cell_index.count_cells(index, cuts, PREDICTIONS)
    assert len(calls) == 1
    cell_index.count_cells(index, CUTS, PREDICTIONS.copy())
    assert len(calls) == 2


def test_the_download_adds_up_to_the_table(measures) -> None:
    members = segments.assign_segments(measures, CUTS, SCHEME).to_pandas()
    download = segments.attach_predictions(members, PREDICTIONS)
    assert list(download.customer_id) == ["a", "b", "c", "d", "p"]
    assert list(download.columns[-len(segments.PREDICTION_FIELDS) :]) == (
        segments.PREDICTION_FIELDS
    )
    recent = download[download.segment == "Recent"]
    assert recent.predicted_clv.sum() == Decimal("150.75")
    assert list(recent.churn_band) == ["Low", "High"]
    prospect = download[download.segment == schemes.PROSPECTS].iloc[0]
    assert prospect.prediction_note == "No orders yet: no prediction."
    assert pd.isna(prospect.predicted_clv)


def test_explain_describes_the_prediction() -> None:
    a = explain.describe_prediction(PREDICTIONS, "a")
    assert a["predicted_clv"] == 120.5
    assert (a["predicted_clv_low"], a["predicted_clv_high"]) == (100.0, 140.0)
    assert a["churn_band"] == "Low" and a["churn_risk"] == 0.1
    assert a["repeat_purchases"] == 2 and a["p_alive"] == 0.9
    assert a["expected_next_order_on"] == dt.date(2024, 7, 1)
    assert a["total_clv"] == 420.5 and a["historic_clv"] == 300.0
    assert a["prediction_note"] is None
    c = explain.describe_prediction(PREDICTIONS, "c")
    assert c["expected_next_order_on"] is None
    p = explain.describe_prediction(PREDICTIONS, "p")
    assert p["prediction_note"] == "No orders yet: no prediction."
    assert p["predicted_clv"] is None
    assert explain.describe_prediction(PREDICTIONS, "zz") == {
        "prediction_note": "This customer is not in the predictions: no prediction."
    }


def test_predictions_for_nobody_give_zeros(measures) -> None:
    nobody = PREDICTIONS[PREDICTIONS.customer_id == "p"]
    index = cell_index.build_cell_index(measures)
    by_index = cell_index.count_cells(index, CUTS, nobody)
    pd.testing.assert_frame_equal(
        by_index, segments.summarise_cells(measures, CUTS, nobody), check_exact=True
    )
    summary = segments.summarise_segments(by_index, SCHEME).set_index("segment")
    assert summary.loc["Recent", "predicted_clv"] == 0.0
    assert summary.loc[["Recent", "Lapsed"], "share_high_churn"].isna().all()
