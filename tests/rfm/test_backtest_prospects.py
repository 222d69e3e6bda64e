"""Issue 18 #4: prospects at a past date are customers who existed then without an order.

A customer exists from their first order (the customers table has no sign-up date). Customers
whose first order comes after the backtest date were counted as prospects there, and the
prospects' row said they "ordered again" though they had never ordered.

customer  orders (date: net total)                   on 2024-03-31
pia       02-01: 30 cancelled, 04-15: 50             prospect (an order, none valid)
pat       05-01: 40                                  not a customer yet
pam       none (customers file only)                 not a customer yet (a prospect on 06-30)
al        01-10: 100, 04-20: 60                      ordered before, orders again
bo        02-10: 80                                  ordered before, not again
cu        06-30: 20                                  not a customer yet (the data's last day)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from dashboard.rfm import backtest, cut_points, migration
from dashboard.rfm.schemes import PRESETS, PROSPECTS

DATE = dt.date(2024, 3, 31)
ORDERS = [
    ("P1", "pia", "2024-02-01", 30, True),
    ("P2", "pia", "2024-04-15", 50, False),
    ("T1", "pat", "2024-05-01", 40, False),
    ("A1", "al", "2024-01-10", 100, False),
    ("A2", "al", "2024-04-20", 60, False),
    ("B1", "bo", "2024-02-10", 80, False),
    ("C1", "cu", "2024-06-30", 20, False),
]
SCORING = cut_points.ScoringSpec(PRESETS["shopify"])


@pytest.fixture
def shop(make_dataset: Callable[..., str]) -> str:
    return make_dataset(
        "prospects",
        [
            {
                "order_id": i,
                "customer_id": c,
                "ordered_at": f"{day} 12:00",
                "order_total": total,
                "is_cancelled": cancelled,
            }
            for i, c, day, total, cancelled in ORDERS
        ],
        customers=["pia", "pat", "pam", "al", "bo"],
    )


def test_prospects_exist_from_their_first_order(workspace: Path, shop: str) -> None:
    result = backtest.run_backtest(workspace, shop, DATE, 91, SCORING)
    table = result.table.set_index("segment")
    prospects, everyone = table.loc[PROSPECTS], table.loc[backtest.ALL_CUSTOMERS]
    # Before the fix: pia, pat and pam were 3 prospects, 2 of whom "ordered again".
    assert prospects.customers == 1
    assert pd.isna(prospects.repeat_customers) and pd.isna(prospects.repeat_rate)
    assert (prospects.converted_customers, prospects.conversion_rate) == (1, 1.0)
    assert (prospects.orders, prospects.revenue) == (1, 50.0)
    # al, bo (ordered before) and pia: al orders again (60), pia places her first order (50).
    assert everyone.customers == 3
    assert (everyone.repeat_customers, everyone.repeat_rate) == (1, 0.5)
    assert (everyone.converted_customers, everyone.conversion_rate) == (1, 1.0)
    assert (everyone.orders, everyone.revenue) == (2, 110.0)
    assert everyone.revenue_per_customer == pytest.approx(110 / 3)
    ordered_before = table.drop([PROSPECTS, backtest.ALL_CUSTOMERS])
    assert ordered_before.customers.sum() == 2
    assert ordered_before.converted_customers.isna().all()


def test_the_separation_sentence_leaves_prospects_out() -> None:
    table = pd.DataFrame(
        {
            "segment": ["Champions", PROSPECTS, "Dormant", backtest.ALL_CUSTOMERS],
            "customers": [10, 500, 40, 550],
            "repeat_rate": [0.6, None, 0.1, 0.2],
        }
    )
    assert backtest.describe_separation(table) == (
        "Champions repeated most (60.0%), Dormant least (10.0%); all customers 20.0%."
    )


def test_customers_file_members_exist_at_the_data_end(workspace: Path, shop: str) -> None:
    moved = migration.load_migration(workspace, shop, DATE, dt.date(2024, 6, 30), SCORING)
    try:
        members = migration.list_members(moved).set_index("customer_id")
    finally:
        moved.backend.disconnect()
    assert members.segment_from.to_dict() == {
        "al": members.segment_from["al"],
        "bo": members.segment_from["bo"],
        "cu": migration.NOT_YET,
        "pam": migration.NOT_YET,
        "pat": migration.NOT_YET,
        "pia": PROSPECTS,
    }
    assert members.segment_to["pam"] == PROSPECTS
    assert members.segment_from["al"] not in (PROSPECTS, migration.NOT_YET)
