"""Issue 18 #17: `report` has a traffic section from GA4 acquisition reports.

The orders and the GA4 traffic acquisition download below go through the real loaders
(`python -m dashboard ingest`); every expected figure is worked out in a comment from them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dashboard import cli
from dashboard.acquisition import reports

# Analysis date = latest order = 2024-03-31.
ORDERS_CSV = """\
Order No,Buyer,Placed,Amount
1,ann,2024-01-10 10:00:00,50.00
2,bob,2024-02-12 10:00:00,30.00
3,ann,2024-03-31 09:00:00,20.00
"""
MAP = ["order_id=Order No", "customer_id=Buyer", "ordered_at=Placed", "order_total=Amount"]
# GA4 numbers its weeks from the start date: 0000 = 2024-01-01, 0005 = 2024-02-05,
# 0009 = 2024-03-04, 0013 = 2024-04-01 (after the analysis date).
GA4_CSV = """\
# ----------------------------------------
# Traffic acquisition: Session primary channel group (Default Channel Group)
# Property: Example Store - GA4
# ----------------------------------------
#
# Start date: 20240101
# End date: 20240407
Session primary channel group (Default Channel Group),Week,Sessions,Engaged sessions,\
Key events,Total revenue
Direct,0000,100,60,2,20.00
Organic Search,0000,200,150,8,100.00
Direct,0005,300,100,3,30.00
Organic Search,0005,100,50,1,5.00
Unassigned,0009,40,10,0,
Direct,0009,60,30,1,10.00
Referral,0009,0,0,0,
Direct,0013,1000,900,50,999.00
"""


@pytest.fixture
def shop(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A workspace whose dataset 'shop' holds the orders above (no GA4 report yet)."""
    workspace = tmp_path / "ws"
    orders = tmp_path / "orders.csv"
    orders.write_text(ORDERS_CSV, encoding="utf-8")
    argv = ["ingest", "--workspace", str(workspace), "--dataset", "shop", str(orders)]
    assert cli.main([*argv, "--format", "generic", "--map", *MAP]) == 0
    capsys.readouterr()
    return workspace


def load_ga4(workspace: Path, tmp_path: Path) -> None:
    report = tmp_path / "Traffic_acquisition_Session_primary_channel_group.csv"
    report.write_text(GA4_CSV, encoding="utf-8")
    argv = ["ingest", "--workspace", str(workspace), "--dataset", "shop", str(report)]
    assert cli.main(argv) == 0


def run_report(workspace: Path, out: Path, *extra: str) -> dict[str, object]:
    argv = ["report", "--workspace", str(workspace), "--dataset", "shop", "--out", str(out)]
    assert cli.main([*argv, *extra]) == 0
    return json.loads(out.read_text(encoding="utf-8"))


def test_report_traffic_section_from_a_ga4_report(
    shop: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    load_ga4(shop, tmp_path)
    capsys.readouterr()
    traffic = run_report(shop, tmp_path / "report.json")["traffic"]
    # Weeks starting up to the analysis date: 01-01, 02-05, 03-04 (04-01 is after it).
    assert traffic["from"] is None and traffic["to"] == "2024-03-31"
    assert traffic["periods"] == {
        "first_start": "2024-01-01",
        "last_start": "2024-03-04",
        "count": 3,
    }
    assert traffic["note"] is None
    assert traffic["channels"] == [
        # Direct: 100 + 300 + 60 = 460 sessions, 60 + 100 + 30 = 190 engaged, 2 + 3 + 1 = 6
        # key events, 20 + 30 + 10 = 60.00 revenue.
        {
            "channel": "Direct",
            "sessions": 460,
            "engaged_sessions": 190,
            "engaged_rate": 190 / 460,
            "conversions": 6.0,
            "conversion_rate": 6 / 460,
            "revenue": 60.0,
        },
        # Organic Search: 200 + 100 = 300 sessions, 200 engaged (2/3), 9 key events (0.03).
        {
            "channel": "Organic Search",
            "sessions": 300,
            "engaged_sessions": 200,
            "engaged_rate": 200 / 300,
            "conversions": 9.0,
            "conversion_rate": 9 / 300,
            "revenue": 105.0,
        },
        # GA4's Unassigned is this tool's Unattributed; no revenue in the report.
        {
            "channel": "Unattributed",
            "sessions": 40,
            "engaged_sessions": 10,
            "engaged_rate": 0.25,
            "conversions": 0.0,
            "conversion_rate": 0.0,
            "revenue": None,
        },
        # No sessions: no rates.
        {
            "channel": "Referral",
            "sessions": 0,
            "engaged_sessions": 0,
            "engaged_rate": None,
            "conversions": 0.0,
            "conversion_rate": None,
            "revenue": None,
        },
    ]
    # The last 3 complete months before 2024-03-31 are Jan-Mar: Direct 100 + 300 + 60 = 460 of
    # 300 + 400 + 100 = 800 sessions (April's week is not a complete month).
    assert traffic["direct_share"] == {
        "first_month": "2024-01-01",
        "last_month": "2024-03-01",
        "sessions": 800,
        "direct_sessions": 460,
        "share": 0.575,
    }
    out = capsys.readouterr().out
    assert "Traffic from GA4 reports: 800 sessions in 3 periods" in out


def test_report_traffic_follows_the_first_order_period(shop: Path, tmp_path: Path) -> None:
    load_ga4(shop, tmp_path)
    period = ["--first-from", "2024-02-01", "--first-to", "2024-02-29"]
    traffic = run_report(shop, tmp_path / "report.json", *period)["traffic"]
    # Only the week of 02-05 starts in February: Direct 300 (3 key events), Organic Search 100.
    assert traffic["periods"] == {
        "first_start": "2024-02-05",
        "last_start": "2024-02-05",
        "count": 1,
    }
    assert [(r["channel"], r["sessions"], r["conversion_rate"]) for r in traffic["channels"]] == [
        ("Direct", 300, 0.01),
        ("Organic Search", 100, 0.01),
    ]
    # The Direct share is the Maturity page's: over the complete months before the analysis date.
    assert traffic["direct_share"]["share"] == 0.575


def test_report_says_why_traffic_is_empty_without_a_ga4_report(
    shop: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    traffic = run_report(shop, tmp_path / "report.json")["traffic"]
    assert traffic == {
        "from": None,
        "to": "2024-03-31",
        "periods": None,
        "channels": [],
        "direct_share": None,
        "note": reports.NO_TRAFFIC_NOTE,
    }
    assert "Traffic: No GA4 acquisition report is loaded" in capsys.readouterr().out


def test_report_says_when_no_ga4_week_starts_in_the_period(shop: Path, tmp_path: Path) -> None:
    load_ga4(shop, tmp_path)
    period = ["--first-from", "2023-06-01", "--first-to", "2023-06-30"]
    traffic = run_report(shop, tmp_path / "report.json", *period)["traffic"]
    assert traffic["periods"] is None and traffic["channels"] == []
    assert (
        traffic["note"] == "The GA4 reports loaded hold no week or month starting in this period."
    )
