"""Editing a playbook entry in the app (issue 17 #1): on the Segments page, Champions' goal is
changed in the panel's Edit form, saved in the workspace, shown after a rerun, and reset."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import playbook
from dashboard.ui.text import escape_markdown

APP = Path(__file__).resolve().parents[2] / "streamlit_app.py"
PANEL = "Playbook: Champions"
PREFIX = "pb_rfm_shopify_Champions"
NEW_GOAL = "Keep Champions buying every month."


@pytest.fixture
def editable_shop(shop_env) -> Iterator[object]:
    """The app's shop, with any edit of Champions forgotten afterwards: the workspace is shared
    by the whole session's app tests, which expect the shipped entry."""
    yield shop_env
    playbook.reset_entry(shop_env.workspace, shop_env.dataset, "rfm", "shopify", "Champions")


def assert_clean(app: AppTest) -> None:
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]


def panel_text(app: AppTest) -> str:
    [panel] = [e for e in app.expander if e.label == PANEL]
    return "\n".join(m.value for m in panel.markdown)


def open_champions_editor(app: AppTest) -> AppTest:
    [picker] = [s for s in app.selectbox if s.label == "Segment"]
    picker.set_value("Champions").run()
    app.toggle(key=f"{PREFIX}_edit").set_value(True).run()
    assert_clean(app)
    return app


def test_editing_champions_goal_is_saved_and_shown_after_a_rerun(editable_shop) -> None:
    shop_env = editable_shop
    shipped = playbook.load_playbook("shopify")["Champions"]
    app = open_champions_editor(AppTest.from_file(str(APP), default_timeout=120).run())
    assert app.text_input(key=f"{PREFIX}_goal").value == shipped.goal

    app.text_input(key=f"{PREFIX}_goal").input(NEW_GOAL)
    [save] = [b for b in app.button if b.label == "Save"]
    save.click().run()
    assert_clean(app)
    app.run()

    assert escape_markdown(NEW_GOAL) in panel_text(app)
    assert escape_markdown(shipped.goal) not in panel_text(app)
    saved = playbook.find_saved_entry(
        shop_env.workspace, shop_env.dataset, "rfm", "shopify", "Champions"
    )
    assert saved is not None and saved.goal == NEW_GOAL
    assert saved.actions == shipped.actions

    # A fresh session of the app reads the saved entry from the workspace.
    fresh = AppTest.from_file(str(APP), default_timeout=120).run()
    [picker] = [s for s in fresh.selectbox if s.label == "Segment"]
    picker.set_value("Champions").run()
    assert escape_markdown(NEW_GOAL) in panel_text(fresh)

    [reset] = [b for b in app.button if b.label == "Reset to the shipped entry"]
    reset.click().run()
    assert_clean(app)
    assert escape_markdown(shipped.goal) in panel_text(app)
    assert app.text_input(key=f"{PREFIX}_goal").value == shipped.goal


def test_an_entry_with_one_action_is_refused_with_the_sentence(editable_shop) -> None:
    shop_env = editable_shop
    app = open_champions_editor(AppTest.from_file(str(APP), default_timeout=120).run())
    app.text_area(key=f"{PREFIX}_actions").input("Only this.")
    [save] = [b for b in app.button if b.label == "Save"]
    save.click().run()

    assert [e.value for e in app.error] == [
        escape_markdown(
            "The edited playbook entry ('Champions'): 'actions' must list 2 to 5 actions."
        )
    ]
    assert playbook.read_saved_entries(shop_env.workspace, shop_env.dataset, "rfm", "shopify") == {}
