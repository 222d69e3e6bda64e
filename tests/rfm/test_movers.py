"""Who entered and who left a segment between two dates (issue 17 #3), on tests/movers_shop.py.

The lists come from the migration's own per-customer table, so for every label S: entered S is
the matrix column of S minus its diagonal cell (customers new since the first date enter from
"Not a customer yet"), left S the row of S minus its diagonal cell.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from movers_shop import load_movers_shop
from studio_shop import AS_OF, CUTS, DATASET, DATE_FROM

from dashboard.errors import UserError
from dashboard.rfm import cut_points, migration
from dashboard.rfm.schemes import PRESETS

FIXED = cut_points.ScoringSpec(PRESETS["shopify"], custom=CUTS)


@pytest.fixture(params=["custom", "quantile"])
def moved(request, workspace: Path, make_dataset) -> Iterator[migration.Migration]:
    load_movers_shop(make_dataset)
    scoring = FIXED if request.param == "custom" else cut_points.ScoringSpec(PRESETS["shopify"])
    result = migration.load_migration(workspace, DATASET, DATE_FROM, AS_OF, scoring)
    yield result
    result.backend.disconnect()


@pytest.fixture
def fixed(workspace: Path, make_dataset) -> Iterator[migration.Migration]:
    load_movers_shop(make_dataset)
    result = migration.load_migration(workspace, DATASET, DATE_FROM, AS_OF, FIXED)
    yield result
    result.backend.disconnect()


def rows(frame: pd.DataFrame) -> list[tuple]:
    return [
        tuple(None if pd.isna(value) else value for value in row)
        for row in frame.itertuples(index=False)
    ]


def test_who_entered_dormant_and_who_left_active(fixed: migration.Migration) -> None:
    entered = migration.list_segment_changes(fixed, "Dormant", "entered")
    assert list(entered.columns) == migration.CHANGE_COLUMNS
    # gus: 106 d, 2 orders, 120 at 2024-06-30 -> R2 F2 M2; eve stayed Dormant, so is not listed.
    assert rows(entered) == [
        ("gus", "gus@example.com", "Active", "Dormant", 106, 2, 120.0, 2, 2, 2)
    ]
    left = migration.list_segment_changes(fixed, "Active", "left")
    assert rows(left) == [
        ("ann", "ann@example.com", "Active", "Loyal", 37, 3, 350.0, 4, 3, 4),
        ("gus", "gus@example.com", "Active", "Dormant", 106, 2, 120.0, 2, 2, 2),
    ]


def test_new_customers_enter_from_not_a_customer_yet(fixed: migration.Migration) -> None:
    # bob and hal are not in the customers file: no email; cy is a prospect: no scores.
    assert rows(migration.list_segment_changes(fixed, "New", "entered")) == [
        ("bob", None, migration.NOT_YET, "New", 0, 1, 10.0, 5, 1, 1)
    ]
    assert rows(migration.list_segment_changes(fixed, "Almost lost", "entered")) == [
        ("hal", None, migration.NOT_YET, "Almost lost", 86, 1, 50.0, 3, 1, 1)
    ]
    assert rows(migration.list_segment_changes(fixed, "Prospects", "entered")) == [
        ("cy", "cy@example.com", migration.NOT_YET, "Prospects", None, 0, 0.0, None, None, None)
    ]
    left_not_yet = migration.list_segment_changes(fixed, migration.NOT_YET, "left")
    assert list(left_not_yet.customer_id) == ["bob", "cy", "hal"]


def test_nobody_left_a_segment_everyone_stayed_in(fixed: migration.Migration) -> None:
    assert migration.list_segment_changes(fixed, "Dormant", "left").empty
    assert list(migration.list_segment_changes(fixed, "Champions", "left").customer_id) == ["dee"]
    assert migration.list_segment_changes(fixed, "Champions", "entered").empty


def test_lists_agree_with_the_matrix_for_every_segment(moved: migration.Migration) -> None:
    matrix = migration.pivot_transitions(
        migration.summarise_transitions(moved), moved.scheme
    ).reindex(
        index=migration.order_segments(moved.scheme),
        columns=migration.order_segments(moved.scheme),
        fill_value=0,
    )
    for label in migration.order_segments(moved.scheme):
        stayed = matrix.loc[label, label]
        entered = migration.list_segment_changes(moved, label, "entered")
        left = migration.list_segment_changes(moved, label, "left")
        assert len(entered) == matrix[label].sum() - stayed, label
        assert len(left) == matrix.loc[label].sum() - stayed, label
        assert (entered.segment_after == label).all() and (entered.segment_before != label).all()
        assert (left.segment_before == label).all() and (left.segment_after != label).all()
    # Each customer who changed segment enters exactly one label.
    assert (
        sum(len(migration.list_segment_changes(moved, s, "entered")) for s in matrix)
        == (migration.count_moves(migration.summarise_transitions(moved))["customers_moved"])
    )


def test_an_unknown_segment_is_one_sentence(fixed: migration.Migration) -> None:
    with pytest.raises(migration.UnknownSegmentError) as caught:
        migration.list_segment_changes(fixed, "Champs", "entered")
    assert isinstance(caught.value, UserError)
    message = str(caught.value)
    assert message.startswith("'Champs' is not a segment of the shopify scheme; choose one of:")
    assert message.count(".") == 1 and message.endswith(".")
