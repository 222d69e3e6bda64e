"""What the Predictions page shows of the scored customers: headline figures, churn bands, the
probability-alive map and the top customers (docs/predictions.md, "In the app").

Pure pandas and numpy on the already scored customers (``pipeline.score_customers`` executed)
or on the fit's compressed histories, which are small.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dashboard.predict import purchase_models
from dashboard.predict.purchase_models import PurchaseFit

CHURN_BANDS = ("Low", "Medium", "High")
# The probability-alive map: repeat purchases 0..FREQUENCY_CAP-1 then "FREQUENCY_CAP+", and at
# most about MAP_COLUMNS recency columns, each a whole number of RECENCY_STEP_DAYS wide.
FREQUENCY_CAP = 10
MAP_COLUMNS = 20
RECENCY_STEP_DAYS = 30
TOP_CUSTOMERS = 20


@dataclass(frozen=True)
class PredictionHeadline:
    """The Predictions page's headline: customers with a prediction, their predicted revenue
    over the horizon (sum of predicted CLV), the share at High churn risk, and the known
    customers without a prediction (prospects and customers with no valid order)."""

    customers: int
    predicted_revenue: float
    high_risk_share: float
    without_prediction: int


def summarise_headline(scores: pd.DataFrame) -> PredictionHeadline:
    """Return the headline of the scored customers.

    In: ``pipeline.score_customers``'s columns, one row per known customer. A customer has a
    prediction when ``prediction_note`` is null.
    """
    predicted = scores[scores.prediction_note.isna()]
    customers = len(predicted)
    high = int((predicted.churn_band == "High").sum())
    return PredictionHeadline(
        customers=customers,
        predicted_revenue=float(predicted.predicted_clv.astype("float64").sum()),
        high_risk_share=high / customers if customers else 0.0,
        without_prediction=len(scores) - customers,
    )


def count_churn_bands(scores: pd.DataFrame) -> pd.DataFrame:
    """Return churn_band (Low, Medium, High, in that order), customers (int), share (float of
    the customers with a prediction). In: ``pipeline.score_customers``'s columns."""
    predicted = scores[scores.prediction_note.isna()]
    counts = predicted.churn_band.value_counts().reindex(CHURN_BANDS, fill_value=0)
    total = int(counts.sum())
    return pd.DataFrame(
        {
            "churn_band": list(CHURN_BANDS),
            "customers": counts.to_numpy(dtype="int64"),
            "share": counts.to_numpy(dtype="float64") / total if total else 0.0,
        }
    )


def map_probability_alive(fit: PurchaseFit, compressed: pd.DataFrame) -> pd.DataFrame:
    """Return the mean probability alive per cell of recency x frequency.

    In: the fit and its compressed histories (repeat_purchases, t_x_days, T_days, customers).
    Recency is days since the last purchase (T - t_x), cut into equal bands of a whole number of
    30 days (at most about 20 bands); frequency is repeat purchases, the last row "10+".
    Out: frequency (str), frequency_order (int), recency_from, recency_to (int, days, bands
    [from, to)), customers (int), p_alive (customer-weighted mean), one row per non-empty cell.
    """
    x = compressed.repeat_purchases.to_numpy(dtype="float64")
    t_x = compressed.t_x_days.to_numpy(dtype="float64")
    big_t = compressed.T_days.to_numpy(dtype="float64")
    weights = compressed.customers.to_numpy(dtype="int64")
    alive = purchase_models.probability_alive(fit, x, t_x, big_t)
    recency = (big_t - t_x).astype("int64")
    steps = max(1, int(np.ceil((int(recency.max()) + 1) / (RECENCY_STEP_DAYS * MAP_COLUMNS))))
    width = RECENCY_STEP_DAYS * steps
    band = recency // width
    frequency = np.minimum(x.astype("int64"), FREQUENCY_CAP)
    cells = pd.DataFrame(
        {
            "frequency_order": frequency,
            "band": band,
            "customers": weights,
            "weighted": alive * weights,
        }
    )
    grouped = cells.groupby(["frequency_order", "band"], as_index=False).sum()
    return pd.DataFrame(
        {
            "frequency": [
                f"{FREQUENCY_CAP}+" if value == FREQUENCY_CAP else str(value)
                for value in grouped.frequency_order
            ],
            "frequency_order": grouped.frequency_order.astype("int64"),
            "recency_from": (grouped.band * width).astype("int64"),
            "recency_to": ((grouped.band + 1) * width).astype("int64"),
            "customers": grouped.customers.astype("int64"),
            "p_alive": grouped.weighted / grouped.customers,
        }
    )


def pick_top_customers(scores: pd.DataFrame, count: int = TOP_CUSTOMERS) -> pd.DataFrame:
    """Return the ``count`` customers with the highest predicted CLV (ties by customer id).

    In and out: ``pipeline.score_customers``'s columns; customers without a prediction are left
    out.
    """
    predicted = scores[scores.prediction_note.isna()].assign(
        _clv=lambda frame: frame.predicted_clv.astype("float64")
    )
    top = predicted.sort_values(["_clv", "customer_id"], ascending=[False, True]).head(count)
    return top.drop(columns="_clv").reset_index(drop=True)
