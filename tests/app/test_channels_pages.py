"""The Channels, Cohorts and Maturity pages run headless through AppTest.

On the small generic dataset (no channel evidence, no spend) and on a copy of the demo store
with its marketing spend loaded; headline numbers are compared with pandas over the demo CSV.
"""

from __future__ import annotations

from pathlib import Path

import demo_reference as ref
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.workspace import store

APP = Path(__file__).resolve().parents[2] / "streamlit_app.py"
PAGES = {
    "pages/channels.py": ("Channels", "Each customer's acquisition channel", 2),
    "pages/cohorts.py": ("Cohorts", "Customers grouped by the month of their first order", 2),
    "pages/maturity.py": ("Maturity", "The store's business stage month by month", 2),
}


def start(page: str) -> AppTest:
    """Run the app once (its default page), then switch to ``page``."""
    app = AppTest.from_file(str(APP), default_timeout=240).run()
    return app.switch_page(page).run()


def assert_page(app: AppTest, page: str) -> None:
    """No exception or error; the page's title, one-line caption and charts are drawn."""
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]
    title, caption, charts = PAGES[page]
    assert [t.value for t in app.title] == [title]
    assert app.caption[0].value.startswith(caption)
    assert len(app.get("plotly_chart")) >= charts


def metrics(app: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in app.metric}


def table_with(app: AppTest, column: str) -> pd.DataFrame:
    """The first table on the page that has ``column`` (editors are tables too)."""
    return next(t.value for t in app.dataframe if column in t.value.columns)


@pytest.fixture(scope="module")
def demo_copy(demo_dataset, tmp_path_factory) -> Path:
    """A copy of the demo store with its marketing_spend.csv rows loaded."""
    return ref.copy_with_spend(demo_dataset, tmp_path_factory.mktemp("app-demo"))


@pytest.fixture(scope="module")
def demo_firsts(demo_dataset) -> pd.DataFrame:
    """Each demo customer's first valid order and channel, by pandas over the CSV."""
    orders = ref.read_orders(ref.files_dir(demo_dataset[0]) / "shopify_orders.csv")
    return ref.attribute(orders)


@pytest.fixture
def demo_env(demo_copy: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(store.WORKSPACE_ENV, str(demo_copy))
    monkeypatch.setenv("SEGMENTS_DATASET", "demo")
    return demo_copy


@pytest.mark.parametrize("page", list(PAGES))
def test_pages_run_on_a_small_dataset(shop_env, page: str) -> None:
    app = start(page)
    assert_page(app, page)


def test_channels_page_without_evidence_or_spend(shop_env) -> None:
    app = start("pages/channels.py")
    assert metrics(app)["New customers"] == f"{shop_env.expected_customers():,}"
    # the generic file has no source, UTM or referrer: everyone is shown as Unattributed
    assert metrics(app)["Unattributed"] == "100.0%"
    assert table_with(app, "new_customers").channel.tolist() == ["Unattributed"]
    assert any("Load a marketing spend table" in i.value for i in app.info)
    # it says plainly that the file cannot tell, and which files would
    assert any(i.value.startswith("This data holds no channel evidence") for i in app.info)


@pytest.mark.parametrize("page", list(PAGES))
def test_pages_run_on_the_demo_store_with_spend(demo_env, page: str) -> None:
    app = start(page)
    assert_page(app, page)


def test_channels_page_numbers_match_pandas(demo_env, demo_firsts) -> None:
    app = start("pages/channels.py")
    assert_page(app, "pages/channels.py")
    assert len(app.get("plotly_chart")) == 5  # shares, value, matrix, CLV : CAC, CAC
    assert metrics(app)["New customers"] == f"{len(demo_firsts):,}"
    table = table_with(app, "new_customers").set_index("channel")
    assert table.new_customers.to_dict() == demo_firsts.channel.value_counts().to_dict()
    economics = table_with(app, "clv_to_cac")
    assert economics.channel.tolist()[-2:] == ["Paid channels", "All channels (blended)"]
    blended, paid = economics.set_index("channel").cac.iloc[[-1, -2]]
    assert f"{blended:,.2f}" in metrics(app)["CAC, blended"]
    assert f"{paid:,.2f}" in metrics(app)["CAC, paid channels"]

    app.select_slider(key="first_order_period_demo").set_value(("Jan 2026", "Oct 2026")).run()
    assert not app.exception, [e.value for e in app.exception]
    recent = demo_firsts[demo_firsts.first_day >= pd.Timestamp("2026-01-01").date()]
    assert metrics(app)["New customers"] == f"{len(recent):,}"


def test_cohorts_page_filters_by_channel(demo_env, demo_firsts) -> None:
    app = start("pages/cohorts.py")
    assert metrics(app)["Customers"] == f"{len(demo_firsts):,}"
    app.multiselect[0].set_value(["Email"]).run()
    assert not app.exception, [e.value for e in app.exception]
    email = int((demo_firsts.channel == "Email").sum())
    assert metrics(app)["Customers"] == f"{email:,}"


def test_maturity_page_shows_the_current_stage(demo_env) -> None:
    app = start("pages/maturity.py")
    assert metrics(app)["Stage, Oct 2026"] == "Well established"
    assert metrics(app)["Recommended retention share"] == "60%"
    assert any(m.value.startswith("The store is well established") for m in app.markdown)
    effort = table_with(app, "returning_share_orders")
    assert effort.stage.iloc[0] in ("Just started", "Gaining traction")
    assert effort.stage.iloc[-1] == "Well established"
    assert effort.retention_spend_share.notna().all()
