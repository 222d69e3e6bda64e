"""The RFM studio's Migration tab: download who entered or left a segment (issue 17 #3).

Runs on tests/movers_shop.py with the page's default scoring (Shopify, quantile cut points)
and dates (the last order, 2024-06-30, and 90 days before); the list must be the engine's.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from movers_shop import load_movers_shop
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest, app_test
from studio_shop import AS_OF, DATASET

from dashboard import export
from dashboard.rfm import cut_points, migration
from dashboard.rfm.schemes import PRESETS
from dashboard.workspace import store

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def shop_env(workspace: Path, make_dataset, monkeypatch: pytest.MonkeyPatch) -> Path:
    load_movers_shop(make_dataset)
    monkeypatch.setenv(store.WORKSPACE_ENV, str(workspace))
    monkeypatch.setenv("SEGMENTS_DATASET", DATASET)
    return workspace


@pytest.fixture
def media(monkeypatch: pytest.MonkeyPatch) -> list[MemoryMediaFileStorage]:
    """The in-memory media stores of the app's runs (as in tests/app/test_data_history.py)."""
    stores: list[MemoryMediaFileStorage] = []

    class Recorded(MemoryMediaFileStorage):
        def __init__(self, endpoint: str) -> None:
            super().__init__(endpoint)
            stores.append(self)

    monkeypatch.setattr(app_test, "MemoryMediaFileStorage", Recorded)
    return stores


def engine_changes(workspace: Path, segment: str, direction: migration.Direction) -> bytes:
    date_from = AS_OF - dt.timedelta(days=migration.DEFAULT_GAP_DAYS)
    scoring = cut_points.ScoringSpec(PRESETS["shopify"])
    moved = migration.load_migration(workspace, DATASET, date_from, AS_OF, scoring)
    try:
        return export.to_csv_bytes(migration.list_segment_changes(moved, segment, direction))
    finally:
        moved.backend.disconnect()


def find_download(app: AppTest, start: str):
    found = [b for b in app.get("download_button") if b.label.startswith(start)]
    assert len(found) == 1, [b.label for b in app.get("download_button")]
    return found[0]


def test_download_who_entered_or_left_a_segment(
    shop_env: Path, media: list[MemoryMediaFileStorage]
) -> None:
    app = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=120).run()
    app.switch_page("pages/studio.py").run()
    app.session_state["studio_tab"] = "Migration"
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    app.selectbox(key="move_change_segment").select(migration.NOT_YET).run()
    app.radio(key="move_change_direction").set_value("left").run()
    assert not app.exception, [e.value for e in app.exception]
    # Not yet a customer on 2024-04-01: bob, cy and hal (gus ordered in March).
    button = find_download(app, "Download 3 customers who left Not a customer yet (CSV)")
    expected = engine_changes(shop_env, migration.NOT_YET, "left")
    assert media[-1].get_file(button.proto.url.rsplit("/", 1)[-1]).content == expected
    assert expected.decode().splitlines()[0] == ",".join(migration.CHANGE_COLUMNS)
    assert [line.split(",")[0] for line in expected.decode().splitlines()[1:]] == [
        "bob",
        "cy",
        "hal",
    ]
