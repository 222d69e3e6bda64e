"""Per-dataset access in the app and the localhost rule (issue #19 items 1 and 2): the sidebar
lists only the datasets a user may open, every page loader refuses another user's dataset with
one sentence and no data, a viewer cannot load files nor delete a dataset, and a server without
sign-in refuses to listen beyond localhost."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import access, ui
from dashboard.ingest import ingest_file
from dashboard.rfm import scheme_io
from dashboard.ui import auth
from dashboard.workspace import store

APP = Path(__file__).resolve().parents[2] / "streamlit_app.py"
MAPPING = {name: name for name in ("order_id", "customer_id", "ordered_at", "order_total")}
# 3 orders of 2 customers in each dataset.
ORDERS = (
    "order_id,customer_id,ordered_at,order_total\n"
    "A1,ann@x.com,2024-01-01 10:00:00,10.00\n"
    "A2,ann@x.com,2024-01-02 10:00:00,20.00\n"
    "A3,bob@x.com,2024-01-03 10:00:00,5.00\n"
)
ACCESS = """
[[grant]]
to = "@example.com"
datasets = "shop"
role = "viewer"

[[grant]]
to = "ann@example.com"
datasets = "*"
role = "admin"
"""
DENIED = "bob@example.com may not open the dataset 'outlet'"


@pytest.fixture(scope="module")
def two_datasets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with datasets ``shop`` and ``outlet`` and an access file."""
    root = tmp_path_factory.mktemp("access")
    csv_path = root / "orders.csv"
    csv_path.write_text(ORDERS, encoding="utf-8")
    workspace = store.resolve_workspace(root / "workspace")
    for name in ("shop", "outlet"):
        report = ingest_file(workspace, name, csv_path, file_format="generic", mapping=MAPPING)
        assert report.rows_loaded == 3, report.summary()
    (workspace / access.ACCESS_FILE).write_text(ACCESS, encoding="utf-8")
    return workspace


@pytest.fixture
def signed_in(two_datasets: Path, monkeypatch: pytest.MonkeyPatch):
    """Return a function that signs ``email`` in (None: the local user) on that workspace."""
    monkeypatch.setenv(store.WORKSPACE_ENV, str(two_datasets))
    monkeypatch.setenv("SEGMENTS_DATASET", "outlet")

    def sign_in(email: str | None) -> None:
        monkeypatch.setattr(auth, "current_user", lambda: email)

    return sign_in


def unescape(markdown: str) -> str:
    """Return the sentence an ``st.error`` shows (its markdown escapes removed)."""
    return markdown.replace("\\", "")


def sidebar_datasets(app: AppTest) -> list[str]:
    """Return the options of the sidebar's dataset picker."""
    return next(box.options for box in app.sidebar.selectbox if box.label == "Dataset")


def test_sidebar_lists_only_allowed_datasets(signed_in) -> None:
    signed_in(None)
    app = AppTest.from_file(str(APP), default_timeout=120).run()
    assert sidebar_datasets(app) == ["outlet", "shop"]
    signed_in("bob@example.com")
    app = AppTest.from_file(str(APP), default_timeout=120).run()
    assert not app.exception
    assert sidebar_datasets(app) == ["shop"]
    assert app.sidebar.selectbox[0].value == "shop"
    assert not app.error
    signed_in("ann@example.com")
    app = AppTest.from_file(str(APP), default_timeout=120).run()
    assert sidebar_datasets(app) == ["outlet", "shop"]


def call_loaders_on_outlet() -> None:
    """AppTest script: call each page's loaders for dataset ``outlet``, each in its own
    ``friendly_errors`` block; a loader that returns writes LOADED."""
    import streamlit as st

    from dashboard import order_rules, ui
    from dashboard.acquisition import reports
    from dashboard.rfm import analysis, schemes
    from dashboard.ui import acquisition, customer_base, predictions, products, traffic
    from dashboard.ui.behaviour import feature_cache

    overview = analysis.describe_dataset(ui.workspace(), "outlet")
    selection = ui.Selection(
        "outlet",
        overview,
        overview.last_order_on,
        None,
        order_rules.CountingRules(),
        schemes.PRESETS[schemes.DEFAULT_SCHEME],
    )
    settings = reports.Settings()
    loaders = [
        lambda: ui.get_overview("outlet"),
        lambda: customer_base.get_customer_base(selection),
        lambda: feature_cache.get_feature_base(selection),
        lambda: acquisition.get_attribution(selection, settings),
        lambda: acquisition.get_cohort_cells(selection, settings),
        lambda: acquisition.get_maturity(selection, settings),
        lambda: traffic.get_direct_share(selection),
        lambda: products.get_product_buyers(selection),
        lambda: products.get_first_and_later(selection),
        lambda: products.get_time_to_second_order(selection),
        lambda: predictions.get_prediction_fit(selection),
    ]
    for loader in loaders:
        with ui.friendly_errors():
            loader()
            st.write("LOADED")


def test_every_page_loader_refuses_another_users_dataset(signed_in) -> None:
    signed_in("bob@example.com")
    app = AppTest.from_function(call_loaders_on_outlet, default_timeout=120).run()
    assert not app.exception
    assert [m.value for m in app.markdown if m.value == "LOADED"] == []
    assert len(app.error) == 11
    shown = [unescape(error.value) for error in app.error]
    assert [sentence[: len(DENIED)] for sentence in shown] == [DENIED] * 11
    # The local user (no sign-in) may open it: the loaders run (or fail for lack of data, never
    # for access).
    signed_in(None)
    app = AppTest.from_function(call_loaders_on_outlet, default_timeout=120).run()
    assert not any("may not open" in error.value for error in app.error)
    assert "LOADED" in [m.value for m in app.markdown]


def test_page_for_a_dataset_not_allowed_shows_the_sentence_and_no_data(signed_in) -> None:
    signed_in(None)
    app = AppTest.from_file(str(APP), default_timeout=120).run()
    assert app.sidebar.selectbox[0].value == "outlet"
    # Bob takes over a session that had outlet selected: the page refuses it.
    signed_in("bob@example.com")

    def keep_outlet() -> None:
        import streamlit as st

        from dashboard import ui

        st.session_state[ui.SELECTION] = st.session_state["held"]
        ui.require_selection()
        st.write("DATA")

    held = app.session_state[ui.SELECTION]
    page = AppTest.from_function(keep_outlet, default_timeout=120)
    page.session_state["held"] = held
    page.run()
    assert [unescape(error.value) for error in page.error] == [
        DENIED + "; ask an admin to add you to the workspace's access.toml."
    ]
    assert "DATA" not in [m.value for m in page.markdown]


def test_viewer_cannot_load_files_nor_delete(signed_in) -> None:
    signed_in("bob@example.com")

    def try_load() -> None:
        import streamlit as st

        from dashboard import ui
        from dashboard.ui import data as ui_data

        with ui.friendly_errors():
            ui_data.load_upload("shop", None)
        st.write(f"saved: {ui_data.SAVED_UPLOAD in st.session_state}")

    app = AppTest.from_function(try_load, default_timeout=120).run()
    assert [unescape(error.value) for error in app.error] == [
        "bob@example.com is a viewer of the dataset 'shop', and only an analyst or above may "
        "load files and save schemes and segments; ask an admin for that role."
    ]
    assert "saved: False" in [m.value for m in app.markdown]

    app = AppTest.from_file(str(APP), default_timeout=120).run()
    app.switch_page("pages/data.py").run()
    assert not app.exception
    assert [e.label for e in app.expander if e.label == "Delete a dataset"] == []
    signed_in("ann@example.com")
    app = AppTest.from_file(str(APP), default_timeout=120).run()
    app.switch_page("pages/data.py").run()
    assert [e.label for e in app.expander if e.label == "Delete a dataset"] == ["Delete a dataset"]


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("0.0.0.0", True),
        ("", True),
        (None, True),
        ("127.0.0.1", False),
        ("localhost", False),
        ("::1", False),
    ],
)
def test_bind_rule_without_sign_in(address: str | None, refused: bool) -> None:
    problem = auth.describe_bind_problem(address, auth_configured=False)
    assert (problem is not None) == refused
    if refused:
        assert "configure an [auth] section in .streamlit/secrets.toml" in problem
        assert "`make run`" in problem
    assert auth.describe_bind_problem(address, auth_configured=True) is None


def show_after_bind_rule() -> None:
    """AppTest script: the bind rule, then a line that shows only when it let the page run."""
    import streamlit as st

    from dashboard.ui import auth

    auth.enforce_bind_rule()
    st.write("RAN")


@pytest.mark.parametrize(
    ("address", "with_auth", "runs"),
    [
        ("0.0.0.0", False, False),
        ("", False, False),
        ("127.0.0.1", False, True),
        ("localhost", False, True),
        ("0.0.0.0", True, True),
    ],
)
def test_enforce_bind_rule_in_the_app(
    monkeypatch: pytest.MonkeyPatch, address: str, with_auth: bool, runs: bool
) -> None:
    real_get_option = auth.st.get_option
    monkeypatch.setattr(
        auth.st,
        "get_option",
        lambda key: address if key == "server.address" else real_get_option(key),
    )
    app = AppTest.from_function(show_after_bind_rule, default_timeout=60)
    if with_auth:
        app.secrets["auth"] = {"redirect_uri": "http://localhost:8501/oauth2callback"}
    app.run()
    assert not app.exception
    assert ("RAN" in [m.value for m in app.markdown]) == runs
    assert len(app.error) == (0 if runs else 1)
    if not runs:
        assert "without sign-in" in app.error[0].value


def test_make_run_and_the_config_bind_to_localhost() -> None:
    repo = APP.parent
    assert "--server.address localhost" in (repo / "Makefile").read_text(encoding="utf-8")
    assert 'address = "localhost"' in (repo / ".streamlit" / "config.toml").read_text(
        encoding="utf-8"
    )


def test_the_app_runs_with_the_repository_config() -> None:
    # The repository's config makes a plain `streamlit run` listen on localhost, so the rule lets
    # it start; AppTest reads the same config.
    app = AppTest.from_function(show_after_bind_rule, default_timeout=60).run()
    assert "RAN" in [m.value for m in app.markdown]


def test_viewer_cannot_save_schemes_nor_segments(
    signed_in, two_datasets: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    signed_in(None)
    monkeypatch.setenv("SEGMENTS_DATASET", "shop")
    held = AppTest.from_file(str(APP), default_timeout=120).run().session_state[ui.SELECTION]
    signed_in("bob@example.com")

    def try_saves() -> None:
        import streamlit as st

        from dashboard import ui
        from dashboard.rfm import schemes
        from dashboard.ui import scheme_editor
        from dashboard.ui.behaviour import saved_segments

        st.session_state[ui.SELECTION] = st.session_state["held"]
        with ui.friendly_errors():
            scheme_editor.save_scheme(schemes.PRESETS[schemes.DEFAULT_SCHEME], "mine")
        with ui.friendly_errors():
            saved_segments.save_controls("shop", None)

    app = AppTest.from_function(try_saves, default_timeout=120)
    app.session_state["held"] = held
    app.run()
    app.text_input(key="bh_name").input("vip").run()
    app.button(key="bh_save").click().run()
    viewer = (
        "bob@example.com is a viewer of the dataset 'shop', and only an analyst or above may "
        "load files and save schemes and segments; ask an admin for that role."
    )
    assert [unescape(error.value) for error in app.error] == [viewer, viewer]
    assert scheme_io.list_custom_schemes(two_datasets) == []
    assert not list(two_datasets.rglob("*vip*"))


def test_sidebar_says_when_no_dataset_is_allowed(signed_in) -> None:
    signed_in("eve@elsewhere.org")
    app = AppTest.from_file(str(APP), default_timeout=120).run()
    assert not app.exception
    assert [unescape(info.value) for info in app.sidebar.info] == [auth.NO_DATASET_ALLOWED]
    assert not [box for box in app.sidebar.selectbox if box.label == "Dataset"]
