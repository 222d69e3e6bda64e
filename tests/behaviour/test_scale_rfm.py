"""Issue 17: SCALE over the groups of an RFM scheme, with the behavioural SCALE's letters.

A six-customer store scored on recency (3 scores, cut points 30 and 60 days; analysis date
2024-06-30, the latest order); "Recent loyal" (R 3 and F 3: 3 orders or more) has nobody. Home
country DE (4 of 6); the store's first order 2024-01-05, so its first three months end
2024-04-04. No channel evidence: nobody came by an addressable channel. No customer has a
consent answer, so e-mail and SMS are unknown and left out of Access.

- Recent (R 3, at most 30 days): a 2 orders 200, DE, first 01-05; b 1 order 50, FR, 06-25;
  g 1 order 30, FR, 06-30. 3 of 6 = 0.5; AOV 280 / 4 = 70; Access (1/3 local + 0) / 2 = 1/6;
  early 1/3.
- Middle (R 2, 31-60 days): c 2 orders 90, DE, 02-10; d 1 order 40, DE, 05-10. 2 of 6; AOV
  130 / 3 = 43.33; Access (1 + 0) / 2 = 0.5; early 1/2.
- Lapsed (R 1): e 1 order 20, DE, 01-20. 1 of 6; AOV 20; Access 0.5; early 1.

Min-max scores (Recent, Middle, Lapsed): Size 1, 0.5, 0; Currency 1, 23.33 / 50, 0; Access
0, 1, 1; Love (all 5) 1, 1, 1; Early 0, (1/2 - 1/3) / (2/3) = 0.25, 1.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import ibis.expr.types as ir
import pytest

from dashboard import engines, order_rules
from dashboard.behaviour import scale
from dashboard.behaviour.feature_table import build_behaviour_features
from dashboard.rfm import cut_points, scheme_io

ORDERS = [
    ("1", "a", "2024-01-05", "100.00", "DE"),
    ("2", "a", "2024-06-20", "100.00", "DE"),
    ("3", "b", "2024-06-25", "50.00", "FR"),
    ("4", "c", "2024-02-10", "60.00", "DE"),
    ("5", "c", "2024-05-20", "30.00", "DE"),
    ("6", "d", "2024-05-10", "40.00", "DE"),
    ("7", "e", "2024-01-20", "20.00", "DE"),
    ("8", "g", "2024-06-30", "30.00", "FR"),
]
SCHEME = scheme_io.scheme_from_document(
    {
        "name": "By recency",
        "n_scores": 3,
        "grid": "r_f",
        "segments": {
            "Recent": ["31", "32"],
            "Recent loyal": ["33"],
            "Middle": ["21", "22", "23"],
            "Lapsed": ["11", "12", "13"],
        },
    },
    key="by-recency",
)
CUTS = cut_points.Cuts(recency=(30.0, 60.0), frequency=(2.0, 3.0), monetary=(50.0, 100.0))


def write_store(make_dataset: Callable[..., str]) -> str:
    rows = [
        {"order_id": o, "customer_id": c, "ordered_at": f"{d} 10:00:00", "order_total": t,
         "country": country}
        for o, c, d, t, country in ORDERS
    ]  # fmt: skip
    return make_dataset("shop", rows, customers=sorted({r[1] for r in ORDERS}))


@pytest.fixture
def features(workspace: Path, make_dataset: Callable[..., str]) -> Iterator[ir.Table]:
    name = write_store(make_dataset)
    with engines.open_configured_tables(workspace, name) as tables:
        window = order_rules.Window(as_of=order_rules.latest_order_date(tables["orders"]))
        expr = build_behaviour_features(tables, window)
        backend, table = engines.materialise(tables, expr, "customer_features")
    yield table
    engines.release(backend, table)


def test_rfm_groups_measured_like_behavioural_segments(features: ir.Table) -> None:
    measured = scale.measure_rfm_segments(features, SCHEME, CUTS).table.set_index("segment")
    assert list(measured.index) == ["Recent", "Recent loyal", "Middle", "Lapsed"]
    assert list(measured["size"]) == [3, 0, 2, 1]
    measured = measured.drop(index="Recent loyal")
    assert list(measured.aov) == pytest.approx([70.0, 130 / 3, 20.0])
    assert list(measured.local_share) == pytest.approx([1 / 3, 1.0, 1.0])
    assert list(measured.access) == pytest.approx([1 / 6, 0.5, 0.5])
    assert list(measured.early_share) == pytest.approx([1 / 3, 0.5, 1.0])


def test_rfm_scale_ranks_by_hand(features: ir.Table) -> None:
    ranked = scale.rank_rfm_segments(features, SCHEME, CUTS)
    # Recent loyal (3 orders or more) has nobody and is left out, so Size's minimum is Lapsed's.
    # Recent (1 + 1 + 0 + 1 + 0) / 5 = 0.6; Middle (0.5 + 0.4667 + 1 + 1 + 0.25) / 5 = 0.6433;
    # Lapsed (0 + 0 + 1 + 1 + 1) / 5 = 0.6, tied with Recent, which comes first in the scheme.
    assert list(ranked.segment) == ["Middle", "Recent", "Lapsed"]
    assert list(ranked.scale_score) == pytest.approx([(2.75 + 70 / 150) / 5, 0.6, 0.6])
    assert list(ranked.currency_score) == pytest.approx([(130 / 3 - 20) / 50, 1.0, 0.0])


def test_rfm_scale_follows_weights_and_love(features: ir.Table) -> None:
    weighted = scale.rank_rfm_segments(features, SCHEME, CUTS, weights={"size": 2.0})
    # Size counts twice: Recent 4 / 6, Middle (1 + 0.4667 + 2.25) / 6, Lapsed 3 / 6.
    assert list(weighted.segment) == ["Recent", "Middle", "Lapsed"]
    assert list(weighted.scale_score) == pytest.approx([4 / 6, (3.25 + 70 / 150) / 6, 0.5])
    loved = scale.rank_rfm_segments(features, SCHEME, CUTS, love={"Lapsed": 10.0, "Middle": 0})
    # Love 5, 0, 10 scores 0.5, 0, 1: Lapsed 3 / 5, Recent 2.5 / 5, Middle (1.75 + 0.4667) / 5.
    assert list(loved.segment) == ["Lapsed", "Recent", "Middle"]
    assert list(loved.scale_score) == pytest.approx([0.6, 0.5, (1.75 + 70 / 150) / 5])


def test_build_rfm_scale_from_the_tables(workspace: Path, make_dataset: Callable[..., str]) -> None:
    name = write_store(make_dataset)
    with engines.open_configured_tables(workspace, name) as tables:
        window = order_rules.Window(as_of=order_rules.latest_order_date(tables["orders"]))
        ranked = scale.build_rfm_scale(tables, window, SCHEME, CUTS)
    assert list(ranked.segment) == ["Middle", "Recent", "Lapsed"]
    assert ranked.love.tolist() == [scale.DEFAULT_LOVE] * 3
