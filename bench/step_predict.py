"""Issue 15's speed target: fit and score the BG/NBD and Gamma-Gamma models for every customer.

Ours is what ``python -m dashboard predict --model bgnbd`` computes: the per-customer purchase
summary in DuckDB, the models fitted on the compressed sufficient statistics (one row per
distinct (x, t_x, T)) with the likelihoods' exact gradients, every customer scored (P(alive),
churn risk, next order date, CLV and its range) by a join back. The reference is the plain way:
the same per-customer summary by one hand-written DuckDB query, BG/NBD's and Gamma-Gamma's
likelihoods summed over one row per customer and maximised by the same scipy optimiser
(L-BFGS-B, numeric gradients) from the same start, then every customer's expected orders and
predicted CLV computed row by row in numpy. Both fit the same customers; their BG/NBD
log-likelihoods must agree (``compare_fits``: on a flat likelihood the parameters may not).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
from scipy.optimize import minimize
from scipy.special import gammaln, hyp2f1

from bench.checks import Figures
from dashboard import engines, order_rules
from dashboard.predict import pipeline

HORIZON_DAYS = 365
# Relative agreement of the two fits' log-likelihoods: the optimisers stop at slightly different
# points of a flat likelihood, so the bench asks for an equally good fit, not the same digits.
LIKELIHOOD_TOLERANCE = 1e-4

SUMMARY_SQL = """
WITH days AS (
    SELECT customer_id, CAST(ordered_at AS DATE) AS day, sum(order_total) AS value
    FROM orders
    WHERE customer_id IS NOT NULL AND NOT is_cancelled AND order_total > 0
      AND CAST(ordered_at AS DATE) <= ?
    GROUP BY ALL
)
SELECT
    count(*) - 1 AS x,
    date_diff('day', min(day), max(day)) AS t_x,
    date_diff('day', min(day), CAST(? AS DATE)) AS t,
    CAST((sum(value) - arg_min(value, day)) / greatest(count(*) - 1, 1) AS DOUBLE) AS m
FROM days
GROUP BY customer_id
"""


def predict_ours(
    workspace: Path, dataset: str, as_of: dt.date
) -> tuple[pipeline.PredictionFit, pa.Table]:
    """Fit BG/NBD and Gamma-Gamma and score every customer, as the predict command does."""
    with engines.open_tables("duckdb", workspace=workspace, dataset=dataset) as tables:
        fit = pipeline.fit_predictions(tables, as_of, order_rules.DEFAULT_RULES, model="bgnbd")
        scores = pipeline.score_customers(tables, fit, pipeline.PredictionSettings()).to_pyarrow()
    return fit, scores


def read_ours(result: tuple[pipeline.PredictionFit, pa.Table]) -> Figures:
    """Return the customers scored and the repeat purchases they were fitted on."""
    fit, scores = result
    return {
        "customers": int(fit.compressed.customers.sum()),
        "repeat_purchases": int((fit.compressed.repeat_purchases * fit.compressed.customers).sum()),
        "scored": int(scores.num_rows - scores.column("p_alive").null_count),
    }


def _bgnbd_log_likelihood(
    log_params: np.ndarray, x: np.ndarray, t_x: np.ndarray, t: np.ndarray
) -> float:
    r, alpha, a, b = np.exp(log_params)
    common = (
        gammaln(r + x)
        - gammaln(r)
        + r * np.log(alpha)
        + gammaln(a + b)
        + gammaln(b + x)
        - gammaln(b)
        - gammaln(a + b + x)
    )
    stays = -(r + x) * np.log(alpha + t)
    with np.errstate(divide="ignore", invalid="ignore"):
        drops = np.where(
            x > 0,
            np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + t_x),
            -np.inf,
        )
    return float(np.sum(common + np.logaddexp(stays, drops)))


def _bgnbd_expected(
    params: np.ndarray, x: np.ndarray, t_x: np.ndarray, t: np.ndarray
) -> np.ndarray:
    r, alpha, a, b = params
    days = HORIZON_DAYS
    ratio = (alpha + t) / (alpha + t + days)
    term = (
        (a + b + x - 1)
        / (a - 1)
        * (1 - ratio ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, days / (alpha + t + days)))
    )
    alive_odds = np.where(x > 0, a / (b + x - 1) * ((alpha + t) / (alpha + t_x)) ** (r + x), 0.0)
    return term / (1 + alive_odds)


def _gamma_gamma_log_likelihood(log_params: np.ndarray, x: np.ndarray, m: np.ndarray) -> float:
    p, q, gamma = np.exp(log_params)
    px = p * x
    return float(
        np.sum(
            gammaln(px + q)
            - gammaln(px)
            - gammaln(q)
            + q * np.log(gamma)
            + (px - 1) * np.log(m)
            + px * np.log(x)
            - (px + q) * np.log(gamma + m * x)
        )
    )


def fit_spend_plain(x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Gamma-Gamma maximised over one row per repeat buyer (spend scaled by its mean, as ours).

    Out: each customer's expected order value (the population mean for one-time buyers).
    """
    repeat = x > 0
    mean = float(m[repeat].mean())
    rx, rm = x[repeat], m[repeat] / mean
    result = minimize(
        lambda p: -_gamma_gamma_log_likelihood(p, rx, rm),
        np.array([0.0, np.log(2.0), 0.0]),
        method="L-BFGS-B",
        jac="2-point",
        bounds=[(-20.0, 20.0)] * 3,
    )
    p, q, gamma = np.exp(result.x)
    gamma *= mean
    value = np.full(x.shape, p * gamma / (q - 1))
    value[repeat] = (gamma + m[repeat] * x[repeat]) * p / (p * x[repeat] + q - 1)
    return value


def predict_plain(database: Path, as_of: dt.date) -> tuple[np.ndarray, np.ndarray]:
    """One row per customer, BG/NBD and Gamma-Gamma maximised over all of them, every customer
    scored (expected orders and predicted CLV over the horizon)."""
    con = duckdb.connect(str(database), read_only=True)
    try:
        frame = con.execute(SUMMARY_SQL, [as_of, as_of]).fetchnumpy()
    finally:
        con.close()
    x, t_x, t, m = (frame[name].astype("float64") for name in ("x", "t_x", "t", "m"))
    with np.errstate(all="ignore"):
        result = minimize(
            lambda p: -_bgnbd_log_likelihood(p, x, t_x, t),
            np.zeros(4),
            method="L-BFGS-B",
            jac="3-point",
            bounds=[(-20.0, 20.0)] * 4,
        )
        params = np.exp(result.x)
        expected = _bgnbd_expected(params, x, t_x, t)
        clv = expected * fit_spend_plain(x, m)
    return np.append(params, -result.fun), np.column_stack([x, expected, clv])


def read_plain(result: tuple[np.ndarray, np.ndarray]) -> Figures:
    """Return the customers scored and the repeat purchases they were fitted on."""
    _, scored = result
    return {
        "customers": len(scored),
        "repeat_purchases": int(scored[:, 0].sum()),
        "scored": len(scored),
    }


def compare_fits(
    ours: tuple[pipeline.PredictionFit, pa.Table], plain: tuple[np.ndarray, np.ndarray]
) -> list[str]:
    """Return a line when the two BG/NBD fits' log-likelihoods differ by more than 0.01 %."""
    mine, theirs = ours[0].purchase.log_likelihood, float(plain[0][-1])
    if np.isclose(mine, theirs, rtol=LIKELIHOOD_TOLERANCE, atol=0.0):
        return []
    return [f"BG/NBD log-likelihood: ours {mine:.2f} != plain fit {theirs:.2f}"]
