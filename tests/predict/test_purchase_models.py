"""BG/NBD and Pareto/NBD on tiny inputs, checked against numbers worked out by hand (issue 15).

The CDNOW reproduction is in test_cdnow_reproduction.py.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from scipy.optimize import OptimizeResult
from scipy.special import hyp2f1

from dashboard.predict import purchase_models
from dashboard.predict.model_errors import ModelFitError, PredictionSettingError
from dashboard.predict.purchase_models import PurchaseFit


def make_fit(model: str, **params: float) -> PurchaseFit:
    return PurchaseFit(model, params, 0.0, None, 0, 0)


BGNBD = make_fit("bgnbd", r=1.0, alpha=2.0, a=1.0, b=3.0)
PARETO = make_fit("pareto-nbd", r=0.5, alpha=20.0, s=0.6, beta=40.0)


def simulate_store(customers: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Histories (x, t_x, T in whole days) drawn from Pareto/NBD r=0.5, alpha=20, s=0.6,
    beta=40, with first purchases spread over the year before the analysis date."""
    rng = np.random.default_rng(seed)
    T = rng.integers(1, 366, customers).astype(float)
    rate = rng.gamma(0.5, 1 / 20.0, customers)
    active = np.minimum(rng.exponential(1 / rng.gamma(0.6, 1 / 40.0, customers)), T)
    x, t_x = np.zeros(customers), np.zeros(customers)
    for i, count in enumerate(rng.poisson(rate * active)):
        days = np.unique(np.ceil(rng.uniform(0, active[i], count)))
        if days.size:
            x[i], t_x[i] = days.size, days.max()
    return x, t_x, T


X, T_X, T = simulate_store(400, seed=3)


def test_bgnbd_log_likelihood_of_one_row_by_hand():
    """r=1, alpha=2, a=1, b=3; x=1, t_x=2, T=4.

    L = B(1,4)/B(1,3) * G(2) 2^1 / (G(1) 6^2) + B(2,3)/B(1,3) * G(2) 2^1 / (G(1) 4^2)
      = 3/4 * 2/36 + 1/4 * 2/16 = 1/24 + 1/32 = 7/96
    """
    histories = purchase_models._histories(np.array([1.0]), np.array([2.0]), np.array([4.0]))
    log_likelihood = purchase_models._log_likelihood("bgnbd", np.array([1.0, 2, 1, 3]), histories)
    assert log_likelihood[0] == pytest.approx(math.log(7 / 96), rel=1e-12)
    # P(alive) is the first term's share: (1/24) / (7/96) = 4/7.
    assert float(purchase_models.probability_alive(BGNBD, 1, 2, 4)) == pytest.approx(4 / 7)
    # Two days more without a purchase: 3/4 * 2/64 + 1/32 = 7/128; (7/128) / (7/96) = 3/4.
    assert float(purchase_models.probability_no_purchase(BGNBD, 2, 1, 2, 4)) == pytest.approx(0.75)


def test_bgnbd_probability_alive_is_one_without_repeat_purchases():
    values = purchase_models.probability_alive(BGNBD, [0, 0, 0], [0, 0, 0], [0, 10, 500])
    assert values.tolist() == [1.0, 1.0, 1.0]


@pytest.mark.parametrize("fit", [BGNBD, PARETO], ids=["bgnbd", "pareto-nbd"])
def test_expected_purchases_increase_with_days(fit):
    days = np.array([0, 1, 7, 30, 90, 365, 3650])
    values = np.array([float(purchase_models.expected_purchases(fit, d, 2, 40, 100)) for d in days])
    assert values[0] == 0.0
    assert np.all(np.diff(values) > 0)


@pytest.mark.parametrize("fit", [BGNBD, PARETO], ids=["bgnbd", "pareto-nbd"])
def test_probability_no_purchase_is_a_probability_falling_with_days(fit):
    for x, t_x, T in [(0, 0, 50), (1, 10, 50), (4, 49, 50), (4, 5, 300)]:
        values = np.array(
            [
                float(purchase_models.probability_no_purchase(fit, d, x, t_x, T))
                for d in (1, 30, 365)
            ]
        )
        assert np.all((values >= 0) & (values <= 1))
        assert np.all(np.diff(values) < 0)
        assert float(purchase_models.probability_no_purchase(fit, 0, x, t_x, T)) == 1.0


@pytest.mark.parametrize("fit", [BGNBD, PARETO], ids=["bgnbd", "pareto-nbd"])
def test_discounting_lowers_the_expectation_and_vanishes_at_rate_zero(fit):
    x, t_x, T = np.array([0, 1, 3]), np.array([0, 20, 90]), np.array([100, 100, 100])
    plain = purchase_models.expected_purchases(fit, 365, x, t_x, T)
    at_zero = purchase_models.expected_purchases(fit, 365, x, t_x, T, annual_discount_rate=0.0)
    discounted = purchase_models.expected_purchases(fit, 365, x, t_x, T, annual_discount_rate=0.2)
    assert np.array_equal(plain, at_zero)
    assert np.all(discounted < plain)
    # Against a fine sum of daily increments, each discounted at its midday.
    grid = np.arange(0, 366)
    cumulative = np.array([purchase_models.expected_purchases(fit, d, x, t_x, T) for d in grid])
    factors = 1.2 ** (-(grid[1:] - 0.5) / 365)
    fine = (np.diff(cumulative, axis=0) * factors[:, None]).sum(axis=0)
    np.testing.assert_allclose(discounted, fine, rtol=1e-4)


def test_median_days_to_next_purchase_closed_form():
    """r=1, alpha=2, x=1, T=4: (2 + 4)(2^(1/2) - 1) = 6 * 0.41421356 = 2.48528137 days."""
    median = float(purchase_models.median_days_to_next_purchase(BGNBD, 1, 2, 4))
    assert median == pytest.approx(2.48528137, abs=1e-8)
    # It is the median of the wait: P(W > w) = (6 / (6 + w))^2 = 1/2.
    assert (6 / (6 + median)) ** 2 == pytest.approx(0.5)


def test_unconditional_expectation():
    """Pareto/NBD r=1, alpha=2, s=2, beta=4, t=4: r beta / (alpha (s-1)) (1 - (4/8)^1) = 1."""
    pareto = make_fit("pareto-nbd", r=1.0, alpha=2.0, s=2.0, beta=4.0)
    assert float(purchase_models.expected_purchases_since_first(pareto, 4.0)) == pytest.approx(1.0)
    # BG/NBD over a very short time buys at the mean rate r / alpha = 1/2 a day.
    early = purchase_models.expected_purchases_since_first(BGNBD, np.array([1e-6, 1.0, 10.0]))
    assert early[0] == pytest.approx(0.5e-6, rel=1e-4)
    assert np.all(np.diff(early) > 0)


def test_pareto_probability_no_purchase_matches_a_simulation():
    """Simulate the Pareto/NBD model (seeded): among customers with no repeat purchase in
    (0, 100], the share alive at 100 and the share with no purchase in (100, 190].

    400,000 customers leave about 170,000 with x = 0, so a standard error of about 0.0012;
    the tolerance is 0.005 (4 standard errors).
    """
    rng = np.random.default_rng(15)
    size, T, days = 400_000, 100.0, 90.0
    rate = rng.gamma(0.5, 1 / 20.0, size)
    death = rng.exponential(1 / rng.gamma(0.6, 1 / 40.0, size))
    no_repeat = rng.poisson(rate * np.minimum(death, T)) == 0
    alive = death > T
    quiet_after = ~alive | (rng.poisson(rate * np.clip(death - T, 0, days)) == 0)
    simulated_alive = alive[no_repeat].mean()
    simulated_quiet = quiet_after[no_repeat].mean()
    assert float(purchase_models.probability_alive(PARETO, 0, 0, T)) == pytest.approx(
        simulated_alive, abs=0.005
    )
    assert float(purchase_models.probability_no_purchase(PARETO, days, 0, 0, T)) == pytest.approx(
        simulated_quiet, abs=0.005
    )


@pytest.mark.parametrize("fit", [BGNBD, PARETO], ids=["bgnbd", "pareto-nbd"])
def test_log_expected_purchases_gradient_follows_each_parameter(fit):
    """Column i is the slope of log expected purchases when log-parameter i alone moves."""
    x, t_x, T = np.array([0.0, 2.0, 5.0]), np.array([0.0, 20.0, 90.0]), np.array([60.0, 90, 100])
    gradient = purchase_models.log_expected_purchases_gradient(fit, 180, x, t_x, T, 0.1)
    assert gradient.shape == (3, 4)
    for column, name in enumerate(purchase_models.PARAM_NAMES[fit.model]):
        moved = [
            replace(fit, params={**fit.params, name: fit.params[name] * math.exp(step)})
            for step in (1e-3, -1e-3)
        ]
        up, down = (purchase_models.expected_purchases(m, 180, x, t_x, T, 0.1) for m in moved)
        np.testing.assert_allclose(gradient[:, column], np.log(up / down) / 2e-3, rtol=1e-5)
    nothing = purchase_models.log_expected_purchases_gradient(fit, 0, x, t_x, T)
    assert np.all(nothing == 0)


@pytest.mark.parametrize("model", purchase_models.MODELS)
def test_compressed_rows_fit_like_one_row_per_customer(model):
    """Weights are customer counts: the same histories repeated give the same fit."""
    repeated = purchase_models.fit_purchase_model(
        model, np.tile(X, 3), np.tile(T_X, 3), np.tile(T, 3), np.ones(3 * len(X))
    )
    weighted = purchase_models.fit_purchase_model(model, X, T_X, T, np.full(len(X), 3))
    assert weighted.customers == repeated.customers == 1200
    assert weighted.repeat_buyers == 3 * np.count_nonzero(X)
    assert weighted.log_likelihood == pytest.approx(repeated.log_likelihood, rel=1e-9)
    for name, value in weighted.params.items():
        assert value == pytest.approx(repeated.params[name], rel=1e-4)


def test_fitted_log_likelihood_is_the_weighted_sum_of_rows():
    result = purchase_models.fit_purchase_model("bgnbd", X, T_X, T, np.ones(len(X)))
    params = np.array([result.params[name] for name in ("r", "alpha", "a", "b")])
    rows = purchase_models._log_likelihood("bgnbd", params, purchase_models._histories(X, T_X, T))
    assert result.log_likelihood == pytest.approx(rows.sum(), rel=1e-12)


def one_sentence(error: pytest.ExceptionInfo) -> str:
    message = str(error.value)
    assert message.endswith(".") and ". " not in message
    return message


@pytest.mark.parametrize("model", purchase_models.MODELS)
def test_unfittable_data_raise_one_sentence(model):
    with pytest.raises(ModelFitError) as single:
        purchase_models.fit_purchase_model(model, [3], [50], [90], [1])
    assert "single customer" in one_sentence(single)
    with pytest.raises(ModelFitError) as one_day:
        purchase_models.fit_purchase_model(model, [0, 0], [0, 0], [0, 0], [5, 2])
    assert "no history yet" in one_sentence(one_day)
    with pytest.raises(ModelFitError) as nobody_twice:
        purchase_models.fit_purchase_model(model, [0, 0], [0, 0], [30, 90], [5, 2])
    assert "no customer bought on two different days" in one_sentence(nobody_twice)


def test_an_optimiser_that_does_not_converge_raises(monkeypatch):
    def failing(objective, start, **options):
        return OptimizeResult(x=start, fun=objective(start), success=False, message="stopped")

    monkeypatch.setattr(purchase_models, "minimize", failing)
    with pytest.raises(ModelFitError) as error:
        purchase_models.fit_purchase_model("pareto-nbd", X, T_X, T, np.ones(len(X)))
    assert "did not converge" in one_sentence(error)


def test_settings_out_of_range_raise():
    with pytest.raises(PredictionSettingError):
        purchase_models.expected_purchases(BGNBD, 30, 1, 2, 4, annual_discount_rate=-0.1)
    with pytest.raises(PredictionSettingError):
        purchase_models.probability_no_purchase(BGNBD, -1, 1, 2, 4)


def test_pareto_tail_where_scipy_hyp2f1_fails():
    """r + x above ~200 with beta << alpha: scipy's hyp2f1 gives NaN, the quadrature does not."""
    assert math.isnan(hyp2f1(1.0, 300.5, 302.1, (1e5 - 1) / (1e5 + 5)))
    # Where scipy works, the quadrature agrees with it to 1e-12.
    order, z = np.array([31.1]), np.array([0.999])
    by_quadrature = purchase_models._log_hyp2f1_near_one(order, 1.6, z)[0] + 0.6 * math.log1p(
        -0.999
    )
    assert by_quadrature == pytest.approx(math.log(hyp2f1(1.0, 30.5, 32.1, 0.999)), rel=1e-12)
    fit = make_fit("pareto-nbd", r=0.5, alpha=1e5, s=0.6, beta=1.0)
    values = purchase_models.probability_alive(fit, [300, 30], [5, 5], [50, 50])
    assert np.all(np.isfinite(values))


def simulate_store_without_dropout(
    customers: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Everyone buys at the same rate (one order in 120 days) for two years and nobody leaves:
    the case neither model's dropout (nor Pareto/NBD's rate spread) can be identified on."""
    rng = np.random.default_rng(seed)
    first = rng.integers(0, 730, customers)
    x, t_x, T = [], [], []
    for start in first:
        days = np.sort(rng.uniform(start, 730, rng.poisson((730 - start) / 120)).astype(int))
        repeats = np.unique(days[days > start])
        x.append(len(repeats))
        t_x.append((repeats[-1] if len(repeats) else start) - start)
        T.append(730 - start)
    rows, counts = np.unique(np.column_stack([x, t_x, T]), axis=0, return_counts=True)
    return rows[:, 0], rows[:, 1], rows[:, 2], counts


def test_a_fit_whose_parameters_run_off_is_kept_as_the_limit_case() -> None:
    """Pareto/NBD on a store where nobody drops out: s/beta and r/alpha run off; the fit stops
    there (it used to wander for minutes and then fail) and says so in ``at_limit``."""
    x, t_x, T, weights = simulate_store_without_dropout(300, seed=7)
    fit = purchase_models.fit_purchase_model("pareto-nbd", x, t_x, T, weights)
    assert fit.at_limit
    assert fit.covariance is None
    log_params = np.log(list(fit.params.values()))
    assert np.abs(log_params).max() >= 10.0
    alive = purchase_models.probability_alive(fit, x, t_x, T)
    expected = purchase_models.expected_purchases(fit, 365, x, t_x, T)
    assert np.isfinite(alive).all() and np.isfinite(expected).all()
    assert alive.min() > 0.9  # the limit case of a store without dropout: everyone is active


def test_a_well_identified_fit_is_not_at_its_limit() -> None:
    x, t_x, T = simulate_store(2_000, seed=3)
    fit = purchase_models.fit_purchase_model("bgnbd", x, t_x, T, np.ones_like(x))
    assert not fit.at_limit
    assert fit.covariance is not None


def test_bgnbd_gradient_matches_the_likelihood():
    """The exact gradient the fit uses equals central differences of the summed likelihood."""
    x, t_x, T = simulate_store(400, seed=5)
    weights = np.arange(1, 401) % 3 + 1.0
    rows = purchase_models._histories(x, t_x, T)
    at = np.log([0.4, 30.0, 0.7, 2.5])

    def summed(log_params):
        return np.dot(weights, purchase_models._log_likelihood("bgnbd", np.exp(log_params), rows))

    value, gradient = purchase_models._bgnbd_log_likelihood_and_gradient(at, rows, weights)
    assert value == pytest.approx(summed(at), rel=1e-12)
    step = 1e-5
    numeric = [(summed(at + e) - summed(at - e)) / (2 * step) for e in np.eye(4) * step]
    np.testing.assert_allclose(gradient, numeric, rtol=1e-6)
