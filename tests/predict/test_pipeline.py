"""Fitting and scoring every customer (docs/predictions.md, "Per-customer fields"; issue 15
items 2 and 6).

The scoring tests fix the model parameters (BG/NBD r = 1, alpha = 10, a = 2, b = 3; Gamma-Gamma
p = 2, q = 3, gamma = 10) so every figure can be worked out by hand from the published formulas
(Fader, Hardie & Lee 2005; Fader & Hardie's Gamma-Gamma note).
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.special import hyp2f1

from dashboard import engines, order_rules
from dashboard.predict import pipeline
from dashboard.predict.model_errors import ModelFitError
from dashboard.predict.purchase_models import PurchaseFit
from dashboard.predict.spend_model import SpendFit

AS_OF = dt.date(2024, 3, 31)
R, ALPHA, A, B = 1.0, 10.0, 2.0, 3.0
P, Q, GAMMA = 2.0, 3.0, 10.0

ORDERS = [
    # K: x = 1, t_x = 25, T = 30; repeat spend 40 (the first day's 50 is not a repeat)
    {"order_id": "K1", "customer_id": "K", "ordered_at": "2024-03-01 10:00", "order_total": "50"},
    {"order_id": "K2", "customer_id": "K", "ordered_at": "2024-03-26 10:00", "order_total": "25"},
    {"order_id": "K3", "customer_id": "K", "ordered_at": "2024-03-26 20:00", "order_total": "15"},
    # L: x = 1, t_x = 10, T = 30; repeat spend 40, 10 of the first order refunded
    {
        "order_id": "L1",
        "customer_id": "L",
        "ordered_at": "2024-03-01",
        "order_total": "30",
        "refunded_amount": "10",
    },
    {"order_id": "L2", "customer_id": "L", "ordered_at": "2024-03-11", "order_total": "40"},
    # N: one purchase, x = 0, T = 30
    {"order_id": "N1", "customer_id": "N", "ordered_at": "2024-03-01", "order_total": "5"},
    # Q: only a cancelled order; R: only a return row -> no prediction
    {
        "order_id": "Q1",
        "customer_id": "Q",
        "ordered_at": "2024-03-05",
        "order_total": "70",
        "is_cancelled": True,
    },
    {
        "order_id": "R1",
        "customer_id": "R",
        "ordered_at": "2024-03-05",
        "order_total": "0",
        "refunded_amount": "15",
    },
    # a guest order and an order after the analysis date: not seen
    {"order_id": "G1", "customer_id": None, "ordered_at": "2024-03-05", "order_total": "70"},
    {"order_id": "K4", "customer_id": "K", "ordered_at": "2024-04-02", "order_total": "99"},
]


def fixed_fit(
    covariance: np.ndarray | None = None,
    spend_covariance: np.ndarray | None = None,
) -> pipeline.PredictionFit:
    """A PredictionFit of the shop with the fixed parameters and its compressed histories."""
    compressed = pd.DataFrame(
        {"repeat_purchases": [0, 1, 1], "t_x_days": [0, 10, 25], "T_days": [30, 30, 30]}
    ).assign(customers=1)
    spend_histories = pd.DataFrame(
        {"repeat_purchases": [1], "repeat_value_mean": [40.0], "customers": [2]}
    )
    purchase = PurchaseFit(
        model="bgnbd",
        params={"r": R, "alpha": ALPHA, "a": A, "b": B},
        log_likelihood=-1.0,
        covariance=covariance,
        customers=3,
        repeat_buyers=2,
    )
    spend = SpendFit(
        params={"p": P, "q": Q, "gamma": GAMMA},
        log_likelihood=-1.0,
        covariance=spend_covariance,
        customers=2,
        fallback=None,
        population_mean=P * GAMMA / (Q - 1),
    )
    return pipeline.PredictionFit(
        dataset="shop",
        as_of=AS_OF,
        rules=order_rules.DEFAULT_RULES,
        model="bgnbd",
        purchase=purchase,
        spend=spend,
        compressed=compressed,
        warnings=(),
        model_choice=None,
        spend_histories=spend_histories,
    )


def scored(
    workspace: Path, fit: pipeline.PredictionFit, settings: pipeline.PredictionSettings
) -> pd.DataFrame:
    with engines.open_tables("duckdb", workspace=workspace, dataset="shop") as tables:
        table = pipeline.score_customers(tables, fit, settings)
        return table.to_pandas().set_index("customer_id").sort_index()


def bgnbd_expected(x: int, t_x: int, big_t: int, days: float) -> float:
    """FHL (2005) eq. 10, written out independently of the package."""
    alive_odds = (A / (B + x - 1)) * ((ALPHA + big_t) / (ALPHA + t_x)) ** (R + x) if x else 0.0
    z = days / (ALPHA + big_t + days)
    head = (A + B + x - 1) / (A - 1)
    tail = 1 - ((ALPHA + big_t) / (ALPHA + big_t + days)) ** (R + x) * hyp2f1(
        R + x, B + x, A + B + x - 1, z
    )
    return head * tail / (1 + alive_odds)


def test_every_customer_is_scored_by_hand(workspace: Path, make_dataset) -> None:
    make_dataset("shop", ORDERS, ["K", "L", "N", "P"])
    frame = scored(workspace, fixed_fit(), pipeline.PredictionSettings())
    assert list(frame.index) == ["K", "L", "N", "P", "Q", "R"]
    assert list(frame.columns) == [
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
    k, el, n = frame.loc["K"], frame.loc["L"], frame.loc["N"]
    assert (k.repeat_purchases, k.t_x_days, k.T_days) == (1, 25, 30)
    # P(alive) = 1 / (1 + a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x))
    # K: 1 / (1 + 2/3 (40/35)^2) = 147/275; L: 1 / (1 + 2/3 (40/20)^2) = 3/11; N (x = 0): 1
    assert math.isclose(k.p_alive, 147 / 275, rel_tol=1e-9)
    assert math.isclose(el.p_alive, 3 / 11, rel_tol=1e-9)
    assert math.isclose(n.p_alive, 1.0, rel_tol=1e-12)
    # churn risk over 90 days: 1 - P(alive) + P(alive) ((alpha + T) / (alpha + T + 90))^(r + x)
    # K: 1 - 147/275 + 147/275 (40/130)^2 = 0.5161 (Medium); L: 0.7531 (High);
    # N: (40/130)^1 = 0.3077 (Low)
    shrink = (40 / 130) ** 2
    assert math.isclose(k.churn_risk, 1 - 147 / 275 + 147 / 275 * shrink, rel_tol=1e-9)
    assert math.isclose(el.churn_risk, 1 - 3 / 11 + 3 / 11 * shrink, rel_tol=1e-9)
    assert math.isclose(n.churn_risk, 40 / 130, rel_tol=1e-9)
    assert [k.churn_band, el.churn_band, n.churn_band] == ["Medium", "High", "Low"]
    for row, (x, t_x) in ((k, (1, 25)), (el, (1, 10)), (n, (0, 0))):
        assert math.isclose(row.expected_orders, bgnbd_expected(x, t_x, 30, 365), rel_tol=1e-9)
    # Gamma-Gamma: (gamma + m x) p / (p x + q - 1) = (10 + 40) 2 / (2 + 2) = 25.00 for K and L;
    # N has no repeat purchase: the population mean p gamma / (q - 1) = 10.00
    assert [k.expected_order_value, el.expected_order_value, n.expected_order_value] == [
        Decimal("25.00"),
        Decimal("25.00"),
        Decimal("10.00"),
    ]
    for row, value in ((k, 25), (el, 25), (n, 10)):
        cents = Decimal(str(round(row.expected_orders * value, 2)))
        assert row.predicted_clv == cents
        assert row.total_clv == row.historic_clv + row.predicted_clv
    # historic CLV: K 50 + 25 + 15 = 90 (the order after as_of unseen); L 20 + 40 = 60; N 5
    assert [k.historic_clv, el.historic_clv, n.historic_clv] == [
        Decimal("90.00"),
        Decimal("60.00"),
        Decimal("5.00"),
    ]
    # next order: only for P(alive) >= 0.5 (K, N): as_of + ceil((alpha + T)(2^(1/(r + x)) - 1))
    # K: 40 (sqrt 2 - 1) = 16.57 -> 17 days; N: 40 (2 - 1) = 40 days
    assert k.expected_next_order_on == pd.Timestamp("2024-04-17")
    assert n.expected_next_order_on == pd.Timestamp("2024-05-10")
    assert pd.isna(el.expected_next_order_on)
    # no covariance: no range
    assert (
        frame.loc[["K", "L", "N"], ["predicted_clv_low", "predicted_clv_high"]].isna().all().all()
    )
    assert frame.loc[["K", "L", "N"], "prediction_note"].isna().all()

    # P: customers file only; Q: only a cancelled order; R: only a return row (net -15)
    assert frame.loc["P", "prediction_note"] == "No orders yet: no prediction."
    assert frame.loc["Q", "prediction_note"] == pipeline.NO_VALID_ORDER_NOTE
    assert frame.loc["R", "prediction_note"] == pipeline.NO_VALID_ORDER_NOTE
    assert list(frame.loc[["P", "Q", "R"], "historic_clv"]) == [
        Decimal("0.00"),
        Decimal("0.00"),
        Decimal("-15.00"),
    ]
    unpredicted = frame.loc[["P", "Q", "R"]].drop(columns=["historic_clv", "prediction_note"])
    assert unpredicted.isna().all().all()


def test_horizon_churn_window_and_discount_rescore_without_refitting(
    workspace: Path, make_dataset
) -> None:
    make_dataset("shop", ORDERS)
    fit = fixed_fit()
    short = scored(workspace, fit, pipeline.PredictionSettings(horizon_days=30, churn_days=30))
    k = short.loc["K"]
    assert math.isclose(k.expected_orders, bgnbd_expected(1, 25, 30, 30), rel_tol=1e-9)
    # churn over 30 days: 1 - 147/275 + 147/275 (40/70)^2
    assert math.isclose(k.churn_risk, 1 - 147 / 275 + 147 / 275 * (40 / 70) ** 2, rel_tol=1e-9)
    discounted = scored(workspace, fit, pipeline.PredictionSettings(discount_rate=0.1))
    plain = scored(workspace, fit, pipeline.PredictionSettings())
    # expected orders stay a count; predicted CLV is discounted (later orders are worth less)
    assert discounted.loc["K", "expected_orders"] == plain.loc["K", "expected_orders"]
    assert Decimal("0") < discounted.loc["K", "predicted_clv"] < plain.loc["K", "predicted_clv"]
    # each order is discounted by at most 1.1^-1 and at least 1.1^0
    ratio = float(discounted.loc["K", "predicted_clv"] / plain.loc["K", "predicted_clv"])
    assert 1 / 1.1 < ratio < 1


def test_range_collapses_to_the_prediction_without_parameter_uncertainty(
    workspace: Path, make_dataset
) -> None:
    make_dataset("shop", ORDERS)
    fit = fixed_fit(covariance=np.zeros((4, 4)), spend_covariance=np.zeros((3, 3)))
    frame = scored(workspace, fit, pipeline.PredictionSettings())
    for customer in ("K", "L", "N"):
        row = frame.loc[customer]
        assert row.predicted_clv_low == row.predicted_clv == row.predicted_clv_high


def test_range_brackets_the_prediction_with_uncertainty(workspace: Path, make_dataset) -> None:
    make_dataset("shop", ORDERS)
    fit = fixed_fit(covariance=np.eye(4) * 0.04, spend_covariance=np.eye(3) * 0.01)
    frame = scored(workspace, fit, pipeline.PredictionSettings())
    for customer in ("K", "L", "N"):
        row = frame.loc[customer]
        assert row.predicted_clv_low < row.predicted_clv < row.predicted_clv_high


def test_churn_bands_follow_klaviyo_thresholds() -> None:
    bands = list(pipeline.name_churn_bands(np.array([0.0, 0.3299, 0.33, 0.66, 0.6601, 1.0])))
    assert bands == ["Low", "Low", "Medium", "Medium", "High", "High"]


def test_weak_data_gives_each_reason_as_a_sentence() -> None:
    compressed = pd.DataFrame(
        {
            "repeat_purchases": [0, 1],
            "t_x_days": [0, 20],
            # history 150 days; the latest purchase 130 - 20 = 110 days before as_of
            "T_days": [150, 130],
            "customers": [700, 40],
        }
    )
    warnings = pipeline.describe_weak_data(compressed)
    assert warnings == [
        "Only 40 customers bought more than once (fewer than 500): the predictions are rough.",
        "The orders cover only 150 days (under 180): the models see little of how often "
        "customers come back.",
        "No valid order in the 90 days up to the analysis date: the models cannot tell recent "
        "customers from lapsed ones.",
        "No customer bought on 3 or more days: the models extrapolate repeat buying from second "
        "purchases only.",
    ]
    strong = pd.DataFrame(
        {
            "repeat_purchases": [0, 2],
            "t_x_days": [0, 300],
            "T_days": [400, 310],
            "customers": [700, 500],
        }
    )
    assert pipeline.describe_weak_data(strong) == []


def make_orders(days_by_customer: dict[str, list[str]]) -> list[dict[str, object]]:
    return [
        {"order_id": f"{c}{i}", "customer_id": c, "ordered_at": day, "order_total": "10"}
        for c, days in days_by_customer.items()
        for i, day in enumerate(days)
    ]


@pytest.mark.parametrize(
    ("days_by_customer", "message"),
    [
        ({"A": ["2024-01-01", "2024-02-01"]}, "Only one customer has a valid order"),
        (
            {"A": ["2024-03-01"], "B": ["2024-03-01", "2024-03-01"]},
            r"All valid orders up to 2024-03-31 are on one day \(2024-03-01\)",
        ),
        ({"A": ["2024-01-01"], "B": ["2024-02-01"]}, "Nobody bought on two different days"),
        ({}, "No customer has a valid order on or before 2024-03-31"),
    ],
)
def test_data_no_model_can_learn_from_is_one_sentence(
    workspace: Path, make_dataset, days_by_customer: dict[str, list[str]], message: str
) -> None:
    make_dataset("shop", make_orders(days_by_customer))
    with (
        engines.open_tables("duckdb", workspace=workspace, dataset="shop") as tables,
        pytest.raises(ModelFitError, match=message),
    ):
        pipeline.fit_predictions(tables, AS_OF, model="bgnbd")


def test_next_order_dates_round_the_wait_up_and_need_p_alive_half() -> None:
    wait = np.array([0.2, 3.0, 3.01, 10.0, np.inf])
    alive = np.array([0.9, 0.5, 0.7, 0.49, 0.8])
    dates = pipeline.date_next_orders(dt.date(2024, 3, 31), wait, alive)
    assert list(dates) == [
        dt.date(2024, 4, 1),  # at least one day ahead
        dt.date(2024, 4, 3),
        dt.date(2024, 4, 4),  # rounded up
        None,  # probably gone
        None,  # no finite wait
    ]


@pytest.mark.parametrize(
    ("outcomes", "used", "switch"),
    [
        # the holdout's winner is identified: used, no warning
        ({"pareto-nbd": "fit", "bgnbd": "fit"}, "pareto-nbd", None),
        # the winner runs off on all the data, the other is identified: the other, and why
        (
            {"pareto-nbd": "limit", "bgnbd": "fit"},
            "bgnbd",
            "The Pareto/NBD model won on the holdout, but on all the data its parameters run off "
            "to their limit (so its predictions would have no uncertainty range). BG/NBD is used "
            "instead.",
        ),
        # both run off: the winner's limit case is kept (the fit's own warning says so)
        ({"pareto-nbd": "limit", "bgnbd": "limit"}, "pareto-nbd", None),
        # the winner cannot be fitted, the other only as its limit case: that limit case
        ({"pareto-nbd": "error", "bgnbd": "limit"}, "bgnbd", "Cannot fit. BG/NBD is used instead."),
    ],
)
def test_auto_falls_back_when_the_winner_is_not_identified_on_all_the_data(
    monkeypatch: pytest.MonkeyPatch, outcomes: dict[str, str], used: str, switch: str | None
) -> None:
    def fit(model: str, *arrays: np.ndarray) -> PurchaseFit:
        if outcomes[model] == "error":
            raise ModelFitError("Cannot fit.")
        limit = outcomes[model] == "limit"
        return PurchaseFit(model, {}, -1.0, None if limit else np.eye(4), 3, 1, at_limit=limit)

    monkeypatch.setattr(pipeline.purchase_models, "fit_purchase_model", fit)
    compressed = pd.DataFrame(
        {"repeat_purchases": [1], "t_x_days": [5], "T_days": [9], "customers": [3]}
    )
    warnings: list[str] = []
    chosen = pipeline.fit_first_model(["pareto-nbd", "bgnbd"], compressed, warnings)
    assert chosen.model == used
    assert warnings == ([] if switch is None else [switch])


def test_auto_raises_the_last_error_when_no_candidate_can_be_fitted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def fit(model: str, *arrays: np.ndarray) -> PurchaseFit:
        raise ModelFitError(f"{model} cannot be fitted.")

    monkeypatch.setattr(pipeline.purchase_models, "fit_purchase_model", fit)
    compressed = pd.DataFrame(
        {"repeat_purchases": [1], "t_x_days": [5], "T_days": [9], "customers": [3]}
    )
    with pytest.raises(ModelFitError, match="^bgnbd cannot be fitted"):
        pipeline.fit_first_model(["pareto-nbd", "bgnbd"], compressed, [])
