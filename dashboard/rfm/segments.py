"""The cheap step: scores -> segments -> per-segment summary, re-run on every slider move.

The expensive per-customer measures are built once (``cut_points.build_customer_measures``); here
customers are grouped by score cell (at most 125 groups) and the cells are mapped to segments,
so a slider move costs one small aggregation.
"""

from __future__ import annotations

import math

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from dashboard.rfm import cut_points
from dashboard.rfm.schemes import PROSPECTS, Scheme

SUMMARY_COLUMNS = [
    "segment",
    "customers",
    "share_customers",
    "revenue",
    "share_revenue",
    "orders",
    "aov",
    "revenue_per_customer",
    "avg_recency_days",
]
# Added by ``summarise_segments`` when the cells carry predictions (docs/segments.md §5.1).
PREDICTED_COLUMNS = ["predicted_clv", "predicted_clv_per_customer", "share_high_churn"]
# The cell columns the predicted figures are added up from.
PREDICTED_CELL_COLUMNS = ["predicted_customers", "predicted_clv", "high_churn"]
HIGH_CHURN_BAND = "High"


def weigh_predictions(predictions: pd.DataFrame) -> pd.DataFrame:
    """The per-customer weights of the predicted summary columns.

    In: ``pipeline.score_customers``' rows (at least customer_id, predicted_clv as Decimal or
    float, null without a prediction, and churn_band). Out: one row per customer with a
    prediction: customer_id, predicted_cents (int64, predicted CLV in cents, exact for a
    two-decimal amount) and high_churn (int64, 1 in the High churn band, else 0).
    """
    predicted = predictions[predictions.predicted_clv.notna()]
    clv = predicted.predicted_clv.astype("float64").to_numpy()
    return pd.DataFrame(
        {
            "customer_id": predicted.customer_id.astype("string").to_numpy(dtype=object),
            "predicted_cents": np.round(clv * 100).astype("int64"),
            "high_churn": (predicted.churn_band == HIGH_CHURN_BAND).to_numpy(dtype="int64"),
        }
    )


def summarise_cells(
    measures: ir.Table, cuts: cut_points.Cuts, predictions: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Aggregate the customers per score cell.

    In: the table of ``build_customer_measures`` and, optionally, ``pipeline.score_customers``'
    rows. Out: one row per (r_score, f_score, m_score) cell that has customers: customers,
    revenue (float), orders, recency_total, and with predictions PREDICTED_CELL_COLUMNS
    (customers with a prediction, their predicted CLV summed in cents then divided by 100, how
    many are at High churn risk); plus one row with r_score = 0 for the prospects (customers
    without valid orders, predicted columns 0). Rows are ordered by (r_score, f_score, m_score),
    prospects last, so float sums over them do not depend on the order an engine returns groups
    in.
    """
    scored = cut_points.score_customers(measures, cuts)
    if predictions is not None:
        weights = ibis.memtable(
            weigh_predictions(predictions),
            schema={"customer_id": "string", "predicted_cents": "int64", "high_churn": "int64"},
        ).rename(predicted_id="customer_id")
        scored = scored.left_join(weights, scored.customer_id == weights.predicted_id)
    figures = {
        "customers": scored.count(),
        "revenue": scored.monetary.sum().cast("float64"),
        "orders": scored.frequency.sum(),
        "recency_total": scored.recency_days.sum(),
    }
    if predictions is not None:
        figures.update(
            predicted_customers=scored.predicted_id.count(),
            predicted_clv=scored.predicted_cents.sum().fill_null(0).cast("float64") / 100,
            high_churn=scored.high_churn.sum().fill_null(0),
        )
    cells = (
        scored.group_by(["r_score", "f_score", "m_score"])
        .aggregate(**figures)
        .order_by(["r_score", "f_score", "m_score"])
        .to_pandas()
    )
    if predictions is not None:
        cells = cells.astype({"predicted_customers": "int64", "high_churn": "int64"})
    prospects = measures.filter(measures.status == cut_points.STATUS_PROSPECT)
    counts = prospects.aggregate(
        customers=prospects.count(), revenue=prospects.monetary.sum().cast("float64")
    ).to_pandas()
    n_prospects = int(counts.customers.iloc[0])
    if n_prospects:
        prospect_row = {
            "r_score": 0,
            "f_score": 0,
            "m_score": 0,
            "customers": n_prospects,
            "revenue": float(counts.revenue.fillna(0).iloc[0]),
            "orders": 0,
            "recency_total": 0,
        }
        if predictions is not None:
            prospect_row.update(predicted_customers=0, predicted_clv=0.0, high_churn=0)
        cells = pd.concat([cells, pd.DataFrame([prospect_row])], ignore_index=True)
    return cells


def label_cells(cells: pd.DataFrame, scheme: Scheme) -> pd.Series:
    """Return the segment of each row of a cell table (r_score 0 = prospects)."""
    return pd.Series(
        [
            PROSPECTS if r == 0 else scheme.segment_of(r, f, m)
            for r, f, m in zip(cells.r_score, cells.f_score, cells.m_score, strict=True)
        ],
        index=cells.index,
        dtype="object",
    )


def summarise_segments(cells: pd.DataFrame, scheme: Scheme) -> pd.DataFrame:
    """Per-segment figures from a cell table.

    In: the output of ``summarise_cells``. Out: one row per segment of the scheme (in the scheme's
    order, Prospects last, empty segments kept with zeros): SUMMARY_COLUMNS, and when the cells
    carry predictions PREDICTED_COLUMNS (predicted CLV summed over the segment, its mean per
    customer with a prediction, the share of those at High churn risk; NaN for Prospects, who
    have no prediction). Shares are fractions of all customers / all revenue; AOV = revenue /
    orders. Money is added up exactly (``math.fsum``), so the figures do not depend on the order
    of the cells.

    At most 126 cells: plain arrays, since this runs on every slider move and pandas' grouping
    costs more than the counting before it.
    """
    order = [*scheme.segments, PROSPECTS]
    position = {segment: i for i, segment in enumerate(order)}
    which = np.array([position[s] for s in label_cells(cells, scheme)], dtype=np.intp)

    def add_up(column: str) -> np.ndarray:
        values = cells[column].to_numpy(dtype="float64")
        return np.bincount(which, weights=values, minlength=len(order))

    def add_up_exactly(column: str) -> np.ndarray:
        parts: list[list[float]] = [[] for _ in order]
        for segment, value in zip(which, cells[column].to_numpy(dtype="float64"), strict=True):
            parts[segment].append(value)
        return np.array([math.fsum(values) for values in parts])

    revenue = add_up_exactly("revenue")
    customers, orders = add_up("customers"), add_up("orders")
    total_customers, total_revenue = customers.sum(), math.fsum(revenue)
    scored = np.arange(len(order)) < len(order) - 1
    predicted: dict[str, np.ndarray] = {}
    if "predicted_clv" in cells.columns:
        with_prediction = add_up("predicted_customers")
        clv = add_up_exactly("predicted_clv")
        with np.errstate(divide="ignore", invalid="ignore"):
            predicted = {
                "predicted_clv": np.where(scored, clv, np.nan),
                "predicted_clv_per_customer": np.where(
                    scored & (with_prediction > 0), clv / with_prediction, np.nan
                ),
                "share_high_churn": np.where(
                    scored & (with_prediction > 0),
                    add_up("high_churn") / with_prediction,
                    np.nan,
                ),
            }
    with np.errstate(divide="ignore", invalid="ignore"):
        return pd.DataFrame(
            {
                "segment": order,
                "customers": customers.astype("int64"),
                "share_customers": customers / total_customers if total_customers else 0.0,
                "revenue": revenue,
                "share_revenue": revenue / total_revenue if total_revenue else 0.0,
                "orders": orders.astype("int64"),
                "aov": np.where(orders > 0, revenue / orders, np.nan),
                "revenue_per_customer": np.where(customers > 0, revenue / customers, np.nan),
                "avg_recency_days": np.where(
                    (customers > 0) & scored, add_up("recency_total") / customers, np.nan
                ),
                **predicted,
            }
        )


def assign_segments(measures: ir.Table, cuts: cut_points.Cuts, scheme: Scheme) -> ir.Table:
    """Per-customer scores and segment.

    In: the table of ``build_customer_measures``. Out: one row per scored customer or prospect:
    customer_id, recency_days, frequency, monetary, r_score, f_score, m_score (null for
    prospects), segment, ordered by customer_id.
    """
    scored = cut_points.score_customers(measures, cuts)
    mapping = ibis.memtable(
        pd.DataFrame(
            [(r * 100 + f * 10 + m, seg) for (r, f, m), seg in scheme.cells.items()],
            columns=["cell_code", "segment"],
        )
    )
    coded = scored.mutate(
        cell_code=scored.r_score.cast("int16") * 100
        + scored.f_score.cast("int16") * 10
        + scored.m_score.cast("int16")
    )
    labelled = coded.join(mapping, "cell_code").select(
        "customer_id",
        "recency_days",
        "frequency",
        "monetary",
        "r_score",
        "f_score",
        "m_score",
        "segment",
    )
    prospects = measures.filter(measures.status == cut_points.STATUS_PROSPECT).select(
        "customer_id",
        recency_days=ibis.null("int64"),
        frequency=measures.frequency,
        monetary=measures.monetary,
        r_score=ibis.null("int8"),
        f_score=ibis.null("int8"),
        m_score=ibis.null("int8"),
        segment=ibis.literal(PROSPECTS),
    )
    return labelled.union(prospects).order_by("customer_id")


# The predicted fields a segment download carries: score_customers' columns after customer_id.
PREDICTION_FIELDS = [
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


def attach_predictions(members: pd.DataFrame, predictions: pd.DataFrame) -> pd.DataFrame:
    """Add each member's predicted fields to a member list.

    In: one row per customer with customer_id (e.g. ``analysis.segment_members``) and
    ``pipeline.score_customers``' rows. Out: the members in their order with PREDICTION_FIELDS
    appended (empty for a customer the predictions do not know).
    """
    fields = predictions[["customer_id", *PREDICTION_FIELDS]]
    return members.merge(fields, on="customer_id", how="left", validate="one_to_one")
