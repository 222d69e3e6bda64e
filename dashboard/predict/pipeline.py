"""Fit the purchase and spend models on a dataset, then score every customer (docs/predictions.md).

``fit_predictions`` is the expensive step, once per dataset, analysis date and counting rules:
the per-customer summary and its compression run in Ibis where the data is, and only the
compressed table (one row per distinct (x, t_x, T), and per distinct (x, m) for the spend
model) comes to Python. ``score_customers`` is the cheap step a horizon, churn window or
discount rate re-runs without refitting: the compressed rows are scored in numpy, uploaded as a
memtable and joined back to the customers in Ibis.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from statistics import NormalDist

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from dashboard import engines, order_rules
from dashboard.errors import UserError
from dashboard.formatting import format_count
from dashboard.predict import purchase_models, spend_model, summary, validation
from dashboard.predict.model_errors import ModelFitError
from dashboard.predict.purchase_models import PurchaseFit
from dashboard.predict.spend_model import SpendFit

MODELS = ("bgnbd", "pareto-nbd")
MODEL_NAMES = {"bgnbd": "BG/NBD", "pareto-nbd": "Pareto/NBD"}
AUTO = "auto"
HISTORY_KEYS = ["repeat_purchases", "t_x_days", "T_days"]
# Klaviyo's thresholds for showing predictions; here they only raise a warning.
WEAK_REPEAT_BUYERS = 500
WEAK_HISTORY_DAYS = 180
RECENT_DAYS = 90
WEAK_TOP_PURCHASES = 3
# The uncertainty range: these percentiles of the delta method's log-normal approximation.
RANGE_PERCENTILES = (5.0, 95.0)
RANGE_Z = NormalDist().inv_cdf(RANGE_PERCENTILES[1] / 100)
LOW_CHURN, HIGH_CHURN = 0.33, 0.66
ALIVE_FOR_NEXT_ORDER = 0.5
NO_ORDERS_NOTE = "No orders yet: no prediction."
NO_VALID_ORDER_NOTE = (
    "No valid order yet (only cancelled, zero-value or return orders): no prediction."
)
MONEY = "decimal(38, 2)"


@dataclass(frozen=True)
class PredictionSettings:
    """What the scoring shows; changing these never refits the models."""

    horizon_days: int = 365
    churn_days: int = 90
    discount_rate: float = 0.0


@dataclass
class PredictionFit:
    """The fitted models of one dataset, analysis date and counting rules.

    ``compressed``: repeat_purchases, t_x_days, T_days, customers (one row per distinct
    history). ``spend_histories``: repeat_purchases, repeat_value_mean, customers (the repeat
    buyers the spend model was fitted on, one row per distinct pair). ``warnings``: sentences
    saying why the fit may be weak. ``model_choice``: both models' holdout validations when the
    model was chosen automatically.
    """

    dataset: str
    as_of: dt.date
    rules: order_rules.CountingRules
    model: str
    purchase: PurchaseFit
    spend: SpendFit
    compressed: pd.DataFrame
    warnings: tuple[str, ...]
    model_choice: dict[str, validation.Validation] | None
    spend_histories: pd.DataFrame = field(default_factory=pd.DataFrame)


def fit_predictions(
    tables: engines.EngineTables,
    as_of: dt.date,
    rules: order_rules.CountingRules = order_rules.DEFAULT_RULES,
    model: str = AUTO,
    dataset: str = "",
) -> PredictionFit:
    """Fit the purchase model (``model``, or the one with the lower holdout error for "auto")
    and the Gamma-Gamma spend model on the valid orders up to ``as_of``.

    In: the dataset's tables on any engine. Raises ModelFitError, one sentence, when there is
    nothing to learn from (no customer, one customer, one day of orders, nobody bought twice).
    """
    if model not in (*MODELS, AUTO):
        raise UserError(f"'{model}' is not a model; choose one of {', '.join((*MODELS, AUTO))}.")
    compressed, spend_histories = load_histories(tables.orders, as_of, rules)
    check_fit_data(compressed, as_of)
    warnings = list(describe_weak_data(compressed))
    model_choice = None
    candidates = [model]
    if model == AUTO:
        try:
            chosen, model_choice = validation.choose_model(tables.orders, as_of, rules)
        except UserError as exc:
            chosen = MODELS[0]
            warnings.append(f"BG/NBD is used because no model could be chosen on a holdout: {exc}")
        else:
            warnings.extend(
                f"{MODEL_NAMES[left_out]} was not compared: it could not be fitted on the "
                "calibration period of this data."
                for left_out in MODELS
                if left_out not in model_choice
            )
        candidates = [chosen, *(other for other in MODELS if other != chosen)]
    purchase = fit_first_model(candidates, compressed, warnings)
    spend = spend_model.fit_gamma_gamma(
        spend_histories.repeat_purchases.to_numpy(),
        spend_histories.repeat_value_mean.to_numpy(),
        spend_histories.customers.to_numpy(),
    )
    if spend.fallback:
        warnings.append(spend.fallback)
    if purchase.at_limit:
        warnings.append(
            f"The {MODEL_NAMES[purchase.model]} model's parameters ran off to their limit: this "
            "data barely shows customers dropping out (or differing in how often they buy), so "
            "the predictions are the model's limit case and have no uncertainty range."
        )
    elif purchase.covariance is None:
        warnings.append(
            "The purchase model's standard errors could not be computed, so predicted CLV "
            "has no uncertainty range."
        )
    return PredictionFit(
        dataset=dataset,
        as_of=as_of,
        rules=rules,
        model=purchase.model,
        purchase=purchase,
        spend=spend,
        compressed=compressed,
        warnings=tuple(warnings),
        model_choice=model_choice,
        spend_histories=spend_histories,
    )


def load_histories(
    orders: ir.Table, as_of: dt.date, rules: order_rules.CountingRules
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The two compressed tables the models are fitted on, from one per-customer summary.

    Out: (repeat_purchases, t_x_days, T_days, customers: int64, one row per distinct history;
    repeat_purchases, repeat_value_mean, customers: one row per distinct pair of the repeat
    buyers with a positive mean). The summary is cached on the engine while both are read, so
    the orders are summarised once.
    """
    with summary.summarise_purchases(orders, as_of, rules).cache() as per_customer:
        compressed = summary.compress_purchases(per_customer).to_pandas().astype("int64")
        repeat = per_customer.filter(
            (per_customer.repeat_purchases > 0) & (per_customer.repeat_value_mean > 0)
        )
        spend_histories = (
            repeat.group_by(["repeat_purchases", "repeat_value_mean"])
            .aggregate(customers=repeat.count().cast("int64"))
            .order_by(["repeat_purchases", "repeat_value_mean"])
            .to_pandas()
        )
    return compressed, spend_histories


def fit_first_model(
    candidates: list[str], compressed: pd.DataFrame, warnings: list[str]
) -> PurchaseFit:
    """Fit the first of ``candidates`` that can be fitted and is identified on all the data.

    A later candidate is tried (``--model auto`` only) when the first one, although it won on
    the holdout, cannot be fitted on all the data or its fit runs off to the model's limit case
    (which has no uncertainty range); ``warnings`` gets the reason. When every fit runs off, the
    first limit case is kept; when none can be fitted, the last ModelFitError is raised.
    """
    arrays = [compressed[c].to_numpy() for c in (*HISTORY_KEYS, "customers")]
    reasons: dict[str, str] = {}
    limit_case: PurchaseFit | None = None
    for name in candidates:
        try:
            fit = purchase_models.fit_purchase_model(name, *arrays)
        except ModelFitError as exc:
            if limit_case is None and name == candidates[-1]:
                raise
            reasons[name] = str(exc)
            continue
        if not fit.at_limit:
            break
        reasons[name] = (
            f"The {MODEL_NAMES[name]} model won on the holdout, but on all the data its "
            "parameters run off to their limit (so its predictions would have no uncertainty "
            "range)."
        )
        limit_case = limit_case or fit
    else:
        fit = limit_case
    if fit.model != candidates[0]:
        warnings.append(f"{reasons[candidates[0]]} {MODEL_NAMES[fit.model]} is used instead.")
    return fit


def check_fit_data(compressed: pd.DataFrame, as_of: dt.date) -> None:
    """Raise ModelFitError when the compressed histories cannot identify a model.

    In: repeat_purchases, t_x_days, T_days, customers, one row per distinct history.
    """
    customers = int(compressed.customers.sum())
    if customers == 0:
        raise ModelFitError(
            f"No customer has a valid order on or before {as_of}, so there is nothing to fit; "
            "choose a later analysis date or load orders with a customer."
        )
    if customers == 1:
        raise ModelFitError(
            f"Only one customer has a valid order up to {as_of}; the models learn from many "
            "customers, so load more orders."
        )
    if (compressed.repeat_purchases == 0).all():
        if compressed.T_days.nunique() == 1:
            day = as_of - dt.timedelta(days=int(compressed.T_days.iloc[0]))
            raise ModelFitError(
                f"All valid orders up to {as_of} are on one day ({day}), so there is no history "
                "to learn from; load orders from more days."
            )
        raise ModelFitError(
            f"Nobody bought on two different days up to {as_of}, so the models cannot learn how "
            "often customers come back; they need some repeat purchases."
        )


def describe_weak_data(compressed: pd.DataFrame) -> list[str]:
    """Return one sentence per reason the fit may be weak (no gate: the fit still runs).

    In: repeat_purchases, t_x_days, T_days, customers, one row per distinct history.
    """
    repeat_buyers = int(compressed.customers[compressed.repeat_purchases > 0].sum())
    history_days = int(compressed.T_days.max())
    days_since_last = int((compressed.T_days - compressed.t_x_days).min())
    warnings = []
    if repeat_buyers < WEAK_REPEAT_BUYERS:
        warnings.append(
            f"Only {format_count(repeat_buyers)} customers bought more than once (fewer than "
            f"{WEAK_REPEAT_BUYERS}): the predictions are rough."
        )
    if history_days < WEAK_HISTORY_DAYS:
        warnings.append(
            f"The orders cover only {history_days} days (under {WEAK_HISTORY_DAYS}): the models "
            "see little of how often customers come back."
        )
    if days_since_last >= RECENT_DAYS:
        warnings.append(
            f"No valid order in the {RECENT_DAYS} days up to the analysis date: the models cannot "
            "tell recent customers from lapsed ones."
        )
    if int(compressed.repeat_purchases.max()) < WEAK_TOP_PURCHASES - 1:
        warnings.append(
            f"No customer bought on {WEAK_TOP_PURCHASES} or more days: the models extrapolate "
            "repeat buying from second purchases only."
        )
    return warnings


def score_histories(fit: PredictionFit, settings: PredictionSettings) -> pd.DataFrame:
    """Score each distinct history of ``fit.compressed`` in numpy.

    Out: repeat_purchases, t_x_days, T_days (int64), p_alive, expected_orders (over the horizon,
    undiscounted), discounted_orders (the same, each order discounted at the annual rate),
    churn_risk (no order in the next churn_days), churn_band, expected_next_order_on (date, null
    when p_alive < 0.5), clv_low_factor and clv_high_factor (discounted orders scaled to the 5th
    and 95th percentile of predicted CLV's range; null without standard errors).
    """
    compressed = fit.compressed
    x = compressed.repeat_purchases.to_numpy(dtype="float64")
    t_x = compressed.t_x_days.to_numpy(dtype="float64")
    big_t = compressed.T_days.to_numpy(dtype="float64")
    purchase = fit.purchase
    p_alive = purchase_models.probability_alive(purchase, x, t_x, big_t)
    expected = purchase_models.expected_purchases(purchase, settings.horizon_days, x, t_x, big_t)
    discounted = expected
    if settings.discount_rate:
        discounted = purchase_models.expected_purchases(
            purchase, settings.horizon_days, x, t_x, big_t, settings.discount_rate
        )
    churn_risk = purchase_models.probability_no_purchase(
        purchase, settings.churn_days, x, t_x, big_t
    )
    wait = purchase_models.median_days_to_next_purchase(purchase, x, t_x, big_t)
    next_order = date_next_orders(fit.as_of, wait, p_alive)
    low, high = estimate_clv_range(fit, discounted, settings, x, t_x, big_t)
    return pd.DataFrame(
        {
            "repeat_purchases": compressed.repeat_purchases.to_numpy(dtype="int64"),
            "t_x_days": compressed.t_x_days.to_numpy(dtype="int64"),
            "T_days": compressed.T_days.to_numpy(dtype="int64"),
            "p_alive": p_alive,
            "expected_orders": expected,
            "discounted_orders": discounted,
            "churn_risk": churn_risk,
            "churn_band": name_churn_bands(churn_risk),
            "expected_next_order_on": next_order,
            "clv_low_factor": low,
            "clv_high_factor": high,
        }
    )


def date_next_orders(as_of: dt.date, wait: np.ndarray, p_alive: np.ndarray) -> np.ndarray:
    """Return the expected date of each history's next order: the analysis date plus the median
    wait rounded up to whole days (at least 1), None when P(alive) < 0.5 (object array of
    datetime.date; dates stop at 9999-12-31)."""
    known = (p_alive >= ALIVE_FOR_NEXT_ORDER) & np.isfinite(wait)
    latest = (dt.date.max - as_of).days
    days = np.clip(np.ceil(np.where(known, wait, 1.0)), 1, latest).astype("int64")
    dates = np.datetime64(as_of, "D") + days.astype("timedelta64[D]")
    # datetime64[D] becomes datetime.date, and NaT None, as objects.
    return np.where(known, dates, np.datetime64("NaT", "D")).astype(object)


def name_churn_bands(risk: np.ndarray) -> np.ndarray:
    """Return Klaviyo's band of each churn risk: Low below 0.33, High above 0.66, else Medium
    (an object array of strings)."""
    bands = np.select([risk < LOW_CHURN, risk > HIGH_CHURN], ["Low", "High"], "Medium")
    return bands.astype(object)


def estimate_clv_range(
    fit: PredictionFit,
    discounted: np.ndarray,
    settings: PredictionSettings,
    x: np.ndarray,
    t_x: np.ndarray,
    big_t: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Return the low and high factors of predicted CLV's 5-95 % range per compressed history.

    The delta method on the log scale: log predicted CLV = log(discounted expected orders) +
    log(expected order value); its variance is g' C g summed over the two models (fitted
    separately, so independent), with g the gradient in the model's log-parameters and C their
    covariance (the inverse Hessian). The spend part is taken at the mean repeat spend of the
    repeat buyers with the same x (the approximation: it is per x, not per customer). The range
    is discounted orders x exp(-/+ 1.645 sd); a customer's range is the factor times their own
    expected order value. NaN when the purchase model has no standard errors.
    """
    purchase = fit.purchase
    if purchase.covariance is None:
        nan = np.full(x.shape, np.nan)
        return nan, nan
    gradient = purchase_models.log_expected_purchases_gradient(
        purchase, settings.horizon_days, x, t_x, big_t, settings.discount_rate
    )
    variance = np.einsum("ij,jk,ik->i", gradient, purchase.covariance, gradient)
    variance += spend_variance(fit, x)
    spread = np.exp(RANGE_Z * np.sqrt(np.maximum(variance, 0.0)))
    return discounted / spread, discounted * spread


def spend_variance(fit: PredictionFit, x: np.ndarray) -> np.ndarray:
    """Return, per history, the delta method's variance of log expected order value at the
    mean repeat spend of the repeat buyers with the same x (0 when the spend model fell back
    or has no standard errors)."""
    spend = fit.spend
    if spend.params is None or spend.covariance is None:
        return np.zeros(x.size)
    histories = fit.spend_histories
    weights = histories.customers.to_numpy(dtype="float64")
    spent = histories.repeat_value_mean.to_numpy(dtype="float64") * weights
    by_x = pd.DataFrame({"x": histories.repeat_purchases, "spent": spent, "weights": weights})
    totals = by_x.groupby("x").sum()
    mean_spend = pd.Series(totals.spent / totals.weights).reindex(x).to_numpy()
    mean_spend = np.where(np.isnan(mean_spend), spend.population_mean, mean_spend)
    gradient = spend_model.log_expected_order_value_gradient(spend, x, mean_spend)
    return np.einsum("ij,jk,ik->i", gradient, spend.covariance, gradient)


def score_customers(
    tables: engines.EngineTables, fit: PredictionFit, settings: PredictionSettings
) -> ir.Table:
    """Every known customer with their predictions, as an Ibis table on the tables' engine.

    Out: one row per customer of the customers table or with an order up to the analysis date:
    customer_id, repeat_purchases, t_x_days, T_days (int64), p_alive, expected_orders (float64),
    expected_order_value, predicted_clv, predicted_clv_low, predicted_clv_high, historic_clv,
    total_clv (decimal(38, 2), cents), churn_risk (float64), churn_band (Low | Medium | High),
    expected_next_order_on (date), prediction_note (null, or why there is no prediction).
    Customers without a valid order have null predictions and a note.
    """
    orders = tables.orders
    per_customer = summary.summarise_purchases(orders, fit.as_of, fit.rules)
    scores = score_histories(fit, settings)
    scores_table = ibis.memtable(
        scores,
        schema={
            "repeat_purchases": "int64",
            "t_x_days": "int64",
            "T_days": "int64",
            "p_alive": "float64",
            "expected_orders": "float64",
            "discounted_orders": "float64",
            "churn_risk": "float64",
            "churn_band": "string",
            "expected_next_order_on": "date",
            "clv_low_factor": "float64",
            "clv_high_factor": "float64",
        },
    )
    scored = per_customer.inner_join(scores_table, HISTORY_KEYS)
    order_value = build_order_value(fit.spend, scored.repeat_purchases, scored.repeat_value_mean)
    predicted = (scored.discounted_orders * order_value).round(2).cast(MONEY)
    predicted_rows = scored.select(
        customer_id=scored.customer_id.cast("string"),
        repeat_purchases=scored.repeat_purchases,
        t_x_days=scored.t_x_days,
        T_days=scored.T_days,
        p_alive=scored.p_alive,
        expected_orders=scored.expected_orders,
        expected_order_value=order_value.round(2).cast(MONEY),
        predicted_clv=predicted,
        predicted_clv_low=(scored.clv_low_factor * order_value).round(2).cast(MONEY),
        predicted_clv_high=(scored.clv_high_factor * order_value).round(2).cast(MONEY),
        historic_clv=scored.historic_clv,
        total_clv=(scored.historic_clv + predicted).cast(MONEY),
        churn_risk=scored.churn_risk,
        churn_band=scored.churn_band,
        expected_next_order_on=scored.expected_next_order_on,
        prediction_note=ibis.null("string"),
    )
    return predicted_rows.union(select_unpredicted(tables, fit))


def build_order_value(
    spend: SpendFit, repeats: ir.IntegerValue, mean_spend: ir.FloatingValue
) -> ir.FloatingValue:
    """The expected value of a customer's next order (Gamma-Gamma's conditional mean).

    (gamma + m x) p / (p x + q - 1) for a repeat buyer, the population mean for a one-time
    buyer; under the fallback a repeat buyer's own mean repeat spend.
    """
    population = ibis.literal(float(spend.population_mean), "float64")
    if spend.params is None:
        own = mean_spend
    else:
        p, q, gamma = (float(spend.params[k]) for k in ("p", "q", "gamma"))
        x = repeats.cast("float64")
        own = (gamma + mean_spend * x) * p / (p * x + (q - 1))
    return ibis.ifelse((repeats > 0) & mean_spend.notnull(), own, population)


def select_unpredicted(tables: engines.EngineTables, fit: PredictionFit) -> ir.Table:
    """The known customers without a valid order up to the analysis date, with their note.

    Known: with any order up to the analysis date, or in the customers table. Out: the columns
    of ``score_customers``, predictions null; historic_clv is the net of their counted orders
    (0 without any). One pass over the orders, without the purchase summary.
    """
    orders = tables.orders
    placed = orders.filter(orders.customer_id.notnull() & (orders.ordered_at.date() <= fit.as_of))
    seen = placed.group_by(customer_id=placed.customer_id.cast("string")).aggregate(
        purchased=order_rules.is_valid(placed, fit.rules).any(),
        net=placed.net_total.sum(where=order_rules.is_counted(placed, fit.rules)),
    )
    rows = seen.filter(~seen.purchased).select("customer_id", "net", has_orders=ibis.literal(True))
    if tables.customers is not None:
        customers = tables.customers
        listed = customers.select(customer_id=customers.customer_id.cast("string")).distinct()
        rows = rows.union(
            listed.anti_join(seen, "customer_id").select(
                "customer_id", net=ibis.null(seen.net.type()), has_orders=ibis.literal(False)
            )
        )
    return rows.select(
        customer_id=rows.customer_id.cast("string"),
        repeat_purchases=ibis.null("int64"),
        t_x_days=ibis.null("int64"),
        T_days=ibis.null("int64"),
        p_alive=ibis.null("float64"),
        expected_orders=ibis.null("float64"),
        expected_order_value=ibis.null(MONEY),
        predicted_clv=ibis.null(MONEY),
        predicted_clv_low=ibis.null(MONEY),
        predicted_clv_high=ibis.null(MONEY),
        historic_clv=rows.net.cast(MONEY).fill_null(ibis.literal(0, MONEY)),
        total_clv=ibis.null(MONEY),
        churn_risk=ibis.null("float64"),
        churn_band=ibis.null("string"),
        expected_next_order_on=ibis.null("date"),
        prediction_note=ibis.ifelse(rows.has_orders, NO_VALID_ORDER_NOTE, NO_ORDERS_NOTE),
    )
