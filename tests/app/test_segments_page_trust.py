"""The Segments page an analyst can trust (issue 18 #6, #7, #8, #11): labelled headline figures,
a change counter against a baseline, cut points that cannot cross, and dashes for missing cells.

Expected figures are computed with pandas from the loaded CSV itself (``per_customer``), scored
with the threshold rule of docs/segments.md §2 and the scheme's own cell map.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

from dashboard.rfm import schemes

APP = Path(__file__).resolve().parents[2] / "streamlit_app.py"
CUSTOM = "Custom cut points"


def start_custom() -> AppTest:
    """Open the Segments page and switch to custom cut points."""
    app = AppTest.from_file(str(APP), default_timeout=120).run()
    app.radio[0].set_value(CUSTOM).run()
    assert_clean(app)
    return app


def assert_clean(app: AppTest) -> None:
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]


def cut_key(measure: str, index: int) -> str:
    return f"cut_shop_5_{measure}_{index}"


def read_cuts(app: AppTest) -> dict[str, list[float]]:
    return {
        measure: [app.slider(key=cut_key(measure, i)).value for i in range(4)]
        for measure in ("recency", "frequency", "monetary")
    }


def per_customer(orders: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Recency, frequency and monetary of every customer with a valid order up to ``as_of``."""
    day = pd.to_datetime(orders.ordered_at).dt.date
    valid = orders[~orders.is_cancelled.astype(bool) & (orders.order_total > 0) & (day <= as_of)]
    valid = valid.assign(
        day=pd.to_datetime(valid.ordered_at).dt.date,
        net=valid.order_total - valid.refunded_amount,
    )
    grouped = valid.groupby("customer_id")
    return pd.DataFrame(
        {
            "recency": grouped.day.max().map(lambda last: (as_of - last).days),
            "frequency": grouped.size(),
            "monetary": grouped.net.sum().round(2),
        }
    )


def segments_of(measures: pd.DataFrame, cuts: dict[str, list[float]]) -> pd.Series:
    """Each customer's segment under ``cuts`` in the Shopify preset (the app's default)."""
    r = 1 + sum((measures.recency <= c).astype(int) for c in cuts["recency"])
    f = 1 + sum((measures.frequency >= c).astype(int) for c in cuts["frequency"])
    m = 1 + sum((measures.monetary >= c).astype(int) for c in cuts["monetary"])
    scheme = schemes.PRESETS["shopify"]
    return pd.Series(
        [scheme.segment_of(*cell) for cell in zip(r, f, m, strict=True)], index=measures.index
    )


def moved(measures: pd.DataFrame, before: dict, after: dict) -> int:
    return int((segments_of(measures, before) != segments_of(measures, after)).sum())


def change_counts(app: AppTest) -> tuple[int, int]:
    """The customers changed since the baseline and by the last move, from the info line."""
    text = next(i.value for i in app.info if "baseline" in i.value)
    found = re.fullmatch(
        r"([\d,]+) customers? \(.*\) are in another segment than with the baseline cut points; "
        r"the last move alone changed ([\d,]+)\.",
        text,
    )
    assert found, text
    return int(found[1].replace(",", "")), int(found[2].replace(",", ""))


def test_ten_moves_count_every_customer_moved_since_the_baseline(shop_env) -> None:
    app = start_custom()
    app.button(key="reset_baseline").click().run()
    assert not any("baseline" in i.value for i in app.info), "no change right after a reset"
    first = read_cuts(app)
    states = [first]
    # Ten presses on three sliders, as an analyst drags and nudges.
    presses = [("frequency", 3, -4.0)] + [("monetary", 3, +40.0)] * 4
    presses += [("recency", 1, +10.0)] * 5
    for measure, index, delta in presses:
        widget = app.slider(key=cut_key(measure, index))
        widget.set_value(widget.value + delta).run()
        assert_clean(app)
        states.append(read_cuts(app))
    measures = per_customer(shop_env.frame(), app.sidebar.date_input(key="as_of_shop").value)
    since_baseline, last_move = change_counts(app)
    assert since_baseline == moved(measures, first, states[-1])
    assert last_move == moved(measures, states[-2], states[-1])
    assert since_baseline > last_move > 0


def test_a_recency_cut_pushed_past_the_next_stops_before_it(shop_env) -> None:
    app = start_custom()
    before = read_cuts(app)["recency"]
    # R 4 (the second recency cut) pushed beyond R 3 (the third).
    app.slider(key=cut_key("recency", 1)).set_value(before[2] + 50).run()
    assert_clean(app)
    after = read_cuts(app)["recency"]
    assert after == [before[0], before[2] - 1, before[2], before[3]]
    assert app.dataframe, "the segment table is drawn"
    # R 5 pushed below zero and beyond everything: it stays the lowest cut.
    app.slider(key=cut_key("recency", 0)).set_value(before[3] + 10).run()
    assert_clean(app)
    assert read_cuts(app)["recency"] == [before[2] - 2, before[2] - 1, before[2], before[3]]


def test_typing_days_sets_the_recency_cut(shop_env) -> None:
    app = start_custom()
    before = read_cuts(app)["recency"]
    assert before[0] > 21, before
    typed = app.number_input(key=cut_key("recency", 0) + "_typed")
    assert typed.value == before[0]
    typed.set_value(21.0).run()
    assert_clean(app)
    assert read_cuts(app)["recency"] == [21.0, *before[1:]]
    assert app.number_input(key=cut_key("recency", 0) + "_typed").value == 21.0
    # A typed value past the next cut stops one day before it, in both widgets.
    app.number_input(key=cut_key("recency", 0) + "_typed").set_value(before[3] + 5).run()
    assert_clean(app)
    assert read_cuts(app)["recency"][0] == before[1] - 1
    assert app.number_input(key=cut_key("recency", 0) + "_typed").value == before[1] - 1


def test_headline_labels_say_what_they_count(shop_env) -> None:
    app = AppTest.from_file(str(APP), default_timeout=120).run()
    assert_clean(app)
    metrics = {m.label: m.value for m in app.metric}
    orders = shop_env.frame()
    valid = orders[~orders.is_cancelled.astype(bool) & (orders.order_total > 0)]
    net = float((valid.order_total - valid.refunded_amount).sum())
    assert metrics["Customers with orders in window"] == f"{valid.customer_id.nunique():,}"
    assert metrics["Prospects (no valid order)"] == "0"
    assert metrics["Net revenue, orders in window"] == f"€{net:,.2f}"
    assert metrics["Average order value, in window"] == f"€{net / len(valid):,.2f}"
    assert any(
        "Segments counts the valid orders up to" in c.value
        and "Data page" in c.value
        and "Maturity" in c.value
        for c in app.caption
    )


def test_missing_cells_show_a_dash(shop_env) -> None:
    app = AppTest.from_file(str(APP), default_timeout=120).run()
    table = app.dataframe[0]
    # Empty segments have no AOV or recency: the table shows a dash, not "None".
    assert table.value.aov.isna().any()
    assert table.proto.placeholder == "—"
