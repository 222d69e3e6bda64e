"""The app's pages run headless through Streamlit's AppTest, against a small loaded dataset.

Each test starts a fresh app session (``AppTest.from_file``) with $SEGMENTS_WORKSPACE pointing
at a temporary workspace; no server and no browser are involved.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.rfm import schemes

APP = Path(__file__).resolve().parents[2] / "streamlit_app.py"

SEGMENTS_PAGE = "pages/segments.py"
DATA_PAGE = "pages/data.py"
# Every page file of the app, so that a new page is covered without editing this list.
ALL_PAGES = sorted(f"pages/{path.name}" for path in (APP.parent / "pages").glob("*.py"))
CUSTOM = "Custom cut points"


def start(page: str = SEGMENTS_PAGE) -> AppTest:
    """Run the app once (default page), then switch to ``page`` if it is another one."""
    app = AppTest.from_file(str(APP), default_timeout=120).run()
    if page != SEGMENTS_PAGE:
        app.switch_page(page).run()
    return app


def assert_clean(app: AppTest) -> None:
    """No exception element and no st.error anywhere on the page or in the sidebar."""
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]


def summary(app: AppTest) -> pd.DataFrame:
    """Return the segment table of the Segments page (the first dataframe on it)."""
    frame = app.dataframe[0].value
    assert "segment" in frame.columns and "customers" in frame.columns, frame.columns
    return frame


def slider(app: AppTest, measure: str, index: int, n_scores: int = 5):
    """Return the cut-point slider of ``measure`` number ``index`` (0 = lowest cut)."""
    return app.slider(key=f"cut_shop_{n_scores}_{measure}_{index}")


@pytest.mark.parametrize("page", ALL_PAGES)
def test_every_page_runs_without_error(shop_env, page: str) -> None:
    app = start(page)
    assert_clean(app)
    assert app.title, "the page drew no title"


def test_segment_table_counts_every_loaded_customer(shop_env) -> None:
    app = start()
    assert_clean(app)
    frame = summary(app)
    expected = shop_env.expected_customers()
    assert expected == 300
    assert int(frame.customers.sum()) == expected
    assert list(frame.segment) == [*schemes.PRESETS["shopify"].segments, schemes.PROSPECTS]
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Customers with orders in window"] == f"{expected:,}"
    assert metrics["Prospects (no valid order)"] == "0"


def test_data_page_shows_the_loaded_file(shop_env) -> None:
    app = start(DATA_PAGE)
    assert_clean(app)
    orders = shop_env.frame()
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Orders"] == f"{len(orders):,}"
    assert metrics["Customers with orders"] == f"{orders.customer_id.nunique():,}"
    assert any(m.value == "**Files loaded**" for m in app.markdown)
    history = app.dataframe[0].value
    assert len(history) == 1
    assert history.file_name.iloc[0] == shop_env.csv_path.name


def test_custom_cut_points_show_twelve_sliders(shop_env) -> None:
    app = start()
    assert not app.slider
    app.radio[0].set_value(CUSTOM).run()
    assert_clean(app)
    assert len(app.slider) == 12
    for measure in ("recency", "frequency", "monetary"):
        values = [slider(app, measure, i).value for i in range(4)]
        assert values == sorted(set(values)), f"{measure} defaults do not rise: {values}"


def test_moving_a_slider_changes_the_segment_table(shop_env) -> None:
    app = start()
    app.radio[0].set_value(CUSTOM).run()
    before = summary(app).customers.tolist()
    # F >= 5 from 10 orders (nobody in the file has 10) down to 6 orders: still above F >= 4 at 5.
    top = slider(app, "frequency", 3)
    assert top.value == 10.0 and slider(app, "frequency", 2).value == 5.0
    top.set_value(6.0).run()
    assert_clean(app)
    after = summary(app).customers.tolist()
    assert after != before
    assert sum(after) == sum(before) == shop_env.expected_customers()


def test_a_cut_point_pushed_past_its_neighbour_stops_before_it(shop_env) -> None:
    app = start()
    app.radio[0].set_value(CUSTOM).run()
    # F >= 3 pushed to 6 orders while F >= 4 stays at 5 orders: it stops at 4 (issue 18 #8).
    slider(app, "frequency", 1).set_value(6.0).run()
    assert_clean(app)
    assert [slider(app, "frequency", i).value for i in range(4)] == [2.0, 4.0, 5.0, 10.0]
    assert app.dataframe, "the segment table is drawn"


def test_klaviyo_scheme_gives_its_six_groups(shop_env) -> None:
    app = start()
    app.sidebar.selectbox(key="scheme").set_value("klaviyo").run()
    assert_clean(app)
    frame = summary(app)
    assert list(frame.segment) == [
        "Champions",
        "Loyal",
        "Recent",
        "Needs attention",
        "At risk",
        "Inactive",
        schemes.PROSPECTS,
    ]
    assert int(frame.customers.sum()) == shop_env.expected_customers()
    app.radio[0].set_value(CUSTOM).run()
    assert_clean(app)
    assert len(app.slider) == 6


def test_download_button_follows_the_chosen_segment(shop_env) -> None:
    app = start()
    assert_clean(app)
    total = shop_env.expected_customers()
    # besides the store's HTML report, one download: the chosen segment's customers
    report = "Download the report (HTML)"
    assert [b.label for b in app.download_button] == [f"Download {total:,} customers (CSV)", report]
    frame = summary(app)
    row = frame[frame.customers > 0].iloc[0]
    box = next(s for s in app.selectbox if s.label == "Segment")
    box.set_value(row.segment).run()
    assert_clean(app)
    assert [b.label for b in app.download_button] == [
        f"Download {int(row.customers):,} customers (CSV)",
        report,
    ]


@pytest.mark.parametrize("page", ALL_PAGES)
def test_empty_workspace_says_what_to_do(empty_env, page: str) -> None:
    app = start(page)
    assert_clean(app)
    assert [i.value for i in app.sidebar.info] == ["No dataset yet: load a file on the Data page."]
    if page == SEGMENTS_PAGE:
        assert any("load your store's exports" in i.value for i in app.main.info)
        assert not app.dataframe
    elif page == DATA_PAGE:
        assert app.file_uploader, "the Data page must offer an upload on an empty workspace"
