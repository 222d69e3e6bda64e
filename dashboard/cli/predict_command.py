"""The ``predict`` command: every customer's predicted value and churn risk as CSV, the fitted
models as JSON (docs/predictions.md, "CLI")."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from dashboard.cli.engine_tables import find_latest_date, open_engine_tables
from dashboard.cli.options import (
    Commands,
    add_counting_options,
    add_engine_options,
    parse_date,
    read_counting_rules,
)
from dashboard.cli.output import name_output, tell, write_output
from dashboard.errors import UserError

if TYPE_CHECKING:
    import pandas as pd

    from dashboard.predict.pipeline import PredictionFit, PredictionSettings
    from dashboard.predict.validation import Validation

# pipeline.MODELS and pipeline.AUTO; named here so --help does not load scipy.
MODEL_CHOICES = ("auto", "bgnbd", "pareto-nbd")
COUNT_COLUMNS = ("repeat_purchases", "t_x_days", "T_days")


def parse_whole_days(text: str) -> int:
    """Parse a whole number of days above 0 (``--horizon-days``, ``--churn-days``)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number of days above 0")
    return value


def parse_rate(text: str) -> float:
    """Parse an annual discount rate such as ``0.1`` (10 %), 0 or above, below 1."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a rate from 0 to below 1 like 0.1")
    return value


def add_predict_command(commands: Commands, common: argparse.ArgumentParser) -> None:
    """Declare ``predict``, which fits BG/NBD or Pareto/NBD and Gamma-Gamma and scores customers."""
    predict = commands.add_parser(
        "predict",
        parents=[common],
        help="write every customer's probability alive, expected orders, predicted, historic and "
        "total CLV, churn risk and expected next order date as CSV (BG/NBD or Pareto/NBD with "
        "Gamma-Gamma), and the fitted models as JSON",
    )
    predict.add_argument(
        "--out", required=True, type=Path, help="customers CSV to write (- for standard output)"
    )
    predict.add_argument(
        "--model-out",
        type=Path,
        help="JSON file for the fitted models, counts and holdout figures (- for standard output)",
    )
    predict.add_argument(
        "--as-of",
        type=parse_date,
        help="analysis date: the fit sees valid orders up to it (default: latest order date); "
        "with --holdout-until, the calibration end",
    )
    predict.add_argument(
        "--model",
        default="auto",
        choices=MODEL_CHOICES,
        help="purchase model; auto picks the one with the lower per-customer holdout error "
        "(default auto)",
    )
    predict.add_argument(
        "--horizon-days",
        type=parse_whole_days,
        default=365,
        help="days ahead for expected orders and predicted CLV (default 365)",
    )
    predict.add_argument(
        "--churn-days",
        type=parse_whole_days,
        default=90,
        help="churn risk is the probability of no order in this many days (default 90)",
    )
    predict.add_argument(
        "--discount-rate",
        type=parse_rate,
        default=0.0,
        help="annual rate predicted CLV is discounted at, e.g. 0.1 (default 0: none)",
    )
    predict.add_argument(
        "--holdout-until",
        type=parse_date,
        help="validate: compare the fit up to --as-of with the orders after it up to this date "
        "(the figures go to --model-out)",
    )
    add_counting_options(predict)
    add_engine_options(predict)
    predict.set_defaults(run=run_predict)


def run_predict(args: argparse.Namespace, workspace: Path) -> None:
    """Fit the models on --dataset (on --engine), write the scored customers and the model.

    Weak-fit warnings go to stderr; a model that cannot be fitted is a ModelFitError (exit 2).
    """
    from dashboard import export
    from dashboard.predict import pipeline, validation

    if args.holdout_until is not None:
        if args.as_of is None:
            raise UserError("--holdout-until needs --as-of, the end of the calibration period.")
        if args.holdout_until <= args.as_of:
            raise UserError(
                f"--holdout-until ({args.holdout_until}) must be after --as-of ({args.as_of})."
            )
    rules = read_counting_rules(args)
    settings = pipeline.PredictionSettings(
        horizon_days=args.horizon_days,
        churn_days=args.churn_days,
        discount_rate=args.discount_rate,
    )
    with open_engine_tables(args, workspace) as tables:
        as_of = args.as_of or find_latest_date(tables, args.dataset)
        fit = pipeline.fit_predictions(tables, as_of, rules, args.model, args.dataset)
        scored = pipeline.score_customers(tables, fit, settings).order_by("customer_id")
        # Nullable integers: pandas would turn counts with empty cells into floats ("3.0").
        customers = scored.to_pandas().astype({column: "Int64" for column in COUNT_COLUMNS})
        holdout = None
        if args.holdout_until is not None:
            holdout = validation.validate_predictions(
                tables.orders, as_of, args.holdout_until, rules, fit.model
            )
    for warning in fit.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    write_output(args.out, export.to_csv_bytes(customers))
    if args.model_out is not None:
        described = describe_model(fit, settings, customers, holdout)
        # allow_nan=False: NaN or Infinity would make the file invalid JSON; a bug, not a file.
        text = json.dumps(described, indent=1, allow_nan=False)
        write_output(args.model_out, text.encode("utf-8"))
    predicted = int(customers.prediction_note.isna().sum())
    tell(
        f"Wrote {len(customers):,} customers of '{args.dataset}' ({predicted:,} with a prediction; "
        f"{fit.model}, analysis date {as_of}, next {settings.horizon_days} days) to "
        f"{name_output(args.out)}"
        + (f"; the model to {name_output(args.model_out)}." if args.model_out else "."),
        args.out,
        args.model_out,
    )


def describe_model(
    fit: PredictionFit,
    settings: PredictionSettings,
    customers: pd.DataFrame,
    holdout: Validation | None,
) -> dict[str, object]:
    """Return model.json: both fitted models, the counts, the settings, the warnings, the model
    choice (``--model auto``) and the holdout figures (``--holdout-until``).

    In: the fit, and the scored customers (the rows of ``pipeline.score_customers``).
    """
    purchase, spend = fit.purchase, fit.spend
    with_prediction = customers[customers.prediction_note.isna()]
    return {
        "dataset": fit.dataset,
        "calibration_end": fit.as_of.isoformat(),
        "time_unit": "days",
        "counting_rules": fit.rules.describe(),
        "settings": {
            "horizon_days": settings.horizon_days,
            "churn_days": settings.churn_days,
            "discount_rate": settings.discount_rate,
        },
        "purchase_model": {
            "name": purchase.model,
            "params": {k: float(v) for k, v in purchase.params.items()},
            "standard_errors": describe_standard_errors(purchase.params, purchase.covariance),
            "log_likelihood": float(purchase.log_likelihood),
            "customers": int(purchase.customers),
            "repeat_buyers": int(purchase.repeat_buyers),
        },
        "spend_model": {
            "name": "gamma-gamma",
            "params": None
            if spend.params is None
            else {k: float(v) for k, v in spend.params.items()},
            "standard_errors": None
            if spend.params is None
            else describe_standard_errors(spend.params, spend.covariance),
            "log_likelihood": None if spend.log_likelihood is None else float(spend.log_likelihood),
            "customers": int(spend.customers),
            "population_mean": finite_or_none(spend.population_mean),
            "fallback": spend.fallback,
        },
        "customers": {
            "rows": len(customers),
            "with_prediction": len(with_prediction),
            "repeat_buyers": int((with_prediction.repeat_purchases > 0).sum()),
            "without_prediction": len(customers) - len(with_prediction),
        },
        "warnings": list(fit.warnings),
        "model_choice": None
        if fit.model_choice is None
        else {name: describe_validation(v, tracking=False) for name, v in fit.model_choice.items()},
        "holdout": None if holdout is None else describe_validation(holdout, tracking=True),
    }


def describe_standard_errors(params: dict[str, float], covariance: object) -> dict[str, float]:
    """Return each parameter's standard error by the delta method (value x SE of its log);
    empty when the covariance could not be computed."""
    if covariance is None:
        return {}
    import numpy as np

    variances = np.diag(np.asarray(covariance, dtype="float64"))
    return {
        name: finite_or_none(float(value) * math.sqrt(variance) if variance >= 0 else math.nan)
        for (name, value), variance in zip(params.items(), variances, strict=True)
    }


def describe_validation(found: Validation, tracking: bool) -> dict[str, object]:
    """Return one holdout validation's figures for model.json (its weekly tracking if asked)."""
    described: dict[str, object] = {
        "model": found.model,
        "calibration_end": found.calibration_end.isoformat(),
        "holdout_until": found.holdout_until.isoformat(),
        "params": {k: float(v) for k, v in found.fit.params.items()},
        "log_likelihood": float(found.fit.log_likelihood),
        "customers": int(found.customers),
        "predicted_repeat_orders": float(found.predicted_repeat_orders),
        "actual_repeat_orders": int(found.actual_repeat_orders),
        "mean_absolute_error": float(found.mean_absolute_error),
        "root_mean_squared_error": float(found.root_mean_squared_error),
        "verdict": found.verdict,
        "by_frequency": [
            {
                "calibration_repeat_purchases": str(row.calibration_repeat_purchases),
                "customers": int(row.customers),
                "actual_mean": finite_or_none(row.actual_mean),
                "predicted_mean": finite_or_none(row.predicted_mean),
            }
            for row in found.by_frequency.itertuples(index=False)
        ],
    }
    if tracking:
        described["tracking"] = [
            {
                "week_start": iso_date(row.week_start),
                "actual_cumulative": int(row.actual_cumulative),
                "predicted_cumulative": float(row.predicted_cumulative),
            }
            for row in found.tracking.itertuples(index=False)
        ]
    return described


def finite_or_none(value: float | None) -> float | None:
    """Return ``value`` as a float, or None when it is missing, NaN or infinite."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def iso_date(value: object) -> str:
    """Return a date or timestamp as YYYY-MM-DD."""
    day = value.date() if isinstance(value, dt.datetime) else value
    return day.isoformat()  # type: ignore[union-attr]
