"""Issue 18 #17: conversion rate by channel and the Direct share of sessions from GA4 reports.

The channel sessions below are written by hand; every expected figure is worked out in a
comment from them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import ibis
import pandas as pd
import pyarrow as pa
import pytest

from dashboard import ingest
from dashboard.acquisition import traffic

D = dt.date
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SCHEMA = ibis.schema(
    {
        "week_start": "date",
        "channel": "string",
        "sessions": "int64",
        "engaged_sessions": "int64",
        "conversions": "float64",
        "revenue": "decimal(18, 2)",
        "ingest_id": "int32",
    }
)
ROWS = [
    (D(2024, 1, 1), "Direct", 100, 60, 2.0, Decimal("20.00"), 1),
    (D(2024, 1, 8), "Direct", 50, 30, 1.0, Decimal("10.00"), 1),
    (D(2024, 1, 1), "Organic Search", 200, 150, 8.0, Decimal("100.00"), 1),
    (D(2024, 1, 1), "Unassigned", 40, 10, 0.0, None, 1),
    (D(2024, 2, 5), "Direct", 300, 100, 3.0, Decimal("30.00"), 1),
    (D(2024, 2, 5), "Organic Search", 100, 50, 1.0, Decimal("5.00"), 1),
    (D(2024, 3, 4), "organic search", 100, 40, 0.0, Decimal("0.00"), 1),
]


@pytest.fixture
def sessions() -> ibis.Table:
    rows = [dict(zip(SCHEMA.names, row, strict=True)) for row in ROWS]
    return ibis.memtable(pa.Table.from_pylist(rows, schema=SCHEMA.to_pyarrow()))


def test_traffic_by_channel_in_january(sessions: ibis.Table) -> None:
    table = traffic.build_traffic_by_channel(sessions, D(2024, 1, 1), D(2024, 1, 31)).to_pandas()
    # Organic Search: 200 sessions, 150 engaged (0.75), 8 key events (8 / 200 = 0.04), 100.00.
    # Direct: 100 + 50 = 150 sessions, 60 + 30 = 90 engaged (0.6), 2 + 1 = 3 (3 / 150 = 0.02).
    # Unassigned is shown as Unattributed: 40 sessions, 10 engaged (0.25), no key event.
    assert table.channel.tolist() == ["Organic Search", "Direct", "Unattributed"]
    assert table.sessions.tolist() == [200, 150, 40]
    assert table.engaged_rate.tolist() == pytest.approx([0.75, 0.6, 0.25])
    assert table.conversion_rate.tolist() == [0.04, 0.02, 0.0]
    assert table.revenue.tolist()[:2] == [Decimal("100.00"), Decimal("30.00")]
    assert pd.isna(table.revenue.iloc[2])


def test_traffic_by_channel_over_the_whole_history(sessions: ibis.Table) -> None:
    table = traffic.build_traffic_by_channel(sessions).to_pandas().set_index("channel")
    # "organic search" in March is the same channel: 200 + 100 + 100 = 400 sessions with
    # 8 + 1 + 0 = 9 key events (9 / 400 = 0.0225); Direct: 450 sessions, 6 key events.
    assert table.loc["Organic Search", "sessions"] == 400
    assert table.loc["Organic Search", "conversion_rate"] == pytest.approx(0.0225)
    assert table.loc["Direct", "conversion_rate"] == pytest.approx(6 / 450)


def test_ga4_channel_names_map_to_the_tools_names() -> None:
    names = ibis.memtable({"channel": ["Unassigned", "Cross-network", "paid social", "Audio"]})
    mapped = names.select(c=traffic.name_channel(names.channel)).to_pandas().c.tolist()
    assert mapped == ["Unattributed", "Paid Other", "Paid Social", "Paid Other"]


def test_direct_share_by_month(sessions: ibis.Table) -> None:
    months = traffic.build_direct_share_by_month(sessions).to_pandas()
    # January: 150 Direct of 100 + 50 + 200 + 40 = 390; February: 300 of 400; March: 0 of 100.
    assert [m.date() if hasattr(m, "date") else m for m in months.month] == [
        D(2024, 1, 1),
        D(2024, 2, 1),
        D(2024, 3, 1),
    ]
    assert months.sessions.tolist() == [390, 400, 100]
    assert months.direct_sessions.tolist() == [150, 300, 0]
    assert months.direct_share.tolist() == pytest.approx([150 / 390, 0.75, 0.0])


@pytest.mark.parametrize(
    ("as_of", "first", "last", "total", "direct"),
    [
        # April is partial: January to March, 450 Direct of 890.
        (D(2024, 4, 15), D(2024, 1, 1), D(2024, 3, 1), 890, 450),
        # 31 March ends March: the same window.
        (D(2024, 3, 31), D(2024, 1, 1), D(2024, 3, 1), 890, 450),
        # 30 March: March is partial, so December to February: 450 of 790.
        (D(2024, 3, 30), D(2023, 12, 1), D(2024, 2, 1), 790, 450),
    ],
)
def test_direct_share_over_the_last_three_complete_months(
    sessions: ibis.Table, as_of: dt.date, first: dt.date, last: dt.date, total: int, direct: int
) -> None:
    months = traffic.build_direct_share_by_month(sessions).to_pandas()
    share = traffic.summarise_direct_share(months, as_of)
    assert (share.first_month, share.last_month, share.sessions, share.direct_sessions) == (
        first,
        last,
        total,
        direct,
    )
    assert share.share == direct / total


def test_no_sessions_in_the_window_gives_no_share(sessions: ibis.Table) -> None:
    months = traffic.build_direct_share_by_month(sessions).to_pandas()
    assert traffic.summarise_direct_share(months, D(2025, 1, 1)) is None


def test_loaded_from_a_ga4_report(workspace: Path) -> None:
    ingest.ingest_file(workspace, "ga", FIXTURES / "ga4_traffic_acquisition_report.csv")
    table = traffic.load_traffic_by_channel(workspace, "ga", None, D(2024, 3, 31))
    # Organic Search 30 / 1200 = 0.025, Direct 12 / 900 = 0.01333..., Paid Social 4 / 400 = 0.01.
    assert table.channel.tolist() == ["Organic Search", "Direct", "Paid Social"]
    assert table.conversion_rate.tolist() == pytest.approx([0.025, 12 / 900, 0.01])
    # The fixture's weeks start on 8 and 15 January: January holds 2,500 sessions, 900 Direct.
    share = traffic.load_direct_share(workspace, "ga", D(2024, 2, 1))
    assert (share.sessions, share.direct_sessions) == (2500, 900)


def test_a_dataset_without_channel_sessions_has_no_traffic(workspace: Path) -> None:
    ingest.ingest_file(workspace, "ads", FIXTURES / "google_ads_report.csv")
    assert traffic.load_traffic_by_channel(workspace, "ads", None, None).empty
    assert traffic.load_direct_share(workspace, "ads", D(2024, 5, 1)) is None
