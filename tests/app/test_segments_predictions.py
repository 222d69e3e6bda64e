"""Predicted columns on the Segments page and in "explain a customer" (issue 15 #4), through
AppTest on the small generated store (tests/app/conftest.py).

The expected figures come from the engine directly: ``pipeline.score_customers`` joined with
``analysis.segment_members`` and added up with pandas.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import engines, formatting, order_rules
from dashboard.predict import pipeline
from dashboard.rfm import analysis, cut_points, schemes
from dashboard.ui import predictions
from dashboard.ui import segments as ui_segments

APP = Path(__file__).resolve().parents[2] / "streamlit_app.py"
RULES = order_rules.CountingRules()
SCHEME = schemes.PRESETS["shopify"]
# One model, as if picked on the Predictions page: "auto" would also validate both models on a
# holdout, which this test is not about and which costs most of the fit's time.
MODEL = "bgnbd"


def open_app() -> AppTest:
    """The app before its first run, with the Predictions page's model set to MODEL."""
    app = AppTest.from_file(str(APP), default_timeout=300)
    app.session_state[predictions.MODEL_KEY] = MODEL
    return app


def assert_clean(app: AppTest) -> None:
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]


def predictions_box(app: AppTest):
    return next(c for c in app.checkbox if c.label == ui_segments.PREDICTIONS_LABEL)


def last_order_on(workspace: Path, dataset: str) -> dt.date:
    with engines.open_tables("duckdb", workspace=workspace, dataset=dataset) as tables:
        return tables.orders.ordered_at.max().execute().date()


def score_directly(workspace: Path, dataset: str, as_of: dt.date) -> pd.DataFrame:
    with engines.open_tables("duckdb", workspace=workspace, dataset=dataset) as tables:
        fit = pipeline.fit_predictions(tables, as_of, RULES, MODEL, dataset=dataset)
        return pipeline.score_customers(tables, fit, pipeline.PredictionSettings()).to_pandas()


def members_directly(workspace: Path, dataset: str, as_of: dt.date):
    base = analysis.load_customer_base(workspace, dataset, as_of=as_of, rules=RULES)
    cuts = cut_points.resolve_cuts(base.measures, cut_points.ScoringSpec(SCHEME))
    return base, cuts, analysis.segment_members(base, cuts, SCHEME)


@pytest.fixture
def segments_page(shop_env) -> AppTest:
    app = open_app().run()
    assert_clean(app)
    return app


def test_ticking_the_box_adds_the_predicted_columns(shop_env, segments_page: AppTest) -> None:
    app = segments_page
    box = predictions_box(app)
    assert box.value is False, "no fit is held yet, so the box starts unticked"
    assert "predicted_clv" not in app.dataframe[0].value.columns
    box.check().run()
    assert_clean(app)
    assert predictions_box(app).value is True
    table = app.dataframe[0].value.set_index("segment")

    as_of = last_order_on(shop_env.workspace, shop_env.dataset)
    scores = score_directly(shop_env.workspace, shop_env.dataset, as_of)
    base, cuts, members = members_directly(shop_env.workspace, shop_env.dataset, as_of)
    joined = members.merge(scores, on="customer_id", how="left")
    joined = joined.assign(
        clv=joined.predicted_clv.astype("float64"), high=joined.churn_band == "High"
    )
    scored = joined[joined.segment != schemes.PROSPECTS]
    assert scored.clv.notna().all(), "every scored customer has a prediction"
    grouped = scored.groupby("segment")
    expected = pd.DataFrame(
        {
            "sum": grouped.clv.sum(),
            "mean": grouped.clv.mean(),
            "high": grouped.high.mean() * 100,
        }
    )
    assert len(expected) >= 3
    for segment, row in expected.iterrows():
        assert table.loc[segment, "predicted_clv"] == pytest.approx(row["sum"], abs=1e-6)
        assert table.loc[segment, "predicted_clv_per_customer"] == pytest.approx(row["mean"])
        assert table.loc[segment, "share_high_churn"] == pytest.approx(row["high"])
    # The horizon is in the column label.
    config = app.dataframe[0].proto.columns
    assert "Predicted CLV, next 365 days" in config

    # The download carries the predicted fields and adds up to the table's figure.
    segment = expected["sum"].idxmax()
    csv = ui_segments.build_segment_file(base, cuts, SCHEME, segment, scores)
    base.close()
    downloaded = pd.read_csv(io.BytesIO(csv), dtype={"predicted_clv": str})
    assert {"predicted_clv", "churn_band", "p_alive", "expected_next_order_on"} <= set(
        downloaded.columns
    )
    total = sum(Decimal(v) for v in downloaded.predicted_clv)
    assert float(total) == pytest.approx(table.loc[segment, "predicted_clv"], abs=1e-6)

    # Unticking removes the columns again.
    predictions_box(app).uncheck().run()
    assert_clean(app)
    assert "predicted_clv" not in app.dataframe[0].value.columns
    app.run()
    assert predictions_box(app).value is False, "the untick is kept"


def test_a_fit_made_on_the_predictions_page_ticks_the_box(shop_env) -> None:
    app = open_app().run()
    app.switch_page("pages/predictions.py").run()
    assert_clean(app)
    app.switch_page("pages/segments.py").run()
    assert_clean(app)
    assert predictions_box(app).value is True
    assert "predicted_clv" in app.dataframe[0].value.columns


def test_explain_shows_the_customer_prediction(shop_env) -> None:
    app = open_app().run()
    app.switch_page("pages/studio.py").run()
    assert_clean(app)
    as_of = last_order_on(shop_env.workspace, shop_env.dataset)
    scores = score_directly(shop_env.workspace, shop_env.dataset, as_of).set_index("customer_id")
    customer = scores[scores.repeat_purchases > 0].predicted_clv.astype(float).idxmax()
    app.text_input[0].input(customer).run()
    predictions_box(app).check().run()
    assert_clean(app)
    shown = {m.label: m.value for m in app.metric}
    row = scores.loc[customer]
    assert shown["Predicted CLV"] == formatting.format_money(float(row.predicted_clv), "EUR")
    assert shown["Total CLV"] == formatting.format_money(float(row.total_clv), "EUR")
    assert shown["Probability alive"] == formatting.format_percent(row.p_alive)
    assert shown["Repeat purchases"] == formatting.format_count(row.repeat_purchases)
    assert shown["Churn risk (no order in 90 days)"] == formatting.format_percent(row.churn_risk)
    assert any(f"{row.churn_band} risk" == c.value for c in app.caption)
