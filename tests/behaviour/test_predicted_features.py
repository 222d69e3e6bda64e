"""Predicted fields in the behaviour builder, its presets and every export (issue 15, item 4).

Two stores: ``predict-shop``, whose fourteen buyers (2024, analysis date 2024-12-31) let the
models be fitted, and ``one-timers``, where nobody bought twice, so they cannot be. The
predicted features must equal ``pipeline.score_customers`` with the builder's fixed settings
(365 days, churn = no order in 90 days, no discounting, model ``auto``); conditions on them are
checked by hand on a feature table written out row by row.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import ibis
import pandas as pd
import pyarrow as pa
import pytest

from dashboard import cli, engines, order_rules
from dashboard.behaviour import (
    catalogue,
    compiler,
    definitions,
    feature_base,
    membership,
    presets,
    segment_export,
)
from dashboard.behaviour.definitions import Condition, Definition, Group, RfmSpec
from dashboard.predict import pipeline
from dashboard.workspace import store

AS_OF = dt.date(2024, 12, 31)
SHOP, ONE_TIMERS = "predict-shop", "one-timers"
# customer -> [(day, order total)]
PURCHASES: dict[str, list[tuple[str, str]]] = {
    "loyal@x.com": [(f"2024-{m:02d}-15", "60") for m in range(1, 13)],
    "steady@x.com": [(f"2024-{m:02d}-01", "120") for m in (2, 4, 6, 8, 10, 12)],
    "big@x.com": [(d, "900") for d in ("2024-01-05", "2024-01-20", "2024-02-10", "2024-03-01")],
    "lapsed@x.com": [("2024-01-10", "40"), ("2024-02-10", "40")],
    "recent@x.com": [("2024-11-20", "80"), ("2024-12-20", "80")],
    "mid@x.com": [(d, "70") for d in ("2024-03-01", "2024-06-01", "2024-09-01")],
    "twice@x.com": [("2024-05-05", "200"), ("2024-12-15", "200")],
    "burst@x.com": [(f"2024-07-{d:02d}", "150") for d in (1, 8, 15, 22)],
    "once-old@x.com": [("2024-03-03", "30")],
    "once-new@x.com": [("2024-12-31", "45")],
    "april@x.com": [("2024-04-04", "25")],
    "august@x.com": [("2024-08-08", "35")],
    "october@x.com": [("2024-10-10", "55")],
    "first@x.com": [("2024-01-02", "65")],
}
# customer_id, accepts_marketing (customers file); everyone else has no recorded answer.
CONSENT = [
    ("loyal@x.com", True),
    ("big@x.com", True),
    ("recent@x.com", True),
    ("lapsed@x.com", True),
    ("mid@x.com", True),
    ("steady@x.com", False),
    ("twice@x.com", False),
    ("lead@x.com", True),
]
ONE_TIME = {"a@x.com": "2024-02-01", "b@x.com": "2024-05-01", "c@x.com": "2024-09-01"}
HIGH_AND_VALUABLE = Definition(
    (Group((Condition("churn_band", "==", "High"), Condition("predicted_clv", ">", 200))),)
)
EVERYONE = Definition((Group((Condition("orders_ever", ">=", 0),)),))
# Klaviyo's profile property of each predicted export column.
KLAVIYO_PROPERTIES = {
    "predicted_clv": "Predicted CLV",
    "churn_risk": "Churn risk",
    "churn_band": "Churn risk band",
    "expected_next_order_on": "Expected next order date",
    "p_alive": "Probability active",
    "expected_orders": "Expected orders (next 365 days)",
    "expected_order_value": "Expected order value",
    "historic_clv": "Historic CLV",
    "total_clv": "Total CLV",
}


def write_store(workspace: Path, name: str, purchases: dict[str, list[tuple[str, str]]]) -> str:
    """Write ``purchases`` (valid orders at noon) and the CONSENT customers file."""
    rows = [
        (f"{customer}-{i}", customer, dt.datetime.fromisoformat(f"{day} 12:00"), Decimal(total))
        for customer, days in purchases.items()
        for i, (day, total) in enumerate(days)
    ]
    with store.open_for_write(workspace, name) as con:
        con.begin()
        con.executemany(
            "INSERT INTO orders (order_id, customer_id, ordered_at, order_total, refunded_amount,"
            " net_total, currency, is_cancelled, ingest_id) VALUES (?, ?, ?, ?, 0, ?, 'EUR',"
            " false, 1)",
            [(o, c, at, total, total) for o, c, at, total in rows],
        )
        con.executemany(
            "INSERT INTO customers (customer_id, email, accepts_marketing, ingest_id)"
            " VALUES (?, ?, ?, 2)",
            [(c, c, accepts) for c, accepts in CONSENT],
        )
        con.commit()
    return name


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    found = store.resolve_workspace(tmp_path_factory.mktemp("predicted") / "workspace")
    write_store(found, SHOP, PURCHASES)
    write_store(found, ONE_TIMERS, {c: [(d, "50")] for c, d in ONE_TIME.items()})
    return found


@pytest.fixture(scope="module")
def expected(workspace: Path) -> pd.DataFrame:
    """The pipeline's own predictions of the shop with the builder's settings, by customer."""
    with engines.open_tables("duckdb", workspace=workspace, dataset=SHOP) as tables:
        fit = pipeline.fit_predictions(tables, AS_OF, order_rules.DEFAULT_RULES, "auto", SHOP)
        settings = pipeline.PredictionSettings(365, 90, 0.0)
        scores = pipeline.score_customers(tables, fit, settings).to_pandas()
    return scores.set_index("customer_id")


@pytest.fixture(scope="module")
def shop(workspace: Path) -> Iterator[tuple[feature_base.FeatureBase, ibis.Table]]:
    base = feature_base.load_feature_base(workspace, SHOP)
    yield base, compiler.feature_view(base.table, RfmSpec(), workspace)
    base.close()


def feature_rows(rows: list[dict[str, object]]) -> ibis.Table:
    """A feature table (every FEATURE_SCHEMA column, NULL unless given) on an in-memory DuckDB."""
    arrow = pa.Table.from_pylist(rows, schema=catalogue.FEATURE_SCHEMA.to_pyarrow())
    return ibis.duckdb.connect().create_table("features", arrow)


def members_of(table: ibis.Table, definition: Definition) -> set[str]:
    condition = compiler.compile_definition(table, definition)
    return set(membership.list_members(table, condition, []).customer_id)


def test_conditions_on_predicted_fields_pick_the_hand_computed_members() -> None:
    table = feature_rows(
        [
            {"customer_id": "a", "churn_band": "High", "predicted_clv": Decimal("250.00")},
            {"customer_id": "b", "churn_band": "High", "predicted_clv": Decimal("200.00")},
            {"customer_id": "c", "churn_band": "Medium", "predicted_clv": Decimal("900.00")},
            {"customer_id": "d", "churn_band": "High"},
            {"customer_id": "e"},
        ]
    )
    # Only a is High and above 200: b is not above it, c is Medium, d and e have no prediction.
    assert members_of(table, HIGH_AND_VALUABLE) == {"a"}
    sql = compiler.sql_for_definition(HIGH_AND_VALUABLE, "duckdb")
    assert "churn_band" in sql and "predicted_clv" in sql


def test_the_prediction_presets_pick_the_hand_computed_members() -> None:
    table = feature_rows(
        [
            {"customer_id": "a", "churn_band": "High", "predicted_clv_percentile": 85.0},
            {"customer_id": "b", "churn_band": "High", "predicted_clv_percentile": 80.0},
            {"customer_id": "c", "churn_band": "Low", "predicted_clv_percentile": 99.0},
            {"customer_id": "d", "p_alive": 0.7, "days_to_next_order": 30},
            {"customer_id": "e", "p_alive": 0.69, "days_to_next_order": 5},
            {"customer_id": "f", "p_alive": 0.95, "days_to_next_order": 31},
            {"customer_id": "g", "p_alive": 0.95},
        ]
    )
    at_risk = presets.preset_definition(presets.PRESETS["high_value_at_risk"])
    assert at_risk.conditions() == [
        Condition("churn_band", "==", "High"),
        Condition("predicted_clv_percentile", ">", 80),
    ]
    assert members_of(table, at_risk) == {"a"}
    again = presets.PRESETS["likely_to_buy_again"]
    assert members_of(table, presets.preset_definition(again)) == {"d"}
    assert members_of(table, presets.preset_definition(again, {"days": 31})) == {"d", "f"}
    assert members_of(table, presets.preset_definition(again, {"alive": 69.0})) == {"d", "e"}


def test_the_feature_base_holds_the_pipelines_predictions(shop, expected) -> None:
    base, _ = shop
    assert not set(catalogue.PREDICTED_COLUMNS) & set(base.missing)
    table = base.table.to_pandas().set_index("customer_id")
    assert sorted(table.index) == sorted([*PURCHASES, "lead@x.com"])
    for column in ("p_alive", "expected_orders", "churn_risk"):
        pd.testing.assert_series_equal(
            table[column], expected[column].reindex(table.index), check_names=False
        )
    for column in ("expected_order_value", "predicted_clv", "historic_clv", "total_clv"):
        assert table[column].equals(expected[column].reindex(table.index)), column
    assert table.churn_band.equals(expected.churn_band.reindex(table.index))
    assert list(table.expected_next_order_on) == list(
        expected.expected_next_order_on.reindex(table.index)
    )
    # The lead never ordered: no prediction, historic CLV 0.
    assert table.loc["lead@x.com", ["p_alive", "predicted_clv"]].isna().all()
    # Percentile by hand: the share of the 14 buyers whose predicted CLV is at most theirs.
    clv = table.predicted_clv.dropna().astype(float)
    for customer, value in clv.items():
        share = (clv <= value).sum() / len(clv) * 100
        assert table.loc[customer, "predicted_clv_percentile"] == pytest.approx(share)
    assert pd.isna(table.loc["lead@x.com", "predicted_clv_percentile"])
    # Days to the next order: that date minus 2024-12-31.
    for customer, on in table.expected_next_order_on.dropna().items():
        assert table.loc[customer, "days_to_next_order"] == (on.date() - AS_OF).days
    assert table.days_to_next_order.isna().sum() == table.expected_next_order_on.isna().sum()


def test_a_churn_condition_picks_the_pipelines_customers_in_app_and_cli(
    shop, expected, workspace: Path, tmp_path: Path
) -> None:
    _, view = shop
    buyers = expected[expected.churn_band.notna()]
    high = set(buyers.index[(buyers.churn_band == "High") & (buyers.predicted_clv > 200)])
    assert members_of(view, HIGH_AND_VALUABLE) == high
    risky = Definition((Group((Condition("churn_band", "==", "High"),)),))
    at_risk = set(buyers.index[buyers.churn_band == "High"])
    assert at_risk and members_of(view, risky) == at_risk
    path = tmp_path / "high.json"
    path.write_text(definitions.definition_to_json(risky), encoding="utf-8")
    out = tmp_path / "high.csv"
    code = cli.main(
        ["export", "--workspace", str(workspace), "--dataset", SHOP, "--definition", str(path)]
        + ["--format", "csv", "--out", str(out)]
    )
    assert code == 0
    frame = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert set(frame.customer_id) == at_risk
    assert list(frame.columns) == [*segment_export.DEFAULT_COLUMNS, *KLAVIYO_PROPERTIES]


def test_the_klaviyo_export_carries_the_predictions_of_consenting_members(shop, expected) -> None:
    base, view = shop
    exported = segment_export.export_segment(
        view, EVERYONE, "klaviyo", SHOP, "everyone", base.window
    )
    frame = pd.read_csv(io.BytesIO(exported.data), dtype=str, keep_default_na=False)
    assert list(frame.columns) == [
        "Email",
        "First Name",
        "Country",
        "Orders",
        "Net revenue",
        "Last order",
        *KLAVIYO_PROPERTIES.values(),
        "Segment",
    ]
    # Consent still applies: the five buyers and the lead who accepted; steady and twice
    # declined; the seven other buyers are not in the customers file.
    accepted = {c for c, accepts in CONSENT if accepts}
    assert set(frame.Email) == accepted
    stamp = exported.stamp
    assert (stamp["left_out_declined_consent"], stamp["left_out_consent_unknown"]) == (2, 7)
    for row in frame.to_dict("records"):
        want = expected.loc[row["Email"]]
        for column, name in KLAVIYO_PROPERTIES.items():
            value = want[column]
            if pd.isna(value):
                assert row[name] == "", (row["Email"], name)
            elif column in ("p_alive", "expected_orders", "churn_risk"):
                assert float(row[name]) == pytest.approx(float(value), rel=1e-12), name
            elif column == "expected_next_order_on":
                assert row[name] == pd.Timestamp(value).date().isoformat()
            elif column == "churn_band":
                assert row[name] == value
            else:
                assert Decimal(row[name]) == value, (row["Email"], name)
    assert frame.set_index("Email").loc["loyal@x.com", "Churn risk band"] in {"Low", "Medium"}


def test_every_default_export_but_shopify_tags_carries_the_predicted_fields(shop) -> None:
    base, view = shop
    predicted = list(segment_export.PREDICTED_EXPORT_COLUMNS)
    csv = segment_export.export_segment(view, EVERYONE, "csv", SHOP, "all", base.window)
    assert csv.stamp["columns"] == [*segment_export.DEFAULT_COLUMNS, *predicted]
    parquet = segment_export.export_segment(view, EVERYONE, "parquet", SHOP, "all", base.window)
    frame = pd.read_parquet(io.BytesIO(parquet.data))
    assert list(frame.columns) == [*segment_export.DEFAULT_COLUMNS, *predicted]
    assert isinstance(frame.expected_next_order_on.dropna().iloc[0], dt.date)
    tags = segment_export.export_segment(view, EVERYONE, "shopify-tags", SHOP, "all", base.window)
    assert tags.stamp["columns"] == ["Email", "Tags"]


def test_a_store_the_models_cannot_fit_has_no_predictions_and_says_why(
    workspace: Path,
) -> None:
    base = feature_base.load_feature_base(workspace, ONE_TIMERS)
    try:
        reason = base.missing["p_alive"]
        assert reason.startswith("Nobody bought on two different days up to 2024-09-01")
        assert {n for n, m in base.missing.items() if m == reason} == set(
            catalogue.PREDICTED_COLUMNS
        )
        table = base.table.to_pandas().set_index("customer_id")
        assert table[list(catalogue.PREDICTED_COLUMNS)].isna().all().all()
        assert table.loc["a@x.com", "orders"] == 1
        view = compiler.feature_view(base.table, RfmSpec(), workspace)
        assert not segment_export.has_predictions(view)
        csv = segment_export.export_segment(view, EVERYONE, "csv", ONE_TIMERS, "all", base.window)
        assert csv.stamp["columns"] == list(segment_export.DEFAULT_COLUMNS)
    finally:
        base.close()
    preset = presets.PRESETS["likely_to_buy_again"]
    assert presets.missing_for_preset(preset, base.missing) == [
        f"'Likely to buy again soon' needs the predictions, which are unavailable: {reason}"
    ]


def test_a_held_auto_fit_is_reused_and_any_other_is_refitted(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with engines.open_tables("duckdb", workspace=workspace, dataset=SHOP) as tables:
        auto = pipeline.fit_predictions(tables, AS_OF, order_rules.DEFAULT_RULES, "auto", SHOP)
        chosen = pipeline.fit_predictions(tables, AS_OF, order_rules.DEFAULT_RULES, "bgnbd", SHOP)
    assert auto.model_choice is not None
    calls: list[str] = []
    real_fit = pipeline.fit_predictions

    def counting_fit(*args: object, **kwargs: object) -> pipeline.PredictionFit:
        calls.append(str(kwargs.get("model")))
        return real_fit(*args, **kwargs)

    monkeypatch.setattr(pipeline, "fit_predictions", counting_fit)
    reused = feature_base.load_feature_base(workspace, SHOP, prediction_fit=auto)
    reused.close()
    assert calls == []
    for other in (chosen, pipeline.PredictionFit(**{**vars(auto), "as_of": AS_OF.replace(day=30)})):
        refitted = feature_base.load_feature_base(workspace, SHOP, prediction_fit=other)
        refitted.close()
    assert calls == ["auto", "auto"]


def test_the_catalogue_states_the_fixed_settings() -> None:
    described = " ".join(catalogue.FEATURES[n].description for n in catalogue.PREDICTED_COLUMNS)
    for words in ("365 days", "90 days", "not discounted", "'auto'"):
        assert words in described, words
    assert catalogue.FEATURES["churn_band"].kind == catalogue.TEXT
    assert catalogue.FEATURES["expected_next_order_on"].kind == catalogue.DATE
    assert json.loads(definitions.definition_to_json(HIGH_AND_VALUABLE))["groups"][0]["conditions"][
        0
    ] == {"feature": "churn_band", "operator": "==", "value": "High"}
