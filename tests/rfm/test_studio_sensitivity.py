"""Sensitivity: customers and revenue that change segment when the cut points move."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from studio_shop import AS_OF, CUTS, DATASET, load_shop

from dashboard.rfm import analysis, cut_points, sensitivity
from dashboard.rfm.schemes import PRESETS

SHOPIFY = PRESETS["shopify"]


@pytest.fixture
def base(workspace: Path, make_dataset) -> Iterator[analysis.CustomerBase]:
    load_shop(make_dataset)
    loaded = analysis.load_customer_base(workspace, DATASET, as_of=AS_OF)
    yield loaded
    loaded.backend.disconnect()


def test_moving_the_recency_cuts(base: analysis.CustomerBase) -> None:
    # New recency cuts 10, 40, 210, 300: ann 37 d stays R4; bob 0 d stays R5;
    # dee 100 d R2 -> R3 (R3 x FM5: Previously loyal -> Loyal);
    # eve 200 d R1 -> R3 (R3 x FM2: Dormant -> Almost lost).
    moved = replace(CUTS, recency=(10.0, 40.0, 210.0, 300.0))
    changes = sensitivity.segment_changes(base, CUTS, moved, SHOPIFY)
    assert changes.customers_changed == 2
    assert changes.revenue_changed == pytest.approx(650.0)
    rows = [tuple(r) for r in changes.transitions.itertuples(index=False)]
    assert rows == [
        ("Loyal", "Loyal", 1, 350.0),
        ("New", "New", 1, 10.0),
        ("Previously loyal", "Loyal", 1, 500.0),
        ("Dormant", "Almost lost", 1, 150.0),
    ]
    # Shares for the page: 650 of the 1,010 scored revenue.
    assert changes.transitions.revenue.sum() == pytest.approx(1010.0)


def test_the_same_cuts_change_nothing(base: analysis.CustomerBase) -> None:
    changes = sensitivity.segment_changes(base, CUTS, CUTS, SHOPIFY)
    assert (changes.customers_changed, changes.revenue_changed) == (0, 0.0)
    assert int(changes.transitions.customers.sum()) == 4  # cy is a prospect, not scored


def test_cuts_on_another_scale_are_refused(base: analysis.CustomerBase) -> None:
    three = cut_points.Cuts((30.0, 90.0), (2.0, 5.0), (100.0, 400.0))
    with pytest.raises(cut_points.CutsError):
        sensitivity.segment_changes(base, CUTS, three, SHOPIFY)
