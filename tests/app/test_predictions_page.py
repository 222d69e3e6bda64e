"""The Predictions page through AppTest on the small generated store (tests/app/conftest.py).

The headline and the validation section must show the numbers the engine computes directly
(``pipeline`` and ``validation``); a horizon, churn window or discount change must not refit.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from markdown_text import read_markdown
from streamlit.testing.v1 import AppTest

from dashboard import engines, formatting, order_rules
from dashboard.ingest import ingest_file
from dashboard.predict import overview, pipeline, validation
from dashboard.ui import predictions as ui_predictions
from dashboard.ui.text import escape_markdown
from dashboard.workspace import store

APP = Path(__file__).resolve().parents[2] / "streamlit_app.py"
PAGE = "pages/predictions.py"
RULES = order_rules.CountingRules()


def start(model: str | None = None) -> AppTest:
    """Run the app once (its default page), then switch to the Predictions page; ``model``
    preset as if chosen on the page before."""
    app = AppTest.from_file(str(APP), default_timeout=300)
    if model is not None:
        app.session_state[ui_predictions.MODEL_KEY] = model
    return app.run().switch_page(PAGE).run()


def assert_clean(app: AppTest) -> None:
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]


def metrics(app: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in app.metric}


def last_order_on(workspace: Path, dataset: str) -> dt.date:
    """The sidebar's default analysis date: the last order's date."""
    with engines.open_tables("duckdb", workspace=workspace, dataset=dataset) as tables:
        return tables.orders.ordered_at.max().execute().date()


def held_fit(app: AppTest) -> pipeline.PredictionFit:
    """The fit the app holds in its session (``dashboard.ui.predictions.FIT``)."""
    return app.session_state[ui_predictions.FIT][1]


def score_directly(
    workspace: Path, fit: pipeline.PredictionFit, settings: pipeline.PredictionSettings
) -> overview.PredictionHeadline:
    """The headline of ``fit`` scored by the pipeline itself, without the app."""
    with engines.open_tables("duckdb", workspace=workspace, dataset=fit.dataset) as tables:
        scores = pipeline.score_customers(tables, fit, settings).to_pandas()
    return overview.summarise_headline(scores)


def expected_metrics(
    headline: overview.PredictionHeadline, settings: pipeline.PredictionSettings
) -> dict[str, str]:
    return {
        "Customers with a prediction": formatting.format_count(headline.customers),
        f"Predicted revenue, next {settings.horizon_days:,} days": formatting.format_money(
            headline.predicted_revenue, "EUR"
        ),
        "High churn risk": formatting.format_percent(headline.high_risk_share),
    }


@pytest.fixture
def fit_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every call of ``pipeline.fit_predictions`` the app makes (by model)."""
    calls: list[str] = []
    original = pipeline.fit_predictions

    def counting(tables, as_of, rules=RULES, model="auto", dataset=""):
        calls.append(model)
        return original(tables, as_of, rules, model, dataset=dataset)

    monkeypatch.setattr(pipeline, "fit_predictions", counting)
    return calls


def test_headline_equals_the_pipeline(shop_env, fit_calls) -> None:
    app = start()
    assert_clean(app)
    assert [t.value for t in app.title] == ["Predictions"]
    assert len(app.get("plotly_chart")) == 3  # CLV distribution, churn bands, alive map
    settings = pipeline.PredictionSettings()
    fit = held_fit(app)
    assert (fit.dataset, fit.as_of) == (
        shop_env.dataset,
        last_order_on(shop_env.workspace, shop_env.dataset),
    )
    headline = score_directly(shop_env.workspace, fit, settings)
    shown = metrics(app)
    for label, value in expected_metrics(headline, settings).items():
        assert shown[label] == value, label
    assert shown["Model, chosen on a holdout"] == ui_name(fit.model)
    assert headline.customers == shop_env.expected_customers()
    top = next(t.value for t in app.dataframe if "predicted_clv" in t.value.columns)
    assert len(top) == 20
    assert top.predicted_clv.is_monotonic_decreasing
    parameters = next(t.value for t in app.dataframe if "parameter" in t.value.columns)
    assert set(fit.purchase.params) <= set(parameters.parameter)
    # auto: both models' holdout errors, as the choice compared them
    choice = next(t.value for t in app.dataframe if "mae" in t.value.columns).set_index("model")
    # Every model that could be fitted on the calibration period is compared; a model left out
    # (Pareto/NBD cannot be identified on this store, where nobody drops out) is named in a
    # warning on the page.
    assert sorted(choice.index) == sorted(ui_name(name) for name in fit.model_choice)
    for name in {"bgnbd", "pareto-nbd"} - set(fit.model_choice):
        shown_warnings = [read_markdown(w.value) for w in app.warning]
        assert any(f"{ui_name(name)} was not compared" in w for w in shown_warnings)
    for name, result in fit.model_choice.items():
        assert choice.loc[ui_name(name)].mae == result.mean_absolute_error


def ui_name(model: str) -> str:
    return {"bgnbd": "BG/NBD", "pareto-nbd": "Pareto/NBD"}[model]


def test_settings_change_rescores_without_refitting(shop_env, fit_calls) -> None:
    app = start()
    assert_clean(app)
    assert fit_calls == ["auto"]
    app.number_input(key="predict_horizon_days_widget").set_value(180).run()
    app.number_input(key="predict_churn_days_widget").set_value(30).run()
    app.number_input(key="predict_discount_percent_widget").set_value(10.0).run()
    assert_clean(app)
    assert fit_calls == ["auto"]
    settings = pipeline.PredictionSettings(horizon_days=180, churn_days=30, discount_rate=0.1)
    headline = score_directly(shop_env.workspace, held_fit(app), settings)
    shown = metrics(app)
    for label, value in expected_metrics(headline, settings).items():
        assert shown[label] == value, label
    # Another model is another fit; the settings are kept.
    app.selectbox(key="predict_model_widget").set_value("bgnbd").run()
    assert_clean(app)
    assert fit_calls == ["auto", "bgnbd"]
    assert metrics(app)["Model"] == "BG/NBD"  # chosen, not on a holdout
    assert app.number_input(key="predict_horizon_days_widget").value == 180


def test_validation_equals_validate_predictions(shop_env) -> None:
    app = start(model="bgnbd")
    assert_clean(app)
    assert metrics(app)["Model"] == "BG/NBD"
    as_of = last_order_on(shop_env.workspace, shop_env.dataset)
    calibration_end = as_of - dt.timedelta(days=200)
    app.date_input(key=f"predict_calibration_end_{shop_env.dataset}").set_value(calibration_end)
    app.button(key="predict_run_validation").click().run()
    assert_clean(app)
    model = "bgnbd"
    with engines.open_tables(
        "duckdb", workspace=shop_env.workspace, dataset=shop_env.dataset
    ) as tables:
        expected = validation.validate_predictions(
            tables.orders, calibration_end, as_of, RULES, model
        )
    shown = metrics(app)
    assert shown["Predicted repeat orders"] == formatting.format_count(
        expected.predicted_repeat_orders
    )
    assert shown["Actual repeat orders"] == formatting.format_count(expected.actual_repeat_orders)
    assert shown["Error per customer (MAE)"] == f"{expected.mean_absolute_error:.3f}"
    assert shown["RMSE"] == f"{expected.root_mean_squared_error:.3f}"
    assert any(escape_markdown(expected.verdict) in s.value for s in app.success)
    assert len(app.get("plotly_chart")) == 5  # + tracking and by-frequency charts


def write_one_time_buyers(path: Path) -> Path:
    """Three customers, one order each on different days: nobody bought twice."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["order_id", "customer_id", "ordered_at", "order_total", "currency"])
        for number, day in enumerate((1, 5, 9), start=1):
            writer.writerow(
                [f"O{number}", f"C{number}", f"2024-03-0{day} 10:00:00", "20.00", "EUR"]
            )
    return path


def test_a_model_that_cannot_be_fitted_is_one_sentence(tmp_path, monkeypatch) -> None:
    workspace = store.resolve_workspace(tmp_path / "workspace")
    columns = ("order_id", "customer_id", "ordered_at", "order_total", "currency")
    ingest_file(
        workspace,
        "once",
        write_one_time_buyers(tmp_path / "orders.csv"),
        file_format="generic",
        mapping={c: c for c in columns},
    )
    monkeypatch.setenv(store.WORKSPACE_ENV, str(workspace))
    monkeypatch.setenv("SEGMENTS_DATASET", "once")
    app = start()
    assert not app.exception, [e.value for e in app.exception]
    assert [e.value for e in app.error] == [
        escape_markdown(
            "Nobody bought on two different days up to 2024-03-09, so the models cannot learn "
            "how often customers come back; they need some repeat purchases."
        )
    ]
