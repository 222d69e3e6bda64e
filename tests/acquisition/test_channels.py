"""Channel attribution, the per-channel table, the channel x segment matrix, spend and CAC.

Small tables are computed by hand in the comments; the demo store is checked against an
independent pandas computation from its CSV files (tests/demo_reference.py).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from decimal import Decimal
from pathlib import Path

import demo_reference as ref
import ibis
import pandas as pd
import pytest

from dashboard.acquisition import channels, reports, spend
from dashboard.rfm import analysis, cut_points, schemes
from dashboard.workspace import store

D = dt.date
EVIDENCE = (
    "source_name",
    "utm_source",
    "utm_medium",
    "referrer",
    "channel",
    "discount_code",
    "tags",
)
_COLUMNS = (
    "order_id",
    "customer_id",
    "ordered_at",
    "order_total",
    "refunded_amount",
    "net_total",
    "currency",
    "is_cancelled",
    *EVIDENCE,
    "ingest_id",
)


def write_orders(workspace: Path, name: str, orders: list[dict[str, object]]) -> str:
    """Write orders with their evidence columns (bound parameters); return the dataset name."""
    rows = []
    for o in orders:
        total = Decimal(str(o.get("total", "10")))
        refunded = Decimal(str(o.get("refunded", "0")))
        values = {
            "order_id": o["id"],
            "customer_id": o.get("customer"),
            "ordered_at": dt.datetime.fromisoformat(str(o["at"])),
            "order_total": total,
            "refunded_amount": refunded,
            "net_total": Decimal(str(o.get("net", total - refunded))),
            "currency": "EUR",
            "is_cancelled": bool(o.get("cancelled", False)),
            **{field: o.get(field) for field in EVIDENCE},
            "ingest_id": 1,
        }
        rows.append(tuple(values[c] for c in _COLUMNS))
    with store.open_for_write(workspace, name) as con:
        con.begin()
        con.executemany(
            f"INSERT INTO orders ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",
            rows,
        )
        con.commit()
    return name


def attribute(workspace: Path, name: str, rules: pd.DataFrame | None = None, as_of=None):
    rules = channels.default_rules() if rules is None else rules
    with store.open_for_read(workspace, name) as backend:
        table = channels.attribute_channels(backend.table("orders"), rules, as_of)
        return table.order_by("customer_id").to_pandas().set_index("customer_id")


# ------------------------------------------------------------------ attribution


EVIDENCE_CASES = [
    # (customer, evidence on the first order, expected channel, expected evidence text)
    (
        "c01",
        {"utm_source": "google", "utm_medium": "cpc", "referrer": "https://facebook.com/"},
        "Paid Search",
        "utm_source/utm_medium: google/cpc",
    ),
    (
        "c02",
        {"utm_source": "IG", "utm_medium": "paid_social"},
        "Paid Social",
        "utm_source/utm_medium: ig/paid_social",
    ),
    ("c03", {"utm_source": "klaviyo", "utm_medium": "email"}, "Email", "utm_medium: email"),
    (
        "c04",
        {"utm_medium": "affiliate", "utm_source": "refersion"},
        "Affiliates",
        "utm_medium: affiliate",
    ),
    (
        "c05",
        {"utm_source": "beanblog", "utm_medium": "referral"},
        "Referral",
        "utm_medium: referral",
    ),
    (
        "c06",
        {"referrer": "https://www.google.com/", "source_name": "web"},
        "Organic Search",
        "referring site: google.com/",
    ),
    (
        "c07",
        {"referrer": "https://coffeeblog.example/post", "source_name": "web"},
        "Referral",
        "referring site: coffeeblog.example/post",
    ),
    # a landing page is not where the visit came from, and source web says nothing either
    (
        "c08",
        {"referrer": "/collections/mugs", "source_name": "web"},
        "Unattributed",
        "no rule matched (order source: web)",
    ),
    (
        "c09",
        {"channel": "Instagram", "source_name": "web"},
        "Organic Social",
        "Channel note: instagram",
    ),
    ("c10", {"source_name": "pos", "tags": "pop-up"}, "Direct", "order source: pos"),
    ("c11", {"source_name": "tiktok"}, "Organic Social", "order source: tiktok"),
    (
        "c12",
        {"source_name": "3890849", "discount_code": "PARTNER10"},
        "Affiliates",
        "discount code: partner10",
    ),
    (
        "c13",
        {"source_name": "3890849", "tags": "BFCM, Influencer"},
        "Affiliates",
        "order tag: bfcm, influencer",
    ),
    ("c14", {"source_name": "3890849"}, "Unattributed", "no rule matched (order source: 3890849)"),
    ("c15", {}, "Unattributed", "no rule matched"),
    ("c16", {"utm_source": "newsletterx", "utm_medium": "cpc"}, "Paid Other", "utm_medium: cpc"),
]


def test_each_kind_of_evidence_gives_its_channel_in_priority_order(workspace: Path) -> None:
    orders = [
        {"id": f"#{i}", "customer": c, "at": "2025-03-01 10:00:00", **ev}
        for i, (c, ev, _, _) in enumerate(EVIDENCE_CASES)
    ]
    found = attribute(workspace, write_orders(workspace, "ev", orders))
    for customer, _, channel, evidence in EVIDENCE_CASES:
        assert found.loc[customer, "channel"] == channel, customer
        assert found.loc[customer, "evidence"] == evidence, customer


def test_the_first_valid_order_decides(workspace: Path) -> None:
    orders = [
        # cancelled and zero-value orders do not count; the tie at 09:00 goes to order id #2a
        {
            "id": "#1",
            "customer": "a",
            "at": "2025-01-01 08:00:00",
            "cancelled": True,
            "utm_source": "google",
            "utm_medium": "cpc",
        },
        {
            "id": "#1z",
            "customer": "a",
            "at": "2025-01-01 08:30:00",
            "total": "0",
            "source_name": "pos",
        },
        {"id": "#2b", "customer": "a", "at": "2025-01-02 09:00:00", "source_name": "tiktok"},
        {
            "id": "#2a",
            "customer": "a",
            "at": "2025-01-02 09:00:00",
            "utm_source": "klaviyo",
            "utm_medium": "email",
        },
        {
            "id": "#3",
            "customer": "a",
            "at": "2025-02-01 09:00:00",
            "utm_source": "google",
            "utm_medium": "cpc",
        },
        {"id": "#4", "customer": None, "at": "2025-01-01 07:00:00", "source_name": "pos"},
        {"id": "#5", "customer": "b", "at": "2025-03-01 09:00:00", "source_name": "pos"},
    ]
    found = attribute(workspace, write_orders(workspace, "first", orders))
    assert list(found.index) == ["a", "b"]
    assert found.loc["a", "first_order_id"] == "#2a"
    assert found.loc["a", "channel"] == "Email"
    assert pd.Timestamp(found.loc["a", "first_order_on"]).date() == D(2025, 1, 2)
    # b's only order is after the analysis date
    early = attribute(workspace, "first", as_of=D(2025, 2, 15))
    assert list(early.index) == ["a"]


def test_rules_are_an_editable_table(workspace: Path) -> None:
    orders = [
        {
            "id": "#1",
            "customer": "maya-fan",
            "at": "2025-01-01 10:00:00",
            "source_name": "3890849",
            "discount_code": "MAYA15",
        },
        {"id": "#2", "customer": "stall", "at": "2025-01-01 11:00:00", "source_name": "pos"},
    ]
    name = write_orders(workspace, "edit", orders)
    assert attribute(workspace, name).channel.to_dict() == {
        "maya-fan": "Unattributed",
        "stall": "Direct",
    }
    rules = channels.default_rules()
    rules.loc[(rules.field == "source_name") & (rules.pattern == "pos"), "channel"] = "Offline"
    extra = pd.DataFrame(
        [[450, "discount_code", "exact", "Maya15 ", "Affiliates"]], columns=channels.RULE_COLUMNS
    )
    edited = pd.concat([rules, extra], ignore_index=True)
    assert attribute(workspace, name, edited).channel.to_dict() == {
        "maya-fan": "Affiliates",
        "stall": "Offline",
    }
    no_rules = pd.DataFrame(columns=channels.RULE_COLUMNS)
    assert set(attribute(workspace, name, no_rules).channel) == {channels.UNATTRIBUTED}


def test_tag_rules_match_whole_tags_and_prefixes(workspace: Path) -> None:
    orders = [
        {"id": "#1", "customer": "a", "at": "2025-01-01 10:00:00", "tags": "pos-terminal"},
        {"id": "#2", "customer": "b", "at": "2025-01-01 10:00:00", "tags": "vip,  POS "},
    ]
    name = write_orders(workspace, "tags", orders)
    exact = pd.DataFrame([[1, "tag", "exact", "pos", "Direct"]], columns=channels.RULE_COLUMNS)
    assert attribute(workspace, name, exact).channel.to_dict() == {
        "a": "Unattributed",
        "b": "Direct",
    }
    prefix = exact.assign(match="prefix")
    assert set(attribute(workspace, name, prefix).channel) == {"Direct"}


def test_validate_rules_cleans_sorts_and_names_the_bad_row() -> None:
    table = pd.DataFrame(
        [
            [20, "utm_source", "exact", " Google ", "Organic Search"],
            [None, None, None, None, None],
            [10, "tag", "prefix", "", "Referral"],
        ],
        columns=channels.RULE_COLUMNS,
    )
    cleaned = channels.validate_rules(table)
    assert cleaned.values.tolist() == [
        [10, "tag", "prefix", "", "Referral"],
        [20, "utm_source", "exact", "google", "Organic Search"],
    ]
    bad = [
        ([1, "utm_content", "exact", "x", "Email"], "field 'utm_content'"),
        ([1, "utm_source", "regex", "x", "Email"], "match must be"),
        ([1, "utm_source", "exact", "x", " "], "give the channel"),
        ([1, "utm_source", "exact", "", "Email"], "needs a pattern"),
        ([1, "tag", "exact", "a,b", "Email"], "without commas"),
        (["first", "utm_source", "exact", "x", "Email"], "whole number"),
    ]
    for row, message in bad:
        with pytest.raises(channels.ChannelRulesError, match=message):
            channels.validate_rules(pd.DataFrame([row], columns=channels.RULE_COLUMNS))


def test_default_rules_are_valid_and_use_ga4_names() -> None:
    rules = channels.validate_rules(channels.default_rules())
    assert len(rules) == len(channels.DEFAULT_RULES)
    assert set(rules.channel) <= set(channels.CHANNEL_GROUPS)


# ------------------------------------------------------------------ per-channel table

SUMMARY_ORDERS = [
    # a: Paid Search, first 2025-01-10. 90d: 100 + 50; 180d/365d: + 20 (30 refunded 10).
    {
        "id": "#a1",
        "customer": "a",
        "at": "2025-01-10 10:00:00",
        "total": "100",
        "utm_source": "google",
        "utm_medium": "cpc",
    },
    {"id": "#a2", "customer": "a", "at": "2025-02-01 10:00:00", "total": "50"},
    {"id": "#a3", "customer": "a", "at": "2025-03-01 10:00:00", "total": "999", "cancelled": True},
    {"id": "#a4", "customer": "a", "at": "2025-06-01 10:00:00", "total": "30", "refunded": "10"},
    # b: Paid Search, first 2024-11-01; its second order is 395 days later (outside 365 days)
    {
        "id": "#b1",
        "customer": "b",
        "at": "2024-11-01 10:00:00",
        "total": "80",
        "utm_source": "bing",
        "utm_medium": "cpc",
    },
    {"id": "#b2", "customer": "b", "at": "2025-12-01 10:00:00", "total": "40"},
    # c: Email, first 2025-11-15 (too recent for the 90-day column)
    {
        "id": "#c1",
        "customer": "c",
        "at": "2025-11-15 10:00:00",
        "total": "60",
        "utm_source": "klaviyo",
        "utm_medium": "email",
    },
    # d: only a zero-value order: not a customer
    {
        "id": "#d1",
        "customer": "d",
        "at": "2025-05-01 10:00:00",
        "total": "0",
        "utm_source": "klaviyo",
        "utm_medium": "email",
    },
    # e: Unattributed; a return row (total 0, net -5) reduces revenue but is not an order
    {
        "id": "#e1",
        "customer": "e",
        "at": "2025-03-01 10:00:00",
        "total": "20",
        "source_name": "999",
    },
    {"id": "#e2", "customer": "e", "at": "2025-03-10 10:00:00", "total": "0", "net": "-5"},
    # after the analysis date
    {"id": "#a5", "customer": "a", "at": "2026-01-05 10:00:00", "total": "500"},
]
AS_OF = D(2025, 12, 31)


def summarise(workspace: Path, name: str, first_from=None, first_to=None) -> pd.DataFrame:
    with store.open_for_read(workspace, name) as backend:
        orders = backend.table("orders")
        attribution = channels.attribute_channels(orders, channels.default_rules(), AS_OF)
        return channels.summarise_channels(orders, attribution, AS_OF, first_from, first_to)


def test_channel_table_by_hand(workspace: Path) -> None:
    table = summarise(workspace, write_orders(workspace, "sum", SUMMARY_ORDERS))
    assert list(table.columns) == channels.SUMMARY_COLUMNS
    assert list(table.channel) == ["Paid Search", "Email", "Unattributed"]
    rows = table.set_index("channel")
    paid = rows.loc["Paid Search"]
    assert paid.new_customers == 2 and paid.orders == 5
    assert paid.revenue == pytest.approx(290.0)  # 100 + 50 + 20 + 80 + 40
    assert paid.aov == pytest.approx(58.0)
    assert paid.repeat_rate == pytest.approx(1.0)
    assert paid.orders_per_customer == pytest.approx(2.5)
    assert paid.revenue_per_customer == pytest.approx(145.0)
    assert paid.customers_90d == 2 and paid.revenue_per_customer_90d == pytest.approx(115.0)
    assert paid.customers_180d == 2 and paid.revenue_per_customer_180d == pytest.approx(125.0)
    # only b's first order is 365+ days before the analysis date
    assert paid.customers_365d == 1 and paid.revenue_per_customer_365d == pytest.approx(80.0)
    assert paid.orders_per_customer_365d == pytest.approx(1.0)
    email = rows.loc["Email"]
    assert email.new_customers == 1 and email.revenue == pytest.approx(60.0)
    assert email.repeat_rate == 0 and email.customers_90d == 0
    assert math.isnan(email.revenue_per_customer_90d)
    unattributed = rows.loc["Unattributed"]
    assert unattributed.revenue == pytest.approx(15.0) and unattributed.orders == 1
    assert unattributed.customers_180d == 1 and unattributed.customers_365d == 0
    assert table.share_new_customers.tolist() == pytest.approx([0.5, 0.25, 0.25])
    assert table.share_revenue.tolist() == pytest.approx([290 / 365, 60 / 365, 15 / 365])


def test_channel_table_filters_by_first_order_period(workspace: Path) -> None:
    name = write_orders(workspace, "period", SUMMARY_ORDERS)
    table = summarise(workspace, name, D(2025, 1, 1), D(2025, 6, 30)).set_index("channel")
    assert table.new_customers.to_dict() == {"Paid Search": 1, "Unattributed": 1}
    assert table.loc["Paid Search", "revenue"] == pytest.approx(170.0)
    assert summarise(workspace, name, D(2027, 1, 1)).empty


def test_channel_segment_matrix_by_hand() -> None:
    attribution = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d", "e"],
            "channel": ["Unattributed", "Email", "Email", "Email", "Direct"],
        }
    )
    members = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d", "z"],
            "segment": ["Lost", "Champions", "Lost", "Champions", "Champions"],
        }
    )
    cells = channels.count_channel_segments(attribution, members, ["Champions", "New", "Lost"])
    counts = channels.pivot_channel_segments(cells, "customers")
    assert list(counts.index) == ["Email", "Unattributed"]
    assert list(counts.columns) == ["Champions", "New", "Lost"]
    assert counts.loc["Email"].tolist() == [2, 0, 1]
    shares = channels.pivot_channel_segments(cells)
    assert shares.loc["Email"].tolist() == pytest.approx([2 / 3, 0, 1 / 3])
    assert shares.loc["Unattributed"].tolist() == pytest.approx([0, 0, 1])


# ------------------------------------------------------------------ spend, CAC, CLV : CAC


def spend_table(rows: list[tuple[str, str, float, str | None]]) -> ibis.Table:
    frame = pd.DataFrame(rows, columns=["month", "channel", "spend", "purpose"])
    frame["month"] = pd.to_datetime(frame.month).dt.date
    return ibis.memtable(frame)


SPEND_ROWS = [
    ("2025-01-01", "google ads", 100.0, "acquisition"),
    ("2025-01-01", "Google Ads", 30.0, "Retention"),
    ("2025-02-01", "Google Ads", 90.0, None),
    ("2025-01-01", "Meta Ads", 50.0, "acquisition"),
    ("2025-01-01", "Mystery", 10.0, "acquisition"),
    ("2025-03-01", "Klaviyo", 20.0, "retention"),
]


def test_map_spend_by_name_whatever_the_case() -> None:
    mapped = spend.map_spend(spend_table(SPEND_ROWS), spend.default_mapping()).to_pandas()
    assert mapped.channel.tolist() == [
        "Paid Search",
        "Paid Search",
        "Paid Search",
        "Paid Social",
        spend.UNMAPPED,
        "Email",
    ]
    assert mapped.purpose.tolist() == [
        "acquisition",
        "retention",
        "acquisition",
        "acquisition",
        "acquisition",
        "retention",
    ]
    with pytest.raises(spend.SpendMappingError, match="both a spend name and a channel"):
        spend.validate_mapping(pd.DataFrame([["Google Ads", ""]], columns=spend.MAPPING_COLUMNS))


def test_cac_per_channel_and_month_by_hand() -> None:
    mapped = spend.map_spend(spend_table(SPEND_ROWS), spend.default_mapping())
    attribution = ibis.memtable(
        pd.DataFrame(
            {
                "customer_id": ["a", "b", "c", "d"],
                "first_order_on": [D(2025, 1, 3), D(2025, 1, 9), D(2025, 1, 20), D(2025, 3, 2)],
                "channel": ["Paid Search", "Paid Search", "Paid Social", "Paid Search"],
            }
        )
    )
    cac = spend.summarise_cac(mapped, attribution)
    rows = {(r.month, r.channel): r for r in cac.itertuples()}
    assert set(rows) == {
        (D(2025, 1, 1), "Paid Search"),
        (D(2025, 1, 1), "Paid Social"),
        (D(2025, 1, 1), spend.UNMAPPED),
        (D(2025, 2, 1), "Paid Search"),
    }
    jan = rows[(D(2025, 1, 1), "Paid Search")]
    assert (jan.acquisition_spend, jan.new_customers, jan.cac) == (100.0, 2, 50.0)
    assert rows[(D(2025, 1, 1), "Paid Social")].cac == 50.0
    assert math.isnan(rows[(D(2025, 2, 1), "Paid Search")].cac)  # no new customers that month
    assert math.isnan(rows[(D(2025, 1, 1), spend.UNMAPPED)].cac)
    february = spend.summarise_cac(mapped, attribution, D(2025, 2, 10), D(2025, 3, 31))
    assert february[["channel", "acquisition_spend"]].values.tolist() == [["Paid Search", 90.0]]


def test_economics_simple_clv_ratio_payback_and_health() -> None:
    table = pd.DataFrame(
        {
            "channel": ["Paid Search", "Email"],
            "new_customers": [4, 6],
            "revenue": [400.0, 300.0],
            "orders": [8, 6],
            "aov": [50.0, 50.0],
            "customers_365d": [2, 2],
            "orders_per_customer_365d": [2.0, 1.0],
            "revenue_per_customer_365d": [100.0, 50.0],
        }
    )
    cac = pd.DataFrame(
        {
            "month": [D(2025, 1, 1), D(2025, 2, 1)],
            "channel": ["Paid Search", "Paid Search"],
            "acquisition_spend": [150.0, 250.0],
            "new_customers": [2, 2],
            "cac": [75.0, 125.0],
        }
    )
    curve = pd.DataFrame(
        {"months_since": [0, 1, 2], "cumulative_revenue_per_customer": [50.0, 90, 120]}
    )
    economics = spend.summarise_economics(table, cac, {"Paid Search": curve}, 3.0, 12)
    paid = economics.set_index("channel").loc["Paid Search"]
    assert paid.cac == 100.0  # 400 / 4
    assert paid.simple_clv == 300.0  # 50 x 2 x 3
    assert paid.clv_to_cac == 3.0 and paid.health == "healthy"
    assert paid.payback_months == 2  # 120 >= 100 in month 2
    assert paid.observed_ltv_365d == 100.0
    total = economics.set_index("channel").loc[spend.ALL_CHANNELS]
    assert total.new_customers == 10 and total.cac == 40.0
    assert total.aov == pytest.approx(700 / 14)
    assert total.orders_per_year == pytest.approx(1.5)  # (2 x 2 + 1 x 2) / 4
    assert pd.isna(total.payback_months)


@pytest.mark.parametrize(
    ("ratio", "months_open", "level"),
    [
        (3.0, 12, "healthy"),
        (2.0, 12, "low"),
        (1.0, 3, "warning"),
        (0.8, 8, "critical"),
        (float("nan"), 8, "unknown"),
    ],
)
def test_clv_cac_health(ratio: float, months_open: int, level: str) -> None:
    assert spend.assess_clv_cac(ratio, months_open)[0] == level


# ------------------------------------------------------------------ the demo store


@pytest.fixture(scope="module")
def demo_reference(demo_dataset: tuple[Path, str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The demo orders and the independent attribution, read from the CSV."""
    orders = ref.read_orders(ref.files_dir(demo_dataset[0]) / "shopify_orders.csv")
    return orders, ref.attribute(orders)


@pytest.fixture(scope="module")
def demo_with_spend(demo_dataset, tmp_path_factory) -> Path:
    return ref.copy_with_spend(demo_dataset, tmp_path_factory.mktemp("demo-spend"))


def test_demo_attribution_matches_the_independent_one(demo_dataset, demo_reference) -> None:
    workspace, name = demo_dataset
    _, expected = demo_reference
    found = reports.load_attribution(workspace, name, ref.AS_OF, channels.default_rules())
    merged = found.merge(expected, on="customer_id", how="outer", indicator=True)
    assert (merged._merge == "both").all()
    assert (merged.first_order_on == merged.first_day).all()
    assert (merged.first_order_id_x == merged.first_order_id_y).all()
    mismatched = merged[merged.channel_x != merged.channel_y]
    assert mismatched.empty, mismatched.head()
    # every demo channel is recovered, and the app-id-only orders stay visible as Unattributed
    assert set(found.channel) == {
        "Direct",
        "Organic Search",
        "Paid Search",
        "Paid Social",
        "Email",
        "Affiliates",
        "Referral",
        "Organic Social",
        "Unattributed",
    }


def test_demo_channel_table_matches_pandas(demo_dataset, demo_reference) -> None:
    workspace, name = demo_dataset
    orders, expected_firsts = demo_reference
    attribution = reports.load_attribution(workspace, name, ref.AS_OF, channels.default_rules())
    cells = reports.load_cohort_table(workspace, name, ref.AS_OF, attribution)
    report = reports.load_channel_report(
        workspace, name, ref.AS_OF, reports.Settings(), attribution, cells
    )
    assert not report.has_spend and report.economics.empty
    table = report.table.set_index("channel")
    expected = ref.channel_figures(orders, expected_firsts)
    assert sorted(table.index) == sorted(expected.index)
    for channel, row in expected.iterrows():
        got = table.loc[channel]
        assert got.new_customers == row.new_customers, channel
        assert got.orders == row.orders, channel
        assert got.revenue == pytest.approx(row.revenue, rel=1e-9), channel
        assert got.repeat_rate == pytest.approx(row.repeat_customers / row.new_customers)
        for days in ref.HORIZONS:
            assert got[f"customers_{days}d"] == row[f"customers_{days}d"], (channel, days)
            assert got[f"revenue_per_customer_{days}d"] == pytest.approx(
                row[f"revenue_{days}d"] / row[f"customers_{days}d"], rel=1e-9
            ), (channel, days)
        assert got.orders_per_customer_365d == pytest.approx(row.orders_365d / row.customers_365d)
    assert table.share_revenue.sum() == pytest.approx(1.0)


def test_demo_channel_segment_matrix_covers_every_scored_customer(demo_dataset) -> None:
    workspace, name = demo_dataset
    attribution = reports.load_attribution(workspace, name, ref.AS_OF, channels.default_rules())
    base = analysis.load_customer_base(workspace, name, as_of=ref.AS_OF)
    try:
        scheme = schemes.PRESETS[schemes.DEFAULT_SCHEME]
        cuts = cut_points.resolve_cuts(base.measures, cut_points.ScoringSpec(scheme))
        members = analysis.segment_members(base, cuts, scheme)
    finally:
        base.backend.disconnect()
    cells = channels.count_channel_segments(attribution, members, scheme.segments)
    per_channel = cells.groupby("channel").customers.sum()
    assert per_channel.to_dict() == attribution.channel.value_counts().to_dict()
    assert cells.groupby("channel").share_of_channel.sum().tolist() == pytest.approx(
        [1.0] * len(per_channel)
    )


def test_demo_cac_matches_pandas(demo_dataset, demo_with_spend, demo_reference) -> None:
    _, firsts = demo_reference
    attribution = reports.load_attribution(
        demo_with_spend, "demo", ref.AS_OF, channels.default_rules()
    )
    cells = reports.load_cohort_table(demo_with_spend, "demo", ref.AS_OF, attribution)
    report = reports.load_channel_report(
        demo_with_spend, "demo", ref.AS_OF, reports.Settings(), attribution, cells
    )
    assert report.has_spend and report.unmapped == ()
    raw = ref.read_spend(ref.files_dir(demo_dataset[0]) / "marketing_spend.csv")
    raw["group"] = raw.channel.map(ref.SPEND_CHANNELS)
    acquisition_spend = raw[raw.purpose == "acquisition"]
    new = firsts.channel.value_counts()
    economics = report.economics.set_index("channel")
    for group, amount in acquisition_spend.groupby("group").spend.sum().items():
        assert economics.loc[group, "acquisition_spend"] == pytest.approx(amount)
        assert economics.loc[group, "cac"] == pytest.approx(amount / new[group])
    total = economics.loc[spend.ALL_CHANNELS]
    assert total.cac == pytest.approx(acquisition_spend.spend.sum() / len(firsts))
    # paid CAC: Google Ads, Meta Ads and the affiliate network over their own new customers
    paid_groups = ("Paid Search", "Paid Social", "Affiliates")
    paid_spend = acquisition_spend[acquisition_spend.group.isin(paid_groups)].spend.sum()
    paid = economics.loc[spend.PAID_CHANNELS]
    assert paid.new_customers == firsts.channel.isin(paid_groups).sum()
    assert paid.cac == pytest.approx(paid_spend / paid.new_customers)
    assert paid.cac > total.cac
    monthly = report.cac.set_index(["month", "channel"])
    firsts = firsts.assign(month=[d.replace(day=1) for d in firsts.first_day])
    new_by_month = firsts.groupby(["month", "channel"]).size()
    for (month, group), amount in acquisition_spend.groupby(["month", "group"]).spend.sum().items():
        count = new_by_month.get((month, group), 0)
        assert monthly.loc[(month, group), "new_customers"] == count
        if count:
            assert monthly.loc[(month, group), "cac"] == pytest.approx(amount / count)
    assert set(economics.health) <= {"healthy", "low", "warning", "critical"}


def test_cli_report_writes_the_pages_numbers(demo_with_spend, demo_reference, tmp_path) -> None:
    from dashboard import cli

    out = tmp_path / "report.json"
    status = cli.main(
        ["report", "--workspace", str(demo_with_spend), "--dataset", "demo", "--out", str(out)]
    )
    assert status == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    _, firsts = demo_reference
    new = {row["channel"]: row["new_customers"] for row in report["channels"]}
    assert new == firsts.channel.value_counts().to_dict()
    assert report["as_of"] == ref.AS_OF.isoformat()
    assert report["current_stage"]["stage"] == "Well established"
    assert [row["stage"] for row in report["stages"]][-1] == "Well established"
    assert len(report["effort"]) == len(report["stages"]) == 24
    assert report["spend"]["economics"][-1]["channel"] == spend.ALL_CHANNELS
    rows = {row["channel"]: row for row in report["spend"]["economics"]}
    assert report["spend"]["blended_cac"] == rows[spend.ALL_CHANNELS]["cac"]
    assert report["spend"]["paid_cac"] == rows[spend.PAID_CHANNELS]["cac"]
    # the demo's web orders without UTM tags are Unattributed, and the report says so
    assert report["unattributed_note"].startswith(
        f"{new['Unattributed'] / sum(new.values()):.1%} of these new customers"
    )
    first = report["cohorts"][0]
    assert (first["cohort_month"], first["months_since"], first["retention"]) == (
        "2024-11-01",
        0,
        1.0,
    )


def test_cli_report_reads_edited_rules_and_refuses_bad_ones(demo_with_spend, tmp_path) -> None:
    from dashboard import cli

    rules = channels.default_rules()
    rules.loc[rules.pattern == "pos", "channel"] = "Offline"
    rules.to_csv(tmp_path / "rules.csv", index=False)
    out = tmp_path / "report.json"
    args = ["report", "--workspace", str(demo_with_spend), "--dataset", "demo", "--out", str(out)]
    assert cli.main([*args, "--rules", str(tmp_path / "rules.csv")]) == 0
    assert "Offline" in {row["channel"] for row in json.loads(out.read_text())["channels"]}
    rules.loc[0, "field"] = "utm_content"
    rules.to_csv(tmp_path / "bad.csv", index=False)
    assert cli.main([*args, "--rules", str(tmp_path / "bad.csv")]) == 2
