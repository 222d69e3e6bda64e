"""SCALE as the article defines it (issue 17, item 4): every letter, the total and CAC by channel
mix, recomputed by hand on a ten-customer table.

Segments (home country FR: 5 of the 9 known countries; the store's first order 2024-01-15, so its
first three months end 2024-04-14; 10 customers, 13 orders, 900 of revenue):

- A (4): a1 2 orders 100, e-mail, FR, 01-15, Email, survey 9; a2 1 order 60, e-mail + SMS, FR,
  03-01, Direct; a3 1 order 40, DE, 06-01, Display; a4 a prospect, nothing known.
  AOV 200 / 4 = 50; Access (2/4 + 1/4 + 2/4 + 2/4) / 4 = 0.4375; early 2/4.
- B (3): b1 3 orders 300, e-mail + SMS, FR, 02-01, Paid Social, survey 7; b2 1 order 100,
  e-mail, FR, 05-01, Paid Social, survey 5; b3 2 orders 200, US, 04-14, Organic Search.
  AOV 600 / 6 = 100; Access (2/3 + 1/3 + 2/3 + 2/3) / 4 = 7/12; early 2/3.
- C (2): c1 1 order 30, DE, 08-01, Direct; c2 1 order 50, e-mail, FR, 09-01, Unattributed,
  survey 4. AOV 40; Access (1/2 + 0 + 1/2 + 0) / 4 = 0.25; early 0.
- x (no segment): 1 order 20, DE, 10-01, Direct.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator

import ibis
import ibis.expr.types as ir
import pandas as pd
import pytest

from dashboard.behaviour import scale

D = dt.date
ROWS = [
    # id, seg, orders, revenue, e-mail, sms, country, first order, channel, survey
    ("a1", "A", 2, 100.0, True, False, "FR", D(2024, 1, 15), "Email", 9.0),
    ("a2", "A", 1, 60.0, True, True, "FR", D(2024, 3, 1), "Direct", None),
    ("a3", "A", 1, 40.0, False, False, "DE", D(2024, 6, 1), "Display", None),
    ("a4", "A", 0, 0.0, None, None, None, None, None, None),
    ("b1", "B", 3, 300.0, True, True, "FR", D(2024, 2, 1), "Paid Social", 7.0),
    ("b2", "B", 1, 100.0, True, False, "FR", D(2024, 5, 1), "Paid Social", 5.0),
    ("b3", "B", 2, 200.0, False, False, "US", D(2024, 4, 14), "Organic Search", None),
    ("c1", "C", 1, 30.0, False, False, "DE", D(2024, 8, 1), "Direct", None),
    ("c2", "C", 1, 50.0, True, False, "FR", D(2024, 9, 1), "Unattributed", 4.0),
    ("x1", None, 1, 20.0, False, False, "DE", D(2024, 10, 1), "Direct", None),
]
SCHEMA = ibis.schema(
    {
        "customer_id": "string",
        "seg": "string",
        "orders": "int64",
        "net_revenue": "decimal(18, 2)",
        "accepts_marketing": "boolean",
        "accepts_sms": "boolean",
        "country": "string",
        "first_order_on": "date",
        "first_order_channel": "string",
        "survey_score": "float64",
    }
)
LOVE = {"A": 8.0, "B": 3.0}  # C keeps the default 5
# Paid Search is nobody's channel; Display has spend but no new customer: its CAC is unknown.
CHANNEL_CAC = {"Email": 10.0, "Paid Social": 30.0, "Paid Search": 40.0, "Display": math.nan}


@pytest.fixture(scope="module")
def customers() -> Iterator[ir.Table]:
    con = ibis.duckdb.connect()
    frame = pd.DataFrame(ROWS, columns=list(SCHEMA.names))
    yield con.create_table("customers", ibis.memtable(frame, schema=SCHEMA))
    con.disconnect()


@pytest.fixture(scope="module")
def measures(customers: ir.Table) -> scale.ScaleMeasures:
    members = {s: customers.seg.fill_null("") == s for s in ("A", "B", "C")}
    return scale.measure_segments(customers, members, early_months=3)


def by_segment(table: pd.DataFrame) -> dict[str, pd.Series]:
    return {row.segment: row for _, row in table.iterrows()}


def test_the_raw_figures_behind_each_letter(measures: scale.ScaleMeasures) -> None:
    assert measures.home_country == "FR"
    assert measures.early_until == D(2024, 4, 14)
    assert math.isclose(measures.store_aov, 900 / 13)
    a, b, c = by_segment(measures.table).values()
    assert [a["size"], b["size"], c["size"]] == [4, 3, 2]
    assert [a.share_customers, b.share_customers, c.share_customers] == [0.4, 0.3, 0.2]
    assert [a.aov, b.aov, c.aov] == [50.0, 100.0, 40.0]
    assert math.isclose(a.aov_index, 50 / (900 / 13))
    assert [a.email_share, a.sms_share, a.local_share, a.channel_share] == [0.5, 0.25, 0.5, 0.5]
    assert [c.email_share, c.sms_share, c.local_share, c.channel_share] == [0.5, 0.0, 0.5, 0.0]
    assert math.isclose(a.access, 0.4375) and math.isclose(b.access, 7 / 12)
    assert math.isclose(c.access, 0.25)
    assert [a.early_share, c.early_share] == [0.5, 0.0] and math.isclose(b.early_share, 2 / 3)
    assert math.isclose(a.love_repeat_rate, 1 / 3) and a.love_satisfaction == 9.0
    assert math.isclose(b.love_repeat_rate, 2 / 3) and b.love_satisfaction == 6.0
    assert [a.buyers, b.buyers, c.buyers] == [3, 3, 2]
    assert math.isclose(b.share_revenue, 600 / 900)


def test_every_letter_and_the_total_by_hand(measures: scale.ScaleMeasures) -> None:
    table = scale.rank_segments(measures, LOVE, currency="EUR")
    assert list(table.columns) == scale.SCALE_COLUMNS
    assert list(table.segment) == ["B", "A", "C"]
    a, b, c = (by_segment(table)[s] for s in "ABC")
    # Min-max across A, B, C: size .4/.3/.2, AOV 50/100/40, access .4375/.5833/.25,
    # love 8/3/5, early .5/.6667/0.
    assert [a.size_score, b.size_score, c.size_score] == pytest.approx([1, 0.5, 0])
    assert [a.currency_score, b.currency_score, c.currency_score] == pytest.approx([1 / 6, 1, 0])
    assert [a.access_score, b.access_score, c.access_score] == pytest.approx([0.5625, 1, 0])
    assert [a.love_score, b.love_score, c.love_score] == pytest.approx([1, 0, 0.4])
    assert [a.early_score, b.early_score, c.early_score] == pytest.approx([0.75, 1, 0])
    assert a.scale_score == pytest.approx((1 + 1 / 6 + 0.5625 + 1 + 0.75) / 5)  # 0.6958
    assert b.scale_score == pytest.approx(3.5 / 5)
    assert c.scale_score == pytest.approx(0.4 / 5)
    assert (a.love, c.love) == (8.0, 5.0)


def test_each_score_says_the_figure_behind_it(measures: scale.ScaleMeasures) -> None:
    a = by_segment(scale.rank_segments(measures, LOVE, currency="EUR"))["A"]
    assert a.size_why == "4 customers, 40.0% of all"
    assert a.currency_why == "AOV €50.00, 0.72x the store's €69.23"
    assert a.access_why == "e-mail 50.0%, SMS 25.0%, in FR 50.0%, addressable channel 50.0%"
    assert a.love_why == "your rating 8/10; repeat rate 33.3%, survey 9.0"
    assert a.early_why == "50.0% first bought by 2024-04-14"


def test_weights_change_the_rank(measures: scale.ScaleMeasures) -> None:
    table = scale.rank_segments(measures, LOVE, weights={"love": 3.0})
    assert list(table.segment) == ["A", "B", "C"]
    assert list(table.scale_score) == pytest.approx(
        [(1 + 1 / 6 + 0.5625 + 3 + 0.75) / 7, 3.5 / 7, 1.2 / 7]
    )


def test_only_the_weighted_letters_count(measures: scale.ScaleMeasures) -> None:
    weights = {**dict.fromkeys(scale.LETTERS, 0.0), "currency": 1.0}
    table = scale.rank_segments(measures, LOVE, weights=weights)
    assert list(table.segment) == ["B", "A", "C"]
    assert list(table.scale_score) == pytest.approx([1, 1 / 6, 0])


def test_cac_by_the_segments_channel_mix(measures: scale.ScaleMeasures) -> None:
    table = scale.rank_segments(measures, LOVE, channel_cac=CHANNEL_CAC)
    at = table.columns.get_loc("early_why") + 1
    assert list(table.columns[at : at + 4]) == scale.CAC_COLUMNS
    a, b, c = (by_segment(table)[s] for s in "ABC")
    # A: Email 10 and Direct 0 (no spend); Display's CAC unknown, a4 has no channel: 10 / 2.
    # B: Paid Social 30 twice, Organic Search 0: 60 / 3. C: Direct 0; Unattributed left out.
    assert [a.cac_channel_mix, b.cac_channel_mix, c.cac_channel_mix] == [5.0, 20.0, 0.0]
    assert [a.conversion, b.conversion, c.conversion] == [0.75, 1.0, 1.0]
    assert a.revenue_per_customer == pytest.approx(200 / 3) and b.revenue_per_customer == 200
    assert a.revenue_to_cac == pytest.approx(200 / 3 / 5) and b.revenue_to_cac == 10.0
    assert math.isnan(c.revenue_to_cac)  # nothing spent to acquire C


def test_channel_cacs_come_from_the_economics_rows_per_channel() -> None:
    economics = pd.DataFrame(
        {
            "channel": ["Paid Search", "Email", "Paid channels", "All channels (blended)"],
            "cac": [40.0, 10.0, 40.0, 25.0],
        }
    )
    assert scale.read_channel_cacs(economics) == {"Paid Search": 40.0, "Email": 10.0}


@pytest.mark.parametrize(
    ("kwargs", "sentence"),
    [
        ({"love": {"A": 11.0}}, "Love is your own preference from 0 to 10 for each segment."),
        ({"weights": {"size": -1.0}}, "SCALE weights must be 0 or more."),
        (
            {"weights": dict.fromkeys(scale.LETTERS, 0.0)},
            "Give at least one SCALE letter a weight above 0.",
        ),
    ],
)
def test_settings_that_cannot_be_used_say_why(
    measures: scale.ScaleMeasures, kwargs: dict[str, object], sentence: str
) -> None:
    with pytest.raises(scale.ScaleError) as raised:
        scale.rank_segments(measures, **kwargs)
    assert str(raised.value) == sentence


def test_the_first_months_must_be_sensible(customers: ir.Table) -> None:
    with pytest.raises(scale.ScaleError, match="1 to 24"):
        scale.measure_segments(customers, {"A": customers.seg == "A"}, early_months=0)


def test_equal_figures_score_one_for_everyone(measures: scale.ScaleMeasures) -> None:
    table = scale.rank_segments(measures)  # default Love 5 for all
    assert list(table.love_score) == [1.0, 1.0, 1.0]
