"""Invariants of the whole pipeline on real and demo data, for every preset scheme.

(a) UCI Online Retail (tests/data/online_retail.parquet, CC BY 4.0, see tests/data/README.md),
    converted here to canonical invoice-level orders with DuckDB SQL over the parquet:
    - order_id = InvoiceNo; customer_id = CustomerID as text (NULL when missing);
      ordered_at = the invoice's first InvoiceDate; country = its Country; currency GBP;
    - amount = sum(Quantity * UnitPrice) in exact decimals, rounded to cents;
    - a normal invoice: order_total = amount, refunded_amount = 0, net_total = amount;
    - a cancellation invoice (InvoiceNo starting with C, negative quantities) is a return row:
      order_total = 0, refunded_amount = -amount, net_total = amount (negative), not cancelled.
      So it never counts as an order but reduces the customer's revenue (docs/segments.md §1.1).
(b) The demo store, generated and ingested once per session (conftest ``demo_dataset``).

Invariants: every customer in exactly one segment, summary totals and shares, per-segment revenue
and counts equal an independent pandas grouping, scores follow the threshold rule, exported CSV
row counts per segment; and for (a) facts computed straight from the parquet with pandas.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashboard import export
from dashboard.rfm import analysis, cell_index, cut_points, schemes, segments, sensitivity
from dashboard.workspace import store

PARQUET = Path(__file__).resolve().parents[1] / "data" / "online_retail.parquet"
PRESETS = sorted(schemes.PRESETS)

CONVERT = """
INSERT INTO orders (order_id, customer_id, ordered_at, order_total, refunded_amount, net_total,
                    currency, is_cancelled, country, ingest_id)
SELECT order_id,
       customer_id,
       ordered_at,
       CASE WHEN order_id LIKE 'C%' THEN 0 ELSE amount END,
       CASE WHEN order_id LIKE 'C%' THEN -amount ELSE 0 END,
       amount,
       'GBP',
       false,
       country,
       1
FROM (
    SELECT InvoiceNo AS order_id,
           CAST(max(CustomerID) AS VARCHAR) AS customer_id,
           min(InvoiceDate) AS ordered_at,
           CAST(sum(Quantity * CAST(UnitPrice AS DECIMAL(18, 3))) AS DECIMAL(18, 2)) AS amount,
           min(Country) AS country
    FROM read_parquet(?)
    GROUP BY InvoiceNo
)
"""


# ---------------------------------------------------------------- shared invariant check


def csv_rows(frame: pd.DataFrame) -> int:
    rows = list(csv.reader(io.StringIO(export.to_csv_bytes(frame).decode("utf-8"), newline="")))
    return len(rows) - 1


def threshold_scores(values: pd.Series, cuts, higher_is_better: bool) -> pd.Series:
    """1 + number of cut points reached (recency: value <= cut; F and M: value >= cut)."""
    score = pd.Series(1, index=values.index)
    for cut in cuts:
        if cut is not None:
            score += (values >= cut if higher_is_better else values <= cut).astype(int)
    return score


def check_invariants(base: analysis.CustomerBase, key: str) -> pd.DataFrame:
    scheme = schemes.get_scheme(key)
    cuts = cut_points.resolve_cuts(base.measures, cut_points.ScoringSpec(scheme))
    measures = base.measures.to_pandas()
    eligible = measures[
        measures.status.isin([cut_points.STATUS_SCORED, cut_points.STATUS_PROSPECT])
    ]
    members = analysis.segment_members(base, cuts, scheme)
    summary = analysis.segment_summary(base, cuts, scheme).set_index("segment")

    # every scored customer and prospect is in exactly one segment; nobody else is
    assert members.customer_id.is_unique
    assert len(members) == len(eligible)
    assert set(members.customer_id) == set(eligible.customer_id)
    assert list(summary.index) == [*scheme.segments, schemes.PROSPECTS]
    assert set(members.segment) <= set(summary.index)
    prospects = members.segment == schemes.PROSPECTS
    assert prospects.sum() == (eligible.status == cut_points.STATUS_PROSPECT).sum()

    # summary totals and shares
    assert summary.customers.sum() == len(eligible)
    assert abs(summary.share_customers.sum() - 1) < 1e-9
    assert abs(summary.share_revenue.sum() - 1) < 1e-9

    # per segment: an independent grouping of the per-customer table
    counts = members.groupby("segment").size()
    orders = members.groupby("segment").frequency.sum()
    revenue = members.groupby("segment").monetary.agg(lambda s: sum(s, Decimal(0)))
    for segment in summary.index:
        assert summary.customers[segment] == counts.get(segment, 0), segment
        assert summary.orders[segment] == orders.get(segment, 0), segment
        expected = float(revenue.get(segment, Decimal(0)))
        assert summary.revenue[segment] == pytest.approx(expected, rel=1e-9, abs=0.005), segment
    # the segment's monetary equals the customers' measures (not re-derived from orders)
    by_id = measures.set_index("customer_id").monetary
    assert (members.set_index("customer_id").monetary == by_id[members.customer_id]).all()

    # scores follow the threshold rule with the resolved cuts; segment = the scheme's cell
    scored = members[~prospects]
    assert (scored.r_score == threshold_scores(scored.recency_days, cuts.recency, False)).all()
    assert (scored.f_score == threshold_scores(scored.frequency, cuts.frequency, True)).all()
    money = scored.monetary.astype(float)
    assert (scored.m_score == threshold_scores(money, cuts.monetary, True)).all()
    cells = zip(scored.r_score, scored.f_score, scored.m_score, scored.segment, strict=True)
    assert all(scheme.segment_of(r, f, m) == seg for r, f, m, seg in cells)
    assert members[prospects].r_score.isna().all()

    # exported CSV of each segment has that segment's count of rows
    for segment in summary.index:
        part = members[members.segment == segment]
        assert csv_rows(part) == summary.customers[segment], segment
    # the engine's own segment filter gives the same rows (largest segment)
    largest = summary.customers.idxmax()
    part = analysis.segment_members(base, cuts, scheme, largest)
    assert csv_rows(part) == summary.customers[largest]
    assert list(part.customer_id) == list(members.customer_id[members.segment == largest])
    return summary


# ---------------------------------------------------------------- (a) UCI Online Retail


@pytest.fixture(scope="module")
def uci(tmp_path_factory: pytest.TempPathFactory) -> analysis.CustomerBase:
    workspace = store.resolve_workspace(tmp_path_factory.mktemp("uci"))
    with store.open_for_write(workspace, "uci") as con:
        con.begin()
        con.execute(CONVERT, [str(PARQUET)])
        con.commit()
    return analysis.load_customer_base(workspace, "uci")


@pytest.fixture(scope="module")
def uci_invoices() -> pd.DataFrame:
    """Invoice totals computed with pandas from the parquet (independent of DuckDB)."""
    lines = pd.read_parquet(PARQUET)
    # UnitPrice has at most 3 decimals: work in exact integer thousandths of a pound
    milli = np.rint(lines.UnitPrice.to_numpy() * 1000).astype("int64")
    lines = lines.assign(milli=lines.Quantity.to_numpy() * milli)
    invoices = lines.groupby("InvoiceNo").agg(
        milli=("milli", "sum"),
        customer=("CustomerID", "max"),
        ordered_at=("InvoiceDate", "min"),
    )
    # to cents, half away from zero (as a DECIMAL cast does)
    sign = np.sign(invoices.milli)
    invoices["cents"] = sign * ((invoices.milli.abs() + 5) // 10)
    invoices["is_return"] = invoices.index.str.startswith("C")
    return invoices.reset_index()


def test_uci_dataset_facts(uci: analysis.CustomerBase, uci_invoices: pd.DataFrame) -> None:
    inv = uci_invoices
    assert len(inv) == 25_900
    # the analysis date defaults to the latest invoice: 2011-12-09 12:50
    assert uci.window.as_of == dt.date(2011, 12, 9)
    valid = inv[~inv.is_return & (inv.cents > 0) & inv.customer.notna()]
    measures = uci.measures.to_pandas().set_index("customer_id")
    scored = measures[measures.status == cut_points.STATUS_SCORED]

    # distinct customers with a valid invoice
    assert len(scored) == valid.customer.nunique()
    # per customer: number of valid invoices, days since the last one, net revenue
    per_customer = valid.groupby(valid.customer.astype("int64").astype(str)).agg(
        frequency=("InvoiceNo", "size"), last=("ordered_at", "max")
    )
    assert sorted(per_customer.index) == sorted(scored.index)
    assert (scored.frequency[per_customer.index] == per_customer.frequency).all()
    recency = (pd.Timestamp("2011-12-09") - per_customer["last"].dt.normalize()).dt.days
    assert (scored.recency_days[per_customer.index].astype(int) == recency).all()

    known = inv[inv.customer.notna()]
    net = known.groupby(known.customer.astype("int64").astype(str)).cents.sum()
    stored = measures.monetary[net.index].map(lambda d: int(d * 100))
    assert (stored == net).all()

    # customers whose only invoices are cancellations have no valid order: prospects
    only_returns = set(net.index) - set(per_customer.index)
    assert set(measures.index[measures.status == cut_points.STATUS_PROSPECT]) == only_returns
    assert (measures.status == cut_points.STATUS_OUTSIDE_WINDOW).sum() == 0


@pytest.mark.parametrize("key", PRESETS)
def test_uci_invariants(uci: analysis.CustomerBase, key: str) -> None:
    summary = check_invariants(uci, key)
    # 4,372 customer ids in the file: 4,339 with a valid invoice plus those with only returns
    assert summary.customers.sum() == 4_372


def test_uci_one_time_buyers_share_the_lowest_frequency_score(uci: analysis.CustomerBase) -> None:
    cuts = cut_points.resolve_cuts(
        uci.measures, cut_points.ScoringSpec(schemes.get_scheme("shopify"))
    )
    members = analysis.segment_members(uci, cuts, schemes.get_scheme("shopify"))
    once = members[members.frequency == 1]
    assert len(once) > 1000
    assert set(once.f_score) == {1}


# ---------------------------------------------------------------- (b) the demo store


@pytest.fixture(scope="module")
def demo_base(demo_dataset: tuple[Path, str]) -> analysis.CustomerBase:
    workspace, name = demo_dataset
    return analysis.load_customer_base(workspace, name)


@pytest.mark.parametrize("key", PRESETS)
def test_demo_invariants(demo_base: analysis.CustomerBase, key: str) -> None:
    summary = check_invariants(demo_base, key)
    # the demo store has thousands of customers and prospects from its customers file
    assert summary.customers.sum() > 10_000
    assert summary.customers[schemes.PROSPECTS] > 0


# ---------------------------------------------------------------- the slider index agrees


def moved_cuts(cuts: cut_points.Cuts) -> cut_points.Cuts:
    """Cut points one step off the quantiles (recency later, F and M higher), still rising."""
    return cut_points.Cuts(
        recency=tuple(c + 7 for c in cuts.recency),
        frequency=tuple(float(i + 2) for i in range(len(cuts.frequency))),
        monetary=tuple(c * 1.5 + 1 for c in cuts.monetary),
    )


@pytest.mark.parametrize("which", ["uci", "demo_base"])
@pytest.mark.parametrize("n_scores", [3, 4, 5])
def test_slider_index_equals_the_ibis_aggregation(
    which: str, n_scores: int, request: pytest.FixtureRequest
) -> None:
    base: analysis.CustomerBase = request.getfixturevalue(which)
    quantile = cut_points.quantile_cuts(base.measures, n_scores)
    index = analysis.index_cells(base)
    assert index is not None
    for cuts in (quantile, moved_cuts(quantile)):
        pd.testing.assert_frame_equal(
            cell_index.count_cells(index, cuts),
            segments.summarise_cells(base.measures, cuts),
            check_exact=True,
        )
    pd.testing.assert_frame_equal(
        cell_index.count_transitions(index, quantile, moved_cuts(quantile)),
        sensitivity.count_transitions(base.measures, quantile, moved_cuts(quantile)),
        check_exact=True,
    )
