"""The Behaviour page through AppTest: it runs, the builder's conditions change the count, and a
segment is saved in the workspace.

Expected counts are computed with pandas from the loaded CSV itself.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from markdown_text import read_markdown
from streamlit.testing.v1 import AppTest

from dashboard.behaviour import presets, segment_store
from dashboard.behaviour.compiler import compile_definition, feature_view
from dashboard.behaviour.definitions import RfmSpec
from dashboard.behaviour.feature_base import list_values, load_feature_base
from dashboard.behaviour.membership import measure_segment

APP = Path(__file__).resolve().parents[2] / "streamlit_app.py"
PAGE = "pages/behaviour.py"
SEGMENT = "apptest-big-repeat"


def open_page(tab: str = "Presets") -> AppTest:
    """Open the Behaviour page on ``tab`` (only the open tab is drawn)."""
    app = AppTest.from_file(str(APP), default_timeout=120).run()
    app.switch_page(PAGE).run()
    if tab != "Presets":
        app.session_state["bh_tab"] = tab
        app.run()
    assert_clean(app)
    return app


def assert_clean(app: AppTest) -> None:
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]


def customer_count(app: AppTest) -> int:
    """The open tab's customer count."""
    customers = [m for m in app.metric if m.label == "Customers"]
    assert len(customers) == 1, [m.label for m in app.metric]
    return int(customers[0].value.replace(",", ""))


def add_condition(app: AppTest, feature: str, operator: str, value: float) -> None:
    app.selectbox(key="bh_add_feature").set_value(feature).run()
    app.selectbox(key=f"bh_add_operator_{feature}").set_value(operator).run()
    slug = {">=": "ge", ">": "gt"}[operator]
    app.number_input(key=f"bh_add_value_{feature}_{slug}").set_value(value)
    app.button(key="bh_add_condition").click().run()
    assert_clean(app)


def per_customer(orders: pd.DataFrame) -> pd.DataFrame:
    """Valid orders and net revenue per customer, as the feature table defines them."""
    counted = orders[~orders.is_cancelled.astype(bool)].assign(
        net=lambda o: o.order_total - o.refunded_amount, valid=lambda o: o.order_total > 0
    )
    return counted.groupby("customer_id").agg(orders=("valid", "sum"), net=("net", "sum"))


def test_the_page_runs_and_says_what_files_would_add(shop_env) -> None:
    app = open_page()
    assert app.title[0].value == "Behaviour"
    assert any("features are empty until more files are loaded" in e.label for e in app.expander)
    for tab in ("Builder", "Saved segments", "Compare and prioritise"):
        app.session_state["bh_tab"] = tab
        app.run()
        assert_clean(app)
    app.session_state["bh_tab"] = "Builder"
    app.run()
    assert customer_count(app) == shop_env.expected_customers()


def test_a_preset_opens_in_the_builder(shop_env) -> None:
    app = open_page()
    app.selectbox(key="bh_preset").set_value("one_time").run()
    one_time = customer_count(app)
    app.button(key="bh_open_preset").click().run()
    assert_clean(app)
    assert app.session_state["bh_tab"] == "Builder"
    assert app.text_input(key="bh_name").value == "one-time"
    assert customer_count(app) == one_time
    assert any("'one-time' is in the builder" in read_markdown(s.value) for s in app.success)


def test_two_conditions_change_the_count_and_the_segment_is_saved(shop_env) -> None:
    expected = per_customer(shop_env.frame())
    app = open_page("Builder")
    everyone = customer_count(app)

    add_condition(app, "orders", ">=", 3)
    repeat = int((expected.orders >= 3).sum())
    assert customer_count(app) == repeat < everyone

    add_condition(app, "net_revenue", ">", 300)
    both = int(((expected.orders >= 3) & (expected.net > 300)).sum())
    assert customer_count(app) == both < repeat

    app.text_input(key="bh_name").input(SEGMENT)
    app.button(key="bh_save").click().run()
    assert_clean(app)
    assert any(f"Saved '{SEGMENT}' (version 1)" in read_markdown(s.value) for s in app.success)
    path = segment_store.segment_path(shop_env.workspace, shop_env.dataset, SEGMENT)
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
        conditions = saved["versions"][0]["definition"]["groups"][0]["conditions"]
        assert conditions == [
            {"feature": "orders", "operator": ">=", "value": 3},
            {"feature": "net_revenue", "operator": ">", "value": 300},
        ]
        app.session_state["bh_tab"] = "Saved segments"
        app.run()
        assert app.selectbox(key="bh_saved").value == SEGMENT
    finally:
        path.unlink(missing_ok=True)


def test_every_preset_shows_the_engine_count_or_the_file_it_needs(shop_env) -> None:
    base = load_feature_base(shop_env.workspace, shop_env.dataset)
    try:
        view = feature_view(base.table, RfmSpec(), shop_env.workspace)
        expected: dict[str, object] = {}
        for key, preset in presets.PRESETS.items():
            sets = {
                p.key: list_values(view, p.feature)[:1]
                for p in preset.params
                if p.kind == presets.SET_PARAM
            }
            gaps = presets.missing_for_preset(preset, base.missing)
            if gaps or not all(sets.values()):
                expected[key] = gaps
                continue
            definition = presets.preset_definition(preset, sets)
            condition = compile_definition(view, definition)
            expected[key] = measure_segment(view, condition)["customers"]
    finally:
        base.backend.disconnect()
    # The generic orders file has no lines, customers, sessions, checkouts, surveys or codes;
    # its orders fit the prediction models, so both prediction presets count members.
    assert sum(isinstance(v, int) for v in expected.values()) == 11, expected

    app = open_page()
    for key, want in expected.items():
        app.selectbox(key="bh_preset").set_value(key).run()
        assert_clean(app)
        if isinstance(want, int):
            assert customer_count(app) == want, key
        else:
            shown = [i.value for i in app.info]
            assert all(message in shown for message in want), (key, shown)
            assert any(preset_name(key) in message for message in shown), (key, shown)


def preset_name(key: str) -> str:
    return presets.PRESETS[key].name
