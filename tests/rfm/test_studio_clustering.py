"""Clustering: log1p + standardised R, F, M; k by silhouette; centres in original units."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashboard.rfm import analysis, clustering, cut_points
from dashboard.rfm.schemes import PRESETS

AS_OF = dt.date(2024, 6, 30)
# Three groups of ten identical customers: (days since last order, orders, net per order).
GROUPS = {"big": (5, 10, 100.0), "mid": (60, 3, 70.0), "low": (300, 1, 20.0)}


def write_groups(make_dataset) -> str:
    orders = []
    for name, (days, count, value) in GROUPS.items():
        last = dt.datetime.combine(AS_OF, dt.time(12)) - dt.timedelta(days=days)
        for c in range(10):
            for i in range(count):
                orders.append(
                    {
                        "order_id": f"{name}-{c}-{i}",
                        "customer_id": f"{name}-{c:02d}",
                        "ordered_at": last - dt.timedelta(days=i),
                        "order_total": value,
                    }
                )
    return make_dataset("groups", orders)


def test_scale_features_by_hand() -> None:
    frame = pd.DataFrame({"recency_days": [0, 9], "frequency": [1, 1], "monetary": [-5.0, 99.0]})
    features, mean, std = clustering.scale_features(frame)
    # log1p: recency 0 and log 10; frequency constant; monetary clipped to 0, then log 100.
    assert mean == pytest.approx([math.log(10) / 2, math.log(2), math.log(100) / 2])
    assert std == pytest.approx([math.log(10) / 2, 1.0, math.log(100) / 2])
    assert features == pytest.approx(np.array([[-1.0, 0.0, -1.0], [1.0, 0.0, 1.0]]))


def test_sample_indices_are_fixed_and_bounded() -> None:
    assert list(clustering.sample_indices(5, size=10)) == [0, 1, 2, 3, 4]
    first = clustering.sample_indices(1000, size=100)
    assert len(set(first)) == 100 and list(first) == sorted(first)
    assert np.array_equal(first, clustering.sample_indices(1000, size=100))


def test_three_clear_groups(workspace: Path, make_dataset) -> None:
    dataset = write_groups(make_dataset)
    base = analysis.load_customer_base(workspace, dataset, as_of=AS_OF)
    try:
        scheme = PRESETS["shopify"]
        cuts = cut_points.resolve_cuts(base.measures, cut_points.ScoringSpec(scheme))
        result = clustering.cluster_customers(base, cuts, scheme)
        again = clustering.cluster_customers(base, cuts, scheme)
        members = analysis.segment_members(base, cuts, scheme)
    finally:
        base.backend.disconnect()
    # Three distinct points: k = 2 and 3 can be fitted and 3 separates them perfectly.
    assert list(result.silhouettes.k) == [2, 3]
    assert result.k == 3 and result.silhouettes.silhouette.iloc[1] == pytest.approx(1.0)
    centres = result.centres.set_index("cluster")
    # Identical customers: the centre in original units is the group's own values.
    expected = {"Cluster 1": GROUPS["big"], "Cluster 2": GROUPS["mid"], "Cluster 3": GROUPS["low"]}
    for label, (days, count, value) in expected.items():
        row = centres.loc[label]
        assert (row.recency_days, row.frequency) == (pytest.approx(days), pytest.approx(count))
        assert row.monetary == pytest.approx(count * value)
        assert row.customers == 10 and row.share_customers == pytest.approx(1 / 3)
    assert centres.share_revenue.sum() == pytest.approx(1.0)
    by_customer = result.members.set_index("customer_id").cluster
    assert set(by_customer[by_customer.index.str.startswith("mid")]) == {"Cluster 2"}
    # The cross-tab counts every customer once, per the RFM segment the app shows.
    assert int(result.crosstab.to_numpy().sum()) == 30
    assert result.crosstab.sum(axis=1).to_dict() == members.segment.value_counts().to_dict()
    pd.testing.assert_frame_equal(result.centres, again.centres)
    pd.testing.assert_frame_equal(result.members, again.members)


def test_too_few_customers(workspace: Path, make_dataset) -> None:
    orders = [
        {"order_id": "1", "customer_id": "a", "ordered_at": "2024-06-01", "order_total": 5},
        {"order_id": "2", "customer_id": "b", "ordered_at": "2024-06-02", "order_total": 9},
    ]
    make_dataset("two", orders)
    base = analysis.load_customer_base(workspace, "two")
    try:
        cuts = cut_points.resolve_cuts(base.measures, cut_points.ScoringSpec(PRESETS["shopify"]))
        with pytest.raises(clustering.ClusteringError, match="at least 3"):
            clustering.cluster_customers(base, cuts, PRESETS["shopify"])
    finally:
        base.backend.disconnect()


def test_silhouettes_equal_sklearn() -> None:
    from sklearn.metrics import silhouette_score

    rng = np.random.default_rng(3)
    points = rng.normal(size=(700, 3))
    points[:40] = points[0]  # duplicates: distance 0 inside a cluster
    labellings = [rng.integers(0, k, len(points)) for k in (2, 3, 5)]
    labellings.append(np.r_[np.zeros(699, dtype=int), [7]])  # a point alone: it scores 0
    ours = clustering.silhouette_scores(points, labellings, chunk_rows=64)
    expected = [silhouette_score(points, labels) for labels in labellings]
    assert ours == pytest.approx(expected, abs=1e-9)


def test_silhouette_by_hand() -> None:
    # Points 0, 1 (cluster a) and 4 (cluster b) on a line: a = 1, b = 4 and 3 -> s = 3/4, 2/3;
    # the point alone scores 0. Mean (0.75 + 2/3 + 0) / 3.
    points = np.array([[0.0, 0, 0], [1, 0, 0], [4, 0, 0]])
    [score] = clustering.silhouette_scores(points, [np.array([0, 0, 1])])
    assert score == pytest.approx((0.75 + 2 / 3) / 3)
