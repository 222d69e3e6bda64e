"""Sensitivity: how many customers (and how much revenue) change segment when the cut points move.

Cheap by design: customers are counted per (old cell, new cell), at most 125 x 125 rows, and the
cells are mapped to segments in memory. The count is one Ibis aggregation on any engine, or the
base's in-memory cell index when it has one (``cell_index``; same figures, a few ms).
"""

from __future__ import annotations

from typing import NamedTuple

import ibis.expr.types as ir
import pandas as pd

from dashboard.rfm import cell_index, cut_points
from dashboard.rfm.analysis import CustomerBase, index_cells
from dashboard.rfm.schemes import Scheme

TRANSITION_COLUMNS = ["segment_from", "segment_to", "customers", "revenue"]


class SegmentChanges(NamedTuple):
    """The customers and revenue that changed segment, and every (from, to) pair."""

    customers_changed: int
    revenue_changed: float
    transitions: pd.DataFrame


def count_transitions(
    measures: ir.Table, old_cuts: cut_points.Cuts, new_cuts: cut_points.Cuts
) -> pd.DataFrame:
    """Count scored customers per (old cell, new cell) with one Ibis aggregation.

    Out: the columns of ``cell_index.count_transitions``, ordered the same way.
    """
    old = cut_points.score_customers(measures, old_cuts).rename(
        r_from="r_score", f_from="f_score", m_from="m_score"
    )
    both = cut_points.score_customers(old, new_cuts)
    keys = ["r_from", "f_from", "m_from", "r_score", "f_score", "m_score"]
    return (
        both.group_by(keys)
        .aggregate(customers=both.count(), revenue=both.monetary.sum().cast("float64"))
        .order_by(keys)
        .to_pandas()
    )


def segment_changes(
    base: CustomerBase, old_cuts: cut_points.Cuts, new_cuts: cut_points.Cuts, scheme: Scheme
) -> SegmentChanges:
    """Compare the segments of the scored customers under two sets of cut points.

    In: the base's measures. Out: customers_changed and revenue_changed (net revenue of the
    customers whose segment differs) and transitions: one row per (segment_from, segment_to)
    pair that has customers, unchanged pairs included (TRANSITION_COLUMNS), so its revenue sums
    to the revenue of all scored customers. Prospects are not scored and never change.
    """
    if not old_cuts.n_scores == new_cuts.n_scores == scheme.n_scores:
        raise cut_points.CutsError(
            f"Both sets of cut points need {scheme.n_scores - 1} cuts per measure for this scheme."
        )
    index = index_cells(base)
    if index is None:
        cells = count_transitions(base.measures, old_cuts, new_cuts)
    else:
        cells = cell_index.count_transitions(index, old_cuts, new_cuts)
    cells["segment_from"] = [
        scheme.segment_of(r, f, m)
        for r, f, m in zip(cells.r_from, cells.f_from, cells.m_from, strict=True)
    ]
    cells["segment_to"] = [
        scheme.segment_of(r, f, m)
        for r, f, m in zip(cells.r_score, cells.f_score, cells.m_score, strict=True)
    ]
    order = {segment: i for i, segment in enumerate(scheme.segments)}
    transitions = (
        cells.groupby(["segment_from", "segment_to"], as_index=False)[["customers", "revenue"]]
        .sum()
        .sort_values(
            ["segment_from", "segment_to"], key=lambda column: column.map(order), ignore_index=True
        )
    )
    transitions["customers"] = transitions.customers.astype("int64")
    moved = transitions[transitions.segment_from != transitions.segment_to]
    return SegmentChanges(
        int(moved.customers.sum()), float(moved.revenue.sum()), transitions[TRANSITION_COLUMNS]
    )
