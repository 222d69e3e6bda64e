"""Step 3, the slider recompute: analysis.segment_summary beside a plain pandas version.

Both score the materialised per-customer measures with the same fixed custom cuts, count
customers per score cell, map cells to the Shopify scheme's segments and summarise per segment.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from bench.checks import Figures, normalise
from dashboard.rfm import analysis, cut_points
from dashboard.rfm.schemes import PROSPECTS, Scheme, get_scheme

SCHEME_KEY = "shopify"
# Quintile-ish cuts of the generated data (about N/3 customers, 2 years of orders).
CUTS = cut_points.Cuts(
    recency=(30.0, 90.0, 180.0, 365.0),
    frequency=(2.0, 3.0, 5.0, 8.0),
    monetary=(75.0, 150.0, 250.0, 400.0),
)


def load_scheme() -> Scheme:
    """Return the scheme the slider step uses."""
    return get_scheme(SCHEME_KEY)


def summarise_ours(base: analysis.CustomerBase, scheme: Scheme) -> pd.DataFrame:
    """Recompute the per-segment table with the engine, as a slider move does."""
    return analysis.segment_summary(base, CUTS, scheme)


def load_measures_frame(base: analysis.CustomerBase) -> pd.DataFrame:
    """Return the materialised measures as a DataFrame with float money (untimed)."""
    frame = base.measures.to_pandas()
    return frame.assign(monetary=frame.monetary.astype("float64"))


def score_by_cuts(values: pd.Series, cuts: tuple[float | None, ...], descending: bool) -> pd.Series:
    """Score ``values`` 1..n by binning on ``cuts`` the way rfm's threshold rule does.

    Recency (``descending``): n for values <= the first cut. F and M: 1 below the first cut.
    """
    edges = [-math.inf, *[c for c in cuts if c is not None], math.inf]
    labels = list(range(len(edges) - 1, 0, -1)) if descending else list(range(1, len(edges)))
    binned = pd.cut(values, bins=edges, labels=labels, right=descending)
    return binned.astype("int64")


def code_segments(scheme: Scheme) -> pd.Series:
    """Return the scheme as a Series from cell code r*100 + f*10 + m to segment."""
    return pd.Series({r * 100 + f * 10 + m: seg for (r, f, m), seg in scheme.cells.items()})


def summarise_pandas(measures: pd.DataFrame, scheme: Scheme) -> pd.DataFrame:
    """Score, group by cell, label and summarise per segment, all in pandas."""
    scored = measures.loc[measures.status == cut_points.STATUS_SCORED]
    code = (
        score_by_cuts(scored.recency_days, CUTS.recency, descending=True) * 100
        + score_by_cuts(scored.frequency, CUTS.frequency, descending=False) * 10
        + score_by_cuts(scored.monetary, CUTS.monetary, descending=False)
    )
    cells = scored.groupby(code.rename("code")).agg(
        customers=("customer_id", "size"),
        revenue=("monetary", "sum"),
        orders=("frequency", "sum"),
        recency_total=("recency_days", "sum"),
    )
    cells["segment"] = code_segments(scheme).reindex(cells.index).to_numpy()
    per_segment = cells.groupby("segment").sum()
    prospects = measures.loc[measures.status == cut_points.STATUS_PROSPECT]
    per_segment.loc[PROSPECTS] = [len(prospects), prospects.monetary.sum(), 0, 0]
    summary = per_segment.reindex([*scheme.segments, PROSPECTS], fill_value=0)
    summary["share_customers"] = summary.customers / summary.customers.sum()
    summary["share_revenue"] = summary.revenue / summary.revenue.sum()
    summary["aov"] = summary.revenue / summary.orders.replace(0, np.nan)
    summary["revenue_per_customer"] = summary.revenue / summary.customers.replace(0, np.nan)
    summary["avg_recency_days"] = summary.recency_total / summary.customers.replace(0, np.nan)
    summary.loc[PROSPECTS, "avg_recency_days"] = np.nan
    return summary.drop(columns="recency_total").rename_axis("segment").reset_index()


def read_summary_figures(summary: pd.DataFrame) -> Figures:
    """Return customers, revenue, orders and mean recency of every segment of a summary."""
    figures: Figures = {}
    for row in summary.itertuples(index=False):
        for column in ("customers", "revenue", "orders", "avg_recency_days"):
            figures[f"{row.segment}.{column}"] = normalise(getattr(row, column))
    return figures
