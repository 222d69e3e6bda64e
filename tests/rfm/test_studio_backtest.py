"""Backtest: what each segment did in the days after a past date (hand-computed shop)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from studio_shop import CUTS, DATASET, DATE_FROM, load_shop

from dashboard.rfm import backtest, cut_points
from dashboard.rfm.schemes import PRESETS

FIXED = cut_points.ScoringSpec(PRESETS["shopify"], custom=CUTS)


def test_repeat_rate_and_revenue_per_segment(workspace: Path, make_dataset) -> None:
    load_shop(make_dataset)
    # Segments on 2024-03-31: dee Champions, ann Active, eve Dormant; bob is not known yet, nor
    # is cy (customers file only: no sign-up date, no order; issue 18 #4, she used to count as
    # a prospect). In (03-31, 06-30]: ann orders 130 on 05-24; eve's 04-10 order is cancelled.
    result = backtest.run_backtest(workspace, DATASET, DATE_FROM, 91, FIXED)
    assert result.horizon_end == dt.date(2024, 6, 30) and result.complete
    assert list(result.table.columns) == backtest.BACKTEST_COLUMNS
    rows = result.table.astype(object).where(result.table.notna(), None)
    assert [tuple(r) for r in rows.itertuples(index=False)] == [
        ("Champions", 1, 0, 0.0, None, None, 0, 0.0, 0.0),
        ("Active", 1, 1, 1.0, None, None, 1, 130.0, 130.0),
        ("Dormant", 1, 0, 0.0, None, None, 0, 0.0, 0.0),
        (backtest.ALL_CUSTOMERS, 3, 1, 1 / 3, None, None, 1, 130.0, 130.0 / 3),
    ]


def test_a_period_past_the_data_is_flagged(workspace: Path, make_dataset) -> None:
    load_shop(make_dataset)
    result = backtest.run_backtest(workspace, DATASET, DATE_FROM, 120, FIXED)
    assert not result.complete and result.data_end == dt.date(2024, 6, 30)


def test_the_period_excludes_the_as_of_day(workspace: Path, make_dataset) -> None:
    load_shop(make_dataset)
    # As of 2024-05-24 ann's order that day belongs to the past, not to the next 30 days.
    result = backtest.run_backtest(workspace, DATASET, dt.date(2024, 5, 24), 30, FIXED)
    total = result.table.set_index("segment").loc[backtest.ALL_CUSTOMERS]
    assert (total.customers, total.repeat_customers) == (3, 0)


def test_a_period_of_zero_days_is_refused(workspace: Path, make_dataset) -> None:
    load_shop(make_dataset)
    with pytest.raises(cut_points.CutsError):
        backtest.run_backtest(workspace, DATASET, DATE_FROM, 0, FIXED)


def test_describe_separation() -> None:
    table = pd.DataFrame(
        {
            "segment": ["Champions", "Dormant", "Tiny", backtest.ALL_CUSTOMERS],
            "customers": [10, 40, 2, 52],
            "repeat_rate": [0.6, 0.1, 1.0, 0.2],
        }
    )
    assert backtest.describe_separation(table) == (
        "Champions repeated most (60.0%), Dormant least (10.0%); all customers 20.0%."
    )
