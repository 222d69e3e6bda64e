"""Issue 17 #6 in the app: the Segments page offers the HTML report, built on click from the
page's segment table and the store's figures."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import order_rules, ui
from dashboard.acquisition import reports
from dashboard.rfm import analysis, cut_points, schemes
from dashboard.ui import report_download
from dashboard.workspace import store

APP = Path(__file__).resolve().parents[2] / "streamlit_app.py"
ORDERS = [
    {"order_id": "1", "customer_id": "ann", "ordered_at": "2024-01-10 10:00:00",
     "order_total": "100.00"},
    {"order_id": "2", "customer_id": "ann", "ordered_at": "2024-03-01 10:00:00",
     "order_total": "50.00"},
    {"order_id": "3", "customer_id": "bob", "ordered_at": "2024-02-01 10:00:00",
     "order_total": "30.00"},
    {"order_id": "4", "customer_id": "cat", "ordered_at": "2024-03-31 10:00:00",
     "order_total": "20.00"},
    {"order_id": "5", "customer_id": None, "ordered_at": "2024-02-15 10:00:00",
     "order_total": "40.00"},
]  # fmt: skip


@pytest.fixture
def shop(
    workspace: Path, make_dataset: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> Path:
    make_dataset("shop", ORDERS)
    monkeypatch.setenv(store.WORKSPACE_ENV, str(workspace))
    monkeypatch.setenv("SEGMENTS_DATASET", "shop")
    return workspace


def test_segments_page_offers_the_html_report(shop: Path) -> None:
    app = AppTest.from_file(str(APP), default_timeout=120).run()
    app.switch_page("pages/segments.py").run()
    assert not app.exception, [e.value for e in app.exception]
    labels = [b.label for b in app.get("download_button")]
    assert "Download the report (HTML)" in labels


def test_report_file_holds_the_page_table_and_the_store(shop: Path) -> None:
    selection = ui.Selection(
        dataset="shop",
        overview=analysis.describe_dataset(shop, "shop"),
        as_of=dt.date(2024, 3, 31),
        start=None,
        rules=order_rules.DEFAULT_RULES,
        scheme=schemes.PRESETS["shopify"],
    )
    # A page table as the Segments page passes it (two groups shown here).
    summary = pd.DataFrame(
        {
            "segment": ["Loyal", "New"],
            "customers": [2, 1],
            "share_customers": [2 / 3, 1 / 3],
            "revenue": [180.0, 20.0],
            "share_revenue": [0.9, 0.1],
            "orders": [3, 1],
            "aov": [60.0, 20.0],
            "revenue_per_customer": [90.0, 20.0],
            "avg_recency_days": [44.5, 0.0],
        }
    )
    base = analysis.load_customer_base(shop, "shop", selection.as_of)
    cuts = cut_points.resolve_cuts(base.measures, cut_points.ScoringSpec(selection.scheme, None))
    base.close()
    text = report_download.build_report_file(
        shop, selection, reports.Settings(), summary, None, cuts
    ).decode("utf-8")
    assert "segments by SCALE</h3>" in text
    assert "<tr><td>Loyal</td><td>2</td><td>66.7%</td><td>90.0%</td><td>€60.00</td>" in text
    # The store: 5 valid orders (the guest order too), 240.00, AOV 48.00; 3 customers.
    assert '<div class="label">Net revenue</div><div class="value">€240.00</div>' in text
    assert '<div class="label">Average order value</div><div class="value">€48.00</div>' in text
    assert '<div class="label">Customers with a valid order</div><div class="value">3</div>' in text
    assert report_download.NO_PREDICTIONS_NOTE.replace("'", "&#x27;") in text
