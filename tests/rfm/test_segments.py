"""Scores -> segments -> summary on a hand-built customer table with known cut points."""

from __future__ import annotations

import math
from decimal import Decimal

import ibis
import pandas as pd
import pytest

from dashboard.rfm import cut_points, schemes, segments

SCHEMA = ibis.schema(
    {
        "customer_id": "string",
        "status": "string",
        "recency_days": "int64",
        "frequency": "int64",
        "monetary": "decimal(38, 2)",
    }
)

# Klaviyo scheme (scores 1..3) with R cuts 180, 365; F cuts 2, 4; M cuts 100, 500.
CUTS = cut_points.Cuts(recency=(180, 365), frequency=(2, 4), monetary=(100, 500))

#  id    recency freq monetary   R F M  code  segment
CUSTOMERS = [
    ("c01", 10, 5, "900.00"),  # 3 3 3  333  Champions
    ("c02", 30, 4, "500.00"),  # 3 3 3  333  Champions (F and M exactly on the top cut)
    ("c03", 200, 2, "150.00"),  # 2 2 2  222  Recent
    ("c04", 100, 1, "99.99"),  # 3 1 1  311  Recent
    ("c05", 400, 1, "20.00"),  # 1 1 1  111  Inactive
    ("c06", 365, 3, "450.00"),  # 2 2 2  222  Recent (recency exactly on the 365 cut)
    ("c07", 180, 6, "1200.00"),  # 3 3 3  333  Champions (recency exactly on the 180 cut)
    ("c08", 500, 4, "80.00"),  # 1 3 1  131  At risk
    ("c09", 50, 2, "300.00"),  # 3 2 2  322  Loyal
]
EXPECTED_SEGMENT = {
    "c01": "Champions",
    "c02": "Champions",
    "c03": "Recent",
    "c04": "Recent",
    "c05": "Inactive",
    "c06": "Recent",
    "c07": "Champions",
    "c08": "At risk",
    "c09": "Loyal",
    "p1": "Prospects",
    "p2": "Prospects",
}


def measures() -> ibis.Table:
    rows = [(cid, "scored", rec, freq, Decimal(mon)) for cid, rec, freq, mon in CUSTOMERS]
    rows += [
        ("p1", "prospect", None, 0, Decimal("0")),
        ("p2", "prospect", None, 0, Decimal("0")),
        # ordered before the window only: in no segment and no total
        ("o1", "outside_window", None, 0, Decimal("0")),
    ]
    frame = pd.DataFrame(rows, columns=list(SCHEMA.names))
    frame["recency_days"] = frame.recency_days.astype("Int64")
    return ibis.memtable(frame, schema=SCHEMA)


@pytest.fixture
def summary() -> pd.DataFrame:
    cells = segments.summarise_cells(measures(), CUTS)
    return segments.summarise_segments(cells, schemes.get_scheme("klaviyo")).set_index("segment")


def test_cells() -> None:
    cells = segments.summarise_cells(measures(), CUTS)
    got = {
        (int(r.r_score), int(r.f_score), int(r.m_score)): (int(r.customers), int(r.orders))
        for r in cells.itertuples()
    }
    assert got == {
        (3, 3, 3): (3, 15),  # c01, c02, c07: 5 + 4 + 6 orders
        (2, 2, 2): (2, 5),  # c03, c06: 2 + 3
        (3, 1, 1): (1, 1),
        (1, 1, 1): (1, 1),
        (1, 3, 1): (1, 4),
        (3, 2, 2): (1, 2),
        (0, 0, 0): (2, 0),  # the prospects row
    }
    by_cell = cells.set_index(["r_score", "f_score", "m_score"])
    assert by_cell.loc[(3, 3, 3), "revenue"] == pytest.approx(2600.0)  # 900 + 500 + 1200
    assert by_cell.loc[(3, 3, 3), "recency_total"] == 220  # 10 + 30 + 180
    assert by_cell.loc[(2, 2, 2), "revenue"] == pytest.approx(600.0)  # 150 + 450


def test_summary_rows_in_scheme_order(summary: pd.DataFrame) -> None:
    assert list(summary.index) == [
        "Champions",
        "Loyal",
        "Recent",
        "Needs attention",
        "At risk",
        "Inactive",
        "Prospects",
    ]
    assert list(summary.reset_index().columns) == segments.SUMMARY_COLUMNS


def test_summary_figures_by_hand(summary: pd.DataFrame) -> None:
    s = summary
    assert s.customers.to_dict() == {
        "Champions": 3,
        "Loyal": 1,
        "Recent": 3,
        "Needs attention": 0,
        "At risk": 1,
        "Inactive": 1,
        "Prospects": 2,
    }
    assert s.orders.to_dict() == {
        "Champions": 15,
        "Loyal": 2,
        "Recent": 6,  # 2 + 1 + 3
        "Needs attention": 0,
        "At risk": 4,
        "Inactive": 1,
        "Prospects": 0,
    }
    # revenue: Champions 900 + 500 + 1200 = 2600; Recent 150 + 99.99 + 450 = 699.99
    assert s.revenue["Champions"] == pytest.approx(2600.00)
    assert s.revenue["Loyal"] == pytest.approx(300.00)
    assert s.revenue["Recent"] == pytest.approx(699.99)
    assert s.revenue["At risk"] == pytest.approx(80.00)
    assert s.revenue["Inactive"] == pytest.approx(20.00)
    assert s.revenue["Prospects"] == 0
    # 11 customers (the outside-window customer is in no row); revenue 3699.99
    assert s.share_customers["Champions"] == pytest.approx(3 / 11)
    assert s.share_customers["Prospects"] == pytest.approx(2 / 11)
    assert s.share_revenue["Champions"] == pytest.approx(2600 / 3699.99)
    assert s.share_revenue["Recent"] == pytest.approx(699.99 / 3699.99)
    assert s.share_customers.sum() == pytest.approx(1.0, abs=1e-12)
    assert s.share_revenue.sum() == pytest.approx(1.0, abs=1e-12)
    # AOV = revenue / orders
    assert s.aov["Champions"] == pytest.approx(2600 / 15)  # 173.33
    assert s.aov["Recent"] == pytest.approx(699.99 / 6)  # 116.665
    assert s.aov["At risk"] == pytest.approx(20.0)  # 80 / 4
    assert math.isnan(s.aov["Needs attention"])
    assert math.isnan(s.aov["Prospects"])
    # revenue per customer
    assert s.revenue_per_customer["Champions"] == pytest.approx(2600 / 3)
    assert s.revenue_per_customer["Loyal"] == pytest.approx(300.0)
    assert s.revenue_per_customer["Prospects"] == 0
    assert math.isnan(s.revenue_per_customer["Needs attention"])
    # average recency: (10 + 30 + 180) / 3, (200 + 100 + 365) / 3
    assert s.avg_recency_days["Champions"] == pytest.approx(220 / 3)
    assert s.avg_recency_days["Recent"] == pytest.approx(665 / 3)
    assert s.avg_recency_days["Inactive"] == pytest.approx(400)
    assert math.isnan(s.avg_recency_days["Prospects"])


def test_assign_segments_per_customer() -> None:
    table = segments.assign_segments(measures(), CUTS, schemes.get_scheme("klaviyo"))
    members = table.to_pandas()
    # ordered by customer id; the outside-window customer is not a member of anything
    assert list(members.customer_id) == sorted(EXPECTED_SEGMENT)
    assert dict(zip(members.customer_id, members.segment, strict=True)) == EXPECTED_SEGMENT
    by_id = members.set_index("customer_id")
    assert (by_id.r_score["c04"], by_id.f_score["c04"], by_id.m_score["c04"]) == (3, 1, 1)
    assert (by_id.r_score["c08"], by_id.f_score["c08"], by_id.m_score["c08"]) == (1, 3, 1)
    assert pd.isna(by_id.r_score["p1"]) and pd.isna(by_id.recency_days["p1"])
    assert by_id.frequency["p1"] == 0


def test_assign_segments_agrees_with_the_summary(summary: pd.DataFrame) -> None:
    members = (
        segments.assign_segments(measures(), CUTS, schemes.get_scheme("klaviyo"))
        .to_pandas()
        .assign(monetary=lambda f: f.monetary.astype(float))
    )
    grouped = members.groupby("segment").agg(
        customers=("customer_id", "size"),
        revenue=("monetary", "sum"),
        orders=("frequency", "sum"),
    )
    for segment, row in grouped.iterrows():
        assert summary.customers[segment] == row.customers, segment
        assert summary.orders[segment] == row.orders, segment
        assert summary.revenue[segment] == pytest.approx(row.revenue), segment
    # segments without members are exactly those with 0 customers in the summary
    assert set(summary.index[summary.customers == 0]) == set(summary.index) - set(grouped.index)


def test_shopify_rounding_reaches_the_members() -> None:
    # Shopify with 5 scores: R cuts 10/30/90/180, F 2/3/5/10, M 50/100/250/1000
    cuts = cut_points.Cuts((10, 30, 90, 180), (2, 3, 5, 10), (50, 100, 250, 1000))
    frame = pd.DataFrame(
        [
            # recency 20 -> R4; 1 order -> F1; 60 -> M2; FM 1.5 -> 2: Active (not Promising)
            ("a", "scored", 20, 1, Decimal("60.00")),
            # recency 200 -> R1; 5 orders -> F4; 1000 -> M5; FM 4.5 -> 5: Previously loyal
            ("b", "scored", 200, 5, Decimal("1000.00")),
            # recency 5 -> R5; 1 order -> F1; 10 -> M1; FM 1: New
            ("c", "scored", 5, 1, Decimal("10.00")),
        ],
        columns=list(SCHEMA.names),
    )
    table = segments.assign_segments(
        ibis.memtable(frame, schema=SCHEMA), cuts, schemes.get_scheme("shopify")
    ).to_pandas()
    assert dict(zip(table.customer_id, table.segment, strict=True)) == {
        "a": "Active",
        "b": "Previously loyal",
        "c": "New",
    }
    # and no prospects: the summary's Prospects row is kept with zeros
    summary = segments.summarise_segments(
        segments.summarise_cells(ibis.memtable(frame, schema=SCHEMA), cuts),
        schemes.get_scheme("shopify"),
    ).set_index("segment")
    assert summary.customers["Prospects"] == 0
    assert summary.customers.sum() == 3
    assert summary.share_customers["Active"] == pytest.approx(1 / 3)
