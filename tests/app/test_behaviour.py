"""The Behaviour page through AppTest: it runs, the builder's conditions change the count, and a
segment is saved in the workspace.

Expected counts are computed with pandas from the loaded CSV itself.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

from dashboard import segment_store

APP = Path(__file__).resolve().parents[2] / "streamlit_app.py"
PAGE = "pages/behaviour.py"
SEGMENT = "apptest-big-repeat"


def open_page() -> AppTest:
    app = AppTest.from_file(str(APP), default_timeout=120).run()
    app.switch_page(PAGE).run()
    assert_clean(app)
    return app


def assert_clean(app: AppTest) -> None:
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]


def builder_count(app: AppTest) -> int:
    """The builder tab's customer count (its metrics follow the preset tab's three)."""
    customers = [m for m in app.metric if m.label == "Customers"]
    assert len(customers) == 2, [m.label for m in app.metric]
    return int(customers[1].value.replace(",", ""))


def add_condition(app: AppTest, feature: str, operator: str, value: float) -> None:
    app.selectbox(key="bh_add_feature").set_value(feature).run()
    app.selectbox(key=f"bh_add_operator_{feature}").set_value(operator).run()
    app.number_input(key=f"bh_add_value_{feature}_{operator}").set_value(value)
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
    assert builder_count(app) == shop_env.expected_customers()


def test_two_conditions_change_the_count_and_the_segment_is_saved(shop_env) -> None:
    expected = per_customer(shop_env.frame())
    app = open_page()
    everyone = builder_count(app)

    add_condition(app, "orders", ">=", 3)
    repeat = int((expected.orders >= 3).sum())
    assert builder_count(app) == repeat < everyone

    add_condition(app, "net_revenue", ">", 300)
    both = int(((expected.orders >= 3) & (expected.net > 300)).sum())
    assert builder_count(app) == both < repeat

    app.text_input(key="bh_name").input(SEGMENT)
    app.button(key="bh_save").click().run()
    assert_clean(app)
    assert any(f"Saved '{SEGMENT}' (version 1)" in s.value for s in app.success)
    path = segment_store.segment_path(shop_env.workspace, shop_env.dataset, SEGMENT)
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
        conditions = saved["versions"][0]["definition"]["groups"][0]["conditions"]
        assert conditions == [
            {"feature": "orders", "operator": ">=", "value": 3},
            {"feature": "net_revenue", "operator": ">", "value": 300},
        ]
        app.run()
        assert app.selectbox(key="bh_saved").value == SEGMENT
    finally:
        path.unlink(missing_ok=True)
