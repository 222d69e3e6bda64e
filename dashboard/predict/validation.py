"""Validation on a holdout: fit before a calibration end, compare with what happened after it.

``validate_predictions`` fits a purchase model on the valid orders up to the calibration end and
compares its predictions with the holdout (calibration end, holdout end]: total repeat orders,
the cumulative tracking chart, the conditional-expectation chart by calibration frequency, the
per-customer error and a verdict in words. ``choose_model`` runs it for both purchase models
and picks one (``--model auto``). The rules are stated in docs/predictions.md, "Validation".

The per-customer work is Ibis and runs where the data is; only small grouped tables (one row per
distinct history and holdout count, per day, per first purchase day) come to numpy.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from dashboard import order_rules
from dashboard.errors import UserError
from dashboard.formatting import format_count
from dashboard.predict import purchase_models, summary
from dashboard.predict.model_errors import ModelFitError
from dashboard.predict.purchase_models import PurchaseFit

MODELS = ("bgnbd", "pareto-nbd")
# The verdict's thresholds. Totals: the predicted total within 10 % of the actual is good,
# within 25 % fair, else poor. Single customers: the per-customer mean absolute error as a
# share of the mean actual repeat orders per customer, up to 0.5 good, up to 1 rough, else
# unreliable.
TOTAL_GOOD, TOTAL_FAIR = 0.10, 0.25
CUSTOMER_GOOD, CUSTOMER_ROUGH = 0.5, 1.0
# choose_model's default split: the holdout is the last third of the history up to the analysis
# date, at most a year and at least 30 days.
HOLDOUT_MAX_DAYS, HOLDOUT_MIN_DAYS = 365, 30
FREQUENCY_CAP = 7


class HoldoutError(UserError):
    """The calibration end and holdout end do not give a period that can be validated."""


@dataclass(frozen=True)
class Validation:
    """A purchase model fitted up to ``calibration_end`` and compared with the holdout.

    ``tracking``: week_start (date), actual_cumulative (int), predicted_cumulative (float), one
    row per week from the calibration customers' first purchase day to ``holdout_until``.
    ``by_frequency``: calibration_repeat_purchases (str "0".."6", "7+"), customers (int),
    actual_mean, predicted_mean (float), one row per group that has customers.
    """

    model: str
    calibration_end: dt.date
    holdout_until: dt.date
    fit: PurchaseFit
    customers: int
    predicted_repeat_orders: float
    actual_repeat_orders: int
    tracking: pd.DataFrame
    by_frequency: pd.DataFrame
    mean_absolute_error: float
    root_mean_squared_error: float
    verdict: str


def validate_predictions(
    orders: ir.Table,
    calibration_end: dt.date,
    holdout_until: dt.date,
    rules: order_rules.CountingRules,
    model: str,
) -> Validation:
    """Fit ``model`` on the valid orders up to ``calibration_end``; compare with the holdout.

    In: a canonical ``orders`` table. The calibration customers are those with a valid order on
    or before ``calibration_end``; a customer's actual holdout repeat orders are the distinct
    days with a valid order in (calibration_end, holdout_until] (same-day orders count once);
    the prediction is the model's conditional expectation over the holdout's days given the
    customer's calibration history. Out: a ``Validation``.
    """
    if holdout_until <= calibration_end:
        raise HoldoutError(
            f"The holdout must end after the calibration end ({calibration_end.isoformat()}): "
            "choose a later holdout end."
        )
    latest = order_rules.latest_order_date(orders)
    if latest is None or latest < holdout_until:
        raise HoldoutError(
            f"The holdout runs to {holdout_until.isoformat()} but the orders end on "
            f"{latest.isoformat() if latest else 'no date (there are none)'}: choose a holdout "
            "end on or before the last order date."
        )
    calibration = summary.summarise_purchases(orders, calibration_end, rules)
    fit = _fit_calibration(calibration, model)
    histories, repeat_days, first_days = _collect_history(
        orders, calibration, calibration_end, holdout_until, rules
    )
    holdout_days = (holdout_until - calibration_end).days
    predicted = purchase_models.expected_purchases(
        fit,
        holdout_days,
        histories.repeat_purchases.to_numpy(float),
        histories.t_x_days.to_numpy(float),
        histories.T_days.to_numpy(float),
    )
    weights = histories.customers.to_numpy(float)
    actual = histories.actual.to_numpy(float)
    customers = int(weights.sum())
    error = predicted - actual
    mae = float(np.sum(weights * np.abs(error)) / customers)
    rmse = float(np.sqrt(np.sum(weights * error**2) / customers))
    predicted_total = float(np.sum(weights * predicted))
    actual_total = int(np.sum(weights * actual))
    return Validation(
        model=model,
        calibration_end=calibration_end,
        holdout_until=holdout_until,
        fit=fit,
        customers=customers,
        predicted_repeat_orders=predicted_total,
        actual_repeat_orders=actual_total,
        tracking=track_cumulative_purchases(fit, repeat_days, first_days, holdout_until),
        by_frequency=compare_by_frequency(histories, predicted),
        mean_absolute_error=mae,
        root_mean_squared_error=rmse,
        verdict=describe_verdict(predicted_total, actual_total, mae, customers),
    )


def choose_model(
    orders: ir.Table, as_of: dt.date, rules: order_rules.CountingRules
) -> tuple[str, dict[str, Validation]]:
    """Pick the purchase model with the lower per-customer holdout error (``--model auto``).

    The history runs from the first valid order to ``as_of``; the holdout is its last third, at
    most 365 and at least 30 days, so the calibration end is ``as_of`` minus that many days and
    the holdout ends on ``as_of``. Both models are validated on that split; the lower mean
    absolute error per customer wins, a tie goes to BG/NBD. A model that cannot be fitted on the
    calibration period is left out; when neither can be, its ``ModelFitError`` is raised. Out:
    the chosen name and the validation of each model that could be fitted.
    """
    calibration_end = find_calibration_end(orders, as_of, rules)
    validations: dict[str, Validation] = {}
    failures: list[ModelFitError] = []
    for model in MODELS:
        try:
            validations[model] = validate_predictions(orders, calibration_end, as_of, rules, model)
        except ModelFitError as exc:
            failures.append(exc)
    if not validations:
        raise failures[0]
    # MODELS lists BG/NBD first and min keeps the first of equal errors: a tie goes to BG/NBD.
    chosen = min(validations, key=lambda name: validations[name].mean_absolute_error)
    return chosen, validations


def find_calibration_end(
    orders: ir.Table, as_of: dt.date, rules: order_rules.CountingRules
) -> dt.date:
    """Return the default calibration end: ``as_of`` minus the last third of the history.

    In: a canonical ``orders`` table. The history runs from the first valid order of a known
    customer to ``as_of``; the holdout is a third of it, capped at 365 days. Raises
    ``ModelFitError`` when that third is under 30 days (a history under 90 days).
    """
    valid = order_rules.select_valid_orders(orders, rules, as_of=as_of)
    first = valid.ordered_at.min().execute()
    history_days = 0 if first is None or first != first else (as_of - first.date()).days
    holdout_days = min(HOLDOUT_MAX_DAYS, history_days // 3)
    if holdout_days < HOLDOUT_MIN_DAYS:
        raise ModelFitError(
            f"Choosing a model needs at least {3 * HOLDOUT_MIN_DAYS} days of orders up to the "
            f"analysis date to hold out the last third (there are {history_days}): pick bgnbd "
            "or pareto-nbd instead."
        )
    return as_of - dt.timedelta(days=holdout_days)


def track_cumulative_purchases(
    fit: PurchaseFit, repeat_days: pd.DataFrame, first_days: pd.DataFrame, until: dt.date
) -> pd.DataFrame:
    """Return the week-by-week cumulative repeat purchases, actual and model (Fader-Hardie).

    In: ``repeat_days`` (day: date, purchases: int: the calibration customers' repeat purchase
    days, first days excluded, on each day up to ``until``) and ``first_days``
    (first_purchase_on: date, customers: int). Weeks start on the earliest first purchase day
    and run 7 days, the last one cut at ``until``; each row counts up to its week's last day.
    The model's figure sums, over first purchase days d, customers(d) x
    E[X(week end - d)], the unconditional expectation since the first purchase.
    Out: week_start (date), actual_cumulative (int), predicted_cumulative (float).
    """
    first_on = _to_days(first_days.first_purchase_on)
    start = first_on.min()
    end = np.datetime64(until, "D")
    week_starts = np.arange(start, end + 1, 7)
    week_ends = np.minimum(week_starts + 6, end)
    repeat_on = _to_days(repeat_days.day)
    order = np.argsort(repeat_on)
    cumulative = np.concatenate([[0], np.cumsum(repeat_days.purchases.to_numpy(np.int64)[order])])
    actual = cumulative[np.searchsorted(repeat_on[order], week_ends, side="right")]
    elapsed = (week_ends[:, None] - first_on[None, :]).astype(np.int64)
    expected = np.zeros(elapsed.shape)
    started = elapsed > 0
    expected[started] = purchase_models.expected_purchases_since_first(
        fit, elapsed[started].astype(float)
    )
    predicted = expected @ first_days.customers.to_numpy(float)
    return pd.DataFrame(
        {
            "week_start": [day.item() for day in week_starts],
            "actual_cumulative": actual.astype(np.int64),
            "predicted_cumulative": predicted,
        }
    )


def compare_by_frequency(histories: pd.DataFrame, predicted: np.ndarray) -> pd.DataFrame:
    """Return mean actual and predicted holdout purchases by calibration repeat purchases.

    In: ``histories`` (repeat_purchases, actual, customers: one row per group of customers with
    the same history and holdout count) and each row's ``predicted`` purchases. Out:
    calibration_repeat_purchases (str "0".."6", "7+"), customers (int), actual_mean and
    predicted_mean (float, customer-weighted), one row per group with customers, in order.
    """
    weights = histories.customers.to_numpy(float)
    groups = np.minimum(histories.repeat_purchases.to_numpy(np.int64), FREQUENCY_CAP)
    frame = pd.DataFrame(
        {
            "group": groups,
            "customers": weights,
            "actual": weights * histories.actual.to_numpy(float),
            "predicted": weights * predicted,
        }
    )
    sums = frame.groupby("group").sum().sort_index()
    labels = [f"{FREQUENCY_CAP}+" if g == FREQUENCY_CAP else str(g) for g in sums.index]
    return pd.DataFrame(
        {
            "calibration_repeat_purchases": labels,
            "customers": sums.customers.to_numpy(np.int64),
            "actual_mean": (sums.actual / sums.customers).to_numpy(),
            "predicted_mean": (sums.predicted / sums.customers).to_numpy(),
        }
    )


def describe_verdict(
    predicted: float, actual: int, mean_absolute_error: float, customers: int
) -> str:
    """Return the validation's verdict as one sentence (thresholds: TOTAL_*, CUSTOMER_*)."""
    gap = (predicted - actual) / max(actual, 1)
    if actual == 0:
        happened = "none happened"
    elif round(predicted) == actual:
        happened = f"{format_count(actual)} happened (exactly)"
    else:
        direction = "over" if gap > 0 else "under"
        happened = f"{format_count(actual)} happened ({abs(gap) * 100:.1f} % {direction})"
    totals = "good" if abs(gap) <= TOTAL_GOOD else "fair" if abs(gap) <= TOTAL_FAIR else "poor"
    per_customer = mean_absolute_error * customers / max(actual, 1)
    single = (
        "good"
        if per_customer <= CUSTOMER_GOOD
        else "rough"
        if per_customer <= CUSTOMER_ROUGH
        else "unreliable"
    )
    return (
        f"The model predicted {format_count(predicted)} repeat orders in the holdout, {happened}; "
        f"per-customer error {mean_absolute_error:.2f} orders: {totals} for totals and segments, "
        f"{single} for single customers."
    )


def _fit_calibration(calibration: ir.Table, model: str) -> PurchaseFit:
    """Fit ``model`` on the compressed calibration summary (summary.compress_purchases rows)."""
    compressed = summary.compress_purchases(calibration).to_pandas()
    if compressed.empty:
        raise HoldoutError(
            "No customer made a valid order on or before the calibration end: choose a later "
            "calibration end."
        )
    return purchase_models.fit_purchase_model(
        model,
        compressed.repeat_purchases.to_numpy(float),
        compressed.t_x_days.to_numpy(float),
        compressed.T_days.to_numpy(float),
        compressed.customers.to_numpy(float),
    )


def _collect_history(
    orders: ir.Table,
    calibration: ir.Table,
    calibration_end: dt.date,
    holdout_until: dt.date,
    rules: order_rules.CountingRules,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Count the calibration customers' purchase days and bring the small groups to pandas.

    In: canonical ``orders`` and the calibration summary (summary.summarise_purchases at
    ``calibration_end``). Out: histories (repeat_purchases, t_x_days, T_days, actual, customers:
    customers per calibration history and holdout count), repeat days (day, purchases: repeat
    purchase days up to ``holdout_until``, first days excluded) and first days
    (first_purchase_on, customers).
    """
    valid = order_rules.select_valid_orders(orders, rules, as_of=holdout_until)
    days = valid.select("customer_id", day=valid.ordered_at.date()).distinct()
    known = days.join(calibration.select("customer_id", "first_purchase_on"), "customer_id")
    repeats = known.filter(known.day > known.first_purchase_on)
    per_day = repeats.group_by("day").aggregate(purchases=repeats.count())
    in_holdout = known.filter(known.day > calibration_end)
    holdout = in_holdout.group_by("customer_id").aggregate(actual=in_holdout.count())
    joined = calibration.left_join(holdout, calibration.customer_id == holdout.customer_id)
    histories = (
        joined.select(
            repeat_purchases=joined.repeat_purchases,
            t_x_days=joined.t_x_days,
            T_days=joined.T_days,
            actual=joined.actual.fill_null(0),
        )
        .group_by(["repeat_purchases", "t_x_days", "T_days", "actual"])
        .aggregate(customers=lambda t: t.count())
    )
    first_days = calibration.group_by("first_purchase_on").aggregate(customers=lambda t: t.count())
    return histories.to_pandas(), per_day.to_pandas(), first_days.to_pandas()


def _to_days(column: pd.Series) -> np.ndarray:
    """Return a date column as numpy days (datetime64[D]), whatever type the backend gave."""
    return pd.to_datetime(column).to_numpy().astype("datetime64[D]")
