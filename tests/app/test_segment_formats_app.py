"""Issue 17 item 2 on the Segments page: the picked segment downloads as a Klaviyo list, Shopify
tags or Parquet, with the same members as the CSV and the CLI, and e-mail consent respected.

The store is ``rfm_export_shop``'s, scored on the page with its custom cut points: Champions are
P1 (accepted e-mail, tag vip) and P2 (declined).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from rfm_export_shop import CUTS, DATASET, write_hand_store
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest, app_test

from dashboard import cli
from dashboard.rfm import schemes
from dashboard.workspace import store

APP = Path(__file__).resolve().parents[2] / "streamlit_app.py"


@pytest.fixture
def hand_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    workspace = store.resolve_workspace(tmp_path / "workspace")
    write_hand_store(workspace)
    monkeypatch.setenv(store.WORKSPACE_ENV, str(workspace))
    monkeypatch.setenv("SEGMENTS_DATASET", DATASET)
    return workspace


@pytest.fixture
def media(monkeypatch: pytest.MonkeyPatch) -> list[MemoryMediaFileStorage]:
    """The in-memory media stores of the app's runs (as in test_migration_movers_app.py)."""
    stores: list[MemoryMediaFileStorage] = []

    class Recorded(MemoryMediaFileStorage):
        def __init__(self, endpoint: str) -> None:
            super().__init__(endpoint)
            stores.append(self)

    monkeypatch.setattr(app_test, "MemoryMediaFileStorage", Recorded)
    return stores


def assert_clean(app: AppTest) -> None:
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]


def open_with_hand_cuts() -> AppTest:
    """The Segments page scored with the store's custom cut points, Champions picked."""
    app = AppTest.from_file(str(APP), default_timeout=180)
    n = schemes.PRESETS[schemes.DEFAULT_SCHEME].n_scores
    for measure, cuts in zip(("recency", "frequency", "monetary"), CUTS, strict=True):
        for i, value in enumerate(cuts):
            app.session_state[f"cut_{DATASET}_{n}_{measure}_{i}"] = float(value)
    app.run()
    app.radio[0].set_value("Custom cut points").run()
    assert_clean(app)
    [picker] = [s for s in app.selectbox if s.label == "Segment"]
    picker.set_value("Champions").run()
    assert_clean(app)
    return app


def find_download(app: AppTest, start: str):
    found = [b for b in app.get("download_button") if b.label.startswith(start)]
    assert len(found) == 1, [b.label for b in app.get("download_button")]
    return found[0]


def downloaded(media: list[MemoryMediaFileStorage], button) -> bytes:
    return media[-1].get_file(button.proto.url.rsplit("/", 1)[-1]).content


def cli_file(workspace: Path, tmp_path: Path, *args: str) -> bytes:
    """The file ``segments --segment Champions`` writes with the store's cut points."""
    out = tmp_path / "cli-file"
    cuts = [",".join(map(str, c)) for c in CUTS]
    command = ["segments", "--workspace", str(workspace), "--dataset", DATASET]
    command += ["--segment", "Champions", "--scoring", "custom", "--r-cuts", cuts[0]]
    command += ["--f-cuts", cuts[1], "--m-cuts", cuts[2], "--out", str(out), *args]
    assert cli.main(command) == 0
    return out.read_bytes()


def test_champions_download_for_klaviyo_holds_the_consenting_members(
    hand_env: Path, media: list[MemoryMediaFileStorage], tmp_path: Path
) -> None:
    app = open_with_hand_cuts()
    app.radio(key="segment_file_format").set_value("Klaviyo list").run()
    assert_clean(app)
    data = downloaded(media, find_download(app, "Download 1 row (klaviyo)"))
    listing = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
    assert list(listing.Email) == ["p1@x.com"]
    assert list(listing.Segment) == ["Champions"]
    assert data == cli_file(hand_env, tmp_path, "--format", "klaviyo")
    members = pd.read_csv(io.BytesIO(cli_file(hand_env, tmp_path)), dtype=str)
    assert set(members.customer_id) == {"P1", "P2"}
    assert any("Leaves out 1 members who declined" in c.value for c in app.caption)
    stamp = json.loads(downloaded(media, find_download(app, "File record (JSON)")))
    assert (stamp["members"], stamp["row_count"], stamp["left_out_declined_consent"]) == (2, 1, 1)

    app.checkbox(key="segment_consent").check().run()
    assert_clean(app)
    data = downloaded(media, find_download(app, "Download 2 rows (klaviyo)"))
    assert list(pd.read_csv(io.BytesIO(data)).Email) == ["p1@x.com", "p2@x.com"]


def test_champions_download_as_shopify_tags_and_parquet(
    hand_env: Path, media: list[MemoryMediaFileStorage]
) -> None:
    app = open_with_hand_cuts()
    app.radio(key="segment_file_format").set_value("Shopify tags").run()
    assert_clean(app)
    data = downloaded(media, find_download(app, "Download 2 rows (shopify-tags)"))
    assert data.decode().splitlines() == [
        "Email,Tags",
        'p1@x.com,"vip, Champions"',
        "p2@x.com,Champions",
    ]

    app.radio(key="segment_file_format").set_value("Parquet").run()
    assert_clean(app)
    table = pd.read_parquet(io.BytesIO(downloaded(media, find_download(app, "Download 2 rows"))))
    assert list(table.customer_id) == ["P1", "P2"]
    assert list(table.orders) == [3, 2]
    assert list(table.rfm_segment) == ["Champions", "Champions"]
