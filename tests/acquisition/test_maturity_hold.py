"""Issue 18 #3: a partial last month never decides the stage, and a change of stage must hold.

A hand-made store whose monthly sales flip between a low and a high level, then rise for good,
and whose data ends a few days into a month. Thresholds are scaled down (1 sale a day for
"Established"/"Well established", 0.2 for "Consistent") and sales a day are read per calendar
month (``trailing_months=1``) so every figure below is a count divided by a month's days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from dashboard.acquisition import maturity
from dashboard.workspace import store

D = dt.date
LOW, HIGH = 10, 40  # orders in a low and a high month: 10 / 31 = 0.32 a day, 40 / 30 = 1.33
THRESHOLDS = maturity.StageThresholds(
    consistent_sales_per_day=0.2,
    established_sales_per_day=1.0,
    well_established_sales_per_day=1.0,
    trailing_months=1,
)
# 2024-01 .. 2024-05 low (the store opens on 1 January 2024), 2024-06 .. 2025-03 flipping
# high / low, 2025-04 .. 2025-06 high, then 9 days of July 2025 with 2 orders.
SERIES = [LOW] * 5 + [HIGH, LOW] * 5 + [HIGH] * 3
MONTHS = [D(2024 + (m // 12), m % 12 + 1, 1) for m in range(len(SERIES))]
STAGE_NAMES = {
    "J": "Just started",
    "G": "Gaining traction",
    "C": "Consistent",
    "E": "Established",
    "W": "Well established",
}


def stages_of(letters: str) -> list[str]:
    return [STAGE_NAMES[c] for c in letters]


def write_store(make_dataset: Callable[..., str], partial: list[tuple[D, int]]) -> str:
    orders = []
    for month, count in [*zip(MONTHS, SERIES, strict=True), *partial]:
        for i in range(count):
            orders.append(
                {
                    "order_id": f"{month:%Y%m}-{i:02d}",
                    "customer_id": f"c{i % 7}",
                    "ordered_at": dt.datetime(month.year, month.month, 1 + i % 28, 12),
                    "order_total": "10.00",
                }
            )
    return make_dataset("flip", orders)


def detect(workspace: Path, name: str, as_of: D) -> tuple:
    with store.open_for_read(workspace, name) as backend:
        orders = backend.table("orders")
        stages = maturity.detect_stages(orders, as_of, THRESHOLDS)
        effort = maturity.compare_effort(stages, maturity.summarise_returning(orders, as_of))
    return stages, effort


def test_flip_flopping_months_keep_the_stage_that_held(
    workspace: Path, make_dataset: Callable[..., str]
) -> None:
    name = write_store(make_dataset, [(D(2025, 7, 1), 2)])
    stages, effort = detect(workspace, name, D(2025, 7, 9))
    assert stages.month.tolist() == [*MONTHS, D(2025, 7, 1)]
    assert stages.complete.tolist() == [True] * 18 + [False]
    # Months open at each month end: 0 in January 2024, 11 in December, 17 in June 2025.
    assert stages.months_open.tolist() == [*range(18), 18]
    assert stages.orders_trailing.tolist() == [*SERIES, 2]
    assert stages.sales_per_day.iloc[5] == pytest.approx(40 / 30)  # June 2024
    assert stages.sales_per_day.iloc[-1] == pytest.approx(2 / 9)  # 1 to 9 July 2025
    # Signals: 0.32 a day is Gaining traction below 2 months open, then Consistent; 40 orders
    # are Established from 4 months open, Well established from 12 (2025-01 on).
    assert stages.signal_stage.tolist() == stages_of("GGCCC" + "ECECECEC" + "WC" + "WWW" + "C")
    # Consistent holds from March 2024 (3 months by May); the flips never hold 3 months, so the
    # store stays Consistent until April-June 2025 are Well established three times running;
    # the partial July (signal Consistent) changes nothing.
    assert stages.stage.tolist() == stages_of("GG" + "C" * 13 + "WWW" + "W")
    assert maturity.find_headline(stages) == 17
    paragraph = maturity.describe_current_stage(stages, effort, THRESHOLDS)
    assert paragraph.startswith(
        "The store is well established (since April 2025): 17 whole months since its first sale "
        "and 1.3 sales a day over Jun 2025."
    )
    assert "held for 3 consecutive complete months" in paragraph
    assert "July 2025 is not complete (data to 9 July), so it does not decide the stage." in (
        paragraph
    )


def test_a_partial_month_does_not_decide_the_headline(
    workspace: Path, make_dataset: Callable[..., str]
) -> None:
    """The issue's case: nine days of a strong month after two strong months."""
    name = write_store(make_dataset, [])
    with store.open_for_write(workspace, name) as con:
        con.execute("DELETE FROM orders WHERE ordered_at >= TIMESTAMP '2025-06-01'")
        con.executemany(
            "INSERT INTO orders (order_id, customer_id, ordered_at, order_total, "
            "refunded_amount, net_total, is_cancelled, ingest_id) VALUES (?, 'c', ?, 10, 0, 10, "
            "false, 1)",
            [(f"june-{i}", dt.datetime(2025, 6, 1 + i % 9, 12)) for i in range(18)],
        )
    stages, effort = detect(workspace, name, D(2025, 6, 9))
    assert stages.complete.tolist() == [True] * 17 + [False]
    assert stages.orders_trailing.iloc[-1] == 18
    assert stages.signal_stage.tolist()[-3:] == stages_of("WWW")
    # April and May hold for two months only and June is partial: still Consistent.
    assert stages.stage.tolist() == stages_of("GG" + "C" * 16)
    assert maturity.find_headline(stages) == 16
    paragraph = maturity.describe_current_stage(stages, effort, THRESHOLDS)
    assert paragraph.startswith("The store is consistent (since March 2024): 16 whole months")
    assert "The signals of May 2025 point to well established" in paragraph
    assert "June 2025 is not complete (data to 9 June)" in paragraph


@pytest.mark.parametrize(
    ("signals", "complete", "hold", "expected"),
    [
        # A flip never lasts: the first stage stays.
        ("CWCWCW", [True] * 6, 2, "CCCCCC"),
        # Above for 3 months, at two levels: the lowest of the run, from its start; the fall
        # back has held 2 months only.
        ("CEWECC", [True] * 6, 3, "CEEEEE"),
        # Below for 2 months: the highest of the run, from its start.
        ("WWCGWW", [True] * 6, 2, "WWCCWW"),
        # The partial last month keeps the held stage ...
        ("CCCW", [True, True, True, False], 1, "CCCC"),
        # ... unless no month is complete.
        ("G", [False], 3, "G"),
        # A hold of 1 month follows the signal.
        ("GCEC", [True] * 4, 1, "GCEC"),
    ],
)
def test_hold_stages(signals: str, complete: list[bool], hold: int, expected: str) -> None:
    assert maturity.hold_stages(stages_of(signals), complete, hold) == stages_of(expected)
