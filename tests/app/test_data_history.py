"""The Data page's load reports: a file uploaded and loaded in one session, then picked in the
load history by another session, shows the same report and downloads the same CSV bytes."""

from __future__ import annotations

from pathlib import Path

import pytest
from markdown_text import read_markdown
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest, app_test

from dashboard.ingest import history
from dashboard.ingest.report import render_report_csv
from dashboard.workspace import store

APP = Path(__file__).resolve().parents[2] / "streamlit_app.py"
DATA_PAGE = "pages/data.py"
# Headers the mapping step guesses as they are. Line 3 is rejected (its amount is a formula),
# line 4 has no customer (a warning) and a total of 0 (a note).
ORDERS = (
    b"order_id,customer_id,ordered_at,order_total\n"
    b"A1,ann@x.com,2024-01-01 10:00:00,10.00\n"
    b"A2,bob@x.com,2024-01-02 10:00:00,=1+1\n"
    b"A3,,2024-01-03 10:00:00,0\n"
    b"A4,cy@x.com,2024-01-04 10:00:00,5.00\n"
)
SUMMARY = "orders.csv: 4 orders rows read, 3 loaded, 1 rejected, 1 loaded with a warning."
RECONCILED = "4 records in the file = 3 loaded + 1 rejected + 0 already loaded."
ZERO_NOTE = (
    "1 orders have a total of 0 (loaded; RFM does not count them as purchases unless asked to)."
)


@pytest.fixture
def media(monkeypatch: pytest.MonkeyPatch) -> list[MemoryMediaFileStorage]:
    """The in-memory media stores of the app's runs, where download buttons put their bytes."""
    stores: list[MemoryMediaFileStorage] = []

    class Recorded(MemoryMediaFileStorage):
        def __init__(self, endpoint: str) -> None:
            super().__init__(endpoint)
            stores.append(self)

    monkeypatch.setattr(app_test, "MemoryMediaFileStorage", Recorded)
    return stores


def downloaded(media: list[MemoryMediaFileStorage], url: str) -> bytes:
    """The bytes behind a download button's ``url``, from the latest run's media store."""
    return media[-1].get_file(url.rsplit("/", 1)[-1]).content


def assert_clean(app: AppTest) -> None:
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]


def test_a_loaded_file_is_picked_in_the_history_with_its_report_and_download(
    empty_env: Path, media: list[MemoryMediaFileStorage], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = AppTest.from_file(str(APP), default_timeout=120).run()
    app.switch_page(DATA_PAGE).run()
    next(t for t in app.text_input if t.label == "New dataset name").input("shop").run()
    app.file_uploader[0].upload("orders.csv", ORDERS, "text/csv")
    app.run()
    next(b for b in app.button if b.label == "Load file").click().run()
    assert_clean(app)
    loaded = app.session_state["last_report"]
    # The other warning asks for the currency this file did not give.
    assert SUMMARY in [read_markdown(w.value) for w in app.warning]
    with store.open_for_read(empty_env, "shop") as backend:
        expected = render_report_csv(history.read_report(backend, 1))
    assert expected == render_report_csv(loaded)

    # Another session: nothing loaded in it, the report comes from the dataset's history.
    monkeypatch.setenv("SEGMENTS_DATASET", "shop")
    later = AppTest.from_file(str(APP), default_timeout=120).run()
    later.switch_page(DATA_PAGE).run()
    assert_clean(later)
    assert not later.get("download_button"), "no report is shown before a load is picked"
    loads = later.dataframe[0].value
    assert loads[["ingest_id", "file_name", "records_read"]].values.tolist() == [
        [1, "orders.csv", "4"]
    ]
    picker = next(s for s in later.selectbox if s.label == "See the report of a load")
    assert picker.options == [f"#1 orders.csv ({loaded.loaded_at:%Y-%m-%d %H:%M})"]
    picker.set_value(1).run()
    assert_clean(later)
    assert SUMMARY in [read_markdown(w.value) for w in later.warning]
    assert RECONCILED in [read_markdown(c.value) for c in later.caption]
    assert ZERO_NOTE in [read_markdown(i.value) for i in later.info]
    by_reason = later.dataframe[1].value
    assert by_reason.values.tolist() == [["amount is not a number", 1]]
    [button] = later.get("download_button")
    assert button.label == "Download the report (CSV)"
    assert downloaded(media, button.proto.url) == expected
    assert b"3,order_total,rejected,amount is not a number,'=1+1\r\n" in expected
