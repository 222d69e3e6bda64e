"""RFM measures, the threshold rule, quantile cut points and cut validation (docs/segments.md §1-2).

Every expected number below is worked out by hand in the comments next to it.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from pathlib import Path

import ibis
import pandas as pd
import pytest

from dashboard import order_rules
from dashboard.rfm import cut_points
from dashboard.workspace import store

AS_OF = dt.date(2024, 3, 31)

# One small store. The analysis date is 2024-03-31 (2024 is a leap year: February has 29 days).
ORDERS = [
    # Customer A
    {
        "order_id": "A1",
        "customer_id": "A",
        "ordered_at": "2024-01-10 10:00",
        "order_total": "100.00",
    },
    # refunded in part: counts as an order, revenue is the net 50 - 20 = 30; late in the evening
    {
        "order_id": "A2",
        "customer_id": "A",
        "ordered_at": "2024-03-01 23:30",
        "order_total": "50.00",
        "refunded_amount": "20.00",
    },
    # cancelled: no order, no revenue, no recency
    {
        "order_id": "A3",
        "customer_id": "A",
        "ordered_at": "2024-03-20 12:00",
        "order_total": "70.00",
        "is_cancelled": True,
    },
    # a return row: total 0, 15 refunded, net -15 -> reduces revenue, is not an order
    {
        "order_id": "A4",
        "customer_id": "A",
        "ordered_at": "2024-03-25 09:00",
        "order_total": "0.00",
        "refunded_amount": "15.00",
    },
    # after the analysis date: ignored
    {
        "order_id": "A5",
        "customer_id": "A",
        "ordered_at": "2024-04-02 08:00",
        "order_total": "999.00",
    },
    # Customer B
    # one second before midnight of the analysis date: included, recency 0
    {
        "order_id": "B1",
        "customer_id": "B",
        "ordered_at": "2024-03-31 23:59:59",
        "order_total": "40.00",
    },
    # the first instant after the analysis date: ignored
    {
        "order_id": "B3",
        "customer_id": "B",
        "ordered_at": "2024-04-01 00:00:00",
        "order_total": "10.00",
    },
    # Customer C: only January orders (before a February window start)
    {
        "order_id": "C1",
        "customer_id": "C",
        "ordered_at": "2024-01-20 18:00",
        "order_total": "60.00",
    },
    # Customer D: one order in January, one inside the excluded period 2024-03-05 .. 2024-03-15
    {
        "order_id": "D1",
        "customer_id": "D",
        "ordered_at": "2024-01-05 11:00",
        "order_total": "25.00",
    },
    {
        "order_id": "D2",
        "customer_id": "D",
        "ordered_at": "2024-03-10 11:00",
        "order_total": "35.00",
    },
    # guest order without a customer: in no customer figure
    {
        "order_id": "G1",
        "customer_id": None,
        "ordered_at": "2024-03-30 10:00",
        "order_total": "500.00",
    },
]
# The customers file: A (has orders) and P (a newsletter sign-up without orders).
CUSTOMERS = ["A", "P"]
DEFAULT_RULES = order_rules.CountingRules()


def measures_of(
    workspace: Path,
    name: str,
    window: order_rules.Window,
    rules: order_rules.CountingRules = DEFAULT_RULES,
    with_customers: bool = True,
) -> pd.DataFrame:
    """Run build_customer_measures on a stored dataset; return it indexed by customer_id."""
    with store.open_for_read(workspace, name) as backend:
        customers = backend.table("customers") if with_customers else None
        table = cut_points.build_customer_measures(
            backend.table("orders"), window, rules, customers
        )
        frame = table.to_pandas()
    assert frame.customer_id.is_unique
    return frame.set_index("customer_id")


@pytest.fixture
def shop(workspace: Path, make_dataset) -> Path:
    make_dataset("shop", ORDERS, CUSTOMERS)
    return workspace


def test_latest_order_date_is_the_latest_order_of_any_state(shop: Path) -> None:
    with store.open_for_read(shop, "shop") as backend:
        # A5 on 2024-04-02 is the latest order (B3 is 2024-04-01 00:00)
        assert order_rules.latest_order_date(backend.table("orders")) == dt.date(2024, 4, 2)


def test_measures_all_history(shop: Path) -> None:
    m = measures_of(shop, "shop", order_rules.Window(as_of=AS_OF))
    # Guests (no customer_id) are not customers; P comes from the customers file only.
    assert sorted(m.index) == ["A", "B", "C", "D", "P"]

    a = m.loc["A"]
    # valid orders A1 (100) and A2 (50, net 30); A3 cancelled, A4 a return, A5 after the date
    assert a.status == "scored"
    assert a.frequency == 2
    assert a.monetary == Decimal("115.00")  # 100 + 30 - 15
    # last valid order 2024-03-01 (23:30 is still March 1): March 1 -> March 31 = 30 days
    assert a.recency_days == 30
    assert a.last_order_on == pd.Timestamp("2024-03-01")
    assert a.first_order_on == pd.Timestamp("2024-01-10")
    assert a.orders_ever == 2

    b = m.loc["B"]
    # B1 at 23:59:59 on the analysis date counts; B3 at 00:00 the day after does not
    assert (b.status, b.frequency, b.monetary, b.recency_days) == ("scored", 1, Decimal("40"), 0)

    c = m.loc["C"]
    # 2024-01-20 -> 2024-03-31: 11 days left in January + 29 + 31 = 71
    assert (c.frequency, c.monetary, c.recency_days) == (1, Decimal("60.00"), 71)

    d = m.loc["D"]
    # last order 2024-03-10 -> 21 days; 25 + 35 = 60
    assert (d.frequency, d.monetary, d.recency_days) == (2, Decimal("60.00"), 21)

    p = m.loc["P"]
    assert p.status == "prospect"
    assert p.frequency == 0
    assert p.monetary == Decimal("0")
    assert pd.isna(p.recency_days)
    assert p.orders_ever == 0


def test_guest_orders_do_not_leak_into_customers(shop: Path) -> None:
    m = measures_of(shop, "shop", order_rules.Window(as_of=AS_OF))
    # 500.00 of guest revenue exists; the customers' revenue is 115 + 40 + 60 + 60 + 0 = 275
    assert m.monetary.sum() == Decimal("275.00")


def test_cancelled_orders_count_when_the_rule_says_so(shop: Path) -> None:
    rules = order_rules.CountingRules(exclude_cancelled=False)
    a = measures_of(shop, "shop", order_rules.Window(as_of=AS_OF), rules).loc["A"]
    # A3 (70, 2024-03-20) now counts: 3 orders, 115 + 70 = 185, recency 11 days
    assert (a.frequency, a.monetary, a.recency_days) == (3, Decimal("185.00"), 11)


def test_look_back_window_start(shop: Path) -> None:
    m = measures_of(shop, "shop", order_rules.Window(as_of=AS_OF, start=dt.date(2024, 2, 1)))
    # A: only A2 (net 30) and the return (-15) fall inside the window
    assert (m.loc["A", "frequency"], m.loc["A", "monetary"]) == (1, Decimal("15.00"))
    assert m.loc["A", "first_order_on"] == pd.Timestamp("2024-03-01")
    # C ordered only before the window: known, but outside it
    c = m.loc["C"]
    assert c.status == "outside_window"
    assert (c.frequency, c.monetary, c.orders_ever) == (0, Decimal("0"), 1)
    assert pd.isna(c.recency_days)
    # D keeps only D2
    assert (m.loc["D", "frequency"], m.loc["D", "monetary"]) == (1, Decimal("35.00"))


def test_window_start_is_inclusive(shop: Path) -> None:
    # A window starting on the day of C's only order keeps C in it
    m = measures_of(shop, "shop", order_rules.Window(as_of=AS_OF, start=dt.date(2024, 1, 20)))
    assert m.loc["C", "status"] == "scored"
    m = measures_of(shop, "shop", order_rules.Window(as_of=AS_OF, start=dt.date(2024, 1, 21)))
    assert m.loc["C", "status"] == "outside_window"


def test_excluded_period(shop: Path) -> None:
    window = order_rules.Window(
        as_of=AS_OF, excluded=((dt.date(2024, 3, 5), dt.date(2024, 3, 15)),)
    )
    m = measures_of(shop, "shop", window)
    d = m.loc["D"]
    # D2 (2024-03-10) is excluded: D1 only; 2024-01-05 -> 2024-03-31 = 26 + 29 + 31 = 86 days
    assert (d.frequency, d.monetary, d.recency_days) == (1, Decimal("25.00"), 86)
    # A is untouched by that period
    assert (m.loc["A", "frequency"], m.loc["A", "monetary"]) == (2, Decimal("115.00"))


def test_excluded_period_bounds_are_inclusive(shop: Path) -> None:
    window = order_rules.Window(
        as_of=AS_OF, excluded=((dt.date(2024, 3, 10), dt.date(2024, 3, 10)),)
    )
    assert measures_of(shop, "shop", window).loc["D", "frequency"] == 1


def test_analysis_date_in_the_past(shop: Path) -> None:
    m = measures_of(shop, "shop", order_rules.Window(as_of=dt.date(2024, 2, 29)))
    # only January orders exist by then; B had no order yet -> not a customer with orders
    a = m.loc["A"]
    # A1 on 2024-01-10 -> 2024-02-29: 21 + 29 = 50 days
    assert (a.frequency, a.monetary, a.recency_days) == (1, Decimal("100.00"), 50)
    # B's orders are all after 2024-02-29, and B is not in the customers file
    assert "B" not in m.index


def test_zero_value_orders(workspace: Path, make_dataset) -> None:
    make_dataset(
        "zero",
        [
            {"order_id": "1", "customer_id": "Z", "ordered_at": "2024-03-01", "order_total": "20"},
            # a free sample order on 2024-03-21
            {"order_id": "2", "customer_id": "Z", "ordered_at": "2024-03-21", "order_total": "0"},
            # a customer whose only order was free
            {"order_id": "3", "customer_id": "F", "ordered_at": "2024-03-11", "order_total": "0"},
        ],
    )
    window = order_rules.Window(as_of=AS_OF)
    default = measures_of(workspace, "zero", window)
    # the free order is no order: 1 order, last on 2024-03-01 -> 30 days
    assert (default.loc["Z", "frequency"], default.loc["Z", "recency_days"]) == (1, 30)
    assert default.loc["Z", "monetary"] == Decimal("20.00")
    # F has no valid order at all: not scored
    assert default.loc["F", "status"] == "prospect"
    assert default.loc["F", "frequency"] == 0

    counted = measures_of(
        workspace, "zero", window, order_rules.CountingRules(exclude_zero_value=False)
    )
    # now 2 orders, last on 2024-03-21 -> 10 days; revenue unchanged
    assert (counted.loc["Z", "frequency"], counted.loc["Z", "recency_days"]) == (2, 10)
    assert counted.loc["Z", "monetary"] == Decimal("20.00")
    # F: 1 order on 2024-03-11 -> 20 days
    assert counted.loc["F", "status"] == "scored"
    assert (counted.loc["F", "frequency"], counted.loc["F", "recency_days"]) == (1, 20)


def test_return_row_with_negative_total(workspace: Path, make_dataset) -> None:
    make_dataset(
        "returns",
        [
            {"order_id": "1", "customer_id": "R", "ordered_at": "2024-03-01", "order_total": "80"},
            {
                "order_id": "2",
                "customer_id": "R",
                "ordered_at": "2024-03-02",
                "order_total": "45.5",
            },
            # a return of 30.25 recorded as its own row with a negative total
            {
                "order_id": "3",
                "customer_id": "R",
                "ordered_at": "2024-03-30",
                "order_total": "-30.25",
            },
        ],
    )
    for rules in (order_rules.CountingRules(), order_rules.CountingRules(exclude_zero_value=False)):
        r = measures_of(workspace, "returns", order_rules.Window(as_of=AS_OF), rules).loc["R"]
        # 80 + 45.50 - 30.25 = 95.25; the return is never an order and never the last order:
        # last order 2024-03-02 -> 29 days
        assert (r.frequency, r.monetary, r.recency_days) == (2, Decimal("95.25"), 29)


def test_customers_file_without_customers_table(shop: Path) -> None:
    m = measures_of(shop, "shop", order_rules.Window(as_of=AS_OF), with_customers=False)
    assert sorted(m.index) == ["A", "B", "C", "D"]


# ---------------------------------------------------------------- the threshold rule

MEASURE_SCHEMA = ibis.schema(
    {
        "customer_id": "string",
        "status": "string",
        "recency_days": "int64",
        "frequency": "int64",
        "monetary": "decimal(38, 2)",
    }
)


def measures_table(rows: list[tuple[str, str, int | None, int, str]]) -> ibis.Table:
    """An in-memory table shaped like build_customer_measures (the columns scoring reads)."""
    frame = pd.DataFrame(
        [(cid, status, rec, freq, Decimal(mon)) for cid, status, rec, freq, mon in rows],
        columns=["customer_id", "status", "recency_days", "frequency", "monetary"],
    )
    frame["recency_days"] = frame.recency_days.astype("Int64")
    return ibis.memtable(frame, schema=MEASURE_SCHEMA)


def scores_of(rows, cuts: cut_points.Cuts) -> dict[str, tuple[int, int, int]]:
    scored = cut_points.score_customers(measures_table(rows), cuts).to_pandas()
    return {
        row.customer_id: (int(row.r_score), int(row.f_score), int(row.m_score))
        for row in scored.itertuples()
    }


# (cuts, [(value, expected score), ...]) per scale, each written out by hand:
# a value equal to a cut gets the better score, one step past it the worse one.
RECENCY_CASES = {
    5: (
        (10, 30, 90, 180),
        [
            (0, 5),
            (10, 5),
            (11, 4),
            (30, 4),
            (31, 3),
            (90, 3),
            (91, 2),
            (180, 2),
            (181, 1),
            (4000, 1),
        ],
    ),
    4: ((30, 90, 365), [(0, 4), (30, 4), (31, 3), (90, 3), (91, 2), (365, 2), (366, 1)]),
    3: ((180, 365), [(0, 3), (180, 3), (181, 2), (365, 2), (366, 1)]),
}
FREQUENCY_CASES = {
    5: (
        (2, 3, 5, 10),
        [(1, 1), (2, 2), (3, 3), (4, 3), (5, 4), (9, 4), (10, 5), (250, 5)],
    ),
    4: ((2, 4, 8), [(1, 1), (2, 2), (3, 2), (4, 3), (7, 3), (8, 4)]),
    3: ((2, 3), [(1, 1), (2, 2), (3, 3), (40, 3)]),
}
MONETARY_CASES = {
    5: (
        (50, 100, 250, 1000),
        [
            ("0.00", 1),
            ("49.99", 1),
            ("50.00", 2),
            ("99.99", 2),
            ("100.00", 3),
            ("249.99", 3),
            ("250.00", 4),
            ("999.99", 4),
            ("1000.00", 5),
            ("123456.78", 5),
        ],
    ),
    4: (
        (100, 500, 1000),
        [("99.99", 1), ("100.00", 2), ("499.99", 2), ("500.00", 3), ("999.99", 3), ("1000.00", 4)],
    ),
    3: ((100.5, 200), [("100.49", 1), ("100.50", 2), ("199.99", 2), ("200.00", 3)]),
}


@pytest.mark.parametrize("n", [3, 4, 5])
def test_recency_threshold_boundaries(n: int) -> None:
    r_cuts, cases = RECENCY_CASES[n]
    f_cuts, m_cuts = FREQUENCY_CASES[n][0], MONETARY_CASES[n][0]
    cuts = cut_points.validate_cuts(cut_points.Cuts(r_cuts, f_cuts, m_cuts))
    rows = [(f"c{i}", "scored", rec, 1, "1.00") for i, (rec, _) in enumerate(cases)]
    got = scores_of(rows, cuts)
    assert [got[f"c{i}"][0] for i in range(len(cases))] == [s for _, s in cases]


@pytest.mark.parametrize("n", [3, 4, 5])
def test_frequency_threshold_boundaries(n: int) -> None:
    f_cuts, cases = FREQUENCY_CASES[n]
    cuts = cut_points.validate_cuts(
        cut_points.Cuts(RECENCY_CASES[n][0], f_cuts, MONETARY_CASES[n][0])
    )
    rows = [(f"c{i}", "scored", 1, freq, "1.00") for i, (freq, _) in enumerate(cases)]
    got = scores_of(rows, cuts)
    assert [got[f"c{i}"][1] for i in range(len(cases))] == [s for _, s in cases]


@pytest.mark.parametrize("n", [3, 4, 5])
def test_monetary_threshold_boundaries(n: int) -> None:
    m_cuts, cases = MONETARY_CASES[n]
    cuts = cut_points.validate_cuts(
        cut_points.Cuts(RECENCY_CASES[n][0], FREQUENCY_CASES[n][0], m_cuts)
    )
    rows = [(f"c{i}", "scored", 1, 1, mon) for i, (mon, _) in enumerate(cases)]
    got = scores_of(rows, cuts)
    assert [got[f"c{i}"][2] for i in range(len(cases))] == [s for _, s in cases]


def test_scoring_leaves_out_unscored_customers() -> None:
    rows = [
        ("a", "scored", 3, 2, "60.00"),
        ("p", "prospect", None, 0, "0.00"),
        ("o", "outside_window", None, 0, "0.00"),
    ]
    cuts = cut_points.Cuts((10, 30, 90, 180), (2, 3, 5, 10), (50, 100, 250, 1000))
    # a: recency 3 <= 10 -> 5; frequency 2 >= 2 -> 2; 60 >= 50 -> 2
    assert scores_of(rows, cuts) == {"a": (5, 2, 2)}


# ---------------------------------------------------------------- quantile cut points

# Ten scored customers (plus a prospect and an outside-window customer that must be ignored).
# Sorted values:
#   recency   0, 3, 7, 7, 14, 20, 30, 45, 60, 100
#   frequency 1, 1, 1, 2, 2, 3, 4, 5, 8, 12
#   monetary  10, 25.50, 40, 55.25, 80, 120, 150, 300, 480, 1000
# (paired in a shuffled order so that no measure's order follows another's).
TEN = [
    ("c01", "scored", 30, 2, "480.00"),
    ("c02", "scored", 0, 12, "55.25"),
    ("c03", "scored", 100, 1, "10.00"),
    ("c04", "scored", 7, 5, "150.00"),
    ("c05", "scored", 14, 1, "1000.00"),
    ("c06", "scored", 3, 3, "25.50"),
    ("c07", "scored", 60, 8, "120.00"),
    ("c08", "scored", 45, 1, "80.00"),
    ("c09", "scored", 7, 4, "300.00"),
    ("c10", "scored", 20, 2, "40.00"),
    ("p1", "prospect", None, 0, "0.00"),
    ("o1", "outside_window", None, 0, "0.00"),
]


def test_quantile_cuts_five_scores_by_hand() -> None:
    cuts = cut_points.quantile_cuts(measures_table(TEN), 5)
    # quantile_cont at p: position p * (10 - 1) in the sorted values, linear interpolation.
    # recency: p=.2 pos 1.8 -> 3 + .8*(7-3) = 6.2 -> largest value <= 6.2 is 3
    #          p=.4 pos 3.6 -> 7 + .6*(14-7) = 11.2 -> 7
    #          p=.6 pos 5.4 -> 20 + .4*(30-20) = 24 -> 20
    #          p=.8 pos 7.2 -> 45 + .2*(60-45) = 48 -> 45
    assert cuts.recency == (3, 7, 20, 45)
    # frequency: .2 -> 1 + .8*0 = 1 -> smallest value above 1 is 2
    #            .4 -> 2 + .6*0 = 2 -> 3
    #            .6 -> 3 + .4*(4-3) = 3.4 -> 4
    #            .8 -> 5 + .2*(8-5) = 5.6 -> 8
    assert cuts.frequency == (2, 3, 4, 8)
    # monetary: .2 -> 25.5 + .8*14.5 = 37.1 -> 40
    #           .4 -> 55.25 + .6*24.75 = 70.1 -> 80
    #           .6 -> 120 + .4*30 = 132 -> 150
    #           .8 -> 300 + .2*180 = 336 -> 480
    assert cuts.monetary == (40, 80, 150, 480)
    assert cut_points.collapsed_scores(cuts) == {}

    scores = scores_of(TEN, cuts)
    # R: recency 0,3 -> 5; 7,7 -> 4; 14,20 -> 3; 30,45 -> 2; 60,100 -> 1: two customers per score
    assert pd.Series([s[0] for s in scores.values()]).value_counts().to_dict() == {
        5: 2,
        4: 2,
        3: 2,
        2: 2,
        1: 2,
    }
    # c04: recency 7 -> 4; frequency 5 (>= 4, < 8) -> 4; 150 (>= 150) -> 4
    assert scores["c04"] == (4, 4, 4)
    # c02: 0 -> 5; 12 -> 5; 55.25 (>= 40, < 80) -> 2
    assert scores["c02"] == (5, 5, 2)
    # c05: 14 -> 3; 1 -> 1; 1000 -> 5
    assert scores["c05"] == (3, 1, 5)


def test_quantile_cuts_four_scores_by_hand() -> None:
    cuts = cut_points.quantile_cuts(measures_table(TEN), 4)
    # positions .25*9 = 2.25, .5*9 = 4.5, .75*9 = 6.75
    # recency: 7 + .25*0 = 7 -> 7; 14 + .5*6 = 17 -> 14; 30 + .75*15 = 41.25 -> 30
    assert cuts.recency == (7, 14, 30)
    # frequency: 1 + .25*1 = 1.25 -> 2; 2 + .5*1 = 2.5 -> 3; 4 + .75*1 = 4.75 -> 5
    assert cuts.frequency == (2, 3, 5)
    # monetary: 40 + .25*15.25 = 43.8125 -> 55.25; 80 + .5*40 = 100 -> 120; 150 + .75*150 = 262.5
    # -> 300
    assert cuts.monetary == (55.25, 120, 300)


def test_quantile_cuts_heavy_ties_in_frequency() -> None:
    # 7 of 10 customers bought once; frequencies 1,1,1,1,1,1,1,2,3,5
    freqs = [1, 1, 1, 1, 1, 1, 1, 2, 3, 5]
    rows = [(f"c{i}", "scored", i, f, f"{10 * (i + 1)}.00") for i, f in enumerate(freqs)]
    cuts = cut_points.quantile_cuts(measures_table(rows), 5)
    # .2, .4, .6 -> positions 1.8, 3.6, 5.4 all between ones -> quantile 1 -> cut 2
    # .8 -> position 7.2: 2 + .2*(3-2) = 2.2 -> cut 3
    assert cuts.frequency == (2, 2, 2, 3)
    scores = scores_of(rows, cuts)
    # one-time buyers get F=1; 2 orders reach all three cuts at 2 -> F=4; 3 and 5 -> F=5
    assert [scores[f"c{i}"][1] for i in range(10)] == [1, 1, 1, 1, 1, 1, 1, 4, 5, 5]
    # so F=2 and F=3 are the scores nobody can get
    assert cut_points.collapsed_scores(cuts) == {"frequency": [2, 3]}


def test_quantile_cuts_ties_at_the_top_leave_no_cut() -> None:
    # frequencies 1 x5, 2 x5: .2 pos 1.8 -> 1 -> 2; .4 pos 3.6 -> 1 -> 2;
    # .6 pos 5.4 -> 2 and .8 pos 7.2 -> 2: no value above 2, so those cut points do not exist
    freqs = [1, 2, 1, 2, 1, 2, 1, 2, 1, 2]
    rows = [(f"c{i}", "scored", i, f, f"{i + 1}.00") for i, f in enumerate(freqs)]
    cuts = cut_points.quantile_cuts(measures_table(rows), 5)
    assert cuts.frequency == (2, 2, None, None)
    scores = scores_of(rows, cuts)
    # 1 -> F=1, 2 -> F=3 (reaches the two cuts at 2); 2, 4 and 5 are unreachable
    assert {scores[f"c{i}"][1] for i in range(10)} == {1, 3}
    assert cut_points.collapsed_scores(cuts)["frequency"] == [2, 4, 5]


def test_collapsed_recency_scores() -> None:
    # recency 5 x7, 10, 20, 30: .2/.4/.6 -> 5; .8 pos 7.2 -> 10 + .2*10 = 12 -> largest <= 12 is 10
    recs = [5, 5, 5, 5, 5, 5, 5, 10, 20, 30]
    rows = [(f"c{i}", "scored", r, i + 1, f"{i + 1}.00") for i, r in enumerate(recs)]
    cuts = cut_points.quantile_cuts(measures_table(rows), 5)
    assert cuts.recency == (5, 5, 5, 10)
    scores = scores_of(rows, cuts)
    # 5 -> R=5 (all four cuts); 10 -> R=2 (only the cut at 10); 20, 30 -> R=1
    assert [scores[f"c{i}"][0] for i in range(10)] == [5] * 7 + [2, 1, 1]
    # R=4 and R=3 are unreachable
    assert cut_points.collapsed_scores(cuts)["recency"] == [3, 4]


def test_quantile_cuts_without_scored_customers() -> None:
    rows = [("p1", "prospect", None, 0, "0.00")]
    with pytest.raises(cut_points.CutsError):
        cut_points.quantile_cuts(measures_table(rows), 5)


def test_quantile_cuts_reject_other_scales() -> None:
    with pytest.raises(cut_points.CutsError):
        cut_points.quantile_cuts(measures_table(TEN), 6)


# ---------------------------------------------------------------- validate_cuts

GOOD = ((10, 30, 90, 180), (2, 3, 5, 10), (50, 100, 250, 1000))


def test_validate_cuts_accepts_good_cuts() -> None:
    cuts = cut_points.Cuts(*GOOD)
    assert cut_points.validate_cuts(cuts) is cuts
    assert cuts.n_scores == 5


@pytest.mark.parametrize(
    "recency",
    [
        (10, math.nan, 90, 180),
        (10, 30, math.inf, 180),
        (-1, 30, 90, 180),
        (10, 30, 30, 180),  # not strictly rising
        (10, 90, 30, 180),  # falling
        (10, 30, 90),  # 3 cut points for 5 scores (F and M have 4)
        (10, 30, 90, 180, 365),
        (10, None, 90, 180),
        ("5; DROP TABLE x", 30, 90, 180),
    ],
)
def test_validate_cuts_rejects(recency) -> None:
    with pytest.raises(cut_points.CutsError):
        cut_points.validate_cuts(cut_points.Cuts(recency, GOOD[1], GOOD[2]))


@pytest.mark.parametrize("monetary", [(50, 100, 250, -math.inf), (50, 50.0, 250, 1000)])
def test_validate_cuts_rejects_monetary(monetary) -> None:
    with pytest.raises(cut_points.CutsError):
        cut_points.validate_cuts(cut_points.Cuts(GOOD[0], GOOD[1], monetary))


def test_validate_cuts_rejects_scales_other_than_3_4_5() -> None:
    with pytest.raises(cut_points.CutsError):
        cut_points.validate_cuts(cut_points.Cuts((10,), (2,), (50,)))  # 2 scores
    with pytest.raises(cut_points.CutsError):
        cut_points.validate_cuts(
            cut_points.Cuts((1, 2, 3, 4, 5), (1, 2, 3, 4, 5), (1, 2, 3, 4, 5))
        )  # 6


def test_counting_rules_describe_the_rules() -> None:
    text = order_rules.CountingRules(exclude_zero_value=False).describe()
    assert "orders with a total of 0 count as orders" in text
    assert "cancelled orders are ignored" in text
