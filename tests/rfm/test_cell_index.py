"""The slider index: cells and transitions computed by hand on a five-customer table."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pyarrow as pa
import pytest

from dashboard import order_rules
from dashboard.rfm import analysis, cell_index, cut_points
from dashboard.workspace import store

# a, b, c scored; d a prospect whose only invoice was a return; e bought only before the window.
MEASURES = pa.table(
    {
        "customer_id": ["a", "b", "c", "d", "e"],
        "status": ["scored", "scored", "scored", "prospect", "outside_window"],
        "recency_days": pa.array([10, 40, 40, None, None], pa.int64()),
        "frequency": pa.array([1, 3, 5, 0, 0], pa.int64()),
        "monetary": pa.array(
            [Decimal(v) for v in ("50.00", "150.00", "-5.25", "-12.50", "0.00")],
            pa.decimal128(38, 2),
        ),
    }
)
# 3 scores; the two monetary cuts are equal, as ties make quantile cuts.
CUTS = cut_points.Cuts(recency=(30.0, 60.0), frequency=(2.0, 5.0), monetary=(100.0, 100.0))


@pytest.fixture
def index() -> Iterator[cell_index.CellIndex]:
    scratch = store.open_scratch()
    table = scratch.create_table("customer_measures", MEASURES)
    yield cell_index.build_cell_index(table)
    scratch.disconnect()


def rows(frame) -> list[tuple]:
    return [tuple(row) for row in frame.itertuples(index=False)]


def test_cells_by_hand(index: cell_index.CellIndex) -> None:
    # a: 10 d <= 30 and 60 -> R3; 1 order < 2 -> F1; 50 < 100 -> M1.
    # b: 40 d <= 60 only -> R2; 3 orders >= 2 -> F2; 150 >= both equal cuts -> M3.
    # c: R2; 5 orders >= 2 and 5 -> F3; -5.25 -> M1.  d: the prospects row.  e: left out.
    assert rows(cell_index.count_cells(index, CUTS)) == [
        (2, 2, 3, 1, 150.0, 3, 40),
        (2, 3, 1, 1, -5.25, 5, 40),
        (3, 1, 1, 1, 50.0, 1, 10),
        (0, 0, 0, 1, -12.5, 0, 0),
    ]


def test_a_cut_no_value_reaches_is_skipped(index: cell_index.CellIndex) -> None:
    # None marks a score nobody can get: b's 150 passes only the first cut -> M2.
    cuts = cut_points.Cuts(CUTS.recency, CUTS.frequency, monetary=(100.0, None))
    cells = cell_index.count_cells(index, cuts)
    assert rows(cells)[0] == (2, 2, 2, 1, 150.0, 3, 40)


def test_transitions_by_hand(index: cell_index.CellIndex) -> None:
    # Moving the recency cuts to 5 and 30: a 10 d R3 -> R2; b and c 40 d R2 -> R1.
    moved = cut_points.Cuts(recency=(5.0, 30.0), frequency=CUTS.frequency, monetary=CUTS.monetary)
    assert rows(cell_index.count_transitions(index, CUTS, moved)) == [
        (2, 2, 3, 1, 2, 3, 1, 150.0),
        (2, 3, 1, 1, 3, 1, 1, -5.25),
        (3, 1, 1, 2, 1, 1, 1, 50.0),
    ]


def test_a_base_on_another_engine_is_not_indexed() -> None:
    class Elsewhere:
        name = "pyspark"

    base = analysis.CustomerBase("x", None, order_rules.DEFAULT_RULES, Elsewhere(), None, 0)
    assert analysis.index_cells(base) is None
