"""The Predictions page in headless Chromium on the demo store: it fits, draws its charts, runs
a validation and shows the tracking chart and the verdict."""

from __future__ import annotations

import pytest
from test_analysis_pages_browser import CHART, metrics
from test_browser import assert_no_problem, open_segments, screenshot, wait_idle

pytestmark = pytest.mark.browser

FIT_TIMEOUT_MS = 240_000


def test_predictions_page_validates_on_the_demo_store(visit, artifacts) -> None:
    page = visit.page
    open_segments(page)
    page.locator('[data-testid="stSidebarNav"] a').filter(has_text="Predictions").click()
    page.get_by_role("heading", name="Predictions", exact=True).wait_for()
    page.locator('[data-testid="stMetricLabel"]').filter(
        has_text="Customers with a prediction"
    ).wait_for(timeout=FIT_TIMEOUT_MS)
    wait_idle(page)
    assert_no_problem(page)
    shown = metrics(page)
    assert int(shown["Customers with a prediction"].replace(",", "")) > 1000
    assert shown["Model, chosen on a holdout"] in {"BG/NBD", "Pareto/NBD"}
    assert page.locator(CHART).count() == 3

    page.get_by_role("button", name="Run validation").click()
    verdict = page.locator('[data-testid="stAlertContentSuccess"]').filter(has_text="Verdict:")
    verdict.wait_for(timeout=FIT_TIMEOUT_MS)
    wait_idle(page)
    assert_no_problem(page)
    assert "repeat orders in the holdout" in verdict.inner_text()
    tracking = page.locator(CHART).filter(has_text="Cumulative repeat orders: actual vs model")
    tracking.locator("svg text").first.wait_for(state="attached")
    assert tracking.count() == 1
    assert page.locator(CHART).count() == 5
    assert int(metrics(page)["Actual repeat orders"].replace(",", "")) > 0
    screenshot(page, artifacts / "predictions.png")
