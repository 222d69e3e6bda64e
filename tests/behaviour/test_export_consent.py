"""Consent in exports for e-mail tools: only members who accepted e-mail marketing by default,
the others counted in the stamp, and an explicit, logged choice to include them."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest

from dashboard import cli, ingest
from dashboard.behaviour import compiler, definitions, feature_base, segment_export
from dashboard.behaviour.definitions import Condition, Definition, Group

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
ORDERS = FIXTURES / "shopify_orders_export_example.csv"
CUSTOMERS = FIXTURES / "shopify_customers_export_example.csv"
EVERYONE = Definition((Group((Condition("orders_ever", ">=", 0),)),))


def test_filter_consent_counts_declined_and_unknown_by_hand() -> None:
    members = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d", "e"],
            "accepts_marketing": pd.array([True, False, None, True, False], dtype="boolean"),
        }
    )
    kept, found = segment_export.filter_consent(members, "klaviyo")
    assert list(kept.customer_id) == ["a", "d"]
    assert (found.declined, found.unknown, found.overridden) == (2, 1, False)
    stamp = found.stamp()
    assert (stamp["left_out_declined_consent"], stamp["left_out_consent_unknown"]) == (2, 1)
    assert "Leaves out 2 members who declined and 1 with" in segment_export.describe_consent(stamp)
    everyone, chosen = segment_export.filter_consent(members, "klaviyo", True)
    assert len(everyone) == 5 and chosen.overridden
    assert "by your explicit choice" in segment_export.describe_consent(chosen.stamp())
    untouched, none = segment_export.filter_consent(members, "csv")
    assert len(untouched) == 5 and segment_export.describe_consent(none.stamp()) is None


@pytest.fixture(scope="module")
def mixed_consent(tmp_path_factory: pytest.TempPathFactory):
    """The Shopify example store: orders and a customers file where some declined e-mail."""
    workspace = tmp_path_factory.mktemp("consent")
    for path in (ORDERS, CUSTOMERS):
        ingest.ingest_file(workspace, "shop", path)
    base = feature_base.load_feature_base(workspace, "shop")
    view = compiler.feature_view(base.table, definitions.RfmSpec(), workspace)
    yield base, view, workspace
    base.close()


def expected_consent() -> tuple[set[str], int, int]:
    """From the files alone: buyers who accepted, declined, or are not in the customers file."""
    buyers = set(pd.read_csv(ORDERS).Email.dropna().str.strip().str.lower())
    customers = pd.read_csv(CUSTOMERS)
    emails = customers.Email.str.strip().str.lower()
    answer = dict(zip(emails, customers["Accepts Email Marketing"].eq("yes"), strict=True))
    people = buyers | set(emails)
    accepted = {p for p in people if answer.get(p) is True}
    declined = sum(1 for p in people if answer.get(p) is False)
    return accepted, declined, sum(1 for p in people if p not in answer)


def test_a_klaviyo_list_holds_only_those_who_accepted(mixed_consent, caplog) -> None:
    base, view, _ = mixed_consent
    accepted, declined, unknown = expected_consent()
    assert declined > 0 and accepted
    shown = segment_export.export_segment(
        view, EVERYONE, "klaviyo", "shop", "everyone", base.window
    )
    emails = set(pd.read_csv(pd.io.common.BytesIO(shown.data)).Email)
    assert emails == accepted
    assert shown.stamp["left_out_declined_consent"] == declined
    assert shown.stamp["left_out_consent_unknown"] == unknown
    assert shown.stamp["consent"] == "only members with accepts_marketing = true"

    with caplog.at_level(logging.WARNING, logger=segment_export.__name__):
        chosen = segment_export.export_segment(
            view,
            EVERYONE,
            "klaviyo",
            "shop",
            "everyone",
            base.window,
            include_without_consent=True,
        )
    assert (
        chosen.stamp["row_count"]
        == len(accepted)
        + declined
        + unknown
        - chosen.stamp["left_out_without_email"]
        - chosen.stamp["left_out_duplicate_email"]
    )
    assert chosen.stamp["row_count"] > shown.stamp["row_count"]
    assert "by explicit choice" in caplog.text and "'everyone'" in caplog.text


def test_a_plain_csv_keeps_every_member(mixed_consent) -> None:
    base, view, _ = mixed_consent
    plain = segment_export.export_segment(view, EVERYONE, "csv", "shop", "everyone", base.window)
    assert plain.stamp["row_count"] == plain.stamp["members"]
    assert plain.stamp["consent"] == "not required by this format"


def test_the_cli_leaves_out_members_without_consent_unless_told(
    mixed_consent, tmp_path: Path, capsys
) -> None:
    _, _, workspace = mixed_consent
    accepted, declined, unknown = expected_consent()
    definition = tmp_path / "everyone.json"
    definition.write_text(definitions.definition_to_json(EVERYONE), encoding="utf-8")
    args = ["export", "--workspace", str(workspace), "--dataset", "shop"]
    args += ["--definition", str(definition), "--format", "klaviyo"]
    assert cli.main([*args, "--out", str(tmp_path / "list.csv")]) == 0
    said = capsys.readouterr().out
    assert f"Leaves out {declined:,} members who declined and {unknown:,} with" in said
    assert set(pd.read_csv(tmp_path / "list.csv").Email) == accepted
    out = tmp_path / "all.csv"
    assert cli.main([*args, "--out", str(out), "--include-without-consent"]) == 0
    assert "by your explicit choice" in capsys.readouterr().out
    assert len(pd.read_csv(out)) > len(accepted)
