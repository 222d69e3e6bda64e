"""Issue 17 on the Segments page: "Prioritise segments (SCALE)" ranks the scheme's groups.

Three customers scored by the default scheme (Shopify) at 2024-03-31, the latest order.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

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
]  # fmt: skip


@pytest.fixture
def segments_app(
    workspace: Path, make_dataset: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> AppTest:
    make_dataset("shop", ORDERS)
    monkeypatch.setenv(store.WORKSPACE_ENV, str(workspace))
    monkeypatch.setenv("SEGMENTS_DATASET", "shop")
    app = AppTest.from_file(str(APP), default_timeout=240).run()
    app.switch_page("pages/segments.py").run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def test_segments_page_ranks_its_groups_by_scale(segments_app: AppTest) -> None:
    app = segments_app
    assert not [d for d in app.dataframe if "scale_score" in d.value.columns]
    app.toggle(key="rfm_scale_on").set_value(True).run()
    assert not app.exception, [e.value for e in app.exception]
    # Loyal ann (2 orders, AOV 75), Dormant bob (AOV 30), New cat (AOV 20); the seven groups
    # without members are left out. One member each, no consent or country, all Unattributed,
    # all early (first months to 2024-04-09): only Currency differs, 1, 10 / 55 and 0.
    table = scale_of(app)
    assert list(table.segment) == ["Loyal", "Dormant", "New"]
    assert list(table.scale_score) == pytest.approx([1.0, (4 + 10 / 55) / 5, 0.8])
    # Love 10 for Dormant (the others keep 5): Love scores 0, 1, 0.
    app.session_state["bh_scale_love_values"] = {"Dormant": 10.0}
    app.run()
    loved = scale_of(app)
    assert list(loved.segment) == ["Dormant", "Loyal", "New"]
    assert list(loved.scale_score) == pytest.approx([(4 + 10 / 55) / 5, 0.8, 0.6])


def scale_of(app: AppTest):
    return next(d.value for d in app.dataframe if "scale_score" in d.value.columns)
