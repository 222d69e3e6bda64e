"""Replenishment cycles, due customers and the builder's "Product replenishment due" preset
(docs/products.md "Replenishment cycles", docs/behaviour.md §2 and §4), computed by hand."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from dashboard import engines
from dashboard.behaviour import compiler, feature_base, membership, presets
from dashboard.behaviour.definitions import RfmSpec
from dashboard.products import lines, replenishment


def order(order_id: str, customer: str | None, day: str, **extra: object) -> dict[str, object]:
    return {
        "order_id": order_id,
        "customer_id": customer,
        "ordered_at": f"{day} 10:00",
        "order_total": "10",
        **extra,
    }


# 2024 is a leap year: 01-01 -> 01-31 -> 03-01 are 30 days apart each.
CYCLE_ORDERS = [
    order("A1", "A", "2024-01-01"),
    order("A2", "A", "2024-01-31"),
    order("A3", "A", "2024-03-01"),
    order("A4", "A", "2024-03-31"),
    order("AX", "A", "2024-02-10", is_cancelled=True),
    order("B1", "B", "2024-01-10"),
    order("B2", "B", "2024-01-30"),
    order("B2b", "B", "2024-01-30"),  # a second order the same day
    order("B3", "B", "2024-02-19"),
    order("B4", "B", "2024-03-10"),
    order("C1", "C", "2024-01-01"),
    order("C2", "C", "2024-01-26"),
    order("G1", None, "2024-01-05"),
    order("G2", None, "2024-01-07"),
]
CYCLE_LINES = [
    {"order_id": "A1", "sku": "BEAN", "product": "Beans", "category": "Coffee"},
    {"order_id": "A1", "sku": "BEAN", "product": "Beans", "category": "Coffee"},
    {"order_id": "A1", "sku": "FILTER", "product": "Filters"},
    {"order_id": "A2", "sku": "BEAN", "product": "Beans", "category": "Coffee"},
    {"order_id": "A3", "sku": "BEAN", "product": "Beans", "category": "Coffee"},
    {"order_id": "A4", "sku": "FILTER", "product": "Filters"},
    {"order_id": "AX", "sku": "BEAN", "product": "Beans"},  # cancelled: no pair
    {"order_id": "B1", "sku": "BEAN", "product": "Beans", "category": "Coffee"},
    {"order_id": "B2", "sku": "BEAN", "product": "Beans", "category": "Coffee"},
    {"order_id": "B2b", "sku": "BEAN", "product": "Beans", "category": "Coffee"},
    {"order_id": "B3", "sku": "BEAN", "product": "Beans", "category": "Coffee"},
    {"order_id": "B4", "sku": "BEAN", "product": "Beans", "category": "Coffee"},
    {"order_id": "C1", "sku": "BEAN", "product": "Beans", "category": "Coffee"},
    {"order_id": "C2", "sku": "BEAN", "product": "Beans", "category": "Coffee"},
    {"order_id": "G1", "sku": "BEAN", "product": "Beans"},  # guests: no customer, no pair
    {"order_id": "G2", "sku": "BEAN", "product": "Beans"},
]


def read_cycles(workspace: Path, min_pairs: int) -> pd.DataFrame:
    with engines.open_tables("duckdb", workspace=workspace, dataset="shop") as tables:
        bought = lines.select_valid_lines(
            tables.orders, tables["order_lines"], dt.date(2024, 3, 31), with_guests=False
        )
        return replenishment.measure_cycles(bought, min_pairs)


def test_cycles_are_the_gaps_between_a_customers_purchase_days(
    workspace: Path, make_dataset, make_lines
) -> None:
    make_dataset("shop", CYCLE_ORDERS)
    make_lines("shop", CYCLE_LINES)
    cycles = read_cycles(workspace, min_pairs=1)
    assert list(cycles.columns) == list(replenishment.CYCLE_COLUMNS)
    # Beans: A 30, 30 (the cancelled 02-10 order and A1's second line add nothing); B 20, 20, 20
    # (two orders on 01-30 are one day); C 25; guests none. Gaps 20 20 20 25 30 30: 6 pairs,
    # 3 customers; median (20 + 25) / 2 = 22.5; p25 at rank 1.25 = 20; p75 at rank 3.75 =
    # 25 + 0.75 x 5 = 28.75. Filters: A 01-01 -> 03-31 = 31 + 29 + 30 = 90 days, 1 pair.
    assert cycles.to_dict("records") == [
        {
            "product_key": "BEAN",
            "product": "Beans",
            "category": "Coffee",
            "repeat_pairs": 6,
            "customers": 3,
            "median_days": 22.5,
            "p25_days": 20.0,
            "p75_days": 28.75,
        },
        {
            "product_key": "FILTER",
            "product": "Filters",
            "category": None,
            "repeat_pairs": 1,
            "customers": 1,
            "median_days": 90.0,
            "p25_days": 90.0,
            "p75_days": 90.0,
        },
    ]
    # min_pairs: Beans has 6 pairs, Filters 1.
    assert list(read_cycles(workspace, min_pairs=6).product_key) == ["BEAN"]
    assert read_cycles(workspace, min_pairs=7).empty


def test_every_twenty_days_gives_a_median_of_twenty(
    workspace: Path, make_dataset, make_lines
) -> None:
    make_dataset("shop", CYCLE_ORDERS[5:10])
    make_lines("shop", CYCLE_LINES[7:12])
    cycles = read_cycles(workspace, min_pairs=3)
    # B alone: 01-10, 01-30, 02-19, 03-10 -> 20, 20, 20.
    assert cycles[["repeat_pairs", "customers", "median_days"]].values.tolist() == [[3, 1, 20.0]]


AS_OF = dt.date(2024, 6, 30)
DUE_ORDERS = [
    order("D1a", "D1", "2024-06-07"),
    order("D1b", "D1", "2024-06-10"),
    order("D2", "D2", "2024-06-08"),
    order("D3", "D3", "2024-05-31"),
    order("D4a", "D4", "2024-04-01"),
    order("D4b", "D4", "2024-05-30"),
    order("D5", "D5", "2024-03-02"),
    order("D6", "D6", "2024-03-01"),
]
DUE_LINES = [
    {"order_id": "D1a", "sku": "BEAN", "product": "Beans"},
    {"order_id": "D1a", "sku": "MUG", "product": "Mug"},
    {"order_id": "D1b", "sku": "FILTER", "product": "Filters"},
    {"order_id": "D2", "sku": "BEAN", "product": "Beans"},
    {"order_id": "D3", "sku": "BEAN", "product": "Beans"},
    {"order_id": "D4a", "sku": "BEAN", "product": "Beans"},
    {"order_id": "D4b", "sku": "BEAN", "product": "Beans"},
    {"order_id": "D5", "sku": "BEAN", "product": "Beans"},
    {"order_id": "D6", "sku": "BEAN", "product": "Beans"},
]
CYCLES = pd.DataFrame(
    {
        "product_key": ["BEAN", "FILTER"],
        "product": ["Beans", "Filters"],
        "category": [None, None],
        "repeat_pairs": [9, 5],
        "customers": [4, 2],
        "median_days": [30.0, 22.5],
        "p25_days": [30.0, 20.0],
        "p75_days": [30.0, 25.0],
    }
)


def test_due_overdue_and_lapsed_at_the_window_edges(
    workspace: Path, make_dataset, make_lines
) -> None:
    make_dataset("shop", DUE_ORDERS)
    make_lines("shop", DUE_LINES)
    with engines.open_tables("duckdb", workspace=workspace, dataset="shop") as tables:
        bought = lines.select_valid_lines(
            tables.orders, tables["order_lines"], AS_OF, with_guests=False
        )
        due = replenishment.find_due_customers(bought, CYCLES, AS_OF, window_days=7)
    assert list(due.columns) == list(replenishment.DUE_COLUMNS)
    rows = [
        (r.customer_id, r.product_key, str(r.last_bought_on)[:10], r.cycle_days)
        + (str(r.due_on)[:10], r.status, r.days_overdue)
        for r in due.itertuples()
    ]
    assert rows == [
        # 03-02 + 30 = 04-01, 90 days before 06-30: exactly 3 cycles overdue, still listed.
        # (D6: 03-01 + 30 = 03-31, 91 days > 3 x 30: lapsed, left out.)
        ("D5", "BEAN", "2024-03-02", 30.0, "2024-04-01", "overdue", 90),
        # D4's last beans 05-30 (not 04-01) + 30 = 06-29: one day overdue.
        ("D4", "BEAN", "2024-05-30", 30.0, "2024-06-29", "overdue", 1),
        # 05-31 + 30 = 06-30 = the analysis date: due, not overdue.
        ("D3", "BEAN", "2024-05-31", 30.0, "2024-06-30", "due", 0),
        # 22.5 days rounds to 23: 06-10 + 23 = 07-03.
        ("D1", "FILTER", "2024-06-10", 22.5, "2024-07-03", "due", -3),
        # 06-07 + 30 = 07-07 = as_of + 7, the window's last day (D2: 07-08, not listed; the
        # mug has no cycle).
        ("D1", "BEAN", "2024-06-07", 30.0, "2024-07-07", "due", -7),
    ]


# The builder: beans have a cycle (A 30, 30; B 20, 20, 20: 5 pairs, median 20), tea too
# (E every 10 days from 01-01 to 02-20: 5 pairs, median 10). Analysis date 03-20.
BUILDER_AS_OF = dt.date(2024, 3, 20)
BUILDER_ORDERS = [
    *CYCLE_ORDERS[:3],
    *(o for o in CYCLE_ORDERS[5:10] if o["order_id"] != "B2b"),
    order("C1", "C", "2023-10-01"),
    order("D1", "D", "2024-03-05"),
    *(order(f"E{i}", "E", str(dt.date(2024, 1, 1) + dt.timedelta(days=10 * i))) for i in range(6)),
]
BEAN_ORDERS = ("A1", "A2", "A3", "B1", "B2", "B3", "B4", "C1", "D1", "E5")
BUILDER_LINES = [
    *({"order_id": o, "sku": "BEAN", "product": "Beans"} for o in BEAN_ORDERS),
    *({"order_id": f"E{i}", "sku": "TEA", "product": "Tea"} for i in range(6)),
    {"order_id": "D1", "sku": "MUG", "product": "Mug"},
]


@pytest.fixture
def builder_base(workspace: Path, make_dataset, make_lines):
    make_dataset("shop", BUILDER_ORDERS, customers=["F"])
    make_lines("shop", BUILDER_LINES)
    with engines.open_tables("duckdb", workspace=workspace, dataset="shop") as tables:
        base = feature_base.build_feature_base(tables, "shop", BUILDER_AS_OF)
    yield base
    base.close()


def preset_members(base: feature_base.FeatureBase, workspace: Path, **values: object) -> set[str]:
    view = compiler.feature_view(base.table, RfmSpec(), workspace)
    preset = presets.PRESETS["product_replenishment_due"]
    condition = compiler.compile_definition(view, presets.preset_definition(preset, values))
    return set(membership.list_members(view, condition, ["customer_id"]).customer_id)


def test_the_builder_counts_products_due_by_their_own_cycle(
    builder_base: feature_base.FeatureBase, workspace: Path
) -> None:
    table = builder_base.table.to_pandas().set_index("customer_id")
    due = table.replenishment_due.to_dict()
    nexts = {c: None if pd.isna(d) else str(d)[:10] for c, d in table.next_replenishment_on.items()}
    # A: beans 03-01 + 20 = 03-21, within 7 days of 03-20. B: 03-10 + 20 = 03-30, 10 days out.
    # C: beans 2023-10-01 + 20 = 10-21, 151 days overdue > 3 x 20: lapsed. D: 03-05 + 20 =
    # 03-25, due (the mug has no cycle). E: tea 02-20 + 10 = 03-01 (19 days overdue <= 30)
    # and beans 02-20 + 20 = 03-11 (9 overdue): 2 products. F: customers file only.
    assert due == {"A": 1, "B": 0, "C": 0, "D": 1, "E": 2, "F": 0}
    assert nexts == {
        "A": "2024-03-21",
        "B": "2024-03-30",
        "C": None,
        "D": "2024-03-25",
        "E": "2024-03-01",
        "F": None,
    }
    assert "replenishment_due" not in builder_base.missing
    assert preset_members(builder_base, workspace) == {"A", "D", "E"}
    assert preset_members(builder_base, workspace, products=2) == {"E"}


def test_the_preset_names_the_file_without_order_lines(workspace: Path, make_dataset) -> None:
    make_dataset("shop", BUILDER_ORDERS)
    with engines.open_tables("duckdb", workspace=workspace, dataset="shop") as tables:
        base = feature_base.build_feature_base(tables, "shop", BUILDER_AS_OF)
    try:
        table = base.table.to_pandas()
        assert table.replenishment_due.isna().all()
        assert table.next_replenishment_on.isna().all()
        preset = presets.PRESETS["product_replenishment_due"]
        assert presets.missing_for_preset(preset, base.missing) == [
            "Upload an orders export with line items (product, SKU) to enable "
            "'Product replenishment due'."
        ]
    finally:
        base.close()
