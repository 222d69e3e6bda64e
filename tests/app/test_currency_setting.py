"""The Data page's currency setting: a dataset loaded without a currency is told so, the
analyst picks one, and the Segments page then shows money with its symbol."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.ingest import ingest_file
from dashboard.workspace import store

APP = Path(__file__).resolve().parents[2] / "streamlit_app.py"
ORDERS = (
    "order_id,customer_id,ordered_at,order_total\nA1,a,2024-01-01,455.094\nA2,b,2024-01-02,35\n"
)


@pytest.fixture
def no_currency(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    workspace = store.resolve_workspace(tmp_path / "workspace")
    path = tmp_path / "orders.csv"
    path.write_text(ORDERS, encoding="utf-8")
    ingest_file(workspace, "shop", path, file_format="generic")
    monkeypatch.setenv(store.WORKSPACE_ENV, str(workspace))
    monkeypatch.setenv("SEGMENTS_DATASET", "shop")
    return workspace


def test_setting_the_currency_on_the_data_page_reaches_the_figures(no_currency: Path) -> None:
    app = AppTest.from_file(str(APP), default_timeout=120).run()
    revenue = {m.label: m.value for m in app.metric}
    assert any(value == "490.09" for value in revenue.values()), revenue
    app.switch_page("pages/data.py").run()
    assert any("did not say which currency" in w.value for w in app.warning)
    box = next(s for s in app.selectbox if s.label == "Currency (ISO 4217 code)")
    box.set_value("GBP")
    next(b for b in app.button if b.label == "Set currency").click()
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert any("2 orders without a currency are now in GBP" in s.value for s in app.success)
    assert not any("did not say which currency" in w.value for w in app.warning)
    app.switch_page("pages/segments.py").run()
    revenue = {m.label: m.value for m in app.metric}
    assert any(value == "£490.09" for value in revenue.values()), revenue
