"""Issue 17 item 2: an RFM group (and a preset, a churn band) out in every format from the CLI.

The store of ``rfm_export_shop``, scored with custom cut points, so every segment is worked out
by hand (Shopify scheme: the row is round half up of (F + M) / 2):

- P1: orders 03-01, 03-15, 03-30 of 100 -> recency 1, F 3, M 300 -> R5 F3 M4, row 4: Champions;
  customers file p1@x.com, accepted e-mail, tag "vip".
- P2: orders 03-25, 03-28 of 300 -> recency 3, F 2, M 600 -> R5 F2 M5, row 4: Champions;
  p2@x.com, declined e-mail.
- P3: order 03-31 of 500 -> R5 F1 M5, row 3: Active; p3@x.com, no recorded answer.
- P4: orders 01-01 to 01-04 of 50 -> recency 86, F 4, M 200 -> R1 F4 M3, row 4: At risk;
  p4@x.com, accepted.
- P5: order 03-29 of 20 -> R5 F1 M1: New; not in the customers file (no email).
- P6: customers file only (p6@x.com, accepted): a prospect.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pandas as pd
import pytest
from rfm_export_shop import CUSTOMERS, DATASET, write_hand_store

from dashboard import cli, engines
from dashboard.behaviour import named_segments, segment_export, segment_store
from dashboard.behaviour.definitions import Condition, Definition, Group
from dashboard.errors import UserError
from dashboard.rfm import analysis, cut_points, schemes
from dashboard.workspace import store

AS_OF = "2025-03-31"
CUTS = ["--scoring", "custom", "--r-cuts", "10,20,30,40", "--f-cuts", "2,3,4,5"]
CUTS += ["--m-cuts", "100,200,300,400"]
HAND_SEGMENTS = {
    "P1": "Champions",
    "P2": "Champions",
    "P3": "Active",
    "P4": "At risk",
    "P5": "New",
    "P6": "Prospects",
}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = store.resolve_workspace(tmp_path_factory.mktemp("rfm-export") / "workspace")
    write_hand_store(folder)
    return folder


def run(workspace: Path, *args: str) -> int:
    return cli.main([args[0], "--workspace", str(workspace), "--dataset", DATASET, *args[1:]])


def read_csv(data: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)


def read_stamp(path: Path) -> dict[str, object]:
    return json.loads(segment_export.stamp_path(path).read_text(encoding="utf-8"))


def test_the_hand_store_segments_as_worked_out(workspace: Path, tmp_path: Path) -> None:
    out = tmp_path / "all.csv"
    assert run(workspace, "segments", "--as-of", AS_OF, *CUTS, "--out", str(out)) == 0
    table = read_csv(out.read_bytes())
    assert dict(zip(table.customer_id, table.segment, strict=True)) == HAND_SEGMENTS


def test_a_klaviyo_list_of_champions_holds_its_consenting_members(
    workspace: Path, tmp_path: Path
) -> None:
    members, out = tmp_path / "champions.csv", tmp_path / "champions-klaviyo.csv"
    args = ["segments", "--as-of", AS_OF, "--segment", "Champions", *CUTS]
    assert run(workspace, *args, "--out", str(members)) == 0
    assert set(read_csv(members.read_bytes()).customer_id) == {"P1", "P2"}

    assert run(workspace, *args, "--format", "klaviyo", "--out", str(out)) == 0
    listing = read_csv(out.read_bytes())
    assert list(listing.Email) == ["p1@x.com"]
    assert list(listing.columns[:2]) == ["Email", "First Name"]
    assert list(listing["First Name"]) == ["Pia"]
    assert list(listing.Segment) == ["Champions"]
    stamp = read_stamp(out)
    assert (stamp["members"], stamp["row_count"]) == (2, 1)
    assert stamp["left_out_declined_consent"] == 1
    assert stamp["left_out_consent_unknown"] == 0
    assert stamp["definition"]["rfm"]["scheme"] == "shopify"


def test_the_klaviyo_list_matches_segment_members_and_includes_all_by_choice(
    workspace: Path, tmp_path: Path
) -> None:
    out = tmp_path / "champions-all.csv"
    args = ["segments", "--as-of", AS_OF, "--segment", "Champions", *CUTS]
    assert (
        run(workspace, *args, "--format", "klaviyo", "--include-without-consent", "--out", str(out))
        == 0
    )
    listing = read_csv(out.read_bytes())
    assert list(listing.Email) == ["p1@x.com", "p2@x.com"]
    assert list(listing["Net revenue"].astype(float)) == [300.0, 600.0]
    assert list(listing.Orders.astype(int)) == [3, 2]
    consent = read_stamp(out)["consent"]
    assert consent == "included regardless of accepts_marketing, by explicit choice"

    with engines.open_configured_tables(workspace, DATASET) as tables:
        base = analysis.build_customer_base(tables, DATASET, as_of=dt.date(2025, 3, 31))
        try:
            cuts = cut_points.Cuts((10, 20, 30, 40), (2, 3, 4, 5), (100, 200, 300, 400))
            expected = analysis.segment_members(base, cuts, schemes.PRESETS["shopify"], "Champions")
        finally:
            base.close()
    emails = {c: e for c, e, *_ in CUSTOMERS}
    assert sorted(emails[c] for c in expected.customer_id) == list(listing.Email)


def test_parquet_round_trips_the_members_with_their_types(workspace: Path, tmp_path: Path) -> None:
    out = tmp_path / "champions.parquet"
    args = ["segments", "--as-of", AS_OF, "--segment", "Champions", *CUTS]
    assert run(workspace, *args, "--format", "parquet", "--out", str(out)) == 0
    table = pd.read_parquet(out)
    assert list(table.customer_id) == ["P1", "P2"]
    assert list(table.orders) == [3, 2]
    assert [float(v) for v in table.net_revenue] == [300.0, 600.0]
    assert list(table.last_order_on) == [dt.date(2025, 3, 30), dt.date(2025, 3, 28)]
    assert list(table.rfm_segment) == ["Champions", "Champions"]
    assert read_stamp(out)["row_count"] == 2


def test_shopify_tags_keep_existing_tags_and_add_the_segment(
    workspace: Path, tmp_path: Path
) -> None:
    out = tmp_path / "champions-tags.csv"
    args = ["segments", "--as-of", AS_OF, "--segment", "Champions", *CUTS]
    assert run(workspace, *args, "--format", "shopify-tags", "--out", str(out)) == 0
    tags = read_csv(out.read_bytes())
    assert list(tags.columns) == ["Email", "Tags"]
    # No consent filter: a tag sends nothing.
    assert dict(zip(tags.Email, tags.Tags, strict=True)) == {
        "p1@x.com": "vip, Champions",
        "p2@x.com": "Champions",
    }


def test_prospects_and_at_risk_export_from_the_cli(workspace: Path, tmp_path: Path) -> None:
    out = tmp_path / "prospects.csv"
    args = ["segments", "--as-of", AS_OF, *CUTS, "--format", "klaviyo"]
    assert run(workspace, *args, "--segment", "Prospects", "--out", str(out)) == 0
    assert list(read_csv(out.read_bytes()).Email) == ["p6@x.com"]
    assert run(workspace, *args, "--segment", "At risk", "--out", str(out)) == 0
    assert list(read_csv(out.read_bytes()).Email) == ["p4@x.com"]


def test_export_takes_an_rfm_group_and_the_saved_segment_wins_a_clash(
    workspace: Path, tmp_path: Path
) -> None:
    # Quantile scoring (export's) on the default scheme: the members are segment_members'.
    with engines.open_configured_tables(workspace, DATASET) as tables:
        base = analysis.build_customer_base(tables, DATASET, as_of=dt.date(2025, 3, 31))
        try:
            scheme = schemes.PRESETS["shopify"]
            cuts = cut_points.resolve_cuts(base.measures, cut_points.ScoringSpec(scheme))
            table = analysis.segment_members(base, cuts, scheme)
        finally:
            base.close()
    segment = table.segment[table.customer_id == "P1"].iloc[0]
    expected = set(table.customer_id[table.segment == segment])
    out = tmp_path / "rfm.csv"
    args = ["export", "--as-of", AS_OF, "--format", "csv", "--out", str(out)]
    assert run(workspace, *args, "--segment", segment) == 0
    assert set(read_csv(out.read_bytes()).customer_id) == expected
    listing = tmp_path / "rfm-klaviyo.csv"
    klaviyo = ["export", "--as-of", AS_OF, "--format", "klaviyo", "--out", str(listing)]
    assert run(workspace, *klaviyo, "--segment", segment) == 0
    consenting = {c: e for c, e, _, accepted, *_ in CUSTOMERS if accepted}
    assert set(read_csv(listing.read_bytes()).Email) == {
        consenting[c] for c in expected if c in consenting
    }

    # A saved segment called like the group (only P4, by its order count) wins...
    assert "P4" not in expected and segment.isalnum()
    segment_store.save_segment(
        workspace, DATASET, segment, Definition((Group((Condition("orders", "==", 4),)),))
    )
    try:
        assert run(workspace, *args, "--segment", segment) == 0
        assert set(read_csv(out.read_bytes()).customer_id) == {"P4"}
        assert read_stamp(out)["definition"]["groups"][0]["conditions"][0]["feature"] == "orders"
        # ...unless --kind rfm asks for the group.
        assert run(workspace, *args, "--segment", segment, "--kind", "rfm") == 0
        assert set(read_csv(out.read_bytes()).customer_id) == expected
        condition = read_stamp(out)["definition"]["groups"][0]["conditions"][0]
        assert condition == {"feature": "rfm_segment", "operator": "==", "value": segment}
    finally:
        segment_store.delete_segment(workspace, DATASET, segment)


def test_export_takes_a_churn_band(workspace: Path, tmp_path: Path) -> None:
    # P4 bought four times in four days and then not for 86 days: the one High churn risk.
    out = tmp_path / "high.csv"
    args = ["export", "--as-of", AS_OF, "--format", "klaviyo", "--out", str(out)]
    assert run(workspace, *args, "--segment", "High") == 0
    listing = read_csv(out.read_bytes())
    assert list(listing.Email) == ["p4@x.com"]
    assert list(listing["Churn risk band"]) == ["High"]
    assert read_stamp(out)["definition"]["description"] == "Predicted churn band High"


def test_export_takes_a_preset_by_key(workspace: Path, tmp_path: Path) -> None:
    out = tmp_path / "one-time.csv"
    args = ["export", "--as-of", AS_OF, "--format", "csv", "--out", str(out)]
    assert run(workspace, *args, "--segment", "one_time") == 0
    assert set(read_csv(out.read_bytes()).customer_id) == {"P3", "P5"}
    assert read_stamp(out)["segment"] == "One-time buyers"


def test_an_unknown_name_is_one_sentence_and_exit_2(
    workspace: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "x.csv"
    args = ["export", "--format", "klaviyo", "--out", str(out), "--segment", "Champs"]
    assert run(workspace, *args) == 2
    error = capsys.readouterr().err.strip()
    assert error.count(". ") == 0 and error.endswith(").")
    assert "There is no saved segment called 'Champs' in dataset 'hand', nor an RFM" in error
    assert "group of scheme shopify, a behavioural preset or a churn band by that name" in error
    assert "Champions" in error and "Low, Medium, High" in error
    assert not out.exists()
    assert run(workspace, *args[:-1], "Champs", "--kind", "band") == 2
    assert "There is no churn band called 'Champs' (" in capsys.readouterr().err
    seg = ["segments", "--format", "klaviyo", "--out", str(out)]
    assert run(workspace, *seg) == 2
    assert "--format klaviyo needs --segment" in capsys.readouterr().err


def test_find_named_segment_searches_the_kinds_in_order(workspace: Path) -> None:
    scheme = schemes.PRESETS["shopify"]
    found = named_segments.find_named_segment(workspace, DATASET, "High", scheme)
    assert found.kind == "band"
    assert found.definition.groups[0].conditions[0] == Condition("churn_band", "==", "High")
    assert named_segments.find_named_segment(workspace, DATASET, "Champions", scheme).kind == "rfm"
    with pytest.raises(UserError, match="There is no RFM group called 'High' of scheme shopify"):
        named_segments.find_named_segment(workspace, DATASET, "High", scheme, kind="rfm")


def test_the_default_segments_output_is_unchanged(workspace: Path, tmp_path: Path) -> None:
    plain, as_csv = tmp_path / "plain.csv", tmp_path / "csv.csv"
    args = ["segments", "--as-of", AS_OF, "--segment", "Champions", *CUTS]
    assert run(workspace, *args, "--out", str(plain)) == 0
    assert run(workspace, *args, "--format", "csv", "--out", str(as_csv)) == 0
    assert plain.read_bytes() == as_csv.read_bytes()
    assert not segment_export.stamp_path(plain).exists()
