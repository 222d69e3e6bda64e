"""Issue 18 #3, #6, #11 and #12 on the Maturity, Cohorts and RFM studio pages, through AppTest.

A store written straight into a temporary workspace: 2 orders a day from 1 January 2024 to
12 June 2024 (June is partial), by 50 customers in turn, every order 20.00.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.workspace import store

APP = Path(__file__).resolve().parents[2] / "streamlit_app.py"
DATASET = "partial"
FIRST, LAST = dt.date(2024, 1, 1), dt.date(2024, 6, 12)
INSERT_ORDER = (
    "INSERT INTO orders (order_id, customer_id, ordered_at, order_total, refunded_amount, "
    "net_total, currency, is_cancelled, ingest_id) VALUES (?, ?, ?, ?, 0, ?, 'EUR', false, 1)"
)


@pytest.fixture(scope="module")
def partial_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workspace = store.resolve_workspace(tmp_path_factory.mktemp("partial") / "workspace")
    rows = []
    for day in range((LAST - FIRST).days + 1):
        for k in range(2):
            n = 2 * day + k
            when = dt.datetime.combine(FIRST + dt.timedelta(days=day), dt.time(9 + k))
            rows.append((f"O{n:04d}", f"c{n % 50:02d}", when, Decimal(20), Decimal(20)))
    with store.open_for_write(workspace, DATASET) as con:
        con.begin()
        con.executemany(INSERT_ORDER, rows)
        con.commit()
    return workspace


@pytest.fixture
def partial_env(partial_workspace: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(store.WORKSPACE_ENV, str(partial_workspace))
    monkeypatch.setenv("SEGMENTS_DATASET", DATASET)
    return partial_workspace


def start(page: str) -> AppTest:
    app = AppTest.from_file(str(APP), default_timeout=240).run()
    app.switch_page(page).run()
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]
    return app


def metrics(app: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in app.metric}


def test_maturity_headline_is_the_last_complete_month(partial_env: Path) -> None:
    app = start("pages/maturity.py")
    shown = metrics(app)
    # 2 orders a day for 164 days (1 January to 12 June 2024, a leap year): 328 orders.
    assert shown["Valid orders, whole history"] == "328"
    assert "Net revenue, whole history" in shown
    assert any("the Segments page counts only" in c.value for c in app.caption)
    # June is partial: May decides. 2 sales a day over March to May, 4 whole months open:
    # Consistent (2+ months, 1+ a day), held since March (3 months of the same signal).
    assert shown["Stage, May 2024"] == "Consistent"
    assert shown["Sales a day"] == "2.0"
    paragraph = next(m.value for m in app.markdown if m.value.startswith("The store is"))
    assert paragraph.startswith("The store is consistent (since March 2024)")
    assert "June 2024 is not complete (data to 12 June)" in paragraph
    # The progress box is gone once the page is drawn.
    assert not [e for e in app.get("expandable") if "stages" in str(e.label)]


def test_cohort_rows_carry_their_size(partial_env: Path) -> None:
    app = start("pages/cohorts.py")
    figure = json.loads(app.get("plotly_chart")[0].proto.spec)
    rows = figure["data"][0]["y"]
    # Customers c00 .. c49 all order on 1 January (2 a day, 25 days) or later in January.
    assert rows == ["2024-01 (50)"]


def test_clusters_cross_tab_has_thousands_separators(partial_env: Path) -> None:
    app = start("pages/studio.py")
    app.session_state["studio_tab"] = "Clusters"
    app.run()
    app.button[0].click().run()
    assert not app.exception, [e.value for e in app.exception]
    crosstab = app.dataframe[2]
    config = json.loads(crosstab.proto.columns)
    clusters = [c for c in crosstab.value.columns]
    assert clusters and all(config[c]["type_config"]["format"] == "localized" for c in clusters)
    assert not [e for e in app.get("expandable") if "clusters" in str(e.label)]


def test_backtest_shows_first_orders_for_prospects(partial_env: Path) -> None:
    app = start("pages/studio.py")
    app.session_state["studio_tab"] = "Backtest"
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    table = app.dataframe[0].value
    assert {"converted_customers", "conversion_rate"} <= set(table.columns)
    assert any("Customers count from their first order on" in c.value for c in app.caption)
