"""BG/NBD and Pareto/NBD: how many purchases a customer will make, fitted by maximum likelihood.

Pure numpy and scipy on arrays, one element per row of the compressed purchase summary (a
distinct history ``x, t_x, T`` and the number of customers who share it); no Ibis here. Time is
in DAYS everywhere: ``t_x`` and ``T`` are whole days, ``alpha`` and ``beta`` are reported per day
(the literature's weekly CDNOW ``alpha`` is this ``alpha / 7``). The formulas, their sources and
the conventions are in docs/predictions.md, "Models".

- BG/NBD: Fader, Hardie & Lee (2005), "Counting your customers the easy way: an alternative to
  the Pareto/NBD model", Marketing Science 24(2); P(alive): Fader, Hardie & Lee (2008), note 021.
- Pareto/NBD: Schmittlein, Morrison & Colombo (1987), Management Science 33(1); the likelihood,
  P(alive) and conditional expectation as in Fader & Hardie (2005), "A note on deriving the
  Pareto/NBD model and related expressions" (note 009), eqs. 18-22, 36-41.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.polynomial.legendre import leggauss
from scipy.optimize import OptimizeResult, minimize
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1

from dashboard.predict.estimation import estimate_covariance, has_converged
from dashboard.predict.model_errors import ModelFitError, PredictionSettingError

MODELS = ("bgnbd", "pareto-nbd")
PARAM_NAMES = {"bgnbd": ("r", "alpha", "a", "b"), "pareto-nbd": ("r", "alpha", "s", "beta")}
MODEL_LABELS = {"bgnbd": "BG/NBD", "pareto-nbd": "Pareto/NBD"}
# The parameters measured in time (scale parameters of the purchase and dropout rates).
_TIME_PARAMS = {"bgnbd": (1,), "pareto-nbd": (1, 3)}
# The optimiser works on log-parameters with time rescaled so the longest history is 10 units
# (so every parameter starts near 1); these bounds keep exp() finite, and a parameter that ends on
# one is reported without a covariance.
_LOG_BOUND = 15.0
# Enough for every real store we fitted (CDNOW converges in under 60); a fit that needs more is
# wandering on a flat likelihood and ends in ModelFitError instead of minutes of work.
_MAX_ITERATIONS = 200
# A parameter beyond e^11 (about 60,000) on the optimiser's scale (where the longest history is
# 10 time units, so real fits sit within e^+-4) means the likelihood is flat in that direction
# (e.g. every customer buys at the same rate): the model is not identified. Pareto/NBD stops
# sooner, at e^7 (about 1,100): its hypergeometric terms cost more the larger r + x, a third of
# a second per evaluation near e^8 on the demo store's 10,000 customers, where L-BFGS-B then
# stalls for minutes; BG/NBD's closed form has no such cost, and its dropout parameter b
# legitimately reaches the thousands when few customers drop out.
_RUNAWAY_LOG = {"bgnbd": 11.0, "pareto-nbd": 7.0}
_SCALED_LONGEST_HISTORY = 10.0
# The discounted expectation sums the expected purchases of each step of at most this many days,
# discounted at the step's midpoint.
DISCOUNT_STEP_DAYS = 7.0
DAYS_PER_YEAR = 365.0
_LEGENDRE = leggauss(256)
# BG/NBD's expectations divide by a - 1: near a = 1 they average a = 1 -/+ this.
_NEAR_ONE = 1e-5
# Step on the log-parameters of the central differences of ``log_expected_purchases_gradient``.
GRADIENT_STEP = 1e-4


@dataclass(frozen=True)
class PurchaseFit:
    """A fitted purchase model.

    ``params`` in ``PARAM_NAMES[model]`` order, per day; ``log_likelihood`` of the fitted rows
    (times in days); ``covariance`` of the log-parameters in that order (the inverse Hessian of
    the negative log-likelihood), None when it is singular or a parameter sits on a bound;
    ``customers`` = sum of the weights; ``repeat_buyers`` = customers with ``x > 0``;
    ``at_limit``: a parameter ran off towards 0 or infinity (the data do not identify the model,
    e.g. nobody seems to drop out), so the fit is the model's limit case, stopped at e^+-11
    (Pareto/NBD: e^+-7) on the optimiser's scale.
    """

    model: str
    params: dict[str, float]
    log_likelihood: float
    covariance: np.ndarray | None
    customers: int
    repeat_buyers: int
    at_limit: bool = False


def fit_purchase_model(model: str, x, t_x, T, weights) -> PurchaseFit:
    """Fit ``model`` ("bgnbd" or "pareto-nbd") by maximum likelihood on compressed rows.

    In: equal-length arrays, one element per distinct history: ``x`` repeat purchases (int >= 0),
    ``t_x`` days from first to last purchase, ``T`` days from first purchase to the analysis date
    (0 <= t_x <= T), ``weights`` the number of customers with that history. Out: the fit.
    The likelihood is summed over rows times their weights, maximised by L-BFGS-B on the
    log-parameters (Nelder-Mead from there when L-BFGS-B stops short); a run whose parameters
    run off past e^+-11 (Pareto/NBD: e^+-7) stops there and is kept as the limit case
    (``at_limit``). Raises ``ModelFitError`` for one customer, all histories of length 0,
    nobody with a repeat purchase, or no convergence.
    """
    _check_model(model)
    x, t_x, T, weights = _check_rows(x, t_x, T, weights)
    customers = int(round(weights.sum()))
    repeat_buyers = int(round(weights[x > 0].sum()))
    label = MODEL_LABELS[model]
    if customers < 2:
        raise ModelFitError(
            f"The {label} model cannot be fitted from a single customer: it needs the histories "
            "of many customers, so load more orders or choose a later analysis date."
        )
    if not (T > 0).any():
        raise ModelFitError(
            f"The {label} model cannot be fitted: every customer's first purchase is on the "
            "analysis date, so there is no history yet; choose a later analysis date."
        )
    if repeat_buyers == 0:
        raise ModelFitError(
            f"The {label} model cannot be fitted: no customer bought on two different days, so "
            "there is nothing to learn about how often customers come back."
        )
    scale = _SCALED_LONGEST_HISTORY / T.max()
    scaled = _histories(x, t_x * scale, T * scale)
    total = weights.sum()

    def mean_negative_log_likelihood(log_params: np.ndarray) -> float:
        value = -np.dot(weights, _log_likelihood(model, np.exp(log_params), scaled)) / total
        return value if np.isfinite(value) else np.inf

    with_gradient = None
    if model == "bgnbd":

        def with_gradient(log_params: np.ndarray) -> tuple[float, np.ndarray]:
            value, gradient = _bgnbd_log_likelihood_and_gradient(log_params, scaled, weights)
            if not np.isfinite(value) or not np.all(np.isfinite(gradient)):
                return np.inf, np.zeros(4)
            return -value / total, -gradient / total

    log_params = _minimise(mean_negative_log_likelihood, label, _RUNAWAY_LOG[model], with_gradient)
    shift = np.zeros(4)
    shift[list(_TIME_PARAMS[model])] = np.log(scale)
    log_params_days = log_params - shift
    in_days = _histories(x, t_x, T)

    def negative_log_likelihood(log_params: np.ndarray) -> float:
        return -np.dot(weights, _log_likelihood(model, np.exp(log_params), in_days))

    at_bound = bool(np.any(np.abs(log_params) >= _RUNAWAY_LOG[model]))
    return PurchaseFit(
        model=model,
        params=dict(zip(PARAM_NAMES[model], np.exp(log_params_days).tolist(), strict=True)),
        log_likelihood=float(-negative_log_likelihood(log_params_days)),
        covariance=None
        if at_bound
        else estimate_covariance(negative_log_likelihood, log_params_days),
        customers=customers,
        repeat_buyers=repeat_buyers,
        at_limit=at_bound,
    )


def probability_alive(fit: PurchaseFit, x, t_x, T) -> np.ndarray:
    """P(the customer has not dropped out by T | x, t_x, T), one value per row (days).

    BG/NBD: 1 / (1 + [x > 0] a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x)) (note 021),
    so 1 for x = 0; Pareto/NBD: note 009, eq. 36. Both are the likelihood's "alive" share.
    """
    values = _probability_alive(fit.model, _param_array(fit), _histories(x, t_x, T))
    return values.reshape(_shape(x, t_x, T))


def expected_purchases(
    fit: PurchaseFit, days, x, t_x, T, annual_discount_rate: float = 0.0
) -> np.ndarray:
    """Conditional expected number of purchases in (T, T + days] given x, t_x, T (one per row).

    P(alive) times the expectation of an active customer: BG/NBD FHL (2005) eq. 10, Pareto/NBD
    note 009 eq. 41. With ``annual_discount_rate`` > 0 a purchase ``u`` days after T counts
    (1 + rate)^(-u / 365): the period is cut into equal steps of at most 7 days, and each step's
    expected purchases (the difference of the undiscounted expectation at its two ends) is
    discounted at the step's midpoint. At rate 0 this is the undiscounted expectation exactly.
    """
    shape, days, histories = _prepare_expectation(days, x, t_x, T, annual_discount_rate)
    values = _expected_purchases(
        fit.model, _param_array(fit), histories, days, annual_discount_rate
    )
    return values.reshape(shape)


def log_expected_purchases_gradient(
    fit: PurchaseFit, days, x, t_x, T, annual_discount_rate: float = 0.0
) -> np.ndarray:
    """d log(expected purchases in (T, T + days]) / d log-parameter, per row and parameter.

    Out: shape (*rows, 4), parameters in ``PARAM_NAMES[fit.model]`` order, by central
    differences of step 1e-4 on the log-parameters (the rows are prepared once for all eight
    evaluations); 0 where the expectation is 0 (a horizon of 0 days). With the covariance of
    the log-parameters this gives the delta method's variance of log expected purchases.
    """
    shape, days, histories = _prepare_expectation(days, x, t_x, T, annual_discount_rate)
    centre = np.log(_param_array(fit))
    columns = []
    for step in np.eye(centre.size) * GRADIENT_STEP:
        above, below = (
            _expected_purchases(
                fit.model, np.exp(centre + sign * step), histories, days, annual_discount_rate
            )
            for sign in (1.0, -1.0)
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            slope = (np.log(above) - np.log(below)) / (2 * GRADIENT_STEP)
        columns.append(np.where((above > 0) & (below > 0), slope, 0.0))
    return np.stack(columns, axis=-1).reshape((*shape, centre.size))


def _prepare_expectation(
    days, x, t_x, T, annual_discount_rate: float
) -> tuple[tuple[int, ...], np.ndarray, _Histories]:
    """Check the horizon and rate; return the rows' shape, the days (one per row when an
    array) and the prepared rows."""
    if not annual_discount_rate >= 0:
        raise PredictionSettingError(
            "The discount rate must be 0 or more (0.1 means 10 % a year), not "
            f"{annual_discount_rate}."
        )
    shape = _shape(x, t_x, T)
    days = _check_days(days)
    if np.ndim(days) > 0:
        days = np.broadcast_to(days, shape).ravel()
    return shape, days, _histories(x, t_x, T)


def _expected_purchases(
    model: str, params: np.ndarray, histories: _Histories, days: np.ndarray, rate: float
) -> np.ndarray:
    """``expected_purchases`` on prepared rows, flat."""
    alive = _probability_alive(model, params, histories)
    expected_if_alive = _EXPECTED_IF_ALIVE[model]
    if rate == 0:
        return alive * expected_if_alive(params, histories, days)
    steps = max(1, int(np.ceil(np.max(days) / DISCOUNT_STEP_DAYS)))
    discounted = np.zeros(histories.x.shape)
    before = np.zeros(histories.x.shape)
    for step in range(1, steps + 1):
        after = expected_if_alive(params, histories, days * step / steps)
        midpoint = days * (step - 0.5) / steps
        discount = (1.0 + rate) ** (-midpoint / DAYS_PER_YEAR)
        discounted += (after - before) * discount
        before = after
    return alive * discounted


def probability_no_purchase(fit: PurchaseFit, days, x, t_x, T) -> np.ndarray:
    """P(no purchase in (T, T + days] | x, t_x, T): the churn risk, one value per row.

    Exactly the likelihood of the same history watched ``days`` longer over its likelihood,
    L(x, t_x, T + days) / L(x, t_x, T); for BG/NBD this is
    1 - P(alive) + P(alive) ((alpha + T) / (alpha + T + days))^(r + x).
    """
    shape = _shape(x, t_x, T)
    days = _check_days(days)
    x, t_x, T = np.broadcast_arrays(*_as_float_arrays(x, t_x, T))
    params = _param_array(fit)
    now = _log_likelihood(fit.model, params, _histories(x, t_x, T))
    later = _log_likelihood(fit.model, params, _histories(x, t_x, T + days))
    return np.clip(np.exp(later - now), 0.0, 1.0).reshape(shape)


def median_days_to_next_purchase(fit: PurchaseFit, x, t_x, T) -> np.ndarray:
    """Median wait in days from T to the next purchase of a customer who is still active.

    An active customer's purchase rate is Gamma(r + x, alpha + T) given their history, so the
    wait w has P(W > w) = ((alpha + T) / (alpha + T + w))^(r + x), whose median is
    (alpha + T)(2^(1 / (r + x)) - 1). Dropout is not counted here (P(alive) says that).
    """
    x, _, T = np.broadcast_arrays(*_as_float_arrays(x, t_x, T))
    r, alpha = fit.params["r"], fit.params["alpha"]
    return (alpha + T) * np.expm1(np.log(2.0) / (r + x))


def expected_purchases_since_first(fit: PurchaseFit, t) -> np.ndarray:
    """Unconditional E[X(t)]: repeat purchases of a new customer in the t days after the first.

    BG/NBD: FHL (2005) eq. 9; Pareto/NBD: note 009 eq. 27. Used for the tracking chart.
    """
    t = np.asarray(t, dtype=float)
    return _UNCONDITIONAL_EXPECTATION[fit.model](_param_array(fit), t)


def _check_model(model: str) -> None:
    if model not in MODELS:
        raise ValueError(f"Unknown purchase model {model!r}; expected one of {MODELS}.")


def _check_rows(x, t_x, T, weights) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Validate the compressed rows; drop rows of weight 0. Out: float arrays x, t_x, T, w."""
    x, t_x, T, weights = _as_float_arrays(x, t_x, T, weights)
    if not (x.shape == t_x.shape == T.shape == weights.shape) or x.ndim != 1:
        raise ValueError("x, t_x, T and weights must be 1-d arrays of one length.")
    if (
        np.any(x < 0)
        or np.any(x != np.round(x))
        or np.any(t_x < 0)
        or np.any(t_x > T)
        or np.any(weights < 0)
        or not np.all(np.isfinite(np.stack([x, t_x, T, weights])))
    ):
        raise ValueError("Rows need whole x >= 0, 0 <= t_x <= T and weights >= 0.")
    keep = weights > 0
    return x[keep], t_x[keep], T[keep], weights[keep]


def _check_days(days) -> np.ndarray:
    days = np.asarray(days, dtype=float)
    if np.any(days < 0) or not np.all(np.isfinite(days)):
        raise PredictionSettingError(
            "A prediction horizon or churn window must be a number of days, 0 or more."
        )
    return days


def _as_float_arrays(*arrays) -> list[np.ndarray]:
    return [np.asarray(array, dtype=float) for array in arrays]


def _param_array(fit: PurchaseFit) -> np.ndarray:
    return np.array([fit.params[name] for name in PARAM_NAMES[fit.model]], dtype=float)


def _minimise(
    objective: Callable[[np.ndarray], float],
    label: str,
    runaway: float,
    with_gradient: Callable[[np.ndarray], tuple[float, np.ndarray]] | None = None,
) -> np.ndarray:
    """Minimise ``objective`` over 4 log-parameters from 0; raise ModelFitError if it fails.

    L-BFGS-B uses ``with_gradient`` (the objective and its exact gradient) when given, else
    forward differences. A run stopped because a parameter ran off past e^+-``runaway``
    returns where it stopped.
    """
    bounds = [(-_LOG_BOUND, _LOG_BOUND)] * 4

    def stop_at_runaway(intermediate_result: OptimizeResult) -> None:
        if np.any(np.abs(intermediate_result.x) >= runaway):
            raise StopIteration

    with np.errstate(all="ignore"):
        result = minimize(
            with_gradient or objective,
            np.zeros(4),
            method="L-BFGS-B",
            jac=True if with_gradient else "2-point",
            bounds=bounds,
            options={"maxiter": _MAX_ITERATIONS, "ftol": 1e-13, "gtol": 1e-9},
            callback=stop_at_runaway,
        )
        # Parameters pinned at a bound mean the data cannot identify the model (e.g. nobody
        # seems to drop out): a polish there costs minutes and cannot succeed.
        at_bound = bool(np.any(np.abs(result.x) >= runaway))
        if with_gradient and has_converged(result):
            result.success = True
        elif not result.success and np.isfinite(result.fun) and not at_bound:
            result = minimize(
                objective,
                result.x,
                method="Nelder-Mead",
                bounds=bounds,
                options={"maxiter": 4 * _MAX_ITERATIONS, "xatol": 1e-8, "fatol": 1e-12},
            )
    if not (result.success or at_bound) or not np.isfinite(result.fun):
        raise ModelFitError(
            f"The {label} model could not be fitted: the optimiser did not converge on this "
            "data; try the other model or a later analysis date."
        )
    return result.x


# --- Rows and their distinct values ------------------------------------------------------------


@dataclass(frozen=True)
class _Histories:
    """Rows (x, t_x, T) with their distinct x and distinct (x, t_x) and (x, T) pairs.

    The special functions (log-gamma, beta, hypergeometric) depend on x or on (x, time) only,
    so they are evaluated once per distinct value and gathered back to the rows: 1M customers
    have a few dozen distinct x and some thousands of pairs.
    """

    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    distinct_x: np.ndarray
    x_rows: np.ndarray
    recency_x: np.ndarray
    recency_t: np.ndarray
    recency_rows: np.ndarray
    age_x: np.ndarray
    age_t: np.ndarray
    age_rows: np.ndarray


def _histories(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> _Histories:
    x, t_x, T = np.broadcast_arrays(*_as_float_arrays(x, t_x, T))
    x, t_x, T = x.ravel(), t_x.ravel(), T.ravel()
    distinct_x, x_rows = np.unique(x, return_inverse=True)
    # A complex key sorts by (real, imaginary): one np.unique finds the distinct pairs.
    recency, recency_rows = np.unique(x + 1j * t_x, return_inverse=True)
    age, age_rows = np.unique(x + 1j * T, return_inverse=True)
    return _Histories(
        x,
        t_x,
        T,
        distinct_x,
        x_rows,
        recency.real,
        recency.imag,
        recency_rows,
        age.real,
        age.imag,
        age_rows,
    )


def _shape(x, t_x, T) -> tuple[int, ...]:
    return np.broadcast_shapes(np.shape(x), np.shape(t_x), np.shape(T))


def _log_likelihood(model: str, params: np.ndarray, h: _Histories) -> np.ndarray:
    common, alive, dropped = _LOG_PARTS[model](params, h)
    return common + np.logaddexp(alive, dropped)


def _probability_alive(model: str, params: np.ndarray, h: _Histories) -> np.ndarray:
    _, alive, dropped = _LOG_PARTS[model](params, h)
    with np.errstate(invalid="ignore"):
        return expit(alive - dropped)


# --- BG/NBD -------------------------------------------------------------------------------------


def _bgnbd_log_parts(params: np.ndarray, h: _Histories):
    """log of the likelihood's common factor, its "alive at T" and its "dropped at t_x" terms.

    L = Gamma(r+x) alpha^r B(a, b+x) / (Gamma(r) B(a, b))
        * [(alpha+T)^-(r+x) + [x > 0] a / (b+x-1) (alpha+t_x)^-(r+x)]   (FHL 2005, eq. 6)
    """
    r, alpha, a, b = params
    x = h.distinct_x
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x) - betaln(a, b)
    with np.errstate(invalid="ignore", divide="ignore"):
        log_odds = np.where(x > 0, np.log(a) - np.log(b + np.maximum(x, 1.0) - 1), -np.inf)
    rx = r + h.x
    alive = -rx * np.log(alpha + h.T)
    dropped = log_odds[h.x_rows] - rx * np.log(alpha + h.t_x)
    return common[h.x_rows], alive, dropped


def _bgnbd_log_likelihood_and_gradient(
    log_params: np.ndarray, h: _Histories, weights: np.ndarray
) -> tuple[float, np.ndarray]:
    """The weighted sum of log L over the rows and its gradient in log r, alpha, a, b.

    With A = -(r+x) log(alpha+T), D = log a - log(b+x-1) - (r+x) log(alpha+t_x) (x > 0 only) and
    the "alive" share s = e^A / (e^A + e^D), the derivatives of log L are
    r: psi(r+x) - psi(r) + log alpha - s log(alpha+T) - (1-s) log(alpha+t_x);
    alpha: r/alpha - (r+x) (s/(alpha+T) + (1-s)/(alpha+t_x));
    a: psi(a+b) - psi(a+b+x) + (1-s)/a;  b: psi(b+x) - psi(a+b+x) - psi(b) + psi(a+b) -
    (1-s)/(b+x-1). Terms of x alone are taken per distinct x, weighted by its customers.
    """
    params = np.exp(log_params)
    r, alpha, a, b = params
    x = h.distinct_x
    rows = h.x_rows
    per_x = np.bincount(rows, weights=weights, minlength=x.size)
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x) - betaln(a, b)
    repeat = x > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        log_odds = np.where(repeat, np.log(a) - np.log(b + np.maximum(x, 1.0) - 1), -np.inf)
    rx = r + h.x
    log_age, log_recency = np.log(alpha + h.T), np.log(alpha + h.t_x)
    alive = -rx * log_age
    dropped = log_odds[rows] - rx * log_recency
    # log(e^A + e^D) and the alive share e^A / (e^A + e^D) from one exponential.
    higher = np.maximum(alive, dropped)
    smaller = np.exp(-np.abs(alive - dropped))
    both = higher + np.log1p(smaller)
    value = np.dot(per_x, common) + np.dot(weights, both)
    alive_share = np.where(alive >= dropped, 1.0, smaller) / (1.0 + smaller)
    dropped_weight = weights * (1.0 - alive_share)
    alive_weight = weights - dropped_weight
    dropped_per_x = np.bincount(rows, weights=dropped_weight, minlength=x.size)
    d_r = np.dot(per_x, digamma(r + x) - digamma(r) + np.log(alpha)) - (
        np.dot(alive_weight, log_age) + np.dot(dropped_weight, log_recency)
    )
    d_alpha = r / alpha * per_x.sum() - np.dot(
        rx, alive_weight / (alpha + h.T) + dropped_weight / (alpha + h.t_x)
    )
    d_a = np.dot(per_x, digamma(a + b) - digamma(a + b + x)) + dropped_per_x.sum() / a
    d_b = np.dot(per_x, digamma(b + x) - digamma(a + b + x) - digamma(b) + digamma(a + b)) - np.dot(
        dropped_per_x[repeat], 1.0 / (b + x[repeat] - 1)
    )
    return float(value), np.array([d_r, d_alpha, d_a, d_b]) * params


def _bgnbd_expected_if_alive(params: np.ndarray, h: _Histories, days: np.ndarray) -> np.ndarray:
    """E[purchases in (T, T + days] | alive at T, x, T]: FHL (2005) eq. 10 without P(alive).

    (a+b+x-1)/(a-1) [1 - ((alpha+T)/(alpha+T+days))^(r+x) 2F1(r+x, b+x; a+b+x-1; z)] with
    z = days / (alpha+T+days), evaluated once per distinct (x, T) when days is one number.
    """
    r, alpha, a, b = params
    if abs(a - 1) < _NEAR_ONE / 2:
        # The formula is 0/0 at a = 1; it is smooth in a, so take the mean of both sides.
        below, above = params.copy(), params.copy()
        below[2], above[2] = 1 - _NEAR_ONE, 1 + _NEAR_ONE
        return (
            _bgnbd_expected_if_alive(below, h, days) + _bgnbd_expected_if_alive(above, h, days)
        ) / 2
    if np.ndim(days) == 0:
        x, T, rows = h.age_x, h.age_t, h.age_rows
    else:
        x, T, rows = h.x, h.T, slice(None)
    rx, bx, c = r + x, b + x, a + b + x - 1
    z = days / (alpha + T + days)
    log_ratio = rx * np.log((alpha + T) / (alpha + T + days))
    with np.errstate(all="ignore"):
        direct = np.log(hyp2f1(rx, bx, c, z)) + log_ratio
        # Euler's transformation, for where the direct series overflows near z = 1.
        euler = np.log(hyp2f1(c - rx, c - bx, c, z)) + (c - rx - bx) * np.log1p(-z) + log_ratio
    log_term = np.where(np.isfinite(direct), direct, euler)
    return (c / (a - 1) * -np.expm1(log_term))[rows]


def _bgnbd_unconditional_expectation(params: np.ndarray, t: np.ndarray) -> np.ndarray:
    r, alpha, a, b = params
    if abs(a - 1) < _NEAR_ONE / 2:
        below, above = params.copy(), params.copy()
        below[2], above[2] = 1 - _NEAR_ONE, 1 + _NEAR_ONE
        return (
            _bgnbd_unconditional_expectation(below, t) + _bgnbd_unconditional_expectation(above, t)
        ) / 2
    z = t / (alpha + t)
    with np.errstate(all="ignore"):
        direct = np.log(hyp2f1(r, b, a + b - 1, z)) + r * np.log(alpha / (alpha + t))
        euler = np.log(hyp2f1(a + b - 1 - r, a - 1, a + b - 1, z))
        euler = euler + (a - 1) * np.log(alpha / (alpha + t))
    log_term = np.where(np.isfinite(direct), direct, euler)
    return (a + b - 1) / (a - 1) * -np.expm1(log_term)


# --- Pareto/NBD ---------------------------------------------------------------------------------


def _log_tail(params: np.ndarray, x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """log of the integral from t to infinity of (alpha+u)^-(r+x) (beta+u)^-(s+1) du.

    Its closed form is (m+t)^-(r+s+x) 2F1(r+s+x, .; r+s+x+1; |alpha-beta| / (m+t)) / (r+s+x)
    with m = max(alpha, beta) (note 009, eqs. 19-20). Euler's transformation turns the
    hypergeometric function into 2F1(1, .; r+s+x+1; z), a series of positive terms; for
    alpha >= beta it converges at z = 1 (to (r+s+x)/s). scipy's hyp2f1 returns NaN there for
    r+x above about 200 with z within 1e-3 of 1; those values come from ``_log_hyp2f1_near_one``.
    """
    r, alpha, s, beta = params
    rx = r + x
    order = r + s + x
    if alpha >= beta:
        z = (alpha - beta) / (alpha + t)
        log_series = np.log(hyp2f1(1.0, rx, order + 1, z))
        failed = ~np.isfinite(log_series)
        if failed.any():
            log_series[failed] = _log_hyp2f1_near_one(
                order[failed], s + 1, z[failed]
            ) + s * np.log1p(-z[failed])
        log_powers = -rx * np.log(alpha + t) - s * np.log(beta + t)
        return log_powers - np.log(order) + log_series
    z = (beta - alpha) / (beta + t)
    series = hyp2f1(1.0, s + 1, order + 1, z)
    log_powers = (1 - rx) * np.log(alpha + t) - (s + 1) * np.log(beta + t)
    return log_powers - np.log(order) + np.log(series)


def _log_hyp2f1_near_one(order: np.ndarray, power: float, z: np.ndarray) -> np.ndarray:
    """log 2F1(order, power; order+1; z) for 0 <= z < 1, by quadrature.

    2F1(K, q; K+1; z) = K * integral over (0, inf) of exp(-K e) (1 - z exp(-e))^-q de; the
    integrand is smooth in log(e), so a 256-node Gauss-Legendre rule on log(e) from
    1e-16 min(1 - z, 1/K) to 40/K gives about 13 correct digits.
    """
    nodes, node_weights = _LEGENDRE
    gap = 1.0 - z
    low = np.log(1e-16 * np.minimum(gap, 1.0 / order))
    high = np.log(40.0 / order)
    half = ((high - low) / 2)[:, None]
    log_e = ((high + low) / 2)[:, None] + half * nodes
    e = np.exp(log_e)
    log_integrand = (
        -order[:, None] * e - power * np.log(gap[:, None] + z[:, None] * -np.expm1(-e)) + log_e
    )
    peak = log_integrand.max(axis=1, keepdims=True)
    total = (np.exp(log_integrand - peak) * node_weights).sum(axis=1, keepdims=True) * half
    return np.log(order) + (peak + np.log(total))[:, 0]


def _pareto_log_parts(params: np.ndarray, h: _Histories):
    """log of the likelihood's common factor, its "alive at T" and its "died in (t_x, T]" terms.

    L = Gamma(r+x) alpha^r beta^s / Gamma(r)
        * [(alpha+T)^-(r+x) (beta+T)^-s
           + s * integral over (t_x, T) of (alpha+u)^-(r+x) (beta+u)^-(s+1) du]
    (note 009, eq. 18); the integral is tail(t_x) - tail(T), taken in logs.
    """
    r, alpha, s, beta = params
    common = gammaln(r + h.distinct_x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    alive = -(r + h.x) * np.log(alpha + h.T) - s * np.log(beta + h.T)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_first = _log_tail(params, h.recency_x, h.recency_t)[h.recency_rows]
        log_last = _log_tail(params, h.age_x, h.age_t)[h.age_rows]
        gap = np.minimum(log_last - log_first, 0.0)
        dropped = np.log(s) + log_first + np.log(-np.expm1(gap))
    return common[h.x_rows], alive, dropped


def _pareto_expected_if_alive(params: np.ndarray, h: _Histories, days: np.ndarray) -> np.ndarray:
    """E[purchases in (T, T + days] | alive at T, x, T]: note 009 eq. 41 without P(alive).

    (r+x)(beta+T) / ((alpha+T)(s-1)) [1 - ((beta+T)/(beta+T+days))^(s-1)].
    """
    r, alpha, s, beta = params
    log_ratio = np.log((beta + h.T) / (beta + h.T + days))
    return (r + h.x) * (beta + h.T) / (alpha + h.T) * _one_minus_power_over(log_ratio, s - 1)


def _pareto_unconditional_expectation(params: np.ndarray, t: np.ndarray) -> np.ndarray:
    r, alpha, s, beta = params
    return r * beta / alpha * _one_minus_power_over(np.log(beta / (beta + t)), s - 1)


def _one_minus_power_over(log_base: np.ndarray, exponent: float) -> np.ndarray:
    """(1 - base^exponent) / exponent, and its limit -log(base) at exponent 0."""
    if abs(exponent) < 1e-12:
        return -log_base
    return -np.expm1(exponent * log_base) / exponent


_LOG_PARTS = {"bgnbd": _bgnbd_log_parts, "pareto-nbd": _pareto_log_parts}
_EXPECTED_IF_ALIVE = {"bgnbd": _bgnbd_expected_if_alive, "pareto-nbd": _pareto_expected_if_alive}
_UNCONDITIONAL_EXPECTATION = {
    "bgnbd": _bgnbd_unconditional_expectation,
    "pareto-nbd": _pareto_unconditional_expectation,
}
