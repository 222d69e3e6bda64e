"""CAC by campaign (issue 18, item 17: the campaign an ad platform's spend is kept under).

A campaign's new customers are those whose first valid order's utm_campaign is its name, case
and surrounding spaces aside; a campaign no first order names shows its spend with no new
customers or CAC, and one sentence says why. CAC by channel and month is unchanged: spend is
summed over campaigns. Every number is computed by hand in the comments.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from pathlib import Path

import ibis
import pandas as pd

from dashboard.acquisition import reports, spend
from dashboard.workspace import store

D = dt.date
ORDER_COLUMNS = (
    "order_id",
    "customer_id",
    "ordered_at",
    "order_total",
    "refunded_amount",
    "net_total",
    "currency",
    "is_cancelled",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "ingest_id",
)
# (id, customer, when, cancelled, utm_campaign): three new customers.
# c1: first order 5 March, "spring sale " -> Spring Sale.
# c2: first order 2 April, "SPRING SALE" -> Spring Sale; a later order names Brand Search,
#     which does not count (only the first order is evidence).
# c3: first order 10 March carries no campaign; a later one names Brand Search: no evidence.
# c4: a cancelled order naming Brand Search, then a valid first order without one: no evidence.
ORDERS = [
    ("o1", "c1", "2024-03-05 10:00", False, "spring sale "),
    ("o2", "c2", "2024-04-02 10:00", False, "SPRING SALE"),
    ("o3", "c2", "2024-04-20 10:00", False, "Brand Search"),
    ("o4", "c3", "2024-03-10 10:00", False, None),
    ("o5", "c3", "2024-03-20 10:00", False, "brand search"),
]
# (month, channel, spend, purpose, campaign)
SPEND = [
    (D(2024, 3, 1), "Meta Ads", "300.00", None, "Spring Sale"),
    (D(2024, 4, 1), "Meta Ads", "100.00", None, "Spring Sale"),
    (D(2024, 3, 1), "Google Ads", "90.00", None, "Brand Search"),
    (D(2024, 3, 1), "Google Ads", "50.00", "retention", "Retargeting"),
    (D(2024, 3, 1), "Google Ads", "10.00", None, None),
]


def write_dataset(workspace: Path, name: str = "shop") -> str:
    """Orders with their UTM campaign and spend rows with campaigns, as bound parameters."""
    with store.open_for_write(workspace, name) as con:
        for order_id, customer, at, cancelled, campaign in ORDERS:
            paid = campaign is not None and "spring" in campaign.lower()
            values = (
                order_id,
                customer,
                dt.datetime.fromisoformat(at),
                Decimal("40.00"),
                Decimal("0"),
                Decimal("40.00"),
                "USD",
                cancelled,
                "facebook" if paid else None,
                "paidsocial" if paid else None,
                campaign,
                1,
            )
            con.execute(
                f"INSERT INTO orders ({', '.join(ORDER_COLUMNS)}) "
                f"VALUES ({', '.join('?' for _ in ORDER_COLUMNS)})",
                values,
            )
        for month, channel, amount, purpose, campaign in SPEND:
            con.execute(
                "INSERT INTO marketing_spend (month, channel, spend, purpose, campaign, ingest_id) "
                "VALUES (?, ?, ?, ?, ?, 1)",
                [month, channel, Decimal(amount), purpose, campaign],
            )
    return name


def channel_report(workspace: Path, settings: reports.Settings) -> reports.ChannelReport:
    as_of = D(2024, 6, 30)
    attribution = reports.load_attribution(workspace, "shop", as_of, settings.rules_frame())
    cells = reports.load_cohort_table(workspace, "shop", as_of, attribution)
    return reports.load_channel_report(workspace, "shop", as_of, settings, attribution, cells)


def test_cac_by_campaign_by_hand(workspace: Path) -> None:
    write_dataset(workspace)
    table = channel_report(workspace, reports.DEFAULT_SETTINGS).campaigns
    assert list(table.columns) == spend.CAMPAIGN_COLUMNS
    # Spring Sale: 300 + 100 = 400 over c1 and c2 = 200 each. Brand Search: 90 and no first
    # order names it, so no new customers and no CAC. Retargeting is retention spend and the
    # 10.00 without a campaign is in no campaign: neither is a row. Most spend first.
    assert table.campaign.tolist() == ["Spring Sale", "Brand Search"]
    assert table.spend_channel.tolist() == ["Meta Ads", "Google Ads"]
    assert table.channel.tolist() == ["Paid Social", "Paid Search"]
    assert table.acquisition_spend.tolist() == [400.0, 90.0]
    assert table.new_customers.iloc[0] == 2 and pd.isna(table.new_customers.iloc[1])
    assert table.cac.iloc[0] == 200.0 and math.isnan(table.cac.iloc[1])
    assert spend.describe_campaigns_without_evidence(table) == (
        "1 of 2 campaigns show — for new customers and CAC: no new customer's first order "
        "carries their name in utm_campaign, so the orders hold no campaign evidence to count "
        "them by."
    )


def test_cac_by_campaign_counts_the_period_only(workspace: Path) -> None:
    write_dataset(workspace)
    april = reports.Settings(first_from=D(2024, 4, 1), first_to=D(2024, 4, 30))
    table = channel_report(workspace, april).campaigns
    # April: Spring Sale's 100.00 over c2 alone; Brand Search spent nothing in April.
    assert table[["campaign", "acquisition_spend", "cac"]].values.tolist() == [
        ["Spring Sale", 100.0, 100.0]
    ]
    assert table.new_customers.tolist() == [1]


def test_cac_by_channel_and_month_adds_the_campaigns_up(workspace: Path) -> None:
    write_dataset(workspace)
    cac = channel_report(workspace, reports.DEFAULT_SETTINGS).cac
    # Paid Search March: 90 (Brand Search) + 10 (no campaign) = 100 with no new Paid Search
    # customer (c3 is Unattributed); Paid Social: March 300 / c1, April 100 / c2. Retention
    # spend stays out.
    rows = [
        (r.month, r.channel, r.acquisition_spend, r.new_customers)
        for r in cac.itertuples(index=False)
    ]
    assert rows == [
        (D(2024, 3, 1), "Paid Search", 100.0, 0),
        (D(2024, 3, 1), "Paid Social", 300.0, 1),
        (D(2024, 4, 1), "Paid Social", 100.0, 1),
    ]


def test_no_campaign_evidence_at_all_is_said_once() -> None:
    mapped = spend.map_spend(
        ibis.memtable(
            pd.DataFrame(
                {
                    "month": [D(2024, 3, 1)],
                    "channel": ["Meta Ads"],
                    "spend": [Decimal("25.00")],
                    "purpose": [None],
                    "campaign": ["Spring Sale"],
                }
            ),
            schema={
                "month": "date",
                "channel": "string",
                "spend": "decimal(18, 2)",
                "purpose": "string",
                "campaign": "string",
            },
        ),
        spend.default_mapping(),
    )
    orders = ibis.memtable(
        pd.DataFrame({"order_id": ["o1"], "utm_campaign": [None]}),
        schema={"order_id": "string", "utm_campaign": "string"},
    )
    attribution = ibis.memtable(
        pd.DataFrame(
            {"customer_id": ["c1"], "first_order_on": [D(2024, 3, 2)], "first_order_id": ["o1"]}
        )
    )
    table = spend.summarise_campaign_cac(mapped, orders, attribution)
    assert table.acquisition_spend.tolist() == [25.0] and pd.isna(table.new_customers.iloc[0])
    assert spend.describe_campaigns_without_evidence(table).startswith(
        "New customers and CAC show — for every campaign: no new customer's first order"
    )


def test_spend_without_campaigns_gives_no_campaign_table(workspace: Path) -> None:
    mapped = spend.map_spend(
        ibis.memtable(
            pd.DataFrame(
                {
                    "month": [D(2024, 3, 1)],
                    "channel": ["Meta Ads"],
                    "spend": [25.0],
                    "purpose": [None],
                }
            ),
            schema={"month": "date", "channel": "string", "spend": "float64", "purpose": "string"},
        ),
        spend.default_mapping(),
    )
    orders = ibis.memtable(
        pd.DataFrame({"order_id": ["o1"], "utm_campaign": ["spring sale"]}),
    )
    attribution = ibis.memtable(
        pd.DataFrame(
            {"customer_id": ["c1"], "first_order_on": [D(2024, 3, 2)], "first_order_id": ["o1"]}
        )
    )
    table = spend.summarise_campaign_cac(mapped, orders, attribution)
    assert table.empty and list(table.columns) == spend.CAMPAIGN_COLUMNS
