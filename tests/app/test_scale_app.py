"""Issue 17 item 4 on screen: the Behaviour page's SCALE table with the analyst's Love and
weights, and CAC by the segments' channel mix when spend is loaded.

A store built through the real loaders (tests/tracking_export.py): four new customers in March
2025, one order of 20.00 each; ann and bob came through Paid Social, cid through Organic Search,
dan with no evidence (Unattributed). Spend: Meta Ads 190.50 in March, so Paid Social's CAC is
190.50 / 2 = 95.25 and Organic Search's is 0 (no spend).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from tracking_export import write_export

from dashboard import ingest
from dashboard.behaviour import segment_store
from dashboard.behaviour.definitions import Condition, Definition, Group
from dashboard.workspace import store

APP = Path(__file__).resolve().parents[2] / "streamlit_app.py"
PAID = "utm_source: facebook\nutm_medium: paidsocial\nutm_campaign: spring"
ORDERS = [
    {"Email": "ann@example.com", "Note Attributes": PAID},
    {"Email": "bob@example.com", "Note Attributes": PAID},
    {"Email": "cid@example.com", "Note Attributes": "utm_source: google\nutm_medium: organic"},
    {"Email": "dan@example.com"},
]
MONTHLY = "month,channel,spend\n2025-03,Meta Ads,190.50\n"
SEGMENTS = {
    "paid": Definition((Group((Condition("first_order_channel", "==", "Paid Social"),)),)),
    "buyers": Definition((Group((Condition("orders", ">=", 1),)),)),
}


@pytest.fixture
def scale_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    workspace = store.resolve_workspace(tmp_path / "workspace")
    ingest.ingest_file(workspace, "shop", write_export(tmp_path / "orders.csv", ORDERS))
    spend = tmp_path / "spend.csv"
    spend.write_text(MONTHLY, encoding="utf-8")
    assert ingest.ingest_file(workspace, "shop", spend).rows_rejected == 0
    for name, definition in SEGMENTS.items():
        segment_store.save_segment(workspace, "shop", name, definition)
    monkeypatch.setenv(store.WORKSPACE_ENV, str(workspace))
    monkeypatch.setenv("SEGMENTS_DATASET", "shop")
    app = AppTest.from_file(str(APP), default_timeout=240).run()
    app.switch_page("pages/behaviour.py").run()
    app.session_state["bh_tab"] = "Compare and prioritise"
    app.run()
    app.multiselect(key="bh_compare").set_value(["paid (saved)", "buyers (saved)"]).run()
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]
    return app


def scale_of(app: AppTest):
    return next(d.value for d in app.dataframe if "scale_score" in d.value.columns)


def test_scale_shows_cac_by_channel_mix_and_follows_love_and_weights(scale_app: AppTest) -> None:
    table = scale_of(scale_app).set_index("segment")
    # paid: 2 Paid Social = 95.25; buyers: (95.25 * 2 + 0) / 3, dan (Unattributed) left out.
    assert table.loc["paid (saved)", "cac_channel_mix"] == pytest.approx(95.25)
    assert table.loc["buyers (saved)", "cac_channel_mix"] == pytest.approx(190.5 / 3)
    assert table.loc["buyers (saved)", "revenue_to_cac"] == pytest.approx(20 / (190.5 / 3))
    assert table.loc["paid (saved)", "access_why"].endswith("addressable channel 100.0%")
    # Same AOV, everyone early, Love 5 each: buyers is best on Size, paid on Access (its
    # addressable-channel share; no consent or country is known): 4 / 5 each, a tie kept in the
    # chosen order.
    ranked = scale_of(scale_app)
    assert list(ranked.segment) == ["paid (saved)", "buyers (saved)"]
    assert list(ranked.scale_score) == pytest.approx([0.8, 0.8])
    for letter in ("size", "currency", "access", "early"):
        scale_app.number_input(key=f"bh_scale_weight_{letter}").set_value(0.0)
    scale_app.session_state["bh_scale_love_values"] = {"buyers (saved)": 9.0}
    scale_app.run()
    ranked = scale_of(scale_app)
    assert list(ranked.segment) == ["buyers (saved)", "paid (saved)"]
    assert list(ranked.love_score) == [1.0, 0.0] and list(ranked.scale_score) == [1.0, 0.0]
