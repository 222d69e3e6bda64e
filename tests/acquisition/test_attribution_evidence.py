"""Direct only on positive evidence, tracking apps' UTMs and click ids, and paid against blended
CAC (docs/acquisition.md §1 and §4). Every expected channel is read off the cells by hand."""

from __future__ import annotations

import csv
import datetime as dt
import math
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from tracking_export import FIXTURES, SIX_CUSTOMERS, write_export

from dashboard import ingest
from dashboard.acquisition import channels, reports, spend
from dashboard.workspace import store

AS_OF = dt.date(2025, 12, 31)


def attribute(workspace: Path, dataset: str, rules: pd.DataFrame | None = None) -> pd.DataFrame:
    rules = channels.default_rules() if rules is None else rules
    return reports.load_attribution(workspace, dataset, AS_OF, rules).set_index("customer_id")


def with_rule(*row: object) -> pd.DataFrame:
    extra = pd.DataFrame([list(row)], columns=channels.RULE_COLUMNS)
    return pd.concat([channels.default_rules(), extra], ignore_index=True)


def test_six_customers_of_a_shopify_export(workspace: Path, tmp_path: Path) -> None:
    ingest.ingest_file(workspace, "six", write_export(tmp_path / "orders.csv", SIX_CUSTOMERS))
    found = attribute(workspace, "six")
    assert found[["channel", "evidence"]].to_dict("index") == {
        # Elevar's JSON note: facebook with a paid medium
        "json@example.com": {
            "channel": "Paid Social",
            "evidence": "utm_source/utm_medium: facebook/paidsocial",
        },
        # Attentive writes utm_medium=text
        "lines@example.com": {"channel": "SMS", "evidence": "utm_medium: text"},
        "landing@example.com": {"channel": "Email", "evidence": "utm_medium: email"},
        "fbclid@example.com": {"channel": "Paid Social", "evidence": "click id: fbclid"},
        # Source web says where the order was placed, not how the customer came
        "web@example.com": {
            "channel": "Unattributed",
            "evidence": "no rule matched (order source: web)",
        },
        # a creator's code has no general meaning: Unattributed until the analyst maps it
        "code@example.com": {
            "channel": "Unattributed",
            "evidence": "no rule matched (order source: 580111)",
        },
    }
    assert found.has_visit_evidence.to_dict() == {
        "json@example.com": True,
        "lines@example.com": True,
        "landing@example.com": True,
        "fbclid@example.com": True,
        "web@example.com": False,
        "code@example.com": False,
    }
    mapped = attribute(
        workspace, "six", with_rule(500, "discount_code", "exact", "ANNA15", "Affiliates")
    )
    assert mapped.loc["code@example.com", ["channel", "evidence"]].tolist() == [
        "Affiliates",
        "discount code: anna15",
    ]
    # 2 of 6 Unattributed, but the export holds visit evidence: the note points at the rules
    note = channels.describe_unattributed(found.reset_index())
    assert note.startswith("33.3% of these new customers (2 of 6) are Unattributed: their first")


def test_direct_needs_a_recorded_visit_without_referrer(workspace: Path, tmp_path: Path) -> None:
    orders = [
        # landing site recorded, Referring Site empty: a direct visit
        {"Email": "typed@example.com", "Landing Site": "/", "Referring Site": ""},
        # a click id beats the referrer it came through
        {
            "Email": "ad@example.com",
            "Landing Site": "/?gclid=Cj0KCQ",
            "Referring Site": "https://www.google.com/",
        },
        # the store's own page as referrer is no referrer (GA4 ignores self-referrals)
        {
            "Email": "self@example.com",
            "Landing Site": "https://shop.example/",
            "Referring Site": "https://shop.example/cart",
        },
        {
            "Email": "insta@example.com",
            "Landing Site": "/",
            "Referring Site": "https://l.instagram.com/",
        },
        # a code a rule maps says more than a direct visit
        {
            "Email": "creator@example.com",
            "Landing Site": "/",
            "Discount Code": "WELCOME10, ANNA15",
        },
        # UTM tags no rule knows: not a direct visit either
        {"Email": "odd@example.com", "Landing Site": "/?utm_source=zine"},
        # no landing site recorded: an empty referrer is not evidence
        {"Email": "unknown@example.com", "Referring Site": ""},
    ]
    path = write_export(tmp_path / "api.csv", orders, ("Referring Site", "Landing Site"))
    ingest.ingest_file(workspace, "api", path)
    rules = with_rule(500, "discount_code", "exact", "anna15", "Affiliates")
    found = attribute(workspace, "api", rules)
    assert found[["channel", "evidence"]].to_dict("index") == {
        "typed@example.com": {"channel": "Direct", "evidence": "recorded visit: no referrer"},
        "ad@example.com": {"channel": "Paid Search", "evidence": "click id: gclid"},
        "self@example.com": {"channel": "Direct", "evidence": "recorded visit: no referrer"},
        "insta@example.com": {
            "channel": "Organic Social",
            "evidence": "referring site: l.instagram.com/",
        },
        "creator@example.com": {
            "channel": "Affiliates",
            "evidence": "discount code: welcome10, anna15",
        },
        "odd@example.com": {
            "channel": "Unattributed",
            "evidence": "no rule matched (order source: web)",
        },
        "unknown@example.com": {
            "channel": "Unattributed",
            "evidence": "no rule matched (order source: web)",
        },
    }


def test_a_shopify_export_without_utms_says_it_holds_no_evidence(
    workspace: Path, tmp_path: Path
) -> None:
    # The example export with its Note Attributes emptied: Source, Discount Code and Tags only.
    source = FIXTURES / "shopify_orders_export_example.csv"
    with source.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    target = tmp_path / "orders_export.csv"
    with target.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows({**row, "Note Attributes": ""} for row in rows)
    ingest.ingest_file(workspace, "bare", target)
    found = attribute(workspace, "bare")
    # 16 customers' first valid orders: 9 web + 2 580111 (#1028, #1034) say nothing; 4 tiktok;
    # 1 shopify_draft_order (#1018, shopper004). Nobody is Direct for being an online order.
    assert found.channel.value_counts().to_dict() == {
        "Unattributed": 11,
        "Organic Social": 4,
        "Direct": 1,
    }
    assert found.loc["shopper004@example.com", "evidence"] == "order source: shopify_draft_order"
    assert not found.has_visit_evidence.any()
    note = channels.describe_unattributed(found.reset_index())
    assert note.startswith("This data holds no channel evidence")
    assert "68.8% of these new customers (11 of 16) are Unattributed" in note
    for remedy in ("Landing Site and Referring Site", "Note Attributes", "GA4"):
        assert remedy in note
    assert channels.describe_unattributed(found[found.channel != "Unattributed"]) is None


def test_paid_cac_beside_the_blended_one() -> None:
    # 20 new customers; spend: Google Ads 400 (Paid Search, 4 customers), Meta Ads 200 (Paid
    # Social, 2), Klaviyo 60 (Email, 6). Direct 3 and Unattributed 5 cost nothing.
    table = pd.DataFrame(
        {
            "channel": ["Email", "Unattributed", "Paid Search", "Direct", "Paid Social"],
            "new_customers": [6, 5, 4, 3, 2],
            "revenue": [300.0, 100.0, 400.0, 150.0, 200.0],
            "orders": [6, 5, 8, 3, 4],
            "aov": [50.0, 20.0, 50.0, 50.0, 50.0],
            "customers_365d": [0, 0, 2, 0, 2],
            "orders_per_customer_365d": [math.nan, math.nan, 2.0, math.nan, 1.0],
            "revenue_per_customer_365d": [math.nan, math.nan, 100.0, math.nan, 40.0],
        }
    )
    cac = pd.DataFrame(
        {
            "month": [dt.date(2025, 1, 1)] * 3,
            "channel": ["Email", "Paid Search", "Paid Social"],
            "acquisition_spend": [60.0, 400.0, 200.0],
            "new_customers": [6, 4, 2],
            "cac": [10.0, 100.0, 100.0],
        }
    )
    economics = spend.summarise_economics(table, cac, {}, 3.0, 12).set_index("channel")
    assert list(economics.index) == [
        "Email",
        "Paid Search",
        "Paid Social",
        spend.PAID_CHANNELS,
        spend.ALL_CHANNELS,
    ]
    paid, blended = economics.loc[spend.PAID_CHANNELS], economics.loc[spend.ALL_CHANNELS]
    assert (paid.acquisition_spend, paid.new_customers, paid.cac) == (600.0, 6, 100.0)
    assert (blended.acquisition_spend, blended.new_customers, blended.cac) == (660.0, 20, 33.0)
    assert paid.aov == pytest.approx(600 / 12)  # (400 + 200) / (8 + 4)
    assert paid.orders_per_year == pytest.approx(1.5)  # (2 x 2 + 1 x 2) / 4
    assert paid.simple_clv == pytest.approx(225.0)  # 50 x 1.5 x 3
    assert paid.clv_to_cac == pytest.approx(2.25) and paid.health == "low"
    assert spend.read_cac(economics.reset_index(), spend.PAID_CHANNELS) == 100.0
    assert spend.read_cac(economics.reset_index(), spend.ALL_CHANNELS) == 33.0
    # without spend on a paid channel there is no paid row, and no paid CAC
    email_only = spend.summarise_economics(table, cac[cac.channel == "Email"], {})
    assert email_only.channel.tolist() == ["Email", spend.ALL_CHANNELS]
    assert math.isnan(spend.read_cac(email_only, spend.PAID_CHANNELS))


def test_a_dataset_stored_before_landing_site_and_click_id_still_attributes(
    workspace: Path, tmp_path: Path
) -> None:
    ingest.ingest_file(workspace, "old", write_export(tmp_path / "orders.csv", SIX_CUSTOMERS))
    # As an earlier version wrote it: analysis opens it read-only and never adds the columns.
    con = duckdb.connect(str(store.dataset_path(workspace, "old")))
    con.execute("ALTER TABLE orders DROP COLUMN landing_site")
    con.execute("ALTER TABLE orders DROP COLUMN click_id")
    con.close()
    found = attribute(workspace, "old").channel.to_dict()
    # the fbclid customer had only a click id: without the column it is Unattributed
    assert found["fbclid@example.com"] == "Unattributed"
    assert found["json@example.com"] == "Paid Social"
