"""The Behaviour page in headless Chromium with a condition on a predicted field (issue 15,
item 4): "Churn risk band equals High" on the demo store shows the engine's member count, and
its Klaviyo download carries the predicted fields as profile properties."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from test_behaviour_browser import PROBLEMS, choose, wait_idle, widget

from dashboard.behaviour.compiler import compile_definition, feature_view
from dashboard.behaviour.definitions import Condition, Definition, Group, RfmSpec
from dashboard.behaviour.feature_base import load_feature_base
from dashboard.behaviour.membership import list_members, measure_segment

pytestmark = pytest.mark.browser
# The first build of the feature table fits the models (a holdout run of each, then the fit).
FIT_TIMEOUT_MS = 240_000

HIGH_CHURN = Definition((Group((Condition("churn_band", "==", "High"),)),))
PREDICTED_PROPERTIES = (
    "Predicted CLV",
    "Churn risk",
    "Churn risk band",
    "Expected next order date",
    "Probability active",
)


def choose_by_typing(page, key: str, option: str) -> None:
    """Type ``option`` into the selectbox ``key`` and pick it: a long list only draws the
    options in view."""
    field = widget(page, key).locator("input")
    field.click()
    field.fill(option)
    page.get_by_role("option", name=option, exact=True).click()
    wait_idle(page)


def engine_segment(workspace) -> tuple[int, pd.DataFrame]:
    """The size of "churn band is High" on the demo store, and its members with consent."""
    base = load_feature_base(workspace, "demo")
    try:
        view = feature_view(base.table, RfmSpec(), workspace)
        condition = compile_definition(view, HIGH_CHURN)
        size = measure_segment(view, condition)["customers"]
        members = list_members(view, condition, ["email", "accepts_marketing", "churn_band"])
    finally:
        base.close()
    return size, members


def test_a_churn_condition_counts_and_exports_the_predictions(visit, tmp_path) -> None:
    page = visit.page
    page.locator('[data-testid="stSidebarNav"] a').filter(has_text="Behaviour").click()
    page.get_by_role("heading", name="Behaviour").wait_for()
    page.get_by_role("tab", name="Builder").wait_for(timeout=FIT_TIMEOUT_MS)
    page.get_by_role("tab", name="Builder").click()
    widget(page, "bh_add_feature").wait_for(timeout=FIT_TIMEOUT_MS)
    wait_idle(page)

    choose_by_typing(page, "bh_add_feature", "Churn risk band")
    widget(page, "bh_add_operator_churn_band").wait_for()
    choose(page, "bh_add_value_churn_band_eq", "High")
    widget(page, "bh_add_condition").locator("button").click()
    wait_idle(page)
    page.get_by_text("Churn risk band = High", exact=False).first.wait_for()

    size, members = engine_segment(visit.server.workspace)
    assert size > 0
    metric = page.locator('[data-testid="stMetric"]').filter(has_text="Customers").first
    assert metric.locator('[data-testid="stMetricValue"]').inner_text() == f"{size:,}"

    choose_by_typing(page, "bh_format_builder", "klaviyo")
    # The download button is redrawn for the new format by the rerun the choice starts; its
    # label names the format, so wait for that rather than for the app to look idle.
    button = widget(page, "bh_download_builder")
    button.locator("button").filter(has_text="(klaviyo)").wait_for(timeout=FIT_TIMEOUT_MS)
    wait_idle(page)
    with page.expect_download() as download_info:
        button.locator("button").click()
    target = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(target)
    frame = pd.read_csv(io.BytesIO(target.read_bytes()), dtype=str, keep_default_na=False)
    for name in PREDICTED_PROPERTIES:
        assert name in frame.columns, (name, list(frame.columns))
    consenting = members[members.accepts_marketing.fillna(False).astype(bool)]
    assert set(frame.Email) == set(consenting.email.dropna())
    assert set(frame["Churn risk band"]) <= {"High"}
    problems = page.locator(PROBLEMS)
    assert problems.count() == 0, problems.all_inner_texts()
