"""One definition of a valid order: the counting rules move every analysis by the same orders.

A hand-made store (analysis date 2024-06-30) with two zero-value orders of customers, one
zero-value guest order and a cancelled order:

order  customer  date        total  state
1      ann       2024-05-01  100    valid
2      ann       2024-06-01   50    valid
3      ben       2024-05-10   80    valid
4      ben       2024-06-20    0    zero value (a free replacement)
5      cat       2024-06-25    0    zero value (cat's only order: a free sample)
6      dan       2024-06-30   30    valid
7      (guest)   2024-06-15    0    zero value, no customer
8      eve       2024-06-10   40    cancelled

Zero-value orders left out (the default): customers' valid orders 1, 2, 3, 6 (4); the store's
4 (no guest sale); buyers ann, ben, dan. Counted: customers' valid orders 1-6 (6); the store's
7 (the guest's free order too); buyers ann, ben, cat, dan.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from dashboard import cli, order_rules
from dashboard.acquisition import channels, cohorts, maturity, reports
from dashboard.rfm import cut_points
from dashboard.workspace import store

AS_OF = dt.date(2024, 6, 30)
ORDERS = [
    ("1", "ann", "2024-05-01 10:00:00", "100.00", False),
    ("2", "ann", "2024-06-01 10:00:00", "50.00", False),
    ("3", "ben", "2024-05-10 10:00:00", "80.00", False),
    ("4", "ben", "2024-06-20 10:00:00", "0.00", False),
    ("5", "cat", "2024-06-25 10:00:00", "0.00", False),
    ("6", "dan", "2024-06-30 10:00:00", "30.00", False),
    ("7", None, "2024-06-15 10:00:00", "0.00", False),
    ("8", "eve", "2024-06-10 10:00:00", "40.00", True),
]
LEFT_OUT = order_rules.CountingRules()
COUNTED = order_rules.CountingRules(exclude_zero_value=False)


@pytest.fixture
def free_store(make_dataset, workspace: Path) -> Path:
    make_dataset(
        "free",
        [
            {
                "order_id": o,
                "customer_id": c,
                "ordered_at": at,
                "order_total": total,
                "is_cancelled": cancelled,
            }
            for o, c, at, total, cancelled in ORDERS
        ],
    )
    return workspace


def count_everywhere(workspace: Path, rules: order_rules.CountingRules) -> dict[str, object]:
    """The orders and buyers that each analysis counts under ``rules``."""
    with store.open_for_read(workspace, "free") as backend:
        orders = backend.table("orders")
        measures = cut_points.build_customer_measures(
            orders, order_rules.Window(as_of=AS_OF), rules
        ).to_pandas()
        scored = measures[measures.status == cut_points.STATUS_SCORED]
        attribution = channels.attribute_channels(orders, channels.default_rules(), AS_OF, rules)
        table = channels.summarise_channels(orders, attribution, AS_OF, counting=rules)
        cells = cohorts.build_cohort_cells(orders, attribution, AS_OF, rules)
        totals = maturity.summarise_store(orders, AS_OF, rules)
        stages = maturity.detect_stages(orders, AS_OF, counting=rules)
        returning = maturity.summarise_returning(orders, AS_OF, rules)
    return {
        "rfm orders": int(scored.frequency.sum()),
        "rfm buyers": len(scored),
        "channel orders": int(table.orders.sum()),
        "channel buyers": int(table.new_customers.sum()),
        "cohort active customer-months": int(cells.active_customers.sum()),
        "cohort buyers": int(cells[cells.months_since == 0].customers.sum()),
        "store orders": totals.orders,
        "store guest orders": totals.orders_without_customer,
        "stage orders in April-June": int(stages.orders_trailing.iloc[-1]),
        "monthly customer orders": int(returning.orders.sum()),
        "returning orders": int(returning.returning_orders.sum()),
    }


def test_zero_value_orders_move_every_analysis_alike(free_store: Path) -> None:
    assert count_everywhere(free_store, LEFT_OUT) == {
        "rfm orders": 4,
        "rfm buyers": 3,
        "channel orders": 4,
        "channel buyers": 3,
        # ann May and June, ben May, dan June
        "cohort active customer-months": 4,
        "cohort buyers": 3,
        "store orders": 4,
        "store guest orders": 0,
        # June's stage reads its trailing three calendar months: orders 1, 2, 3 and 6
        "stage orders in April-June": 4,
        "monthly customer orders": 4,
        # ann's second order
        "returning orders": 1,
    }
    assert count_everywhere(free_store, COUNTED) == {
        "rfm orders": 6,
        "rfm buyers": 4,
        "channel orders": 6,
        "channel buyers": 4,
        # + ben June, cat June
        "cohort active customer-months": 6,
        "cohort buyers": 4,
        "store orders": 7,
        "store guest orders": 1,
        # + orders 4, 5 and the guest's 7
        "stage orders in April-June": 7,
        "monthly customer orders": 6,
        # + ben's free replacement
        "returning orders": 2,
    }


def test_the_report_command_follows_the_rule(free_store: Path, tmp_path: Path) -> None:
    def report(*extra: str) -> dict:
        out = tmp_path / "report.json"
        args = ["report", "--workspace", str(free_store), "--dataset", "free", "--out", str(out)]
        assert cli.main([*args, *extra]) == 0
        return json.loads(out.read_text(encoding="utf-8"))

    left_out, counted = report(), report("--include-zero-value")
    assert (left_out["store"]["orders"], counted["store"]["orders"]) == (4, 7)
    channel_orders = [sum(row["orders"] for row in r["channels"]) for r in (left_out, counted)]
    assert channel_orders == [4, 6]


def test_the_settings_carry_the_rule_to_every_acquisition_figure(free_store: Path) -> None:
    settings = reports.Settings(counting=COUNTED)
    with store.open_for_read(free_store, "free") as backend:
        result = reports.build_report({"orders": backend.table("orders")}, "free", AS_OF, settings)
    assert result["store"]["orders"] == 7
    assert sum(row["orders"] for row in result["channels"]) == 6
    assert sum(row["new_customers"] for row in result["channels"]) == 4
