"""Gamma-Gamma: the expected value of a customer's future orders, fitted by maximum likelihood.

Pure numpy and scipy on arrays. A repeat buyer's order values are Gamma(p, nu) around their own
mean p / nu, and nu varies across customers as Gamma(q, gamma) (Fader & Hardie (2013), "The
Gamma-Gamma model of monetary value", note 025; Colombo & Jiang (1999)). The model assumes spend
does not depend on purchase frequency; on stores where it does the fit runs off to its bounds,
so a degenerate fit falls back to each customer's own mean (docs/predictions.md, "Models").
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy.optimize import minimize
from scipy.special import digamma, gammaln

from dashboard.predict.estimation import estimate_covariance, has_converged
from dashboard.predict.model_errors import ModelFitError

PARAM_NAMES = ("p", "q", "gamma")
# Fewer repeat buyers than this do not pin three parameters down: the fallback is used.
MIN_REPEAT_BUYERS = 10
# The model's population mean E[M] = p gamma / (q - 1) must lie within this factor of the
# observed mean of the repeat buyers' mean spend, or the fit is taken as degenerate.
MEAN_TOLERANCE = 1.25
# Log-parameter bounds, with spend rescaled so the observed mean is 1; a fit ending within
# _AT_BOUND of one has run off to it.
_LOG_BOUND = 10.0
_AT_BOUND = 1e-2
# Step on the log-parameters of the central differences of the gradient.
GRADIENT_STEP = 1e-4
_FALLBACK_USED = (
    "so each repeat buyer's own mean repeat order value is used as their expected order value"
)


@dataclass(frozen=True)
class SpendFit:
    """A fitted Gamma-Gamma spend model, or the fallback estimate when it cannot be trusted.

    ``params`` p, q, gamma (None under the fallback); ``log_likelihood`` of the repeat buyers'
    mean spends; ``covariance`` of the log-parameters in that order (None when singular or under
    the fallback); ``customers`` the repeat buyers used; ``fallback`` one sentence saying why the
    fallback is used (None when the model is used); ``population_mean`` the expected order value
    of a customer without repeat purchases: p gamma / (q - 1), or under the fallback the weighted
    mean of the repeat buyers' mean repeat spend.
    """

    params: dict[str, float] | None
    log_likelihood: float | None
    covariance: np.ndarray | None
    customers: int
    fallback: str | None
    population_mean: float


def fit_gamma_gamma(x, m, weights) -> SpendFit:
    """Fit Gamma-Gamma on the repeat buyers' mean repeat spend (compressed rows welcome).

    In: equal-length arrays: ``x`` repeat purchases, ``m`` the mean value of those repeat
    purchases, ``weights`` customers per row. Rows with x = 0, a missing m or m <= 0 are left
    out (the model needs positive spends). Out: the fit, or a fallback (params None, one
    sentence in ``fallback``) when there are fewer than 10 repeat buyers, all spends are equal,
    or the fit is degenerate (q <= 1, a parameter on an optimiser bound, E[M] more than 25 %
    away from the observed mean, or no convergence). Raises ``ModelFitError`` when nobody made
    a repeat purchase with a positive value.
    """
    x, m, weights = (np.asarray(values, dtype=float).ravel() for values in (x, m, weights))
    keep = (x > 0) & np.isfinite(m) & (m > 0) & (weights > 0)
    x, m, weights = x[keep], m[keep], weights[keep]
    customers = int(round(weights.sum()))
    if customers == 0:
        raise ModelFitError(
            "The spend model cannot be fitted: no customer made a repeat purchase with a "
            "positive value, so there is no repeat spend to learn from."
        )
    observed_mean = float(np.dot(weights, m) / weights.sum())

    def fallback(reason: str) -> SpendFit:
        return SpendFit(None, None, None, customers, f"{reason}, {_FALLBACK_USED}.", observed_mean)

    if customers < MIN_REPEAT_BUYERS:
        return fallback(
            f"The Gamma-Gamma spend model needs at least {MIN_REPEAT_BUYERS} repeat buyers and "
            f"this data has {customers}"
        )
    if np.ptp(m) <= 1e-9 * observed_mean:
        return fallback(
            "All repeat buyers spend the same per order, so the Gamma-Gamma spend model has "
            "nothing to fit"
        )
    scaled_m = m / observed_mean
    total = weights.sum()

    def mean_negative_log_likelihood(log_params: np.ndarray) -> float:
        value = -np.dot(weights, _log_likelihood(np.exp(log_params), x, scaled_m)) / total
        return value if np.isfinite(value) else np.inf

    rows = _SpendRows.prepare(x, scaled_m, weights)

    def with_gradient(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        value, gradient = _log_likelihood_and_gradient(log_params, rows)
        if not np.isfinite(value) or not np.all(np.isfinite(gradient)):
            return np.inf, np.zeros(3)
        return -value / total, -gradient / total

    bounds = [(-_LOG_BOUND, _LOG_BOUND)] * 3
    with np.errstate(all="ignore"):
        result = minimize(
            with_gradient,
            np.array([0.0, np.log(2.0), 0.0]),
            method="L-BFGS-B",
            jac=True,
            bounds=bounds,
            options={"maxiter": 1000, "ftol": 1e-13, "gtol": 1e-9},
        )
        if has_converged(result):
            result.success = True
        elif np.isfinite(result.fun):
            result = minimize(
                mean_negative_log_likelihood,
                result.x,
                method="Nelder-Mead",
                bounds=bounds,
                options={"maxiter": 3000, "xatol": 1e-8, "fatol": 1e-12},
            )
    if np.any(np.abs(result.x) >= _LOG_BOUND - _AT_BOUND):
        return fallback(
            "The Gamma-Gamma spend model ran off to its bounds, which happens when order value "
            "rises or falls with how often customers buy"
        )
    if not result.success or not np.isfinite(result.fun):
        return fallback("The Gamma-Gamma spend model did not converge on this data")
    log_params = result.x + np.array([0.0, 0.0, np.log(observed_mean)])
    p, q, gamma = np.exp(log_params)
    if q <= 1:
        return fallback(
            f"The Gamma-Gamma spend model found q = {q:.2f} <= 1, so its mean order value "
            "is infinite"
        )
    population_mean = p * gamma / (q - 1)
    if not 1 / MEAN_TOLERANCE <= population_mean / observed_mean <= MEAN_TOLERANCE:
        return fallback(
            f"The Gamma-Gamma spend model's mean order value ({population_mean:.2f}) is far from "
            f"the observed mean ({observed_mean:.2f})"
        )

    def negative_log_likelihood(log_params: np.ndarray) -> float:
        return -np.dot(weights, _log_likelihood(np.exp(log_params), x, m))

    return SpendFit(
        params={"p": float(p), "q": float(q), "gamma": float(gamma)},
        log_likelihood=float(-negative_log_likelihood(log_params)),
        covariance=estimate_covariance(negative_log_likelihood, log_params),
        customers=customers,
        fallback=None,
        population_mean=float(population_mean),
    )


def expected_order_value(fit: SpendFit, x, m) -> np.ndarray:
    """Expected value of a customer's future orders, one value per row.

    x > 0: (gamma + m x) p / (p x + q - 1) (note 025, eq. 5), a weighted average of the
    customer's own mean m and the population mean; x = 0: the population mean. Under the
    fallback: m for x > 0, the population mean for x = 0.
    """
    x, m = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(m, dtype=float))
    repeat = x > 0
    if fit.params is None or fit.fallback is not None:
        own = m
    else:
        p, q, gamma = (fit.params[name] for name in PARAM_NAMES)
        with np.errstate(invalid="ignore"):
            own = (gamma + m * x) * p / (p * x + q - 1)
    return np.where(repeat, own, fit.population_mean)


def log_expected_order_value_gradient(fit: SpendFit, x, m) -> np.ndarray:
    """d log(expected order value) / d log-parameter, per row and parameter (p, q, gamma).

    Out: shape (rows, 3) by central differences of step 1e-4 on the log-parameters, the
    population mean p gamma / (q - 1) of one-time buyers moving with them; all 0 under the
    fallback (it has no parameters, so no model uncertainty).
    """
    x, m = (
        values.ravel() for values in np.broadcast_arrays(np.asarray(x, float), np.asarray(m, float))
    )
    if fit.params is None or fit.fallback is not None:
        return np.zeros((x.size, len(PARAM_NAMES)))
    centre = np.log([fit.params[name] for name in PARAM_NAMES])
    columns = []
    for step in np.eye(centre.size) * GRADIENT_STEP:
        above, below = (
            np.log(expected_order_value(_moved(fit, np.exp(centre + sign * step)), x, m))
            for sign in (1.0, -1.0)
        )
        columns.append((above - below) / (2 * GRADIENT_STEP))
    return np.stack(columns, axis=-1)


def _moved(fit: SpendFit, params: np.ndarray) -> SpendFit:
    """``fit`` with other parameters, its population mean recomputed from them."""
    p, q, gamma = params
    moved = dict(zip(PARAM_NAMES, params.tolist(), strict=True))
    return replace(fit, params=moved, population_mean=float(p * gamma / (q - 1)))


@dataclass(frozen=True)
class _SpendRows:
    """Weighted rows (x, m) with what the likelihood needs of them that no parameter changes:
    per distinct x its customers and the sums of w log m; per row x m."""

    weights: np.ndarray
    spent: np.ndarray
    x_rows: np.ndarray
    distinct_x: np.ndarray
    per_x: np.ndarray
    log_m_per_x: np.ndarray

    @classmethod
    def prepare(cls, x: np.ndarray, m: np.ndarray, weights: np.ndarray) -> _SpendRows:
        distinct_x, x_rows = np.unique(x, return_inverse=True)
        size = distinct_x.size
        return cls(
            weights=weights,
            spent=m * x,
            x_rows=x_rows,
            distinct_x=distinct_x,
            per_x=np.bincount(x_rows, weights=weights, minlength=size),
            log_m_per_x=np.bincount(x_rows, weights=weights * np.log(m), minlength=size),
        )


def _log_likelihood_and_gradient(
    log_params: np.ndarray, rows: _SpendRows
) -> tuple[float, np.ndarray]:
    """The weighted sum of ``_log_likelihood`` and its gradient in log p, q, gamma.

    With L = log(gamma + m x), the derivatives of one row's log density are
    p: x (psi(px+q) - psi(px) + log m + log x - L);  q: psi(px+q) - psi(q) + log gamma - L;
    gamma: q/gamma - (px+q)/(gamma + m x). Terms of x alone are taken per distinct x.
    """
    params = np.exp(log_params)
    p, q, gamma = params
    x, per_x = rows.distinct_x, rows.per_x
    px = p * x
    log_total = np.log(gamma + rows.spent)
    size = x.size
    log_total_per_x = np.bincount(rows.x_rows, weights=rows.weights * log_total, minlength=size)
    inverse_per_x = np.bincount(
        rows.x_rows, weights=rows.weights / (gamma + rows.spent), minlength=size
    )
    value = (
        np.dot(
            per_x, gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(gamma) + px * np.log(x)
        )
        + np.dot(px - 1, rows.log_m_per_x)
        - np.dot(px + q, log_total_per_x)
    )
    mixed = digamma(px + q)
    d_p = np.dot(x, per_x * (mixed - digamma(px) + np.log(x)) + rows.log_m_per_x - log_total_per_x)
    d_q = np.dot(per_x, mixed - digamma(q) + np.log(gamma)) - log_total_per_x.sum()
    d_gamma = q / gamma * per_x.sum() - np.dot(px + q, inverse_per_x)
    return float(value), np.array([d_p, d_q, d_gamma]) * params


def _log_likelihood(params: np.ndarray, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """log density of a mean spend m over x purchases (note 025, eq. 1a), one value per row.

    f(m | p, q, gamma, x) = Gamma(px + q) / (Gamma(px) Gamma(q)) gamma^q m^(px - 1) x^(px)
                            / (gamma + m x)^(px + q)
    """
    p, q, gamma = params
    px = p * x
    return (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(gamma)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(gamma + m * x)
    )
