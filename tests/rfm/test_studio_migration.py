"""Segment migration between two dates, on the hand-computed shop (see test_studio_shop)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from studio_shop import AS_OF, CUTS, DATASET, DATE_FROM, load_shop

from dashboard.rfm import analysis, cut_points, migration
from dashboard.rfm.schemes import PRESETS

FIXED = cut_points.ScoringSpec(PRESETS["shopify"], custom=CUTS)


@pytest.fixture
def moved(workspace: Path, make_dataset) -> Iterator[migration.Migration]:
    load_shop(make_dataset)
    result = migration.load_migration(workspace, DATASET, DATE_FROM, AS_OF, FIXED)
    yield result
    result.backend.disconnect()


def test_every_customer_with_both_segments(moved: migration.Migration) -> None:
    members = migration.list_members(moved)
    assert list(members.columns) == migration.MEMBER_COLUMNS
    assert [tuple(r) for r in members.itertuples(index=False)] == [
        ("ann", "Active", "Loyal", 220.0, 350.0),
        ("bob", migration.NOT_YET, "New", 0.0, 10.0),
        # cy is in the customers file only: without a sign-up date nor an order she exists at
        # the data's end, not on 2024-03-31 (issue 18 #4).
        ("cy", migration.NOT_YET, "Prospects", 0.0, 0.0),
        ("dee", "Champions", "Previously loyal", 500.0, 500.0),
        ("eve", "Dormant", "Dormant", 150.0, 150.0),
    ]


def test_transitions_and_moves(moved: migration.Migration) -> None:
    transitions = migration.summarise_transitions(moved)
    assert [tuple(r) for r in transitions.itertuples(index=False)] == [
        ("Champions", "Previously loyal", 1, 500.0, 500.0),
        ("Active", "Loyal", 1, 220.0, 350.0),
        ("Dormant", "Dormant", 1, 150.0, 150.0),
        (migration.NOT_YET, "New", 1, 0.0, 10.0),
        (migration.NOT_YET, "Prospects", 1, 0.0, 0.0),
    ]
    assert migration.count_moves(transitions) == {
        "customers": 5,
        "customers_moved": 4,
        "revenue": 1010.0,
        "revenue_moved": 860.0,
    }
    matrix = migration.pivot_transitions(transitions, PRESETS["shopify"])
    assert list(matrix.index) == ["Champions", "Active", "Dormant", migration.NOT_YET]
    assert list(matrix.columns) == ["Loyal", "New", "Previously loyal", "Dormant", "Prospects"]
    assert matrix.loc["Active", "Loyal"] == 1 and matrix.loc["Active", "New"] == 0
    revenue = migration.pivot_transitions(transitions, PRESETS["shopify"], "revenue_to")
    assert revenue.loc["Champions", "Previously loyal"] == 500.0


def test_who_moved_from_a_to_b(moved: migration.Migration) -> None:
    assert list(migration.list_movers(moved).customer_id) == ["ann", "bob", "cy", "dee"]
    assert list(migration.list_movers(moved, "Active", "Loyal").customer_id) == ["ann"]
    assert list(migration.list_movers(moved, segment_to="New").customer_id) == ["bob"]
    assert migration.list_movers(moved, "Active", "Dormant").empty
    assert list(migration.list_movers(moved, "Dormant", "Dormant").customer_id) == ["eve"]


def test_quantile_mode_scores_each_date_on_its_own(workspace: Path, make_dataset) -> None:
    load_shop(make_dataset)
    scoring = cut_points.ScoringSpec(PRESETS["shopify"])
    result = migration.load_migration(workspace, DATASET, DATE_FROM, AS_OF, scoring)
    try:
        for date, cuts in ((DATE_FROM, result.cuts_from), (AS_OF, result.cuts_to)):
            base = analysis.load_customer_base(workspace, DATASET, as_of=date)
            assert cuts == cut_points.resolve_cuts(
                base.measures, cut_points.ScoringSpec(PRESETS["shopify"])
            )
            base.backend.disconnect()
        assert result.cuts_from != result.cuts_to
    finally:
        result.backend.disconnect()


def test_a_look_back_window_leaves_old_customers_outside(workspace: Path, make_dataset) -> None:
    load_shop(make_dataset)
    # 120 days back from 2024-06-30 starts on 2024-03-03: eve's orders are all older.
    scoring = cut_points.ScoringSpec(PRESETS["shopify"], CUTS, window_days=120)
    assert scoring.window_start(AS_OF) == dt.date(2024, 3, 3)
    result = migration.load_migration(workspace, DATASET, DATE_FROM, AS_OF, scoring)
    try:
        eve = migration.list_members(result).set_index("customer_id").loc["eve"]
        assert eve.segment_to == migration.OUTSIDE_WINDOW
    finally:
        result.backend.disconnect()


def test_dates_must_be_in_order(workspace: Path, make_dataset) -> None:
    load_shop(make_dataset)
    with pytest.raises(migration.MigrationError, match="must be before"):
        migration.load_migration(workspace, DATASET, AS_OF, DATE_FROM, FIXED)
