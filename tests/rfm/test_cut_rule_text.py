"""The cut-point table (``Cuts.as_rows``) reads sensibly when ties make a band hold one value or
none (issue 18 #11: "Frequency 2: >= 2 and < 2")."""

from __future__ import annotations

from dashboard.rfm.cut_points import Cuts


def rules(cuts: Cuts, measure: str) -> dict[int, str]:
    return {row["score"]: row["rule"] for row in cuts.as_rows() if row["measure"] == measure}


def test_tied_frequency_cuts_read_as_exactly_and_empty() -> None:
    # Most customers bought once: the quantile cuts of F are 2, 2, 3 and 5 orders.
    found = rules(Cuts((10, 20, 30, 40), (2, 2, 3, 5), (10, 20, 30, 40)), "Frequency (orders)")
    assert found == {
        5: ">= 5",
        4: ">= 3 and < 5",
        3: "exactly 2",
        2: "empty (the cut points 2 and 2 coincide)",
        1: "< 2",
    }


def test_recency_bands_of_one_day_and_none() -> None:
    found = rules(Cuts((10, 11, 30, 30), (2, 3, 4, 5), (1, 2, 3, 4)), "Recency (days)")
    assert found == {
        5: "<= 10",
        4: "exactly 11",
        3: "> 11 and <= 30",
        2: "empty (the cut points 30 and 30 coincide)",
        1: "> 30",
    }


def test_money_keeps_its_interval_even_one_unit_wide() -> None:
    found = rules(Cuts((1, 2, 3, 4), (2, 3, 4, 5), (10, 11, 20.5, 20.5)), "Monetary (net revenue)")
    assert found == {
        5: ">= 20.5",
        4: "empty (the cut points 20.5 and 20.5 coincide)",
        3: ">= 11 and < 20.5",
        2: ">= 10 and < 11",
        1: "< 10",
    }
