"""The ``predict`` command end to end (docs/predictions.md, "CLI"; issue 15 items 5 and 6)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from dashboard import cli, errors
from dashboard.predict.pipeline import MODEL_NAMES

AS_OF = "2026-05-31"
HOLDOUT_UNTIL = "2026-10-31"


@pytest.fixture(scope="module")
def demo_prediction(
    demo_dataset: tuple[Path, str], tmp_path_factory: pytest.TempPathFactory
) -> tuple[pd.DataFrame, dict[str, object], Path]:
    """customers.csv (as text columns) and model.json of the demo store: --model auto, a holdout."""
    workspace, dataset = demo_dataset
    out = tmp_path_factory.mktemp("predict")
    done = cli.main(
        [
            "predict",
            "--workspace",
            str(workspace),
            "--dataset",
            dataset,
            "--as-of",
            AS_OF,
            "--holdout-until",
            HOLDOUT_UNTIL,
            "--out",
            str(out / "customers.csv"),
            "--model-out",
            str(out / "model.json"),
        ]
    )
    assert done == 0
    customers = pd.read_csv(out / "customers.csv", dtype=str, keep_default_na=False)
    model = json.loads((out / "model.json").read_text(encoding="utf-8"))
    return customers, model, workspace / f"{dataset}.duckdb"


def test_customers_csv_has_one_row_per_known_customer(demo_prediction) -> None:
    customers, model, database = demo_prediction
    assert list(customers.columns) == [
        "customer_id",
        "repeat_purchases",
        "t_x_days",
        "T_days",
        "p_alive",
        "expected_orders",
        "expected_order_value",
        "predicted_clv",
        "predicted_clv_low",
        "predicted_clv_high",
        "historic_clv",
        "total_clv",
        "churn_risk",
        "churn_band",
        "expected_next_order_on",
        "prediction_note",
    ]
    assert customers.customer_id.is_unique
    with duckdb.connect(str(database), read_only=True) as con:
        (known,) = con.execute(
            "SELECT count(*) FROM (SELECT customer_id FROM customers UNION "
            "SELECT customer_id FROM orders WHERE customer_id IS NOT NULL "
            "AND CAST(ordered_at AS DATE) <= CAST(? AS DATE))",
            [AS_OF],
        ).fetchone()
    assert len(customers) == known
    predicted = customers[customers.prediction_note == ""]
    counts = model["customers"]
    assert counts["rows"] == len(customers)
    assert counts["with_prediction"] == len(predicted) == model["purchase_model"]["customers"]
    repeat_buyers = int((predicted.repeat_purchases.astype(int) > 0).sum())
    assert counts["repeat_buyers"] == repeat_buyers == model["purchase_model"]["repeat_buyers"]
    assert model["spend_model"]["customers"] <= repeat_buyers
    assert set(customers.prediction_note) <= {
        "",
        "No orders yet: no prediction.",
        "No valid order yet (only cancelled, zero-value or return orders): no prediction.",
    }


def test_a_customer_row_checks_against_their_orders(demo_prediction) -> None:
    customers, _, database = demo_prediction
    predicted = customers[customers.prediction_note == ""].set_index("customer_id")
    # the customer with the most purchase days, ties by id
    ordered = predicted.assign(x=predicted.repeat_purchases.astype(int))
    customer = ordered.sort_values(["x"], ascending=False, kind="stable").index[0]
    row = predicted.loc[customer]
    with duckdb.connect(str(database), read_only=True) as con:
        net, days, first, last = con.execute(
            "SELECT sum(net_total) FILTER (WHERE NOT is_cancelled), "
            "count(DISTINCT CAST(ordered_at AS DATE)) FILTER (WHERE NOT is_cancelled "
            "AND order_total > 0), "
            "min(CAST(ordered_at AS DATE)) FILTER (WHERE NOT is_cancelled AND order_total > 0), "
            "max(CAST(ordered_at AS DATE)) FILTER (WHERE NOT is_cancelled AND order_total > 0) "
            "FROM orders WHERE customer_id = ? AND CAST(ordered_at AS DATE) <= CAST(? AS DATE)",
            [customer, AS_OF],
        ).fetchone()
    assert Decimal(row.historic_clv) == net
    assert int(row.repeat_purchases) == days - 1 >= 2
    assert int(row.t_x_days) == (last - first).days
    assert int(row.T_days) == (pd.Timestamp(AS_OF).date() - first).days
    assert Decimal(row.total_clv) == Decimal(row.historic_clv) + Decimal(row.predicted_clv)
    for _, each in predicted.iterrows():
        assert Decimal(each.total_clv) == Decimal(each.historic_clv) + Decimal(each.predicted_clv)


def test_churn_bands_and_next_orders_follow_the_scores(demo_prediction) -> None:
    customers, _, _ = demo_prediction
    predicted = customers[customers.prediction_note == ""]
    risk = predicted.churn_risk.astype(float)
    expected_band = pd.cut(risk, [-1, 0.33 - 1e-12, 0.66, 2], labels=["Low", "Medium", "High"])
    assert (predicted.churn_band == expected_band.astype(str)).all()
    alive = predicted.p_alive.astype(float)
    has_date = predicted.expected_next_order_on != ""
    assert (has_date == (alive >= 0.5)).all()
    assert (pd.to_datetime(predicted.expected_next_order_on[has_date]) > AS_OF).all()
    low = predicted.predicted_clv_low.astype(float)
    mid = predicted.predicted_clv.astype(float)
    high = predicted.predicted_clv_high.astype(float)
    assert ((low <= mid + 0.01) & (mid <= high + 0.01)).all()
    assert (low < high).any()


def test_model_json_states_the_fit_and_the_holdout(demo_prediction) -> None:
    _, model, _ = demo_prediction
    assert model["time_unit"] == "days"
    assert model["calibration_end"] == AS_OF
    chosen = model["purchase_model"]["name"]
    names = {"bgnbd": {"r", "alpha", "a", "b"}, "pareto-nbd": {"r", "alpha", "s", "beta"}}
    assert set(model["purchase_model"]["params"]) == names[chosen]
    assert model["purchase_model"]["log_likelihood"] < 0
    spend = model["spend_model"]
    assert (spend["params"] is None) == (spend["fallback"] is not None)
    if spend["params"] is not None:
        assert set(spend["params"]) == {"p", "q", "gamma"}
    # auto: each model that could be fitted on the calibration period; the one with the lower
    # holdout error is used, unless its fit on all the data runs off to its limit (then a
    # warning names it and the other is used)
    choice = model["model_choice"]
    assert chosen in choice and set(choice) <= set(names)
    best = min(choice, key=lambda name: choice[name]["mean_absolute_error"])
    switched = [w for w in model["warnings"] if "won on the holdout" in w]
    if chosen == best:
        assert not switched
    else:
        assert len(switched) == 1 and switched[0].startswith(f"The {MODEL_NAMES[best]} model")
        assert switched[0].endswith(f"{MODEL_NAMES[chosen]} is used instead.")
    holdout = model["holdout"]
    assert holdout["model"] == chosen
    assert (holdout["calibration_end"], holdout["holdout_until"]) == (AS_OF, HOLDOUT_UNTIL)
    assert holdout["customers"] == model["purchase_model"]["customers"]
    assert holdout["actual_repeat_orders"] > 0 and holdout["predicted_repeat_orders"] > 0
    assert holdout["verdict"].endswith(".")
    by_frequency = holdout["by_frequency"]
    assert sum(row["customers"] for row in by_frequency) == holdout["customers"]
    assert holdout["tracking"][-1]["actual_cumulative"] >= holdout["actual_repeat_orders"]


def predict(workspace: Path, dataset: str, *extra: str) -> int:
    return cli.main(["predict", "--workspace", str(workspace), "--dataset", dataset, *extra])


def orders_on(days_by_customer: dict[str, list[str]]) -> list[dict[str, object]]:
    return [
        {"order_id": f"{c}{i}", "customer_id": c, "ordered_at": day, "order_total": "10"}
        for c, days in days_by_customer.items()
        for i, day in enumerate(days)
    ]


@pytest.mark.parametrize(
    ("days_by_customer", "message"),
    [
        ({"A": ["2024-01-01"], "B": ["2024-02-01"]}, "Nobody bought on two different days"),
        ({"A": ["2024-01-01", "2024-02-01"]}, "Only one customer has a valid order"),
        ({"A": ["2024-03-01"], "B": ["2024-03-01"]}, "are on one day (2024-03-01)"),
    ],
)
def test_data_no_model_can_fit_exits_2_with_one_sentence(
    workspace: Path,
    make_dataset,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    days_by_customer: dict[str, list[str]],
    message: str,
) -> None:
    make_dataset("shop", orders_on(days_by_customer))
    out = tmp_path / "customers.csv"
    code = predict(workspace, "shop", "--as-of", "2024-03-31", "--out", str(out))
    assert code == errors.EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert message in err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()


def test_options_that_cannot_work_are_refused(
    workspace: Path, make_dataset, capsys: pytest.CaptureFixture[str]
) -> None:
    make_dataset("shop", orders_on({"A": ["2024-01-01", "2024-02-01"], "B": ["2024-01-05"]}))
    assert predict(workspace, "shop", "--holdout-until", "2024-03-01", "--out", "x.csv") == 2
    assert "--holdout-until needs --as-of" in capsys.readouterr().err
    code = predict(
        workspace, "shop", "--as-of", "2024-03-01", "--holdout-until", "2024-02-01", "--out", "x"
    )
    assert code == 2
    assert "must be after --as-of" in capsys.readouterr().err
    assert predict(workspace, "shop", "--out", "-", "--model-out", "-") == 2
    assert "Only one of --out and --model-out" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        predict(workspace, "shop", "--out", "x.csv", "--horizon-days", "0")
    with pytest.raises(SystemExit):
        predict(workspace, "shop", "--out", "x.csv", "--discount-rate", "1.5")


def small_store() -> dict[str, list[str]]:
    """40 customers from 2024-01-01 to 2024-05-31, each buying every 4 to 40 days for 20 to
    159 days from a first day in the first 60: 38 buy more than once, at most 29 times."""
    start, as_of = dt.date(2024, 1, 1), dt.date(2024, 5, 31)
    days_by_customer = {}
    for i in range(40):
        first = start + dt.timedelta(days=(i * 7) % 60)
        stop = min(first + dt.timedelta(days=20 + (i * 29) % 140), as_of)
        gap = dt.timedelta(days=4 + (i * 13) % 37)
        days = [first + k * gap for k in range((stop - first) // gap + 1)]
        days_by_customer[f"c{i:02d}"] = [day.isoformat() for day in days]
    return days_by_customer


def test_weak_fit_warns_on_stderr_and_writes_to_standard_output(
    workspace: Path, make_dataset, capsys: pytest.CaptureFixture[str]
) -> None:
    make_dataset("shop", orders_on(small_store()), ["P"])
    code = predict(workspace, "shop", "--as-of", "2024-05-31", "--model", "bgnbd", "--out", "-")
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "warning: Only 38 customers bought more than once" in captured.err
    # first purchase 2024-01-01 -> 2024-05-31: 31 + 29 + 31 + 30 + 30 = 151 days
    assert "warning: The orders cover only 151 days" in captured.err
    lines = captured.out.strip().splitlines()
    # header, the prospect P (ids sort by code point: "P" before "c"), then c00..c39
    assert len(lines) == 42
    assert lines[1].startswith("P,") and lines[1].endswith("No orders yet: no prediction.")
    assert "Wrote 41 customers of 'shop'" in captured.err
