"""The sidebar's counting rule for zero-value orders, and its warning for mixed currencies.

Two tiny datasets whose figures are worked out by hand below.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from markdown_text import read_markdown
from streamlit.testing.v1 import AppTest

from dashboard.ingest import ingest_file
from dashboard.rfm import schemes
from dashboard.workspace import store

APP = Path(__file__).resolve().parents[2] / "streamlit_app.py"
HEADER = "order_id,customer_id,ordered_at,order_total,currency\n"
MAPPING = {c: c for c in HEADER.strip().split(",")}
# ann 100 + 50; ben 80, then a free replacement; cat only a free sample; dan 30.
FREE_ORDERS = """\
1,ann,2024-05-01 10:00:00,100.00,EUR
2,ann,2024-06-01 10:00:00,50.00,EUR
3,ben,2024-05-10 10:00:00,80.00,EUR
4,ben,2024-06-20 10:00:00,0.00,EUR
5,cat,2024-06-25 10:00:00,0.00,EUR
6,dan,2024-06-30 10:00:00,30.00,EUR
"""
# ann pays in EUR (2 orders), ben and cat in USD (3 orders).
MIXED_ORDERS = """\
1,ann,2024-05-01 10:00:00,100.00,EUR
2,ann,2024-06-01 10:00:00,50.00,EUR
3,ben,2024-05-10 10:00:00,80.00,USD
4,ben,2024-06-20 10:00:00,20.00,USD
5,cat,2024-06-30 10:00:00,30.00,USD
"""
CHECKBOX = "count_zero_value"


@pytest.fixture(scope="module")
def counting_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with the datasets 'free' and 'mixed' loaded from the CSVs above."""
    root = tmp_path_factory.mktemp("counting")
    workspace = store.resolve_workspace(root / "workspace")
    for name, rows in (("free", FREE_ORDERS), ("mixed", MIXED_ORDERS)):
        path = root / f"{name}.csv"
        path.write_text(HEADER + rows, encoding="utf-8")
        report = ingest_file(workspace, name, path, file_format="generic", mapping=MAPPING)
        assert report.rows_rejected == 0, report.summary()
    return workspace


def start(workspace: Path, dataset: str, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    """Run the app once on the Segments page with ``dataset`` of ``workspace`` chosen."""
    monkeypatch.setenv(store.WORKSPACE_ENV, str(workspace))
    monkeypatch.setenv("SEGMENTS_DATASET", dataset)
    app = AppTest.from_file(str(APP), default_timeout=120).run()
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]
    return app


def read_figures(app: AppTest) -> dict[str, object]:
    """Return the prospects, scored customers and orders of the table, and the headline."""
    table = app.dataframe[0].value
    scored = table[table.segment != schemes.PROSPECTS]
    metrics = {m.label: m.value for m in app.metric}
    rule = next(m.value for m in app.markdown if m.value.startswith("**What counts.**"))
    return {
        "prospects": int(table.customers[table.segment == schemes.PROSPECTS].sum()),
        "scored": int(scored.customers.sum()),
        "orders": int(scored.orders.sum()),
        "customers": metrics["Customers with orders in window"],
        "shown prospects": metrics["Prospects (no valid order)"],
        "aov": metrics["Average order value, in window"],
        "revenue": metrics["Net revenue, orders in window"],
        "zero rule": "with a total of 0 count as orders" in rule,
    }


def test_counting_zero_value_orders_rebuilds_the_base(
    counting_workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = start(counting_workspace, "free", monkeypatch)
    assert app.sidebar.checkbox(key=CHECKBOX).value is False
    # Left out: ann 2 orders, ben 1, dan 1 are scored (4 orders, 260.00); cat has no valid
    # order and is a prospect. AOV 260 / 4.
    assert read_figures(app) == {
        "prospects": 1,
        "scored": 3,
        "orders": 4,
        "customers": "3",
        "shown prospects": "1",
        "aov": "€65.00",
        "revenue": "€260.00",
        "zero rule": False,
    }
    app.sidebar.checkbox(key=CHECKBOX).check().run()
    assert not app.exception and not app.error
    # Counted: ben has 2 orders and cat 1, so all 4 are scored with 6 orders; revenue is
    # unchanged (the free orders add 0). AOV 260 / 6 = 43.33.
    assert read_figures(app) == {
        "prospects": 0,
        "scored": 4,
        "orders": 6,
        "customers": "4",
        "shown prospects": "0",
        "aov": "€43.33",
        "revenue": "€260.00",
        "zero rule": True,
    }
    app.sidebar.checkbox(key=CHECKBOX).uncheck().run()
    assert read_figures(app)["orders"] == 4


def test_several_currencies_are_named_in_the_sidebar(
    counting_workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = start(counting_workspace, "mixed", monkeypatch)
    assert [read_markdown(w.value) for w in app.sidebar.warning] == [
        "Orders are in 2 currencies, EUR (2 orders) and USD (3 orders): revenue and monetary "
        "figures add them up without conversion, so compare them within one currency or load "
        "each currency into its own dataset."
    ]
    free = start(counting_workspace, "free", monkeypatch)
    assert not free.sidebar.warning


def test_the_behaviour_page_follows_the_counting_rule(
    counting_workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Builder condition 'orders >= 2': ann only while free orders are left out; ann and ben
    (80.00 and a free replacement) once they count."""
    app = start(counting_workspace, "free", monkeypatch)
    app.switch_page("pages/behaviour.py").run()
    app.session_state["bh_tab"] = "Builder"
    app.run()
    app.selectbox(key="bh_add_feature").set_value("orders").run()
    app.selectbox(key="bh_add_operator_orders").set_value(">=").run()
    app.number_input(key="bh_add_value_orders_ge").set_value(2)
    app.button(key="bh_add_condition").click().run()
    assert not app.exception and not app.error

    def count() -> int:
        return int(next(m.value for m in app.metric if m.label == "Customers"))

    assert count() == 1
    app.sidebar.checkbox(key=CHECKBOX).check().run()
    assert not app.exception and not app.error
    assert count() == 2
