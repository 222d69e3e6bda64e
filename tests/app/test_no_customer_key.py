"""Bad input 18 in the app: a dataset whose orders have no customer key at all.

The store's own figures are still shown (Maturity, Data); every customer page says in one
sentence what is missing and how to fix it, as a warning, never an error.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from markdown_text import read_markdown
from streamlit.testing.v1 import AppTest

from dashboard.ingest import ingest_file
from dashboard.workspace import store

APP = Path(__file__).resolve().parents[2] / "streamlit_app.py"
# No customer column. Order 3 is cancelled and order 5 is worth 0: neither is a sale.
GUEST_CSV = """\
order_id,ordered_at,total,refunded,cancelled
1,2024-01-05 10:00:00,10.00,0,no
2,2024-02-10 09:30:00,20.50,5.50,no
3,2024-02-11 18:00:00,40.00,0,yes
4,2024-03-20 12:00:00,7.25,,no
5,2024-03-21 12:00:00,0.00,,no
"""
EXPLANATION = (
    "This dataset has no customer key: its 5 orders were loaded without an e-mail, phone or "
    "customer id, so no customer can be scored or segmented; to get customer figures, load the "
    "orders from a file that has one of those columns (a Shopify or WooCommerce export, or a "
    "table with its customer column mapped) into a new dataset."
)
CUSTOMER_PAGES = [
    "pages/segments.py",
    "pages/studio.py",
    "pages/behaviour.py",
    "pages/channels.py",
    "pages/cohorts.py",
]


@pytest.fixture
def guests_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the app at a workspace whose only dataset, 'guests', is GUEST_CSV (guessed mapping)."""
    workspace = store.resolve_workspace(tmp_path / "workspace")
    path = tmp_path / "guests.csv"
    path.write_text(GUEST_CSV, encoding="utf-8")
    report = ingest_file(workspace, "guests", path)
    assert (report.rows_loaded, report.rows_warned) == (5, 5)
    monkeypatch.setenv(store.WORKSPACE_ENV, str(workspace))
    monkeypatch.setenv("SEGMENTS_DATASET", "guests")
    return workspace


def start(page: str) -> AppTest:
    """Run the app once (its default page, Segments), then switch to ``page``."""
    app = AppTest.from_file(str(APP), default_timeout=120).run()
    if page != "pages/segments.py":
        app.switch_page(page).run()
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]
    return app


def metrics(app: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in app.metric}


@pytest.mark.parametrize("page", CUSTOMER_PAGES)
def test_customer_pages_explain_the_missing_customer_key(guests_env: Path, page: str) -> None:
    app = start(page)
    assert [read_markdown(w.value) for w in app.warning] == [EXPLANATION]
    assert "Customers" not in metrics(app)


def test_maturity_page_shows_the_store_totals(guests_env: Path) -> None:
    app = start("pages/maturity.py")
    shown = metrics(app)
    # Sales: orders 1, 2 and 4. Revenue, cancelled order 3 left out: 10.00 + (20.50 - 5.50)
    # + 7.25 + 0.00 = 32.25; AOV 32.25 / 3 = 10.75; the analysis date is the latest order,
    # 2024-03-21: two whole months since the first sale on 2024-01-05. No currency column.
    labels = ("Valid orders, whole history", "Net revenue, whole history", "Average order value")
    assert {label: shown[label] for label in labels} == {
        "Valid orders, whole history": "3",
        "Net revenue, whole history": "32.25",
        "Average order value": "10.75",
    }
    assert shown["Months open"] == "2"
    assert [shown[label] for label in shown if label.startswith("Stage, ")] == ["Just started"]
    assert [read_markdown(w.value) for w in app.warning] == [EXPLANATION]


def test_data_page_counts_the_orders_without_a_customer(guests_env: Path) -> None:
    shown = metrics(start("pages/data.py"))
    assert (shown["Orders"], shown["Customers with orders"]) == ("5", "0")
    assert shown["Orders without a customer"] == "5"


def _mapping_page() -> None:
    import streamlit as st

    from dashboard.ui import data

    st.session_state["mapping"] = data.mapping_editor(["order_id", "ordered_at", "total", "who"])


def test_the_mapping_step_lets_the_customer_go_unmapped_with_a_hint() -> None:
    app = AppTest.from_function(_mapping_page).run()
    assert not app.exception, [e.value for e in app.exception]
    customer = app.selectbox(key="map_generic_customer_id")
    assert customer.label == "Customer" and customer.value == "— not in this file —"
    assert [s.label for s in app.selectbox if s.label.endswith("(required)")] == [
        "Order date (required)",
    ]
    assert app.session_state["mapping"] == {
        "ordered_at": "ordered_at",
        "order_total": "total",
        "order_id": "order_id",
    }
    [hint] = [i.value for i in app.info]
    assert hint.startswith("No customer column: every order will be loaded without a customer.")
    customer.select("who").run()
    assert app.session_state["mapping"]["customer_id"] == "who"
    assert not app.info
