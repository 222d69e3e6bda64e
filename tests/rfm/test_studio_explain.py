"""Explain a customer: the sentences restate the threshold rule with hand-computed numbers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from studio_shop import AS_OF, CUTS, DATASET, load_shop

from dashboard.rfm import analysis, explain
from dashboard.rfm.schemes import PRESETS


@pytest.fixture
def base(workspace: Path, make_dataset) -> Iterator[analysis.CustomerBase]:
    load_shop(make_dataset)
    loaded = analysis.load_customer_base(workspace, DATASET, as_of=AS_OF)
    yield loaded
    loaded.backend.disconnect()


def test_ann_on_shopify(base: analysis.CustomerBase, workspace: Path) -> None:
    found = explain.explain_customer(base, CUTS, PRESETS["shopify"], "ANN@example.COM", workspace)
    assert found["customer_id"] == "ann" and found["email"] == "ann@example.com"
    assert found["segment"] == "Loyal"
    assert found["scores"] == {"r": 4, "f": 3, "m": 4}
    assert found["measures"]["recency_days"] == 37
    assert found["measures"]["monetary"] == 350.0
    assert str(found["measures"]["last_order_on"]) == "2024-05-24"
    assert found["cuts"]["recency"] == [20.0, 45.0, 90.0, 180.0]
    assert found["reasons"] == [
        "R=4 because 37 days <= 45 (r2) and > 20 (r1)",
        "F=3 because 3 orders >= 3 (f2) and < 5 (f3)",
        "M=4 because 350 >= 300 (m3) and < 400 (m4)",
        "FM = (3+4)/2 = 3.5 -> 4 (half up)",
        "R4 x FM4 -> Loyal",
    ]


def test_the_edges_of_the_scale(base: analysis.CustomerBase) -> None:
    bob = explain.explain_customer(base, CUTS, PRESETS["shopify"], "bob")
    assert bob["reasons"] == [
        "R=5 because 0 days <= 20 (r1)",
        "F=1 because 1 order < 2 (f1)",
        "M=1 because 10 < 100 (m1)",
        "FM = (1+1)/2 = 1",
        "R5 x FM1 -> New",
    ]
    eve = explain.explain_customer(base, CUTS, PRESETS["shopify"], "Eve")
    assert eve["reasons"][0] == "R=1 because 200 days > 180 (r4)"
    assert eve["segment"] == "Dormant"


def test_code_table_and_rf_grid_lookups(base: analysis.CustomerBase) -> None:
    classic = explain.explain_customer(base, CUTS, PRESETS["classic"], "ann")
    assert classic["segment"] == "Need Attention"
    assert classic["reasons"][-1] == "code 434 -> Need Attention"
    rf10 = explain.explain_customer(base, CUTS, PRESETS["rf10"], "dee")
    assert rf10["reasons"][-1] == "R2 x F4 -> At risk (M is not used)"


def test_a_prospect_and_an_unknown_key(base: analysis.CustomerBase, workspace: Path) -> None:
    cy = explain.explain_customer(base, CUTS, PRESETS["shopify"], "cy@example.com", workspace)
    assert cy["segment"] == "Prospects" and cy["scores"] is None
    assert cy["reasons"] == ["No valid order up to 2024-06-30 -> Prospects (not scored)"]
    assert explain.explain_customer(base, CUTS, PRESETS["shopify"], "nobody", workspace) is None
    # Without the workspace only ids are searched.
    assert explain.explain_customer(base, CUTS, PRESETS["shopify"], "cy@example.com") is None


@pytest.mark.parametrize(
    ("letter", "score", "value", "cuts", "unit", "expected"),
    [
        ("R", 4, 45, (20, 45, 90, 180), "days", "R=4 because 45 days <= 45 (r2) and > 20 (r1)"),
        ("R", 3, 1, (20, 45), "days", "R=3 because 1 day <= 20 (r1)"),
        ("F", 4, 4, (3, 4, 4, None), "orders", "F=4 because 4 orders >= 4 (f3)"),
        (
            "M",
            3,
            1234.5,
            (100, 1000, 2000),
            "",
            "M=3 because 1,234.5 >= 1,000 (m2) and < 2,000 (m3)",
        ),
    ],
)
def test_explain_score(letter, score, value, cuts, unit, expected) -> None:
    assert explain.explain_score(letter, score, value, cuts, unit) == expected
