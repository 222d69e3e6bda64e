"""The Predictions page's figures (dashboard/predict/overview.py) on tiny scored tables whose
results are counted by hand."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from dashboard.predict import overview, purchase_models
from dashboard.predict.purchase_models import PurchaseFit

NOTE = "No orders yet: no prediction."
# A fixed BG/NBD fit (parameters in days), so the tests do not depend on an optimiser.
FIT = PurchaseFit(
    model="bgnbd",
    params={"r": 0.25, "alpha": 30.0, "a": 0.8, "b": 2.4},
    log_likelihood=0.0,
    covariance=None,
    customers=6,
    repeat_buyers=4,
)


def scored(rows: list[tuple[str, float | None, str | None, str | None]]) -> pd.DataFrame:
    """customer_id, predicted_clv, churn_band, prediction_note, as score_customers gives."""
    return pd.DataFrame(
        rows, columns=["customer_id", "predicted_clv", "churn_band", "prediction_note"]
    )


SCORES = scored(
    [
        ("c1", 120.50, "Low", None),
        ("c2", 10.00, "High", None),
        ("c3", 300.25, "Medium", None),
        ("c4", 0.00, "High", None),
        ("c5", 120.50, "High", None),
        ("p1", None, None, NOTE),
        ("p2", None, None, NOTE),
    ]
)


def test_headline_counts_only_customers_with_a_prediction() -> None:
    headline = overview.summarise_headline(SCORES)
    assert headline.customers == 5
    # 120.50 + 10 + 300.25 + 0 + 120.50
    assert headline.predicted_revenue == pytest.approx(551.25)
    assert headline.high_risk_share == pytest.approx(3 / 5)
    assert headline.without_prediction == 2


def test_headline_of_no_customer_is_zero() -> None:
    headline = overview.summarise_headline(scored([("p1", None, None, NOTE)]))
    assert (headline.customers, headline.high_risk_share, headline.without_prediction) == (0, 0, 1)


def test_churn_bands_in_order_with_shares() -> None:
    bands = overview.count_churn_bands(SCORES)
    assert bands.churn_band.tolist() == ["Low", "Medium", "High"]
    assert bands.customers.tolist() == [1, 1, 3]
    assert bands.share.tolist() == pytest.approx([0.2, 0.2, 0.6])


def test_top_customers_by_predicted_clv_ties_by_id() -> None:
    top = overview.pick_top_customers(SCORES, count=3)
    assert top.customer_id.tolist() == ["c3", "c1", "c5"]


def test_alive_map_weights_cells_by_customers() -> None:
    # recency T - t_x: 10, 25, 35, 400 days; x 1, 1, 12 (capped at 10+), 0.
    compressed = pd.DataFrame(
        {
            "repeat_purchases": [1, 1, 12, 0],
            "t_x_days": [90, 75, 365, 0],
            "T_days": [100, 100, 400, 400],
            "customers": [1, 3, 2, 5],
        }
    )
    cells = overview.map_probability_alive(FIT, compressed).set_index(["frequency", "recency_from"])
    alive = purchase_models.probability_alive(
        FIT,
        np.array([1.0, 1.0, 12.0, 0.0]),
        np.array([90.0, 75.0, 365.0, 0.0]),
        np.array([100.0, 100.0, 400.0, 400.0]),
    )
    # 401 days of recency fit in 20 bands of 30 days: one step of 30 days.
    assert cells.loc[("1", 0)].customers == 4
    assert cells.loc[("1", 0)].p_alive == pytest.approx((alive[0] + 3 * alive[1]) / 4)
    assert cells.loc[("10+", 30)].customers == 2
    assert cells.loc[("10+", 30)].recency_to == 60
    assert cells.loc[("0", 390)].p_alive == pytest.approx(1.0)  # BG/NBD: no repeat, alive
    assert len(cells) == 3


def test_alive_map_widens_bands_for_long_histories() -> None:
    compressed = pd.DataFrame(
        {
            "repeat_purchases": [2, 3],
            "t_x_days": [0, 100],
            "T_days": [700, 200],
            "customers": [1, 1],
        }
    )
    cells = overview.map_probability_alive(FIT, compressed)
    # 701 days over at most 20 bands: 2 x 30 = 60 days each; 700 days falls in [660, 720).
    assert sorted(cells.recency_from.tolist()) == [60, 660]
    assert set(cells.recency_to - cells.recency_from) == {60}


def test_date_column_passes_through_top_customers() -> None:
    frame = SCORES.assign(expected_next_order_on=dt.date(2024, 1, 1))
    assert overview.pick_top_customers(frame, 1).expected_next_order_on.tolist() == [
        dt.date(2024, 1, 1)
    ]
