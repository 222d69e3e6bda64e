"""Predictions of the sidebar's selection for every page, and the Predictions page's widgets.

The fit (``pipeline.fit_predictions``) is expensive: it is held per session and per key
(dataset, its file version, analysis date, counting rules, model choice). The horizon, churn
window and discount rate only rescore the small compressed table, so changing them never
refits. Nothing is kept in a process-wide cache: predictions are per-user data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable

import pandas as pd
import streamlit as st

from dashboard import engines, formatting, ui
from dashboard.charts import predict_charts
from dashboard.errors import UserError
from dashboard.export import to_csv_bytes
from dashboard.predict import overview, pipeline, validation
from dashboard.predict.model_errors import ModelFitError
from dashboard.ui import progress, session
from dashboard.ui.text import escape_markdown

FIT = "prediction_fit"
SCORES = "customer_predictions"
# The Predictions page's settings widgets; other pages read them through get_prediction_settings.
MODEL_KEY = "predict_model"
HORIZON_KEY = "predict_horizon_days"
CHURN_KEY = "predict_churn_days"
DISCOUNT_KEY = "predict_discount_percent"
MODELS = {"auto": "Auto (lower holdout error)", "bgnbd": "BG/NBD", "pareto-nbd": "Pareto/NBD"}
DEFAULTS = pipeline.PredictionSettings()


def chosen_model() -> str:
    """Return the purchase model the analyst chose on the Predictions page ("auto" by default)."""
    model = st.session_state.get(MODEL_KEY, "auto")
    return model if model in MODELS else "auto"


def fit_key(selection: ui.Selection) -> Hashable:
    """Return the key the fit is held under: dataset, file version, date, rules, model."""
    return (
        selection.dataset,
        ui.dataset_version(selection.dataset),
        selection.as_of,
        selection.rules,
        chosen_model(),
    )


def get_prediction_fit(selection: ui.Selection) -> pipeline.PredictionFit:
    """Return the fitted models of the selection, fitted once per session and ``fit_key``.

    A status box names the steps while it fits. ``ModelFitError`` (a ``UserError``) propagates,
    so the page's ``ui.friendly_errors()`` shows its sentence.
    """
    model = chosen_model()

    def fit() -> pipeline.PredictionFit:
        with progress.show_steps(
            "Fitting the prediction models (once per dataset and date)…"
        ) as step:
            if model == "auto":
                step("Validating BG/NBD and Pareto/NBD on a holdout to choose between them…")
            step("Fitting the purchase and spend models on the per-customer summary…")
            with engines.open_configured_tables(ui.workspace(), selection.dataset) as tables:
                return pipeline.fit_predictions(
                    tables, selection.as_of, selection.rules, model, dataset=selection.dataset
                )

    return session.cached(FIT, fit_key(selection), fit)


def has_prediction_fit(selection: ui.Selection) -> bool:
    """Whether this session already holds the fit of the selection (no fit is started)."""
    return session.held_key(FIT) == fit_key(selection)


def get_prediction_settings() -> pipeline.PredictionSettings:
    """Return the horizon, churn window and discount rate set on the Predictions page
    (the defaults until the analyst changes them)."""
    return pipeline.PredictionSettings(
        horizon_days=int(st.session_state.get(HORIZON_KEY, DEFAULTS.horizon_days)),
        churn_days=int(st.session_state.get(CHURN_KEY, DEFAULTS.churn_days)),
        discount_rate=float(st.session_state.get(DISCOUNT_KEY, DEFAULTS.discount_rate * 100)) / 100,
    )


def get_customer_predictions(selection: ui.Selection) -> pd.DataFrame:
    """Return every known customer's predictions (``pipeline.score_customers``'s columns, one
    row per customer), held per session for the fit and the settings; fits first if needed."""
    fit = get_prediction_fit(selection)
    settings = get_prediction_settings()

    def score() -> pd.DataFrame:
        with engines.open_configured_tables(ui.workspace(), selection.dataset) as tables:
            return pipeline.score_customers(tables, fit, settings).to_pandas()

    return session.cached(SCORES, (fit_key(selection), settings), score)


PARAMETER_MEANINGS = {
    "r": "Shape of the spread of buying rates across customers (small: a few heavy buyers).",
    "alpha": "Scale of the buying rates, in days: a customer buys about r / alpha times a day.",
    "a": "With b, the chance a customer drops out after a purchase: Beta(a, b), mean a/(a+b).",
    "b": "With a, the chance of dropping out after each purchase (larger b: fewer drop out).",
    "s": "Shape of the spread of dropout rates across customers.",
    "beta": "Scale of the dropout rates, in days: the mean lifetime is about beta / (s - 1).",
    "p": "Shape of each customer's spend per order (larger: steadier order values).",
    "q": "Shape of the spread of average spend across customers.",
    "gamma": "Scale of the average spend across customers (money): mean spend p*gamma/(q-1).",
}
MODEL_NAMES = {"bgnbd": "BG/NBD", "pareto-nbd": "Pareto/NBD"}
VALIDATION = "prediction_validation"
CALIBRATION_KEY = "predict_calibration_end"


def _keep_setting(widget_key: str, key: str) -> None:
    st.session_state[key] = st.session_state[widget_key]


def _setting_widget_key(key: str) -> str:
    # A widget's own key is dropped when another page runs; the setting is kept under ``key``.
    st.session_state[f"{key}_widget"] = st.session_state.get(key, _DEFAULT_VALUES[key])
    return f"{key}_widget"


_DEFAULT_VALUES = {
    MODEL_KEY: "auto",
    HORIZON_KEY: DEFAULTS.horizon_days,
    CHURN_KEY: DEFAULTS.churn_days,
    DISCOUNT_KEY: DEFAULTS.discount_rate * 100,
}


def choose_prediction_settings() -> None:
    """Draw the model, horizon, churn window and discount rate inputs; they are kept in the
    session for every page (``chosen_model``, ``get_prediction_settings``)."""
    model, horizon, churn, discount = st.columns(4)
    widget = _setting_widget_key(MODEL_KEY)
    model.selectbox(
        "Purchase model",
        list(MODELS),
        format_func=MODELS.get,
        key=widget,
        on_change=_keep_setting,
        args=(widget, MODEL_KEY),
        help="Auto validates both models on a holdout and keeps the one with the lower error "
        "per customer. Changing the model refits.",
    )
    for column, key, label, limits, help_text in (
        (
            horizon,
            HORIZON_KEY,
            "Horizon (days)",
            (1, 3650),
            "Predicted orders and CLV cover the days after the analysis date.",
        ),
        (
            churn,
            CHURN_KEY,
            "Churn window (days)",
            (1, 730),
            "Churn risk is the chance of no order in these days.",
        ),
    ):
        widget = _setting_widget_key(key)
        column.number_input(
            label,
            min_value=limits[0],
            max_value=limits[1],
            step=1,
            key=widget,
            on_change=_keep_setting,
            args=(widget, key),
            help=help_text,
        )
    widget = _setting_widget_key(DISCOUNT_KEY)
    discount.number_input(
        "Annual discount rate (%)",
        min_value=0.0,
        max_value=100.0,
        step=1.0,
        key=widget,
        on_change=_keep_setting,
        args=(widget, DISCOUNT_KEY),
        help="Each future order counts (1 + rate) ^ -(days ahead / 365) of its value.",
    )


def show_headline(
    fit: pipeline.PredictionFit, headline: overview.PredictionHeadline, currency: str | None
) -> None:
    """The headline figures, the weak-fit warnings and the note on customers without a
    prediction."""
    settings = get_prediction_settings()
    columns = st.columns(4)
    columns[0].metric("Customers with a prediction", formatting.format_count(headline.customers))
    columns[1].metric(
        f"Predicted revenue, next {formatting.format_count(settings.horizon_days)} days",
        formatting.format_money(headline.predicted_revenue, currency),
        help="The sum of every customer's predicted CLV over the horizon"
        + (
            f", discounted at {settings.discount_rate:.1%} a year."
            if settings.discount_rate
            else "."
        ),
    )
    columns[2].metric(
        "High churn risk",
        formatting.format_percent(headline.high_risk_share),
        help=f"Share of the customers with a prediction whose chance of no order in the next "
        f"{settings.churn_days} days is above 66%.",
    )
    columns[3].metric(
        "Model, chosen on a holdout" if fit.model_choice is not None else "Model",
        MODEL_NAMES.get(fit.model, fit.model),
    )
    for warning in fit.warnings:
        st.warning(escape_markdown(warning))
    if headline.without_prediction:
        st.info(
            f"{formatting.format_count_of(headline.without_prediction, 'known customer')} "
            "without a valid order (prospects) get no prediction: the models learn from "
            "purchases."
        )


def show_prediction_charts(
    fit: pipeline.PredictionFit, scores: pd.DataFrame, currency: str | None
) -> None:
    """The predicted-CLV distribution, the churn bands and the probability-alive map."""
    left, right = st.columns(2)
    left.plotly_chart(
        predict_charts.plot_clv_distribution(
            predict_charts.bin_predicted_clv(scores.predicted_clv), currency
        ),
        width="stretch",
    )
    right.plotly_chart(
        predict_charts.plot_churn_bands(overview.count_churn_bands(scores)), width="stretch"
    )
    st.plotly_chart(
        predict_charts.plot_alive_map(overview.map_probability_alive(fit.purchase, fit.compressed)),
        width="stretch",
    )
    st.caption(
        "Each cell is the model's mean probability that its customers are still buying, from "
        "how often they bought (rows) and how long ago they last did (columns)."
    )


def show_top_customers(scores: pd.DataFrame, currency: str | None) -> None:
    """The 20 customers with the highest predicted CLV, with their other predictions."""
    top = overview.pick_top_customers(scores)
    money = formatting.table_money_format(currency)
    table = pd.DataFrame(
        {
            "customer_id": top.customer_id,
            "p_alive": top.p_alive,
            "expected_orders": top.expected_orders,
            "expected_order_value": top.expected_order_value.astype("float64"),
            "predicted_clv": top.predicted_clv.astype("float64"),
            "clv_range": [
                f"{formatting.format_money(_as_float(low), currency)} – "
                f"{formatting.format_money(_as_float(high), currency)}"
                for low, high in zip(top.predicted_clv_low, top.predicted_clv_high, strict=True)
            ],
            "churn_band": top.churn_band,
            "expected_next_order_on": top.expected_next_order_on,
        }
    )
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "customer_id": st.column_config.TextColumn("Customer"),
            "p_alive": st.column_config.NumberColumn("P(alive)", format="percent"),
            "expected_orders": st.column_config.NumberColumn("Expected orders", format="%.2f"),
            "expected_order_value": st.column_config.NumberColumn(
                "Expected order value", format=money
            ),
            "predicted_clv": st.column_config.NumberColumn("Predicted CLV", format=money),
            "clv_range": st.column_config.TextColumn(
                "Predicted CLV range", help="5th to 95th percentile (see Model)."
            ),
            "churn_band": st.column_config.TextColumn("Churn risk"),
            "expected_next_order_on": st.column_config.DateColumn("Expected next order"),
        },
    )


def _as_float(value: object) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def describe_parameters(fit: pipeline.PredictionFit) -> pd.DataFrame:
    """Return model, parameter, value, meaning: the fitted parameters of both models and their
    log-likelihoods, one row each (times in days)."""
    purchase_name = MODEL_NAMES.get(fit.purchase.model, fit.purchase.model)
    rows = [
        (purchase_name, name, value, PARAMETER_MEANINGS.get(name, ""))
        for name, value in fit.purchase.params.items()
    ]
    rows.append(
        (
            purchase_name,
            "log-likelihood",
            fit.purchase.log_likelihood,
            f"Of the {formatting.format_count(fit.purchase.customers)} customers' histories "
            "(higher fits better).",
        )
    )
    if fit.spend.params is not None:
        rows += [
            ("Gamma-Gamma", name, value, PARAMETER_MEANINGS.get(name, ""))
            for name, value in fit.spend.params.items()
        ]
        rows.append(
            (
                "Gamma-Gamma",
                "log-likelihood",
                fit.spend.log_likelihood,
                f"Of the {formatting.format_count(fit.spend.customers)} repeat buyers' spend.",
            )
        )
    return pd.DataFrame(rows, columns=["model", "parameter", "value", "meaning"])


def show_model(fit: pipeline.PredictionFit, currency: str | None) -> None:
    """The fitted parameters with a line each, the spend fallback and how the range is made."""
    parameters = describe_parameters(fit)
    st.dataframe(
        parameters.assign(value=[f"{value:.4g}" for value in parameters.value]),
        hide_index=True,
        width="stretch",
        column_config={
            "model": st.column_config.TextColumn("Model"),
            "parameter": st.column_config.TextColumn("Parameter"),
            "value": st.column_config.TextColumn("Value"),
            "meaning": st.column_config.TextColumn("What it means", width="large"),
        },
    )
    if fit.spend.fallback:
        st.info(
            f"{escape_markdown(fit.spend.fallback)} The expected order value of a one-time "
            f"buyer is the repeat buyers' mean, "
            f"{formatting.format_money(fit.spend.population_mean, currency)}."
        )
    low, high = pipeline.RANGE_PERCENTILES
    st.caption(
        f"Predicted CLV's range is its {low:g}th to {high:g}th percentile by the delta method: "
        "the fitted parameters' standard errors carried to log predicted CLV through its "
        "gradient, as a log-normal range."
    )


def offer_predictions_download(selection: ui.Selection, scores: pd.DataFrame) -> None:
    """Download every known customer's predictions as a formula-safe CSV."""
    st.download_button(
        f"Download the predictions of {formatting.format_count_of(len(scores), 'customer')} (CSV)",
        session.defer_in_session(lambda: to_csv_bytes(scores)),
        file_name=f"{selection.dataset}-predictions.csv",
        mime="text/csv",
        on_click="ignore",
    )


def default_calibration_end(selection: ui.Selection, fit: pipeline.PredictionFit) -> dt.date:
    """Return the calibration end ``validation.choose_model`` used, else its rule's date, else
    the analysis date minus a third of the history (for a history under 90 days)."""
    if fit.model_choice:
        return next(iter(fit.model_choice.values())).calibration_end
    first = selection.overview.first_order_on or selection.as_of
    try:
        with engines.open_configured_tables(ui.workspace(), selection.dataset) as tables:
            return validation.find_calibration_end(tables.orders, selection.as_of, selection.rules)
    except ModelFitError:
        return selection.as_of - dt.timedelta(days=max(1, (selection.as_of - first).days // 3))


def show_validation(selection: ui.Selection, fit: pipeline.PredictionFit) -> None:
    """Pick a calibration end, validate the model on the holdout up to the analysis date on a
    button, and show the totals, the tracking and by-frequency charts, the errors and the
    verdict (both models' errors when the model was chosen automatically)."""
    if fit.model_choice:
        show_model_choice(fit)
    first = selection.overview.first_order_on or selection.as_of
    default = session.cached(
        "prediction_calibration_default",
        fit_key(selection),
        lambda: default_calibration_end(selection, fit),
    )
    left, right = st.columns([2, 1])
    calibration_end = left.date_input(
        "Calibration end",
        value=default,
        min_value=first,
        max_value=selection.as_of - dt.timedelta(days=1),
        key=f"{CALIBRATION_KEY}_{selection.dataset}",
        help="The model is fitted on the orders up to this date and compared with the orders "
        "after it, up to the analysis date.",
    )
    key = (fit_key(selection), calibration_end)
    right.markdown("&nbsp;")
    if right.button("Run validation", key="predict_run_validation"):
        try:
            session.cached(
                VALIDATION, key, lambda: run_validation(selection, fit.model, calibration_end)
            )
        except UserError as exc:
            st.error(escape_markdown(exc))
            return
    held = st.session_state.get(VALIDATION)
    if held is None or held[0] != key:
        st.caption("Run the validation to compare the model with what happened after the date.")
        return
    show_validation_result(held[1])


def run_validation(
    selection: ui.Selection, model: str, calibration_end: dt.date
) -> validation.Validation:
    """Validate ``model`` fitted up to ``calibration_end`` on the holdout up to the analysis
    date, in a status box (``validation.validate_predictions``)."""
    with progress.show_steps(f"Validating {MODEL_NAMES.get(model, model)} on the holdout…") as step:
        step(f"Fitting on the orders up to {calibration_end}, then counting the orders after it…")
        with engines.open_configured_tables(ui.workspace(), selection.dataset) as tables:
            return validation.validate_predictions(
                tables.orders, calibration_end, selection.as_of, selection.rules, model
            )


def show_model_choice(fit: pipeline.PredictionFit) -> None:
    """Both models' holdout errors, as ``validation.choose_model`` compared them."""
    rows = [
        {
            "model": MODEL_NAMES.get(name, name),
            "chosen": "Yes" if name == fit.model else "",
            "predicted": round(result.predicted_repeat_orders),
            "actual": result.actual_repeat_orders,
            "mae": result.mean_absolute_error,
            "rmse": result.root_mean_squared_error,
        }
        for name, result in fit.model_choice.items()
    ]
    left_out = [label for name, label in MODEL_NAMES.items() if name not in fit.model_choice]
    split = next(iter(fit.model_choice.values()))
    st.markdown(
        f"**How the model was chosen:** both were fitted on the orders up to "
        f"{split.calibration_end} and compared with the orders up to {split.holdout_until}; "
        "the lower error per customer wins."
        + "".join(f" {name} could not be fitted on that period." for name in left_out)
    )
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        column_config={
            "model": st.column_config.TextColumn("Model"),
            "chosen": st.column_config.TextColumn("Chosen"),
            "predicted": st.column_config.NumberColumn(
                "Predicted repeat orders", format="localized"
            ),
            "actual": st.column_config.NumberColumn("Actual repeat orders", format="localized"),
            "mae": st.column_config.NumberColumn("Error per customer (MAE)", format="%.3f"),
            "rmse": st.column_config.NumberColumn("RMSE", format="%.3f"),
        },
    )


def show_validation_result(result: validation.Validation) -> None:
    """The totals, errors, verdict and the two validation charts of one run."""
    columns = st.columns(4)
    columns[0].metric(
        "Predicted repeat orders", formatting.format_count(result.predicted_repeat_orders)
    )
    columns[1].metric("Actual repeat orders", formatting.format_count(result.actual_repeat_orders))
    columns[2].metric("Error per customer (MAE)", f"{result.mean_absolute_error:.3f}")
    columns[3].metric("RMSE", f"{result.root_mean_squared_error:.3f}")
    st.success(f"**Verdict:** {escape_markdown(result.verdict)}")
    left, right = st.columns(2)
    left.plotly_chart(
        predict_charts.plot_tracking(result.tracking, result.calibration_end), width="stretch"
    )
    right.plotly_chart(predict_charts.plot_by_frequency(result.by_frequency), width="stretch")
    st.caption(
        f"{formatting.format_count_of(result.customers, 'customer')} who first bought by "
        f"{result.calibration_end}; holdout {result.calibration_end} to {result.holdout_until}. "
        "The model line is unconditional (it ignores each customer's own history)."
    )
