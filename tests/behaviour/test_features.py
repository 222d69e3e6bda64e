"""The customer feature table on a store computed by hand (tests/behaviour_cases.py)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from behaviour_cases import AS_OF, EXPECTED, WINDOW, write_tiny_store

from dashboard import order_rules
from dashboard.acquisition import channels
from dashboard.behaviour import catalogue, feature_base, feature_inputs, feature_table
from dashboard.rfm import analysis, cut_points, schemes
from dashboard.workspace import store

CUTS = cut_points.Cuts((10, 30, 60, 90), (2, 3, 4, 5), (100, 200, 300, 500))
SHOPIFY = schemes.PRESETS["shopify"]


def build(workspace: Path, name: str, **kwargs: object) -> pd.DataFrame:
    with store.open_for_read(workspace, name) as backend:
        table = feature_table.build_customer_features(
            feature_inputs.read_tables(backend), kwargs.pop("window", WINDOW), **kwargs
        )
        return table.to_pandas().set_index("customer_id")


def same(actual: object, expected: object) -> bool:
    if expected is None:
        return actual is None or (not isinstance(actual, list | tuple) and pd.isna(actual))
    if isinstance(expected, list):
        return list(actual) == expected
    if isinstance(expected, float):
        return math.isclose(float(actual), expected, rel_tol=1e-9)
    return actual == expected


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    workspace = store.resolve_workspace(tmp_path_factory.mktemp("tiny") / "workspace")
    return workspace, write_tiny_store(workspace)


@pytest.fixture(scope="module")
def table(tiny) -> pd.DataFrame:
    """Every feature of the tiny store with the hand-checked cut points CUTS."""
    return build(*tiny, scoring=cut_points.ScoringSpec(SHOPIFY, CUTS))


def test_every_feature_matches_the_hand_computed_values(table: pd.DataFrame) -> None:
    assert sorted(table.index) == ["A", "C", "D", "E", "b@x.com"]
    wrong = [
        f"{customer}.{name}: {table.loc[customer, name]!r} != {value!r}"
        for customer, expected in EXPECTED.items()
        for name, value in expected.items()
        if not same(table.loc[customer, name], value)
    ]
    assert wrong == []


def test_the_columns_are_the_feature_schema(tiny) -> None:
    scoring = cut_points.ScoringSpec(SHOPIFY, CUTS)
    with store.open_for_read(*tiny) as backend:
        table = feature_table.build_customer_features(
            feature_inputs.read_tables(backend), WINDOW, scoring=scoring
        )
        assert table.schema() == catalogue.FEATURE_SCHEMA
    assert list(catalogue.FEATURES) == list(catalogue.FEATURE_SCHEMA)


def test_rfm_columns_follow_the_cut_points(table: pd.DataFrame) -> None:
    # A: R 3 (59 days), F 3, M 3; b: R 5, F 3, M 5 -> FM 4; C: R 5, F 1, M 1.
    expected = {
        "A": (3, 3, 3, "Needs attention"),
        "b@x.com": (5, 3, 5, "Champions"),
        "C": (5, 1, 1, "New"),
    }
    for customer, (r, f, m, segment) in expected.items():
        row = table.loc[customer]
        assert (row.r_score, row.f_score, row.m_score, row.rfm_segment) == (r, f, m, segment)
    assert list(table.loc[["D", "E"], "rfm_segment"]) == [schemes.PROSPECTS] * 2


def test_missing_inputs_are_null_and_name_the_file(workspace: Path) -> None:
    name = write_tiny_store(workspace, "orders-only", orders_only=True)
    with store.open_for_read(workspace, name) as backend:
        missing = feature_inputs.missing_inputs(feature_inputs.read_tables(backend))
    assert missing["session_count"] == "upload a sessions file to enable sessions"
    assert missing["survey_score"].startswith("upload a survey scores file")
    assert missing["abandoned_checkouts"].startswith("upload an abandoned checkouts export")
    assert missing["categories"].startswith("upload order lines with a product category")
    assert missing["trend_share_30d"].startswith("upload an orders export with line items")
    assert missing["accepts_marketing"].startswith("upload a customers file")
    assert "orders" not in missing and "discount_share" not in missing
    table = build(workspace, name, scoring=cut_points.ScoringSpec(SHOPIFY, CUTS))
    assert sorted(table.index) == ["A", "C", "b@x.com"]
    for feature in missing:
        if feature not in catalogue.RFM_COLUMNS:
            assert table[feature].isna().all(), feature
    assert table.loc["A", "orders"] == 3


def test_nothing_is_missing_when_every_file_is_loaded(tiny) -> None:
    with store.open_for_read(*tiny) as backend:
        assert feature_inputs.missing_inputs(feature_inputs.read_tables(backend)) == {}


def test_a_window_start_leaves_earlier_buyers_outside(tiny) -> None:
    window = order_rules.Window(as_of=AS_OF, start=AS_OF.replace(month=2, day=1))
    table = build(*tiny, window=window, scoring=cut_points.ScoringSpec(SHOPIFY, CUTS))
    assert table.loc["A", "status"] == cut_points.STATUS_OUTSIDE_WINDOW
    assert table.loc["A", "orders"] == 0 and table.loc["A", "orders_ever"] == 3
    assert table.loc["b@x.com", "orders"] == 3
    assert pd.isna(table.loc["A", "rfm_segment"])


def test_the_feature_base_is_materialised_at_the_latest_order(tiny) -> None:
    base = feature_base.load_feature_base(*tiny)
    try:
        assert base.window.as_of == AS_OF
        assert base.missing == {}
        assert list(base.table.columns) == list(catalogue.BASE_COLUMNS)
        assert base.table.count().execute() == 5
    finally:
        base.backend.disconnect()


def test_rfm_segments_match_the_segments_page_on_the_demo(demo_dataset) -> None:
    workspace, name = demo_dataset
    base = feature_base.load_feature_base(workspace, name)
    customers = analysis.load_customer_base(workspace, name)
    try:
        cuts = cut_points.resolve_cuts(customers.measures, cut_points.ScoringSpec(SHOPIFY))
        assert (
            cut_points.resolve_cuts(
                feature_table.select_measures(base.table), cut_points.ScoringSpec(SHOPIFY)
            )
            == cuts
        )
        ours = feature_table.attach_rfm(base.table, SHOPIFY, cuts).select(
            "customer_id", "rfm_segment"
        )
        ours = ours.filter(ours.rfm_segment.notnull()).to_pandas()
        theirs = analysis.segment_members(customers, cuts, SHOPIFY)[["customer_id", "segment"]]
        scored = theirs[theirs.segment != schemes.PROSPECTS]
        merged = scored.merge(ours, on="customer_id", how="left")
        assert (merged.segment == merged.rfm_segment).all()
        assert len(ours) >= len(theirs)
    finally:
        base.backend.disconnect()
        customers.backend.disconnect()


def test_rules_without_evidence_change_no_channel(workspace: Path) -> None:
    rows = [
        ("O1", "X", "google", "cpc", None, None),
        ("O2", "Y", None, None, "https://www.instagram.com/", None),
        ("O3", "Z", None, None, None, "web"),
    ]
    with store.open_for_write(workspace, "evidence") as con:
        con.executemany(
            "INSERT INTO orders (order_id, customer_id, ordered_at, order_total, refunded_amount,"
            " net_total, is_cancelled, utm_source, utm_medium, referrer, source_name,"
            " ingest_id) VALUES (?, ?, TIMESTAMP '2025-01-01 10:00', 10, 0, 10,"
            " false, ?, ?, ?, ?, 1)",
            rows,
        )
    rules = channels.default_rules()
    with store.open_for_read(workspace, "evidence") as backend:
        orders = backend.table("orders")
        kept = feature_table.select_rules_with_evidence(orders, rules)
        assert set(kept.field) == {
            "utm_source_medium",
            "utm_medium",
            "utm_source",
            "referrer_host",
            "source_name",
        }
        full = channels.attribute_channels(orders, rules).order_by("customer_id").to_pandas()
        pruned = channels.attribute_channels(orders, kept).order_by("customer_id").to_pandas()
    # source web is no evidence of how Z came (docs/acquisition.md §1)
    assert full.channel.tolist() == ["Paid Search", "Organic Social", "Unattributed"]
    assert pruned.channel.tolist() == full.channel.tolist()
