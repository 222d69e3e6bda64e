"""Issue 18 #17 on screen: traffic by channel from GA4 reports, and the Direct share of sessions
beside the Maturity page's stage.

A store written straight into a temporary workspace: 2 orders a day from 1 January to 12 June
2024 (June is partial, so May is the last complete month), and GA4 channel sessions for March
to May (1,000 sessions, 300 of them Direct).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.workspace import store

APP = Path(__file__).resolve().parents[2] / "streamlit_app.py"
FIRST, LAST = dt.date(2024, 1, 1), dt.date(2024, 6, 12)
INSERT_ORDER = (
    "INSERT INTO orders (order_id, customer_id, ordered_at, order_total, refunded_amount, "
    "net_total, currency, is_cancelled, ingest_id) VALUES (?, ?, ?, ?, 0, ?, 'EUR', false, 1)"
)
INSERT_SESSIONS = (
    "INSERT INTO channel_sessions (week_start, channel, sessions, engaged_sessions, "
    "conversions, revenue, ingest_id) VALUES (?, ?, ?, ?, ?, ?, 2)"
)
# March: 200 Direct of 400; April: 100 Direct of 300; May: 0 Direct of 300 -> 300 of 1,000.
SESSIONS = [
    (dt.date(2024, 3, 4), "Direct", 200, 100, 4.0, Decimal("40.00")),
    (dt.date(2024, 3, 4), "Organic Search", 200, 150, 10.0, Decimal("250.00")),
    (dt.date(2024, 4, 1), "Direct", 100, 50, 1.0, Decimal("10.00")),
    (dt.date(2024, 4, 1), "Unassigned", 200, 20, 0.0, None),
    (dt.date(2024, 5, 6), "Organic Search", 300, 200, 6.0, Decimal("90.00")),
]


def build_store(workspace: Path, dataset: str, with_sessions: bool) -> None:
    rows = []
    for day in range((LAST - FIRST).days + 1):
        for k in range(2):
            n = 2 * day + k
            when = dt.datetime.combine(FIRST + dt.timedelta(days=day), dt.time(9 + k))
            rows.append((f"O{n:04d}", f"c{n % 50:02d}", when, Decimal(20), Decimal(20)))
    with store.open_for_write(workspace, dataset) as con:
        con.begin()
        con.executemany(INSERT_ORDER, rows)
        if with_sessions:
            con.executemany(INSERT_SESSIONS, SESSIONS)
        con.commit()


@pytest.fixture(scope="module")
def traffic_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workspace = store.resolve_workspace(tmp_path_factory.mktemp("traffic") / "workspace")
    build_store(workspace, "ga", with_sessions=True)
    build_store(workspace, "plain", with_sessions=False)
    return workspace


def start_maturity(workspace: Path, dataset: str, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv(store.WORKSPACE_ENV, str(workspace))
    monkeypatch.setenv("SEGMENTS_DATASET", dataset)
    app = AppTest.from_file(str(APP), default_timeout=240).run()
    app.switch_page("pages/maturity.py").run()
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]
    return app


def test_maturity_shows_the_direct_share_beside_the_stage(
    traffic_workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = start_maturity(traffic_workspace, "ga", monkeypatch)
    shown = {m.label: m.value for m in app.metric}
    # The stage is unchanged by the evidence: the same store without sessions is Consistent.
    assert shown["Stage, May 2024"] == "Consistent"
    assert shown["Direct share of sessions, Mar 2024 - May 2024"] == "30%"


def test_maturity_without_ga4_data_shows_no_direct_share(
    traffic_workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = start_maturity(traffic_workspace, "plain", monkeypatch)
    shown = {m.label: m.value for m in app.metric}
    assert shown["Stage, May 2024"] == "Consistent"
    assert not [label for label in shown if label.startswith("Direct share")]


def _traffic_script(repo: str, dataset: str, as_of: object) -> None:
    # AppTest runs this function's source alone from a temporary folder: neither the
    # repository nor this module's imports (hence ``object`` for the date) are there.
    import sys
    import types

    sys.path.insert(0, repo)
    from dashboard.ui import traffic as ui_traffic

    ui_traffic.show_traffic_by_channel(
        types.SimpleNamespace(dataset=dataset, as_of=as_of, currency="EUR")
    )


def run_traffic_table(workspace: Path, dataset: str, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv(store.WORKSPACE_ENV, str(workspace))
    app = AppTest.from_function(
        _traffic_script,
        kwargs={"repo": str(APP.parent), "dataset": dataset, "as_of": LAST},
        default_timeout=60,
    ).run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def test_traffic_by_channel_table(traffic_workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = run_traffic_table(traffic_workspace, "ga", monkeypatch)
    table = app.dataframe[0].value
    # Organic Search: 200 + 300 = 500 sessions, 350 engaged (0.7), 16 key events (0.032),
    # 340.00; Direct: 300 sessions, 150 engaged (0.5), 5 key events (5 / 300); Unassigned is
    # shown as Unattributed: 200 sessions, 20 engaged (0.1), no key event.
    assert table.channel.tolist() == ["Organic Search", "Direct", "Unattributed"]
    assert table.sessions.tolist() == [500, 300, 200]
    assert table.engaged_rate.tolist() == pytest.approx([0.7, 0.5, 0.1])
    assert table.conversion_rate.tolist() == pytest.approx([0.032, 5 / 300, 0.0])
    assert table.revenue.tolist()[:2] == [Decimal("340.00"), Decimal("50.00")]


def test_traffic_by_channel_hint_without_ga4_data(
    traffic_workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = run_traffic_table(traffic_workspace, "plain", monkeypatch)
    assert not app.dataframe
    assert [c.value for c in app.caption] == [
        "Load a GA4 traffic acquisition report (Data page) to see sessions and conversion rate "
        "by channel."
    ]


def test_the_channels_page_shows_sessions_by_channel(
    traffic_workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(store.WORKSPACE_ENV, str(traffic_workspace))
    monkeypatch.setenv("SEGMENTS_DATASET", "ga")
    app = AppTest.from_file(str(APP), default_timeout=240).run()
    app.switch_page("pages/channels.py").run()
    assert not app.exception, [e.value for e in app.exception]
    assert "Sessions and conversion by channel" in [h.value for h in app.subheader]
    sessions = next(d.value for d in app.dataframe if "sessions" in d.value.columns)
    assert sessions.sessions.tolist() == [500, 300, 200]
