"""Business maturity stages, recommended vs actual retention share, CLV : CAC health.

A small store computed by hand, then the demo store (which grows through every stage) against
pandas over its CSV files.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import demo_reference as ref
import pandas as pd
import pytest

from dashboard.acquisition import maturity, reports, spend
from dashboard.workspace import store

D = dt.date
AS_OF = D(2025, 3, 10)


@pytest.mark.parametrize(
    ("months", "per_day", "stage"),
    [
        (0, 0.0, "Just started"),
        (5, 1 / 7 - 0.001, "Just started"),
        (0, 1 / 7, "Gaining traction"),
        (1, 5.0, "Gaining traction"),  # plenty of sales, but not yet 2 months open
        (2, 1.0, "Consistent"),
        (3, 9.9, "Consistent"),
        (4, 10.0, "Established"),
        (11, 50.0, "Established"),
        (12, 10.0, "Well established"),
    ],
)
def test_classify_stage_with_the_defaults(months: int, per_day: float, stage: str) -> None:
    assert maturity.classify_stage(months, per_day) == stage


def test_count_whole_months() -> None:
    assert maturity.count_whole_months(D(2025, 1, 15), D(2025, 3, 14)) == 1
    assert maturity.count_whole_months(D(2025, 1, 15), D(2025, 3, 15)) == 2
    assert maturity.count_whole_months(D(2024, 11, 1), D(2025, 10, 31)) == 11


@pytest.fixture
def small_store(workspace: Path) -> str:
    """January: 3 sales (one a guest; a cancelled and a zero-value order do not count).
    February: 8 sales, every other day from the 2nd to the 16th, by a, b, c, d, a, b, c, d.
    March 1-10: 3 sales a day by 30 new customers. Every order is 10.00."""
    rows = [
        ("J1", "a", "2025-01-15", 10, False),
        ("J2", "b", "2025-01-20", 10, False),
        ("J3", None, "2025-01-25", 10, False),
        ("J4", "c", "2025-01-26", 10, True),
        ("J5", "a", "2025-01-27", 0, False),
    ]
    rows += [(f"F{i}", "abcd"[i % 4], f"2025-02-{2 + 2 * i:02d}", 10, False) for i in range(8)]
    rows += [(f"M{i:02d}", f"m{i:02d}", f"2025-03-{1 + i // 3:02d}", 10, False) for i in range(30)]
    with store.open_for_write(workspace, "small") as con:
        con.executemany(
            "INSERT INTO orders (order_id, customer_id, ordered_at, order_total, refunded_amount, "
            "net_total, is_cancelled, ingest_id) "
            "VALUES (?, ?, ?, ?, 0, ?, ?, 1)",
            [
                (i, c, dt.datetime.fromisoformat(f"{day} 12:00"), t, t, x)
                for i, c, day, t, x in rows
            ],
        )
    return "small"


def detect(workspace: Path, name: str, thresholds=maturity.DEFAULT_THRESHOLDS):
    with store.open_for_read(workspace, name) as backend:
        orders = backend.table("orders")
        stages = maturity.detect_stages(orders, AS_OF, thresholds)
        return stages, maturity.summarise_returning(orders, AS_OF)


def test_stages_of_a_small_store_by_hand(workspace: Path, small_store: str) -> None:
    stages, _ = detect(workspace, small_store)
    assert list(stages.columns) == maturity.STAGE_COLUMNS
    assert stages.month.tolist() == [D(2025, 1, 1), D(2025, 2, 1), D(2025, 3, 1)]
    assert stages.evaluated_on.tolist() == [D(2025, 1, 31), D(2025, 2, 28), AS_OF]
    assert stages.complete.tolist() == [True, True, False]
    assert stages.months_open.tolist() == [0, 1, 1]
    # The 3-month windows start at the first sale (Jan 15): Jan 15-31, 17 days, 3 sales;
    # Jan 15 - Feb 28, 45 days, 3 + 8; Jan 15 - Mar 10, 55 days, 3 + 8 + 30.
    assert stages.window_start.tolist() == [D(2025, 1, 15)] * 3
    assert stages.orders_trailing.tolist() == [3, 11, 41]
    assert stages.sales_per_week.tolist() == pytest.approx([21 / 17, 77 / 45, 287 / 55])
    assert stages.signal_stage.tolist() == ["Gaining traction"] * 3
    assert stages.stage.tolist() == ["Gaining traction"] * 3
    assert stages.recommended_retention_share.tolist() == [0.15, 0.15, 0.15]
    # February's 11 / 45 = 0.24 sales a day reach "Consistent" at 0.2 a day and 1 month open,
    # but a change has to hold for 3 months first; with a hold of 1 month it counts at once, and
    # the partial March keeps February's stage.
    sooner = maturity.StageThresholds(consistent_months=1, consistent_sales_per_day=0.2)
    held = detect(workspace, small_store, sooner)[0]
    assert held.signal_stage.tolist() == ["Gaining traction", "Consistent", "Consistent"]
    assert held.stage.tolist() == ["Gaining traction"] * 3
    at_once = maturity.StageThresholds(
        consistent_months=1, consistent_sales_per_day=0.2, hold_months=1
    )
    assert detect(workspace, small_store, at_once)[0].stage.tolist() == [
        "Gaining traction",
        "Consistent",
        "Consistent",
    ]


def test_returning_share_and_effort_by_hand(workspace: Path, small_store: str) -> None:
    stages, returning = detect(workspace, small_store)
    spend_by_month = pd.DataFrame(
        {
            "month": [D(2025, 2, 1)],
            "spend": [400.0],
            "retention_spend": [100.0],
            "retention_spend_share": [0.25],
        }
    )
    effort = maturity.compare_effort(stages, returning, spend_by_month)
    assert list(effort.columns) == maturity.EFFORT_COLUMNS
    # January: a and b buy for the first time (the guest is left out); February: a, b return,
    # c's first valid order is in February (its January order was cancelled), then all four
    # return; March: 30 first orders.
    assert effort.orders.tolist() == [2, 8, 30]
    assert effort.returning_orders.tolist() == [0, 6, 0]
    assert effort.returning_share_orders.tolist() == pytest.approx([0.0, 0.75, 0.0])
    assert effort.returning_share_revenue.tolist() == pytest.approx([0.0, 0.75, 0.0])
    assert effort.retention_spend_share.isna().tolist() == [True, False, True]
    paragraph = maturity.describe_current_stage(stages, effort)
    # The headline is February, the last complete month; March (to the 10th) is named only.
    assert "gaining traction (since January 2025)" in paragraph
    assert "0.2 sales a day over Jan 2025 to Feb 2025" in paragraph
    assert "March 2025 is not complete (data to 10 March)" in paragraph
    assert "Recommended share of effort on retention: 15%" in paragraph
    assert "75% of February 2025's revenue (75% of orders): more than recommended" in paragraph
    assert "25% of February 2025's spend is on retention" in paragraph


def test_a_store_without_valid_orders_has_no_stage(workspace: Path) -> None:
    with store.open_for_write(workspace, "empty"):
        pass
    with store.open_for_read(workspace, "empty") as backend:
        assert maturity.detect_stages(backend.table("orders"), AS_OF).empty


def test_thresholds_describe_every_stage() -> None:
    rows = maturity.DEFAULT_THRESHOLDS.describe()
    assert [r["stage"] for r in rows] == list(maturity.STAGES)
    assert [r["recommended_retention_share"] for r in rows] == [0.0, 0.15, 0.30, 0.50, 0.60]


# ------------------------------------------------------------------ the demo store


def expected_stages(orders: pd.DataFrame) -> pd.DataFrame:
    """Month, evaluated_on, months_open, orders_trailing, signal_stage: pandas over the CSV
    orders, sales a day over the month and the two before it (from the first sale)."""
    sales = orders[~orders.is_cancelled & (orders.total > 0) & (orders.day <= ref.AS_OF)]
    first = min(sales.day)
    per_day = sales.groupby("day").size()
    rows = []
    for month in pd.date_range(first.replace(day=1), ref.AS_OF, freq="MS"):
        end = min((month + pd.offsets.MonthEnd(0)).date(), ref.AS_OF)
        start = max((month - pd.DateOffset(months=2)).date(), first)
        n = int(per_day[(per_day.index >= start) & (per_day.index <= end)].sum())
        opened = (end.year - first.year) * 12 + end.month - first.month - (end.day < first.day)
        rate = n / ((end - start).days + 1)
        if opened >= 12 and rate >= 10:
            stage = "Well established"
        elif opened >= 4 and rate >= 10:
            stage = "Established"
        elif opened >= 2 and rate >= 1:
            stage = "Consistent"
        elif rate * 7 >= 1:
            stage = "Gaining traction"
        else:
            stage = "Just started"
        rows.append((month.date(), end, opened, n, stage))
    return pd.DataFrame(
        rows, columns=["month", "evaluated_on", "months_open", "orders_trailing", "signal_stage"]
    )


@pytest.fixture(scope="module")
def demo_orders(demo_dataset: tuple[Path, str]) -> pd.DataFrame:
    return ref.read_orders(ref.files_dir(demo_dataset[0]) / "shopify_orders.csv")


@pytest.fixture(scope="module")
def demo_maturity(demo_dataset, tmp_path_factory) -> reports.MaturityReport:
    workspace = ref.copy_with_spend(demo_dataset, tmp_path_factory.mktemp("maturity"))
    settings = reports.Settings()
    attribution = reports.load_attribution(workspace, "demo", ref.AS_OF, settings.rules_frame())
    cells = reports.load_cohort_table(workspace, "demo", ref.AS_OF, attribution)
    report = reports.load_channel_report(workspace, "demo", ref.AS_OF, settings, attribution, cells)
    return reports.load_maturity(workspace, "demo", ref.AS_OF, settings, report.economics)


def test_demo_store_grows_through_every_stage(demo_maturity) -> None:
    stages = demo_maturity.stages.stage.tolist()
    runs = [s for i, s in enumerate(stages) if i == 0 or s != stages[i - 1]]
    assert runs[0] in ("Just started", "Gaining traction")
    assert [s for s in runs if s not in ("Just started", "Gaining traction")] == [
        "Consistent",
        "Established",
        "Well established",
    ]
    order = [maturity.STAGES.index(s) for s in stages]
    assert order == sorted(order), "the demo store never falls back a stage"
    assert demo_maturity.stages.month.iloc[0] == D(2024, 11, 1)
    assert len(stages) == 24


def test_demo_stages_match_pandas(demo_maturity, demo_orders) -> None:
    expected = expected_stages(demo_orders)
    got = demo_maturity.stages
    for column in expected.columns:
        assert got[column].tolist() == expected[column].tolist(), column
    complete = [
        end == (pd.Timestamp(end) + pd.offsets.MonthEnd(0)).date() for end in got.evaluated_on
    ]
    assert got.stage.tolist() == maturity.hold_stages(expected.signal_stage, complete, 3)


def test_demo_effort_matches_pandas(demo_maturity, demo_orders, demo_dataset) -> None:
    valid = demo_orders[ref.valid_mask(demo_orders)].sort_values(
        ["customer_id", "ordered_at", "order_id"]
    )
    valid = valid.assign(
        returning=valid.duplicated("customer_id"),
        month=[d.replace(day=1) for d in valid.day],
    )
    by_month = valid.groupby("month")
    share_orders = by_month.returning.mean()
    share_revenue = by_month.apply(lambda g: g.net[g.returning].sum() / g.net.sum())
    effort = demo_maturity.effort.set_index("month")
    assert effort.returning_share_orders.to_numpy() == pytest.approx(share_orders.to_numpy())
    assert effort.returning_share_revenue.to_numpy() == pytest.approx(share_revenue.to_numpy())
    raw = ref.read_spend(ref.files_dir(demo_dataset[0]) / "marketing_spend.csv")
    retention = raw[raw.purpose == "retention"].groupby("month").spend.sum()
    spend_share = (retention / raw.groupby("month").spend.sum()).fillna(0)
    assert effort.retention_spend_share.to_numpy() == pytest.approx(spend_share.to_numpy())
    assert (
        effort.recommended_retention_share
        == demo_maturity.stages.set_index("month").recommended_retention_share
    ).all()


def test_demo_current_stage_and_health(demo_maturity) -> None:
    assert demo_maturity.paragraph.startswith("The store is well established")
    assert "Recommended share of effort on retention: 60%" in demo_maturity.paragraph
    assert demo_maturity.health_level in ("healthy", "low", "warning", "critical")
    assert "CLV : CAC" in demo_maturity.health_text
    assert spend.assess_clv_cac(0.9, 23)[0] == "critical"
