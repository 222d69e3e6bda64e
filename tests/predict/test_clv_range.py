"""Predicted CLV's range by the delta method agrees with drawing the parameters (issue 15, item 2).

The range carries each model's standard errors to log expected purchases and log expected order
value through their gradients (docs/predictions.md, "Uncertainty range"). Here it is compared on
the CDNOW sample (tests/data/cdnow, see tests/data/README.md) with the 5th and 95th percentiles
of the same quantities over 10,000 draws of the log-parameters from the fit's normal
approximation, the slower way it approximates.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashboard.predict import pipeline, purchase_models, spend_model

DATA = Path(__file__).parents[1] / "data" / "cdnow"
DRAWS = 10_000
HORIZON_DAYS = 365
# Histories (x, t_x, T in days) from a one-time buyer to a frequent, recent one.
X = np.array([0.0, 1.0, 2.0, 5.0, 10.0, 3.0])
T_X = np.array([0.0, 30.0, 150.0, 200.0, 250.0, 20.0])
T = np.array([200.0, 250.0, 260.0, 230.0, 260.0, 270.0])
# The bounds within 2 % of the drawn percentiles, and the range's widths (log of bound over
# centre) within 20 % of the drawn ones, so a narrow range cannot pass by sitting near the
# centre. The delta method is a linear approximation: where the quantity bends within the
# parameters' uncertainty (frequent buyers, high spenders) its width is off by up to about 20 %.
BOUNDS_AGREE = 0.02
WIDTHS_AGREE = 0.2


@pytest.fixture(scope="module")
def summary() -> pd.DataFrame:
    """The published per-customer CDNOW summary: x, t_x and T in weeks, zbar (mean repeat spend)."""
    return pd.read_csv(DATA / "cdnow_customers_summary_with_transactions.csv")


def delta_bounds(centre: np.ndarray, gradient: np.ndarray, covariance: np.ndarray):
    spread = np.exp(
        pipeline.RANGE_Z * np.sqrt(np.einsum("ij,jk,ik->i", gradient, covariance, gradient))
    )
    return centre / spread, centre * spread


def assert_widths_agree(centre, low, high, drawn) -> None:
    """The delta method's bounds and the draws' 5th and 95th percentiles, as log widths."""
    drawn_low, drawn_high = np.percentile(drawn, [5, 95], axis=0)
    np.testing.assert_allclose(low, drawn_low, rtol=BOUNDS_AGREE)
    np.testing.assert_allclose(high, drawn_high, rtol=BOUNDS_AGREE)
    np.testing.assert_allclose(np.log(centre / low), np.log(centre / drawn_low), rtol=WIDTHS_AGREE)
    np.testing.assert_allclose(
        np.log(high / centre), np.log(drawn_high / centre), rtol=WIDTHS_AGREE
    )


def test_expected_purchases_range_matches_parameter_draws(summary):
    fit = purchase_models.fit_purchase_model(
        "bgnbd", summary["x"], summary["t_x"] * 7, summary["T"] * 7, np.ones(len(summary))
    )
    assert fit.covariance is not None
    centre = purchase_models.expected_purchases(fit, HORIZON_DAYS, X, T_X, T)
    gradient = purchase_models.log_expected_purchases_gradient(fit, HORIZON_DAYS, X, T_X, T)
    low, high = delta_bounds(centre, gradient, fit.covariance)

    rng = np.random.default_rng(15)
    names = purchase_models.PARAM_NAMES["bgnbd"]
    logs = rng.multivariate_normal(np.log([fit.params[n] for n in names]), fit.covariance, DRAWS)
    drawn = np.array(
        [
            purchase_models.expected_purchases(
                replace(fit, params=dict(zip(names, np.exp(row), strict=True))),
                HORIZON_DAYS,
                X,
                T_X,
                T,
            )
            for row in logs
        ]
    )
    assert_widths_agree(centre, low, high, drawn)
    assert np.all(low < centre) and np.all(centre < high)


def test_expected_order_value_range_matches_parameter_draws(summary):
    repeat = summary[summary["x"] > 0]
    fit = spend_model.fit_gamma_gamma(repeat["x"], repeat["zbar"], np.ones(len(repeat)))
    assert fit.covariance is not None
    # The range's spend part is taken at each x's mean repeat spend, so spends near the mean.
    x, m = np.array([0.0, 1.0, 2.0, 6.0]), np.array([np.nan, 25.0, 35.0, 45.0])
    centre = spend_model.expected_order_value(fit, x, m)
    gradient = spend_model.log_expected_order_value_gradient(fit, x, m)
    low, high = delta_bounds(centre, gradient, fit.covariance)

    rng = np.random.default_rng(16)
    names = spend_model.PARAM_NAMES
    logs = rng.multivariate_normal(np.log([fit.params[n] for n in names]), fit.covariance, DRAWS)
    drawn = []
    for row in np.exp(logs):
        p, q, gamma = row
        moved = replace(
            fit, params=dict(zip(names, row, strict=True)), population_mean=p * gamma / (q - 1)
        )
        drawn.append(spend_model.expected_order_value(moved, x, m))
    assert_widths_agree(centre, low, high, np.array(drawn))
