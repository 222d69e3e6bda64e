"""Gamma-Gamma on tiny inputs, its degenerate cases and the fallback (issue 15, items 1 and 6).

The CDNOW reproduction is in test_cdnow_reproduction.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from dashboard.predict import spend_model
from dashboard.predict.model_errors import ModelFitError
from dashboard.predict.spend_model import SpendFit


def repeat_buyers(customers: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """x and mean repeat spend m drawn from Gamma-Gamma p=6, q=4, gamma=15 (E[M] = 30)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 8, customers).astype(float)
    nu = rng.gamma(4.0, 1 / 15.0, customers)
    return x, rng.gamma(6.0 * x, 1 / (nu * x))


def test_log_likelihood_of_one_row_by_hand():
    """p=1, q=2, gamma=3, x=1, m=2: G(3)/(G(1)G(2)) 3^2 2^0 1^1 / (3+2)^3 = 2*9/125 = 0.144."""
    value = spend_model._log_likelihood(np.array([1.0, 2.0, 3.0]), np.array([1.0]), np.array([2.0]))
    assert value[0] == pytest.approx(math.log(0.144), rel=1e-12)


def test_expected_order_value_by_hand():
    """p=2, q=3, gamma=10: x=2, m=20 -> (10 + 40) * 2 / (4 + 3 - 1) = 100/6; x=0 -> E[M]."""
    fit = SpendFit({"p": 2.0, "q": 3.0, "gamma": 10.0}, -1.0, None, 5, None, 10.0)
    values = spend_model.expected_order_value(fit, [2, 0, 1], [20.0, np.nan, 10.0])
    # x=1, m=10: (10 + 10) * 2 / (2 + 2) = 10.
    np.testing.assert_allclose(values, [100 / 6, 10.0, 10.0])


def test_fit_recovers_its_parameters_and_weights_are_counts():
    x, m = repeat_buyers(3000, seed=1)
    result = spend_model.fit_gamma_gamma(x, m, np.ones(len(x)))
    assert result.fallback is None and result.customers == 3000
    assert result.params["p"] == pytest.approx(6.0, rel=0.25)  # standard error about 10 %
    assert result.population_mean == pytest.approx(30.0, rel=0.05)
    assert result.population_mean == pytest.approx(
        result.params["p"] * result.params["gamma"] / (result.params["q"] - 1)
    )
    doubled = spend_model.fit_gamma_gamma(np.tile(x[:200], 2), np.tile(m[:200], 2), np.ones(400))
    weighted = spend_model.fit_gamma_gamma(x[:200], m[:200], np.full(200, 2))
    assert weighted.customers == doubled.customers == 400
    assert weighted.log_likelihood == pytest.approx(doubled.log_likelihood, rel=1e-9)
    for name in ("p", "q", "gamma"):
        assert weighted.params[name] == pytest.approx(doubled.params[name], rel=1e-4)


def test_one_time_buyers_and_missing_spend_are_left_out():
    x, m = repeat_buyers(300, seed=2)
    with_others = spend_model.fit_gamma_gamma(
        np.r_[x, 0, 0, 3], np.r_[m, np.nan, 0.0, -5.0], np.r_[np.ones(300), 40, 2, 1]
    )
    alone = spend_model.fit_gamma_gamma(x, m, np.ones(300))
    assert with_others.customers == 300
    assert with_others.params == alone.params


def test_log_expected_order_value_gradient_by_hand():
    """log E = log(gamma + m x) + log p - log(p x + q - 1) for x > 0 and log p + log gamma -
    log(q - 1) for x = 0, so d/d log p = 1 - p x / (p x + q - 1), d/d log q = -q / (p x + q - 1)
    and d/d log gamma = gamma / (gamma + m x) (1 at x = 0)."""
    p, q, gamma = 2.0, 3.0, 10.0
    fit = SpendFit({"p": p, "q": q, "gamma": gamma}, -1.0, None, 5, None, p * gamma / (q - 1))
    x, m = np.array([0.0, 1.0, 4.0]), np.array([np.nan, 20.0, 5.0])
    gradient = spend_model.log_expected_order_value_gradient(fit, x, m)
    expected = np.column_stack(
        [
            1 - p * x / (p * x + q - 1),
            -q / (p * x + q - 1),
            np.where(x > 0, gamma / (gamma + np.nan_to_num(m) * x), 1.0),
        ]
    )
    np.testing.assert_allclose(gradient, expected, rtol=1e-7)


def test_no_repeat_buyer_raises_one_sentence():
    with pytest.raises(ModelFitError) as error:
        spend_model.fit_gamma_gamma([0, 0], [np.nan, np.nan], [10, 3])
    message = str(error.value)
    assert message.endswith(".") and ". " not in message


def assert_fallback(result: SpendFit, words: str, mean: float) -> None:
    assert result.params is None and result.covariance is None and result.log_likelihood is None
    assert words in result.fallback
    assert result.fallback.endswith(".") and ". " not in result.fallback
    assert result.population_mean == pytest.approx(mean)
    assert not spend_model.log_expected_order_value_gradient(result, [1, 2], [5.0, 6.0]).any()
    # The fallback: a repeat buyer's own mean; the weighted mean for one-time buyers.
    np.testing.assert_allclose(
        spend_model.expected_order_value(result, [3, 0, 1], [42.0, np.nan, 7.5]), [42.0, mean, 7.5]
    )


def test_fewer_than_ten_repeat_buyers_fall_back():
    # Weighted mean: (20 * 4 + 50 * 5) / 9 = 330 / 9.
    result = spend_model.fit_gamma_gamma([1, 2], [20.0, 50.0], [4, 5])
    assert_fallback(result, "at least 10 repeat buyers and this data has 9", 330 / 9)


def test_all_spends_equal_fall_back():
    result = spend_model.fit_gamma_gamma([1, 2, 5, 1] * 5, [25.0] * 20, np.ones(20))
    assert_fallback(result, "spend the same per order", 25.0)


def test_spend_rising_with_frequency_runs_to_the_bounds_and_falls_back():
    """Mean spend 10 x (x purchases) with +-2 % noise: spend and frequency are correlated, the
    model's q and gamma run off to their bounds. Mean: 10 * mean(1..10) = 55."""
    x = np.repeat(np.arange(1, 11), 3).astype(float)
    m = 10 * x * np.tile([0.98, 1.0, 1.02], 10)
    result = spend_model.fit_gamma_gamma(x, m, np.ones(len(x)))
    assert_fallback(result, "ran off to its bounds", 55.0)


def test_gradient_matches_the_likelihood():
    """The exact gradient the fit uses equals central differences of the summed likelihood."""
    x, m = repeat_buyers(300, seed=4)
    weights = np.arange(300) % 4 + 1.0
    rows = spend_model._SpendRows.prepare(x, m, weights)
    at = np.log([5.0, 3.0, 12.0])

    def summed(log_params):
        return np.dot(weights, spend_model._log_likelihood(np.exp(log_params), x, m))

    value, gradient = spend_model._log_likelihood_and_gradient(at, rows)
    assert value == pytest.approx(summed(at), rel=1e-12)
    step = 1e-5
    numeric = [(summed(at + e) - summed(at - e)) / (2 * step) for e in np.eye(3) * step]
    np.testing.assert_allclose(gradient, numeric, rtol=1e-6)
