"""Issue 17 item 5 on the Maturity page, through AppTest: the spend split verdict of the stage's
period, the Direct signal and the budget ranking.

The small store of tests/acquisition/test_maturity_effort.py (first orders in January and
February 2025, tagged spend) with the analysis date at its last order, 4 March 2025.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.workspace import store

APP = Path(__file__).resolve().parents[2] / "streamlit_app.py"
DATASET = "effort"
ORDERS = [
    ("J1", "d1", "2025-01-05", "direct"),
    ("J2", "g1", "2025-01-09", "paid search"),
    ("J3", "f1", "2025-01-14", "paid social"),
    ("J4", "d2", "2025-01-20", "direct"),
    ("J5", "g2", "2025-01-27", "paid search"),
    ("F1", "d3", "2025-02-03", "direct"),
    ("F2", "g3", "2025-02-07", "paid search"),
    ("F3", "f2", "2025-02-11", "paid social"),
    ("F4", "f3", "2025-02-15", "paid social"),
    ("F5", "d1", "2025-02-20", "direct"),
    ("F6", "e1", "2025-02-24", "email"),
    ("M1", "m1", "2025-03-04", "direct"),
]
SPEND = [
    ("2025-01-01", "Google Ads", "100", "acquisition"),
    ("2025-01-01", "Meta Ads", "60", "acquisition"),
    ("2025-02-01", "Google Ads", "50", None),
    ("2025-02-01", "Meta Ads", "60", "acquisition"),
    ("2025-02-01", "Klaviyo", "10", "retention"),
    ("2025-03-01", "Klaviyo", "500", "retention"),
]


@pytest.fixture
def effort_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    workspace = store.resolve_workspace(tmp_path / "workspace")
    with store.open_for_write(workspace, DATASET) as con:
        con.begin()
        con.executemany(
            "INSERT INTO orders (order_id, customer_id, ordered_at, order_total, "
            "refunded_amount, net_total, currency, is_cancelled, channel, ingest_id) "
            "VALUES (?, ?, ?, 10, 0, 10, 'EUR', false, ?, 1)",
            [(o, c, dt.datetime.fromisoformat(f"{d} 12:00"), ch) for o, c, d, ch in ORDERS],
        )
        con.executemany(
            "INSERT INTO marketing_spend (month, channel, spend, purpose, ingest_id) "
            "VALUES (?, ?, ?, ?, 1)",
            [(dt.date.fromisoformat(m), ch, Decimal(s), p) for m, ch, s, p in SPEND],
        )
        con.commit()
    monkeypatch.setenv(store.WORKSPACE_ENV, str(workspace))
    monkeypatch.setenv("SEGMENTS_DATASET", DATASET)
    return workspace


def test_maturity_page_judges_spend_and_ranks_channels(effort_env: Path) -> None:
    app = AppTest.from_file(str(APP), default_timeout=240).run()
    app.switch_page("pages/maturity.py").run()
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]
    assert "Effort from January 2025 to February 2025" in [h.value for h in app.subheader]
    # 10 of 280 spent in January and February is on retention; the 500 of March is not counted.
    assert [w.value for w in app.warning if w.value.startswith("You spend")] == [
        "You spend 4% on retention (from January 2025 to February 2025); a store at this stage "
        "should spend about 5-25%: move budget to retention."
    ]
    texts = [m.value for m in app.markdown]
    assert any(t.startswith("30% of the 10 new customers from January 2025") for t in texts)
    assert (
        "Acquisition money works hardest in 1. Paid Social (no CLV : CAC, CAC €40.00); "
        "2. Paid Search (no CLV : CAC, CAC €50.00)." in texts
    )
    budget = next(d.value for d in app.dataframe if "clv_to_cac" in d.value.columns)
    assert budget.channel.tolist() == ["Paid Social", "Paid Search"]
    assert budget.cac.tolist() == pytest.approx([40.0, 50.0])
