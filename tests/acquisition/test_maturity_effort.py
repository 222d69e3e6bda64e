"""Issue 17 item 5: the maturity verdict on effort (spend split, Direct signal, budget ranking).

A small store computed by hand: first orders in January and February 2025 (channel column as
evidence), one in March; analysis date 10 March 2025, so February decides and the stage
(Gaining traction, recommended 15 %, range 5-25 %) has held since January.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from dashboard import engines
from dashboard.acquisition import reports, spend, spend_effort
from dashboard.workspace import store

D = dt.date
AS_OF = D(2025, 3, 10)
INSERT_ORDER = (
    "INSERT INTO orders (order_id, customer_id, ordered_at, order_total, refunded_amount, "
    "net_total, is_cancelled, channel, ingest_id) VALUES (?, ?, ?, 10, 0, 10, false, ?, 1)"
)
INSERT_SPEND = (
    "INSERT INTO marketing_spend (month, channel, spend, purpose, ingest_id) VALUES (?, ?, ?, ?, 1)"
)
# (order, customer, day, channel): 5 first orders in January, 5 in February plus d1's return,
# and m1's first order in March, after the stage's period.
ORDERS = [
    ("J1", "d1", "2025-01-05", "direct"),
    ("J2", "g1", "2025-01-09", "paid search"),
    ("J3", "f1", "2025-01-14", "paid social"),
    ("J4", "d2", "2025-01-20", "direct"),
    ("J5", "g2", "2025-01-27", "paid search"),
    ("F1", "d3", "2025-02-03", "direct"),
    ("F2", "g3", "2025-02-07", "paid search"),
    ("F3", "f2", "2025-02-11", "paid social"),
    ("F4", "f3", "2025-02-15", "paid social"),
    ("F5", "d1", "2025-02-20", "direct"),
    ("F6", "e1", "2025-02-24", "email"),
    ("M1", "m1", "2025-03-04", "direct"),
]
# Stage period (January and February): 160 + 120 = 280 spent, 10 of it on retention. The 500
# on retention in March is outside the period.
SPEND = [
    ("2025-01-01", "Google Ads", "100", "acquisition"),
    ("2025-01-01", "Meta Ads", "60", "acquisition"),
    ("2025-02-01", "Google Ads", "50", None),
    ("2025-02-01", "Meta Ads", "60", " Acquisition "),
    ("2025-02-01", "Klaviyo", "10", "retention"),
    ("2025-03-01", "Klaviyo", "500", "retention"),
]


def write_store(
    workspace: Path, name: str, spend_rows: list[tuple[str, str, str, str | None]]
) -> str:
    with store.open_for_write(workspace, name) as con:
        con.begin()
        con.executemany(
            INSERT_ORDER,
            [(o, c, dt.datetime.fromisoformat(f"{d} 12:00"), ch) for o, c, d, ch in ORDERS],
        )
        if spend_rows:
            con.executemany(
                INSERT_SPEND,
                [(D.fromisoformat(m), ch, Decimal(s), p) for m, ch, s, p in spend_rows],
            )
        con.commit()
    return name


def build_report(workspace: Path, name: str) -> dict[str, object]:
    with engines.open_configured_tables(workspace, name) as tables:
        return reports.build_report(tables, name, AS_OF)


def test_report_judges_the_stage_periods_spend(workspace: Path) -> None:
    report = build_report(workspace, write_store(workspace, "tagged", SPEND))
    json.dumps(report, allow_nan=False)
    effort = report["current_stage"]["effort"]
    assert effort["stage"] == "Gaining traction"
    assert (effort["period_from"], effort["period_to"]) == ("2025-01-01", "2025-02-28")
    assert effort["recommended_retention_share"] == 0.15
    assert effort["recommended_range"] == pytest.approx([0.05, 0.25])
    assert effort["spend"] == pytest.approx(280.0)
    assert effort["retention_spend"] == pytest.approx(10.0)
    assert effort["retention_spend_share"] == pytest.approx(10 / 280)
    assert effort["judgement"] == "less"
    assert effort["sentence"] == (
        "You spend 4% on retention (from January 2025 to February 2025); a store at this stage "
        "should spend about 5-25%: move budget to retention."
    )
    # 10 new customers in January and February (d1's return is not new, m1 came in March);
    # d1, d2 and d3 came direct: 30 %, not "most".
    direct = effort["direct"]
    assert (direct["new_customers"], direct["direct_customers"]) == (10, 3)
    assert direct["share"] == pytest.approx(0.3)
    assert direct["holds"] is False
    assert direct["sentence"].startswith(
        "30% of the 10 new customers from January 2025 to February 2025 came direct"
    )
    # Whole history: Paid Social 120 / 3 = 40 a customer, Paid Search 150 / 3 = 50; nobody has
    # been a customer for a year, so no CLV : CAC and the cheaper CAC ranks first. Email has
    # retention spend only, so no CAC.
    assert [(r["rank"], r["channel"], r["cac"]) for r in effort["budget"]] == [
        (1, "Paid Social", pytest.approx(40.0)),
        (2, "Paid Search", pytest.approx(50.0)),
    ]
    assert effort["budget_sentence"] == (
        "Acquisition money works hardest in 1. Paid Social (no CLV : CAC, CAC 40.00); "
        "2. Paid Search (no CLV : CAC, CAC 50.00)."
    )


def test_spend_without_purposes_names_the_column(workspace: Path) -> None:
    untagged = [(m, ch, s, None) for m, ch, s, _ in SPEND]
    effort = build_report(workspace, write_store(workspace, "untagged", untagged))
    effort = effort["current_stage"]["effort"]
    assert effort["judgement"] == "no purpose"
    assert effort["retention_spend_share"] is None
    assert effort["sentence"] == (
        "The spend from January 2025 to February 2025 has no purpose: fill the spend file's "
        "purpose column with acquisition or retention on each row to judge the split against "
        "the stage's 5-25% on retention."
    )
    # Untagged spend counts as acquisition, so the channels are still ranked; Klaviyo's 510
    # now buys Email's one new customer (e1): CAC 510.
    assert [(r["channel"], r["cac"]) for r in effort["budget"]] == [
        ("Paid Social", pytest.approx(40.0)),
        ("Paid Search", pytest.approx(50.0)),
        ("Email", pytest.approx(510.0)),
    ]


def test_spend_outside_the_period_or_none_at_all(workspace: Path) -> None:
    march_only = [row for row in SPEND if row[0] == "2025-03-01"]
    effort = build_report(workspace, write_store(workspace, "march", march_only))
    assert effort["current_stage"]["effort"]["judgement"] == "no spend"
    assert effort["current_stage"]["effort"]["sentence"].startswith(
        "No spend is loaded from January 2025 to February 2025, the stage's period"
    )
    none = build_report(workspace, write_store(workspace, "none", []))["current_stage"]["effort"]
    assert none["judgement"] == "no spend"
    assert none["sentence"].startswith("No marketing spend is loaded")
    assert none["budget"] == []


ESTABLISHED = spend_effort.StagePeriod("Established", D(2024, 3, 1), D(2025, 5, 31), 0.5)


@pytest.mark.parametrize(
    ("retention", "judgement", "ending"),
    [
        ("12", "less", "move budget to retention."),
        ("39.99", "less", "move budget to retention."),
        ("40", "about right", "about right, keep the split."),
        ("60", "about right", "about right, keep the split."),
        ("75", "more", "move budget to acquisition."),
    ],
)
def test_verdict_under_within_over(retention: str, judgement: str, ending: str) -> None:
    share = float(retention) / 100
    split = spend_effort.SpendSplit(spend=100.0, retention_spend=share * 100, rows=4, tagged_rows=3)
    verdict = spend_effort.judge_spend_split(split, ESTABLISHED)
    assert verdict.judgement == judgement
    assert verdict.retention_share == pytest.approx(share)
    assert (verdict.low, verdict.high) == pytest.approx((0.4, 0.6))
    assert verdict.sentence == (
        f"You spend {share:.0%} on retention (from March 2024 to May 2025); a store at this "
        f"stage should spend about 40-60%: {ending}"
    )


def test_just_started_range_starts_at_zero() -> None:
    period = spend_effort.StagePeriod("Just started", D(2025, 5, 1), D(2025, 5, 31), 0.0)
    split = spend_effort.SpendSplit(spend=200.0, retention_spend=50.0, rows=2, tagged_rows=2)
    verdict = spend_effort.judge_spend_split(split, period)
    assert (verdict.low, verdict.high, verdict.judgement) == (0.0, pytest.approx(0.1), "more")
    assert "(in May 2025)" in verdict.sentence and "about 0-10%" in verdict.sentence


JUNE_2024 = D(2024, 6, 1)


def attribution(channels: list[str], first_on: dt.date = JUNE_2024) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(len(channels))],
            "first_order_on": [first_on] * len(channels),
            "channel": channels,
        }
    )


WELL = spend_effort.StagePeriod("Well established", D(2024, 3, 1), D(2025, 2, 28), 0.6)


def test_direct_signal_of_the_last_stage() -> None:
    # 6 of 10 first orders direct: 60 %, most.
    most = spend_effort.measure_direct_signal(attribution(["Direct"] * 6 + ["Email"] * 4), WELL)
    assert (most.new_customers, most.direct_customers, most.holds) == (10, 6, True)
    assert most.share == pytest.approx(0.6)
    assert most.sentence == (
        "60% of the 10 new customers from March 2024 to February 2025 came direct (first order "
        "attributed to Direct): most new customers come from direct traffic, as expected of a "
        "well-established store."
    )
    # Exactly half is not "most"; a first order outside the period does not count.
    half = attribution(["Direct"] * 5 + ["Paid Search"] * 5)
    late = attribution(["Direct"] * 3, D(2025, 3, 1)).assign(customer_id=["x1", "x2", "x3"])
    signal = spend_effort.measure_direct_signal(pd.concat([half, late]), WELL)
    assert (signal.new_customers, signal.direct_customers, signal.holds) == (10, 5, False)
    assert "gets most (over 50%) of its new customers direct" in signal.sentence
    # Before the last stage the sentence points at it.
    early = spend_effort.measure_direct_signal(half, ESTABLISHED)
    assert early.sentence.endswith("most (over 50%) come direct once a store is well established.")


def economics_row(channel: str, cac: float, ratio: float) -> dict[str, object]:
    row = dict.fromkeys(spend.ECONOMICS_COLUMNS, math.nan)
    new = 0 if math.isnan(cac) else 10
    return row | {
        "channel": channel,
        "acquisition_spend": cac * new if new else 100.0,
        "new_customers": new,
        "cac": cac,
        "clv_to_cac": ratio,
    }


def test_budget_ranks_best_clv_to_cac_then_lowest_cac() -> None:
    nan = math.nan
    economics = pd.DataFrame(
        [
            economics_row("Affiliates", 20.0, 4.5),
            economics_row("Paid Search", 10.0, 4.5),
            economics_row("Display", 60.0, 0.8),
            economics_row("Paid Social", 50.0, 1.2),
            economics_row("Email", 30.0, nan),
            economics_row("Paid Video", nan, nan),
            economics_row(spend.UNMAPPED, 5.0, 9.0),
            economics_row(spend.PAID_CHANNELS, 25.0, 3.0),
            economics_row(spend.ALL_CHANNELS, 20.0, 3.5),
        ]
    )
    ranked = spend_effort.rank_budget_channels(economics)
    assert list(ranked.columns) == spend_effort.BUDGET_COLUMNS
    assert ranked["rank"].tolist() == [1, 2, 3, 4, 5]
    assert ranked.channel.tolist() == [
        "Paid Search",
        "Affiliates",
        "Paid Social",
        "Display",
        "Email",
    ]
    assert spend_effort.describe_budget(ranked, "EUR") == (
        "Acquisition money works hardest in 1. Paid Search (CLV : CAC 4.5 : 1, CAC €10.00); "
        "2. Affiliates (CLV : CAC 4.5 : 1, CAC €20.00); 3. Paid Social (CLV : CAC 1.2 : 1, "
        "CAC €50.00). Move budget there from Display (CLV : CAC 0.8 : 1, CAC €60.00)."
    )
