"""Cohorts: first-order month x months since, retention and cumulative revenue per customer.

A small table computed by hand, then the demo store against pandas over its CSV files.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import demo_reference as ref
import pandas as pd
import pytest

from dashboard.acquisition import channels, cohorts, reports
from dashboard.workspace import store

D = dt.date
AS_OF = D(2025, 4, 15)


@pytest.fixture
def cells(workspace: Path) -> pd.DataFrame:
    """Jan cohort: a (Paid Search) and b (Email); Feb cohort: c (Email). Revenue net of refunds.

    a: Jan 100, Feb cancelled 500, Mar 50 + 20 (two orders, one customer). b: Jan 40, Feb 60.
    c: Feb 30, Apr 40 refunded 10. Orders after the analysis date do not count.
    """
    orders = [
        ("a1", "a", "2025-01-05 10:00", 100, 0, False, "google", "cpc"),
        ("a2", "a", "2025-02-05 10:00", 500, 0, True, None, None),
        ("a3", "a", "2025-03-05 10:00", 50, 0, False, None, None),
        ("a4", "a", "2025-03-25 10:00", 20, 0, False, None, None),
        ("b1", "b", "2025-01-20 10:00", 40, 0, False, "klaviyo", "email"),
        ("b2", "b", "2025-02-01 10:00", 60, 0, False, None, None),
        ("c1", "c", "2025-02-28 10:00", 30, 0, False, "klaviyo", "email"),
        ("c2", "c", "2025-04-02 10:00", 40, 10, False, None, None),
        ("c3", "c", "2025-04-20 10:00", 99, 0, False, None, None),
    ]
    with store.open_for_write(workspace, "coh") as con:
        con.executemany(
            "INSERT INTO orders (order_id, customer_id, ordered_at, order_total, refunded_amount, "
            "net_total, is_cancelled, utm_source, utm_medium, ingest_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
            [
                (i, c, dt.datetime.fromisoformat(at), t, r, t - r, x, s, m)
                for i, c, at, t, r, x, s, m in orders
            ],
        )
    with store.open_for_read(workspace, "coh") as backend:
        table = backend.table("orders")
        attribution = channels.attribute_channels(table, channels.default_rules(), AS_OF)
        return cohorts.build_cohort_cells(table, attribution, AS_OF)


def test_cells_have_one_row_per_month_up_to_the_analysis_date(cells: pd.DataFrame) -> None:
    assert list(cells.columns) == cohorts.CELL_COLUMNS
    got = {
        (r.channel, r.cohort_month, r.months_since): (r.customers, r.active_customers, r.revenue)
        for r in cells.itertuples()
    }
    assert got == {
        ("Paid Search", D(2025, 1, 1), 0): (1, 1, 100.0),
        ("Paid Search", D(2025, 1, 1), 1): (1, 0, 0.0),
        ("Paid Search", D(2025, 1, 1), 2): (1, 1, 70.0),
        ("Paid Search", D(2025, 1, 1), 3): (1, 0, 0.0),
        ("Email", D(2025, 1, 1), 0): (1, 1, 40.0),
        ("Email", D(2025, 1, 1), 1): (1, 1, 60.0),
        ("Email", D(2025, 1, 1), 2): (1, 0, 0.0),
        ("Email", D(2025, 1, 1), 3): (1, 0, 0.0),
        ("Email", D(2025, 2, 1), 0): (1, 1, 30.0),
        ("Email", D(2025, 2, 1), 1): (1, 0, 0.0),
        ("Email", D(2025, 2, 1), 2): (1, 1, 30.0),
    }


def test_combined_cohorts_by_hand(cells: pd.DataFrame) -> None:
    table = cohorts.combine_cohorts(cells)
    january = table[table.cohort_month == D(2025, 1, 1)]
    assert january.customers.tolist() == [2, 2, 2, 2]
    assert january.retention.tolist() == [1.0, 0.5, 0.5, 0.0]
    # (100 + 40) / 2, then + 60 / 2, then + 70 / 2
    assert january.cumulative_revenue_per_customer.tolist() == [70.0, 100.0, 135.0, 135.0]
    february = table[table.cohort_month == D(2025, 2, 1)]
    assert february.retention.tolist() == [1.0, 0.0, 1.0]
    assert february.cumulative_revenue_per_customer.tolist() == [30.0, 30.0, 60.0]
    pivot = cohorts.pivot_cohorts(table, "retention")
    assert list(pivot.index) == ["2025-01", "2025-02"]
    assert pd.isna(pivot.loc["2025-02", 3])


def test_cohorts_filter_by_channel(cells: pd.DataFrame) -> None:
    email = cohorts.combine_cohorts(cells, ["Email"])
    january = email[email.cohort_month == D(2025, 1, 1)]
    assert january.customers.tolist() == [1, 1, 1, 1]
    assert january.cumulative_revenue_per_customer.tolist() == [40.0, 100.0, 100.0, 100.0]
    assert cohorts.combine_cohorts(cells, ["Display"]).empty


def test_average_curve_weights_by_cohort_size(cells: pd.DataFrame) -> None:
    curve = cohorts.average_curve(cohorts.combine_cohorts(cells))
    assert curve.cohorts.tolist() == [2, 2, 2, 1]
    assert curve.customers.tolist() == [3, 3, 3, 2]
    assert curve.retention.tolist() == pytest.approx([1.0, 1 / 3, 2 / 3, 0.0])
    # month 1: (200 + 30) / 3; month 2: (270 + 60) / 3; month 3: the January cohort only
    assert curve.cumulative_revenue_per_customer.tolist() == pytest.approx(
        [170 / 3, 230 / 3, 110.0, 135.0]
    )
    assert cohorts.read_curve(curve, 3, "retention") == 0.0
    assert cohorts.read_curve(curve, 12, "retention") is None


def test_count_months_between() -> None:
    assert cohorts.count_months_between(D(2024, 11, 30), D(2025, 1, 1)) == 2
    assert cohorts.count_months_between(D(2025, 1, 1), D(2025, 1, 31)) == 0


# ------------------------------------------------------------------ the demo store


def expected_cohorts(orders: pd.DataFrame, firsts: pd.DataFrame) -> pd.DataFrame:
    """cohort_month, months_since -> customers, active_customers, revenue, with pandas."""
    counted = orders[orders.customer_id.notna() & ~orders.is_cancelled & (orders.day <= ref.AS_OF)]
    joined = counted.merge(firsts[["customer_id", "first_day"]], on="customer_id")
    joined["cohort_month"] = [d.replace(day=1) for d in joined.first_day]
    joined["months_since"] = [
        (d.year - f.year) * 12 + d.month - f.month
        for d, f in zip(joined.day, joined.first_day, strict=True)
    ]
    active = (
        joined[joined.total > 0]
        .groupby(["cohort_month", "months_since"])
        .customer_id.nunique()
        .rename("active_customers")
    )
    revenue = joined.groupby(["cohort_month", "months_since"]).net.sum().rename("revenue")
    sizes = firsts.assign(cohort_month=[d.replace(day=1) for d in firsts.first_day])
    sizes = sizes.groupby("cohort_month").size().rename("customers")
    return pd.concat([active, revenue], axis=1).fillna(0).join(sizes, on="cohort_month")


@pytest.fixture(scope="module")
def demo(demo_dataset: tuple[Path, str]) -> dict[str, pd.DataFrame]:
    workspace, name = demo_dataset
    orders = ref.read_orders(ref.files_dir(workspace) / "shopify_orders.csv")
    attribution = reports.load_attribution(workspace, name, ref.AS_OF, channels.default_rules())
    cells = reports.load_cohort_table(workspace, name, ref.AS_OF, attribution)
    return {"orders": orders, "firsts": ref.attribute(orders), "cells": cells}


@pytest.mark.parametrize("channel", [None, "Email", "Paid Social"])
def test_demo_cohorts_match_pandas(demo: dict[str, pd.DataFrame], channel: str | None) -> None:
    firsts = demo["firsts"]
    if channel is not None:
        firsts = firsts[firsts.channel == channel]
    expected = expected_cohorts(demo["orders"], firsts)
    table = cohorts.combine_cohorts(demo["cells"], [channel] if channel else None)
    got = table.set_index(["cohort_month", "months_since"])
    assert len(table.cohort_month.unique()) == 24
    assert int(got.xs(0, level="months_since").customers.sum()) == len(firsts)
    months = [
        (m, k)
        for m in sorted(expected.index.get_level_values("cohort_month").unique())
        for k in range((ref.AS_OF.year - m.year) * 12 + ref.AS_OF.month - m.month + 1)
    ]
    assert list(got.index) == months
    full = expected[["active_customers", "revenue"]].reindex(months, fill_value=0)
    sizes = expected.customers.groupby(level="cohort_month").first()
    size = [sizes[m] for m, _ in months]
    assert got.customers.tolist() == size
    assert got.active_customers.tolist() == full.active_customers.astype(int).tolist()
    assert got.revenue.to_numpy() == pytest.approx(full.revenue.to_numpy(), rel=1e-9)
    assert got.retention.to_numpy() == pytest.approx((full.active_customers / size).to_numpy())
    cumulative = full.revenue.groupby(level="cohort_month").cumsum() / size
    assert got.cumulative_revenue_per_customer.to_numpy() == pytest.approx(
        cumulative.to_numpy(), rel=1e-9
    )
    assert (table.retention[table.months_since == 0] == 1.0).all()
