"""The Behaviour page in headless Chromium: build a segment with two conditions, save it, and
download its members; the file holds exactly the customers the engine finds."""

from __future__ import annotations

import io
import re

import pandas as pd
import pytest

from dashboard.behaviour import segment_store
from dashboard.behaviour.compiler import compile_definition, feature_view
from dashboard.behaviour.definitions import Condition, Definition, Group, RfmSpec
from dashboard.behaviour.feature_base import load_feature_base
from dashboard.behaviour.membership import list_members

pytestmark = pytest.mark.browser

PROBLEMS = '[data-testid="stException"], [data-testid="stAlertContentError"]'
IDLE_JS = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    const status = document.querySelector('[data-testid="stStatusWidget"]');
    return app !== null && app.getAttribute('data-test-script-state') === 'notRunning'
        && (status === null || status.offsetParent === null)
        && document.querySelector('[data-testid="stSkeleton"]') === null;
}"""
DOWNLOAD_LABEL = re.compile(r"^Download ([\d,]+) rows \(csv\)$")
SEGMENT = "browser-repeat-big"


def wait_idle(page) -> None:
    page.wait_for_function(IDLE_JS)


def widget(page, key: str):
    """The element of the widget with ``key`` (Streamlit marks it with the class st-key-<key>)."""
    return page.locator(f".st-key-{key}")


def choose(page, key: str, option: str) -> None:
    """Pick ``option`` in the selectbox ``key`` and wait for the rerun it starts."""
    widget(page, key).locator("input").click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_idle(page)


def type_number(page, key: str, value: str) -> None:
    field = widget(page, key).locator("input")
    field.fill(value)
    field.press("Enter")
    wait_idle(page)


def add_condition(page, feature: tuple[str, str], operator: tuple[str, str], value: str) -> None:
    """Pick a feature and an operator (label, key part), type the value and add the condition."""
    (feature_label, feature_key), (operator_label, operator_key) = feature, operator
    if feature_key != "orders":
        choose(page, "bh_add_feature", feature_label)
    # The operator box for the feature only exists once the rerun after the pick has drawn.
    widget(page, f"bh_add_operator_{feature_key}").wait_for()
    choose(page, f"bh_add_operator_{feature_key}", operator_label)
    type_number(page, f"bh_add_value_{feature_key}_{operator_key}", value)
    widget(page, "bh_add_condition").locator("button").click()
    wait_idle(page)


def engine_members(workspace) -> set[str]:
    """The members of orders >= 3 and net revenue > 300 on the demo store, from the engine."""
    definition = Definition(
        (Group((Condition("orders", ">=", 3), Condition("net_revenue", ">", 300))),)
    )
    base = load_feature_base(workspace, "demo")
    try:
        view = feature_view(base.table, RfmSpec(), workspace)
        found = list_members(view, compile_definition(view, definition), [])
    finally:
        base.backend.disconnect()
    return set(found.customer_id)


def test_build_save_and_download_a_two_condition_segment(visit, tmp_path) -> None:
    page = visit.page
    page.locator('[data-testid="stSidebarNav"] a').filter(has_text="Behaviour").click()
    page.get_by_role("heading", name="Behaviour").wait_for()
    page.get_by_role("tab", name="Builder").click()
    widget(page, "bh_add_feature").wait_for()
    wait_idle(page)

    add_condition(page, ("Orders", "orders"), ("at least", "ge"), "3")
    page.get_by_text("Orders ≥ 3", exact=True).wait_for()
    add_condition(page, ("Net revenue", "net_revenue"), ("more than", "gt"), "300")
    page.get_by_text("Net revenue > 300", exact=True).wait_for()

    name = widget(page, "bh_name").locator("input")
    name.fill(SEGMENT)
    name.press("Enter")
    wait_idle(page)
    widget(page, "bh_save").locator("button").click()
    page.get_by_text(f"Saved '{SEGMENT}' (version 1).", exact=True).wait_for()
    wait_idle(page)
    saved = segment_store.load_segment(visit.server.workspace, "demo", SEGMENT)
    assert [c.feature for c in saved.conditions()] == ["orders", "net_revenue"]

    button = widget(page, "bh_download_builder")
    label = button.inner_text().strip()
    match = DOWNLOAD_LABEL.match(label)
    assert match, label
    with page.expect_download() as download_info:
        button.locator("button").click()
    download = download_info.value
    assert download.suggested_filename == f"demo-{SEGMENT}-csv.csv"
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    frame = pd.read_csv(io.BytesIO(target.read_bytes()), dtype=str, keep_default_na=False)
    assert len(frame) == int(match.group(1).replace(",", ""))
    assert set(frame.customer_id) == engine_members(visit.server.workspace)
    problems = page.locator(PROBLEMS)
    assert problems.count() == 0, problems.all_inner_texts()
