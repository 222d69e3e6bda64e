"""Behaviour tables an analyst can read (issue 18 #11) on the tiny store of behaviour_cases:
previews ordered by the measure that defines the segment, saved-segment member counts, the SCALE
table sorted by its score with the score first, and counts with their noun in the right number.

Hand-computed from behaviour_cases: net revenue A 200 (3 orders), b@x.com 600 (3), C 50 (1);
D and E have no order.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import ibis.expr.types as ir
import pytest
from behaviour_cases import DATASET, write_tiny_store

from dashboard import formatting
from dashboard.behaviour import compiler, definitions, feature_base, membership, presets, scale
from dashboard.behaviour.definitions import Condition, Definition, Group
from dashboard.workspace import store


@pytest.fixture(scope="module")
def tiny_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workspace = store.resolve_workspace(tmp_path_factory.mktemp("previews") / "workspace")
    write_tiny_store(workspace)
    return workspace


@pytest.fixture(scope="module")
def tiny_base(tiny_workspace: Path) -> Iterator[feature_base.FeatureBase]:
    base = feature_base.load_feature_base(tiny_workspace, DATASET)
    yield base
    base.backend.disconnect()


@pytest.fixture(scope="module")
def view(tiny_base: feature_base.FeatureBase, tiny_workspace: Path) -> ir.Table:
    return compiler.feature_view(tiny_base.table, definitions.RfmSpec(), tiny_workspace)


def one(*conditions: Condition) -> Definition:
    return Definition((Group(conditions),))


def test_a_preview_is_ordered_by_the_first_measure_of_the_definition(view: ir.Table) -> None:
    definition = one(Condition("country", "is not null"), Condition("net_revenue", ">=", 1))
    assert membership.choose_sort_feature(definition) == "net_revenue"
    condition = compiler.compile_definition(view, definition)
    preview = membership.list_members(
        view, condition, ["customer_id", "net_revenue"], highest_first="net_revenue"
    )
    # b@x.com (CA) 600 before A (US) 200 before C (DE) 50; by id it would be A, C, b@x.com.
    assert list(preview.customer_id) == ["b@x.com", "A", "C"]
    assert [float(v) for v in preview.net_revenue] == [600.0, 200.0, 50.0]


def test_equal_measures_fall_back_to_the_customer_id(view: ir.Table) -> None:
    definition = one(Condition("orders", ">=", 1))
    condition = compiler.compile_definition(view, definition)
    preview = membership.list_members(
        view,
        condition,
        ["orders"],
        limit=2,
        highest_first=membership.choose_sort_feature(definition),
    )
    assert list(preview.customer_id) == ["A", "b@x.com"]
    assert list(preview.orders) == [3, 3]


def test_a_definition_without_a_measure_is_previewed_by_net_revenue() -> None:
    assert membership.choose_sort_feature(one(Condition("country", "==", "US"))) == "net_revenue"
    dated = one(Condition("country", "==", "US"), Condition("last_order_on", ">=", "2025-01-01"))
    assert membership.choose_sort_feature(dated) == "last_order_on"


def test_saved_segments_are_counted_in_one_query(
    tiny_base: feature_base.FeatureBase, tiny_workspace: Path
) -> None:
    counted = membership.count_members(
        tiny_base.table,
        {
            "buyers": one(Condition("orders", ">=", 1)),
            "big": one(Condition("net_revenue", ">=", 100)),
            "nobody": one(Condition("orders", ">=", 50)),
        },
        tiny_workspace,
    )
    assert counted == {"buyers": 3, "big": 2, "nobody": 0}
    assert membership.count_members(tiny_base.table, {}, tiny_workspace) == {}


def test_scale_table_puts_the_best_score_first(
    tiny_base: feature_base.FeatureBase, tiny_workspace: Path
) -> None:
    # Listed worst first: one-time (0.4: only Love and Early adoption tie at 1) before coupon
    # (1.0); the table turns them round.
    chosen = {
        "one_time": presets.preset_definition(presets.PRESETS["one_time"]),
        "coupon": presets.preset_definition(presets.PRESETS["coupon"], {"share": 30.0}),
    }
    table = scale.scale_table(tiny_base.table, chosen, tiny_workspace)
    assert list(table.columns[:2]) == ["scale_score", "segment"]
    assert list(table.segment) == ["coupon", "one_time"]
    assert list(table.scale_score) == [1.0, 0.4]
    assert list(table.index) == [0, 1]


@pytest.mark.parametrize(
    ("count", "expected"),
    [(0, "0 features"), (1, "1 feature"), (2, "2 features"), (12345, "12,345 features")],
)
def test_counts_carry_their_noun_in_the_right_number(count: int, expected: str) -> None:
    assert formatting.format_count_of(count, "feature") == expected


def test_an_irregular_plural_is_given() -> None:
    assert formatting.format_count_of(1, "entry", "entries") == "1 entry"
    assert formatting.format_count_of(3, "entry", "entries") == "3 entries"
