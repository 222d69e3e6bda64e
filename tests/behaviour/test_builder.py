"""The segment builder, the presets, overlap, SCALE and saved segments on the tiny store."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path

import duckdb
import ibis.expr.types as ir
import pytest
from behaviour_cases import (
    DATASET,
    EMPTY_BY_DEFAULT,
    PREDICTION_PRESETS,
    PRESET_CASES,
    TWO_CONDITION_DOCUMENT,
    TWO_CONDITION_MEMBERS,
    write_tiny_store,
)

from dashboard.behaviour import (
    catalogue,
    compiler,
    definitions,
    feature_base,
    feature_inputs,
    membership,
    overlap,
    presets,
    scale,
    segment_store,
)
from dashboard.behaviour.definitions import Condition, Definition, DefinitionError, Group
from dashboard.rfm import cut_points
from dashboard.workspace import store


@pytest.fixture(scope="module")
def tiny_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workspace = store.resolve_workspace(tmp_path_factory.mktemp("builder") / "workspace")
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


def members(view: ir.Table, definition: Definition) -> set[str]:
    condition = compiler.compile_definition(view, definition)
    return set(membership.list_members(view, condition, ["customer_id"]).customer_id)


def one(*conditions: Condition, match: str = "all") -> Definition:
    return Definition((Group(conditions, match),))


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (Condition("orders", ">=", 3), {"A", "b@x.com"}),
        (Condition("orders", "<", 1), {"D", "E"}),
        (Condition("net_revenue", "==", 600), {"b@x.com"}),
        (Condition("net_revenue", "!=", 600), {"A", "C", "D", "E"}),
        (Condition("orders", "in", (1, 2)), {"C"}),
        (Condition("orders", "not in", (0, 1)), {"A", "b@x.com"}),
        (Condition("last_order_on", ">=", "2025-03-01"), {"b@x.com", "C"}),
        (Condition("last_order_on", "<", "2025-03-01"), {"A"}),
        (Condition("country", "==", "US"), {"A"}),
        # A missing value never matches, except "is null".
        (Condition("country", "!=", "US"), {"b@x.com", "C", "D"}),
        (Condition("country", "in", ("FR", "DE")), {"C", "D"}),
        (Condition("country", "not in", ("FR", "DE")), {"A", "b@x.com"}),
        (Condition("country", "is null"), {"E"}),
        (Condition("survey_score", "is not null"), {"A", "C"}),
        (Condition("accepts_marketing", "==", True), {"A", "D"}),
        (Condition("accepts_marketing", "!=", True), set()),
        (Condition("categories", "in", ("Gifts", "Nothing")), {"b@x.com"}),
        (Condition("categories", "not in", ("Gifts",)), {"A", "C"}),
        (Condition("categories", "is null"), {"D", "E"}),
        (Condition("rfm_segment", "==", "Prospects"), {"D", "E"}),
    ],
)
def test_each_operator_on_hand_computed_features(view, condition, expected) -> None:
    assert members(view, one(condition)) == expected


def test_groups_combine_with_and_or(view) -> None:
    repeat_coupon = Group((Condition("orders", ">=", 2), Condition("discount_share", ">", 0.5)))
    unhappy = Group((Condition("survey_score", "<=", 3),))
    assert members(view, Definition((repeat_coupon, unhappy), "any")) == {"b@x.com", "C"}
    assert members(view, Definition((repeat_coupon, unhappy), "all")) == set()
    either = Group((Condition("country", "==", "US"), Condition("country", "==", "DE")), "any")
    buyers = Group((Condition("orders", ">=", 1),))
    assert members(view, Definition((either, buyers), "all")) == {"A", "C"}
    assert members(view, Definition()) == {"A", "b@x.com", "C", "D", "E"}


def test_the_two_condition_segment(view) -> None:
    definition = definitions.definition_from_dict(TWO_CONDITION_DOCUMENT)
    assert members(view, definition) == TWO_CONDITION_MEMBERS


@pytest.mark.parametrize("key", sorted(set(presets.PRESETS) - PREDICTION_PRESETS))
def test_every_preset_finds_its_hand_computed_members(view, key: str) -> None:
    values, expected = PRESET_CASES[key]
    preset = presets.PRESETS[key]
    assert members(view, presets.preset_definition(preset, values)) == expected
    if key in EMPTY_BY_DEFAULT:
        assert members(view, presets.preset_definition(preset)) == set()


def test_every_segment_of_the_reference_has_a_preset() -> None:
    assert set(PRESET_CASES) | PREDICTION_PRESETS == set(presets.PRESETS)
    assert len(presets.PRESETS) == 24
    for preset in presets.PRESETS.values():
        for name in presets.preset_features(preset):
            assert name in catalogue.FEATURES, (preset.key, name)


def test_preset_parameters_are_checked() -> None:
    lapsed = presets.PRESETS["lapsed"]
    with pytest.raises(DefinitionError, match="at least 1"):
        presets.preset_definition(lapsed, {"days": 0})
    with pytest.raises(DefinitionError, match="no parameter"):
        presets.preset_definition(lapsed, {"weeks": 3})
    with pytest.raises(DefinitionError, match="at least one value"):
        presets.preset_definition(presets.PRESETS["location"])
    with pytest.raises(DefinitionError, match="choose one of"):
        presets.preset_definition(presets.PRESETS["trend_followers"], {"launch_days": 8})
    coupon = presets.preset_definition(presets.PRESETS["coupon"], {"share": 35})
    assert coupon.groups[0].conditions[0] == Condition("discount_share", ">=", 0.35)


def test_a_preset_without_its_data_names_the_file(tmp_path: Path) -> None:
    workspace = store.resolve_workspace(tmp_path / "ws")
    name = write_tiny_store(workspace, "orders-only", orders_only=True)
    with store.open_for_read(workspace, name) as backend:
        missing = feature_inputs.missing_inputs(feature_inputs.read_tables(backend))
    messages = {key: presets.missing_for_preset(p, missing) for key, p in presets.PRESETS.items()}
    assert messages["curious"] == ["Upload a sessions file to enable 'Curious prospects'."]
    assert messages["abandoned_carts"] == [
        "Upload an abandoned checkouts export to enable 'Abandoned carts'."
    ]
    assert messages["satisfied"] == ["Upload a survey scores file to enable 'Satisfied'."]
    assert messages["newsletter"] == ["Upload a customers file to enable 'Newsletter subscribers'."]
    assert messages["prospects"] == ["Upload a customers file to enable 'All prospects / leads'."]
    assert messages["trend_followers"][0].startswith("Upload an orders export with line items")
    for key in ("top_spenders", "one_time", "at_risk", "coupon", "returners", "by_channel"):
        assert messages[key] == [], key


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        (Condition("orders; DROP TABLE orders", ">", 1), "not a feature"),
        (Condition("customer_id", "==", "A"), "not a feature"),
        (Condition("orders", "like", 1), "cannot use 'like'"),
        (Condition("country", ">", "US"), "cannot use '>'"),
        (Condition("orders", ">", "3"), "needs a number"),
        (Condition("orders", ">", float("nan")), "finite"),
        (Condition("orders", ">", True), "needs a number"),
        (Condition("accepts_marketing", "==", "yes"), "true or false"),
        (Condition("last_order_on", ">", "31/01/2025"), "needs a date"),
        (Condition("country", "in", "US"), "list of values"),
        (Condition("country", "in", ()), "1 to 1000 values"),
        (Condition("country", "==", "x" * 500), "at most 200 characters"),
    ],
)
def test_bad_conditions_are_refused(condition: Condition, message: str) -> None:
    with pytest.raises(DefinitionError, match=message):
        definitions.validate_condition(condition)


def test_definitions_round_trip_through_json() -> None:
    definition = definitions.definition_from_dict(TWO_CONDITION_DOCUMENT)
    cuts = cut_points.Cuts((10, 30, 60, 90), (2, 3, 4, 5), (100, 200, 300, 500))
    dated = Definition(
        (
            Group(
                (
                    Condition("last_order_on", ">=", "2025-01-31"),
                    Condition("rfm_segment", "in", ("New",)),
                )
            ),
        ),
        "any",
        definitions.RfmSpec("classic", cuts),
        "note",
    )
    for original in (definition, definitions.validate_definition(dated)):
        text = definitions.definition_to_json(original)
        assert definitions.definition_from_json(text) == original
        json.loads(text)
    with pytest.raises(DefinitionError, match="not valid JSON"):
        definitions.definition_from_json("{")
    with pytest.raises(DefinitionError, match="at least one condition"):
        definitions.definition_from_json('{"groups": []}')
    with pytest.raises(DefinitionError, match="match must be"):
        definitions.definition_from_json(
            '{"match": "some", "groups": []}', require_conditions=False
        )


def test_the_rfm_scheme_of_a_definition_is_a_preset_or_a_saved_name(tiny_workspace) -> None:
    for spec in ("/etc/passwd.json", "custom:../x", "nope"):
        with pytest.raises(DefinitionError, match="Unknown RFM scheme"):
            compiler.resolve_rfm_scheme(tiny_workspace, spec)


def test_values_never_become_sql_text() -> None:
    hostile = "x' OR '1'='1"
    definition = one(Condition("country", "==", hostile))
    for dialect in ("duckdb", "postgres", "bigquery", "snowflake"):
        sql = compiler.sql_for_definition(definition, dialect)
        assert "customer_features" in sql and "WHERE" in sql
        assert "'x' OR '1'='1'" not in sql


def test_the_definition_compiles_to_sql_for_each_dialect(view) -> None:
    definition = definitions.definition_from_dict(TWO_CONDITION_DOCUMENT)
    sql = compiler.sql_for_definition(definition, "duckdb")
    rows = view.to_pyarrow()
    with duckdb.connect() as con:
        con.register("customer_features", rows)
        found = {row[0] for row in con.execute(sql).fetchall()}
    assert found == TWO_CONDITION_MEMBERS
    for dialect in ("postgres", "bigquery", "snowflake"):
        assert "IN ('US', 'CA')" in compiler.sql_for_definition(definition, dialect)


def test_live_counts_and_preview(view) -> None:
    definition = definitions.definition_from_dict(TWO_CONDITION_DOCUMENT)
    condition = compiler.compile_definition(view, definition)
    size = membership.measure_segment(view, condition)
    assert size == {
        "customers": 2,
        "share_customers": 2 / 5,
        "revenue": 800.0,
        "share_revenue": 800 / 850,
    }
    preview = membership.list_members(view, condition, ["email", "orders"], limit=1)
    assert list(preview.columns) == ["customer_id", "email", "orders"]
    assert preview.to_dict("records") == [{"customer_id": "A", "email": "a@x.com", "orders": 3}]


def test_overlap_counts_and_shares(tiny_base, tiny_workspace) -> None:
    chosen = {
        "coupon": presets.preset_definition(presets.PRESETS["coupon"], {"share": 30.0}),
        "newsletter": presets.preset_definition(presets.PRESETS["newsletter"]),
        "prospects": presets.preset_definition(presets.PRESETS["prospects"]),
    }
    counts, shares = overlap.overlap_matrix(tiny_base.table, chosen, tiny_workspace)
    # coupon {A, b}, newsletter {A, D}, prospects {D, E}
    assert counts.to_dict() == {
        "coupon": {"coupon": 2, "newsletter": 1, "prospects": 0},
        "newsletter": {"coupon": 1, "newsletter": 2, "prospects": 1},
        "prospects": {"coupon": 0, "newsletter": 1, "prospects": 2},
    }
    assert shares.loc["coupon", "newsletter"] == 0.5
    assert shares.loc["prospects", "prospects"] == 1.0


def test_scale_table(tiny_base, tiny_workspace) -> None:
    chosen = {
        "coupon": presets.preset_definition(presets.PRESETS["coupon"], {"share": 30.0}),
        "one_time": presets.preset_definition(presets.PRESETS["one_time"]),
    }
    raw = scale.scale_table(tiny_base.table, chosen, tiny_workspace)
    table = raw.set_index("segment")
    coupon, one_time = table.loc["coupon"], table.loc["one_time"]
    # coupon = A (200, 3 orders, email yes, SMS no, US, survey 9, first 01-01) and b@x.com (600,
    # 3 orders, consent unknown, CA, first 03-01); every first order is Unattributed. Countries
    # US, CA, DE, FR tie at one customer each: the home country is CA, the first by name.
    assert (coupon["size"], coupon.share_customers) == (2, 2 / 5)
    assert coupon.aov == 800 / 6 and coupon.revenue_at_stake == 800.0
    assert (coupon.email_share, coupon.sms_share, coupon.local_share) == (0.5, 0.0, 0.5)
    assert coupon.channel_share == 0.0 and coupon.access == 0.25
    assert coupon.love_repeat_rate == 1.0 and coupon.love_satisfaction == 9.0
    # The store opened 01-01: its first three months run to 03-31, so everyone is early.
    assert coupon.early_share == 1.0
    assert math.isclose(coupon.share_revenue, 800 / 850)
    # one-time = C (50, 1 order, no consent, DE, survey 3, first 03-31)
    assert (one_time["size"], one_time.aov, one_time.access) == (1, 50.0, 0.0)
    assert (one_time.love_repeat_rate, one_time.love_satisfaction) == (0.0, 3.0)
    assert one_time.early_share == 1.0
    # coupon is best on Size, Currency and Access; Love (5 each) and Early adoption tie at 1.
    assert coupon.scale_score == 1.0 and one_time.scale_score == 0.4
    assert list(raw.columns) == scale.SCALE_COLUMNS


def test_saved_segments_keep_their_versions(workspace: Path) -> None:
    first = definitions.definition_from_dict(TWO_CONDITION_DOCUMENT)
    second = one(Condition("orders", ">=", 3))
    assert segment_store.save_segment(workspace, "shop", "repeat-na", first) == 1
    assert segment_store.save_segment(workspace, "shop", "repeat-na", first) == 1
    assert segment_store.save_segment(workspace, "shop", "repeat-na", second) == 2
    history = segment_store.read_history(workspace, "shop", "repeat-na")
    assert [v.version for v in history] == [1, 2]
    assert [v.definition for v in history] == [first, second]
    assert segment_store.load_segment(workspace, "shop", "repeat-na") == second
    assert segment_store.load_segment(workspace, "shop", "repeat-na", 1) == first
    path = workspace / "segments" / "shop" / "repeat-na.json"
    assert json.loads(path.read_text())["versions"][0]["definition"]["groups"]

    segment_store.duplicate_segment(workspace, "shop", "repeat-na", "copy_1")
    assert segment_store.list_segments(workspace, "shop") == ["copy_1", "repeat-na"]
    assert [v.version for v in segment_store.read_history(workspace, "shop", "copy_1")] == [1]
    with pytest.raises(DefinitionError, match="already exists"):
        segment_store.duplicate_segment(workspace, "shop", "repeat-na", "copy_1")
    segment_store.delete_segment(workspace, "shop", "repeat-na")
    assert segment_store.list_segments(workspace, "shop") == ["copy_1"]
    assert segment_store.list_segments(workspace, "other") == []


@pytest.mark.parametrize("name", ["../evil", "a/b", "", ".hidden", "x" * 65, "with space"])
def test_segment_names_cannot_leave_the_folder(workspace: Path, name: str) -> None:
    with pytest.raises(DefinitionError, match="not a valid segment name"):
        segment_store.save_segment(workspace, "shop", name, one(Condition("orders", ">", 1)))


def test_an_empty_definition_cannot_be_saved(workspace: Path) -> None:
    with pytest.raises(DefinitionError, match="at least one condition"):
        segment_store.save_segment(workspace, "shop", "empty", Definition())


def test_definitions_in_words() -> None:
    definition = Definition(
        (
            Group((Condition("orders", ">=", 2), Condition("accepts_marketing", "==", True))),
            Group(
                (
                    Condition("categories", "in", ("Mugs", "Beans")),
                    Condition("survey_score", "is null"),
                ),
                "any",
            ),
        ),
        "any",
    )
    assert definitions.describe_definition(definition) == (
        "(Orders ≥ 2 and Accepts email marketing = yes) or "
        "(Categories bought include any of Mugs, Beans or Latest survey score is missing)"
    )
    assert definitions.describe_definition(Definition()) == "everyone"
