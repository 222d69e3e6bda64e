"""Issue 18 #12, the slow first steps of a session, each beside a plain reference of the same run.

- "Find clusters": ``clustering.cluster_customers`` (k = 2..8 fitted on at most 20,000
  customers, silhouettes on 5,000 of them) beside the plain way it used to be done: scikit-learn's
  ``KMeans`` for every k and ``silhouette_score`` on the whole 20,000-customer sample, then every
  customer assigned to the best model. Both cluster the same scored customers.
- Opening Channels, Cohorts and Maturity in a new session: everything those pages compute once
  per session (attribution, cohort cells, the channel report, the maturity report) beside one
  hand-written DuckDB query of what they start from (each customer's first valid order, the
  cohort sizes and the valid orders per month). Both count the same customers and orders.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from threadpoolctl import threadpool_limits

from bench.checks import Figures
from dashboard.acquisition import reports
from dashboard.rfm import analysis, clustering, cut_points
from dashboard.rfm.schemes import PROSPECTS, Scheme

PAGES_SQL = """
WITH valid AS (
    SELECT customer_id, ordered_at
    FROM orders
    WHERE NOT is_cancelled AND order_total > 0 AND CAST(ordered_at AS DATE) <= ?
),
firsts AS (
    SELECT customer_id, date_trunc('month', min(ordered_at)) AS cohort_month
    FROM valid WHERE customer_id IS NOT NULL GROUP BY customer_id
),
cohorts AS (SELECT cohort_month, count(*) AS customers FROM firsts GROUP BY cohort_month),
months AS (
    SELECT date_trunc('month', ordered_at) AS month, count(*) AS orders
    FROM valid GROUP BY month
)
SELECT
    (SELECT sum(customers) FROM cohorts) AS customers,
    (SELECT count(*) FROM cohorts) AS cohorts,
    (SELECT sum(orders) FROM months) AS orders,
    (SELECT count(*) FROM months) AS months
"""


def resolve_scoring(base: analysis.CustomerBase, scheme: Scheme) -> cut_points.Cuts:
    """Return the quantile cut points the Segments page would use for ``base`` (untimed)."""
    return cut_points.resolve_cuts(base.measures, cut_points.ScoringSpec(scheme))


def cluster_ours(
    base: analysis.CustomerBase, cuts: cut_points.Cuts, scheme: Scheme
) -> clustering.Clustering:
    """Find the clusters as the RFM studio's button does."""
    return clustering.cluster_customers(base, cuts, scheme)


def load_features(base: analysis.CustomerBase, cuts: cut_points.Cuts, scheme: Scheme) -> np.ndarray:
    """Return the scaled R, F and M of the scored customers, as the clustering reads them."""
    members = analysis.segment_members(base, cuts, scheme)
    members = members[members.segment != PROSPECTS].reset_index(drop=True)
    members["monetary"] = members.monetary.astype("float64")
    return clustering.scale_features(members)[0]


def cluster_sklearn(features: np.ndarray) -> np.ndarray:
    """k-means for k = 2..8 on the sample, scikit-learn's silhouette on all of it; labels."""
    sample = features[clustering.sample_indices(len(features))]
    best, best_score = None, -np.inf
    with threadpool_limits(limits=1):
        for k in clustering.K_CANDIDATES:
            model = KMeans(k, random_state=clustering.RANDOM_STATE, n_init=clustering.N_INIT)
            labels = model.fit_predict(sample)
            score = silhouette_score(sample, labels)
            if score > best_score:
                best, best_score = model, score
        assert best is not None
        return best.predict(features)


def read_cluster_figures(customers_clustered: int) -> Figures:
    """Return the check figures of a clustering: the customers it assigned a cluster."""
    return {"customers_clustered": customers_clustered}


PagesResult = tuple[reports.MaturityReport, pd.DataFrame, pd.DataFrame]


def open_pages_ours(workspace: Path, dataset: str, as_of: dt.date) -> PagesResult:
    """Compute what Channels, Cohorts and Maturity compute once per session, in page order."""
    settings = reports.Settings()
    attribution = reports.load_attribution(workspace, dataset, as_of, settings.rules_frame())
    cells = reports.load_cohort_table(workspace, dataset, as_of, attribution)
    channel = reports.load_channel_report(workspace, dataset, as_of, settings, attribution, cells)
    matured = reports.load_maturity(workspace, dataset, as_of, settings, channel.economics)
    return matured, attribution, cells


def read_pages_figures(result: PagesResult) -> Figures:
    """Return customers, cohorts, valid orders and months of our pages' reports."""
    matured, attribution, cells = result
    return {
        "customers": len(attribution),
        "cohorts": int(cells.cohort_month.nunique()),
        "orders": matured.store.orders,
        "months": len(matured.stages),
    }


def open_pages_duckdb(database: Path, as_of: dt.date) -> Figures:
    """Run the hand-written query of the pages' starting figures (``as_of`` bound)."""
    con = duckdb.connect(str(database), read_only=True)
    try:
        row = con.execute(PAGES_SQL, [as_of]).fetchone()
    finally:
        con.close()
    assert row is not None
    return dict(zip(("customers", "cohorts", "orders", "months"), map(int, row), strict=True))
