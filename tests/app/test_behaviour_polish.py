"""The Behaviour page's polish (issue 18 #11) through AppTest: saved segments with member counts
and a CSV download, whole numbers typed as whole numbers, the SCALE score first and highest
first, the preview ordered by the measure that defines it, and the file record explained.

Expected counts are computed with pandas from the loaded CSV itself.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

from dashboard.behaviour import segment_store
from dashboard.behaviour.definitions import Condition, Definition, Group

APP = Path(__file__).resolve().parents[2] / "streamlit_app.py"
PAGE = "pages/behaviour.py"


def open_tab(tab: str) -> AppTest:
    app = AppTest.from_file(str(APP), default_timeout=120).run()
    app.switch_page(PAGE).run()
    app.session_state["bh_tab"] = tab
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]
    return app


def table_with(app: AppTest, column: str) -> pd.DataFrame:
    """The one table on the page with ``column`` (AppTest dataframes carry no key)."""
    found = [d.value for d in app.dataframe if column in d.value.columns]
    assert len(found) == 1, [list(d.value.columns) for d in app.dataframe]
    return found[0]


def valid_orders(orders: pd.DataFrame) -> pd.Series:
    """Valid orders per customer (not cancelled, total above 0)."""
    valid = orders[~orders.is_cancelled.astype(bool) & (orders.order_total > 0)]
    return valid.groupby("customer_id").size()


def test_saved_segments_show_their_members_and_offer_the_csv(shop_env) -> None:
    name = "apptest-polish-three-plus"
    definition = Definition((Group((Condition("orders", ">=", 3),)),))
    segment_store.save_segment(shop_env.workspace, shop_env.dataset, name, definition)
    try:
        app = open_tab("Saved segments")
        expected = int((valid_orders(shop_env.frame()) >= 3).sum())
        counts = table_with(app, "members").set_index("segment")
        assert int(counts.loc[name, "members"]) == expected
        assert int(counts.loc[name, "version"]) == 1
        app.selectbox(key="bh_saved").set_value(name).run()
        labels = [b.label for b in app.download_button]
        assert f"Download {expected:,} members of version 1 (CSV)" in labels
    finally:
        segment_store.delete_segment(shop_env.workspace, shop_env.dataset, name)


def test_a_whole_number_feature_takes_a_whole_number(shop_env) -> None:
    app = open_tab("Builder")
    app.selectbox(key="bh_add_feature").set_value("orders").run()
    app.selectbox(key="bh_add_operator_orders").set_value(">=").run()
    value = app.number_input(key="bh_add_value_orders_ge")
    assert value.value == 0 and isinstance(value.value, int)
    value.set_value(120).run()
    assert app.number_input(key="bh_add_value_orders_ge").value == 120
    app.selectbox(key="bh_add_feature").set_value("aov").run()
    app.selectbox(key="bh_add_operator_aov").set_value(">=").run()
    assert isinstance(app.number_input(key="bh_add_value_aov_ge").value, float)


def test_the_preview_is_ordered_by_the_defining_measure(shop_env) -> None:
    app = open_tab("Builder")
    app.selectbox(key="bh_add_feature").set_value("orders").run()
    app.selectbox(key="bh_add_operator_orders").set_value(">=").run()
    app.number_input(key="bh_add_value_orders_ge").set_value(2)
    app.button(key="bh_add_condition").click().run()
    preview = table_with(app, "rfm_segment")
    per_customer = valid_orders(shop_env.frame())
    expected = per_customer[per_customer >= 2].reset_index(name="orders")
    expected = expected.sort_values(["orders", "customer_id"], ascending=[False, True])
    assert list(preview.customer_id) == list(expected.customer_id[:50])
    assert list(preview.orders) == list(expected.orders[:50])
    assert any(c.value == "The first 50 members, highest orders first." for c in app.caption), [
        c.value for c in app.caption
    ]


def test_the_scale_table_starts_with_its_score_highest_first(shop_env) -> None:
    app = open_tab("Compare and prioritise")
    scale = table_with(app, "scale_score")
    assert list(scale.columns[:2]) == ["scale_score", "segment"]
    scores = list(scale.scale_score.dropna())
    assert len(scores) >= 2 and scores == sorted(scores, reverse=True)


def test_the_file_record_says_what_it_is(shop_env) -> None:
    app = open_tab("Presets")
    record = next(b for b in app.download_button if b.label == "File record (JSON)")
    assert "stamp" in record.help and "left out" in record.help
    empty = [e.label for e in app.expander if "empty until more files are loaded" in e.label]
    assert len(empty) == 1 and " features are empty" in empty[0], empty
