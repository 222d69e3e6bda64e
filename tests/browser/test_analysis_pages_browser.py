"""The RFM studio, Channels, Cohorts and Maturity pages in headless Chromium on the demo store:
each draws without an error, and its headline agrees with what the other pages show."""

from __future__ import annotations

import pytest
from test_browser import (
    assert_no_problem,
    open_segments,
    screenshot,
    wait_idle,
)

from dashboard.rfm import schemes

pytestmark = pytest.mark.browser

CHART = '[data-testid="stPlotlyChart"]'


def metrics(page) -> dict[str, str]:
    """The st.metric labels and values on the page."""
    labels = page.locator('[data-testid="stMetricLabel"]').all_inner_texts()
    values = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
    return {label.strip(): value.strip() for label, value in zip(labels, values, strict=True)}


def open_page(page, title: str) -> None:
    """Click the navigation link ``title`` and wait until the page has drawn."""
    page.locator('[data-testid="stSidebarNav"] a').filter(has_text=title).click()
    page.get_by_role("heading", name=title, exact=True).wait_for()
    wait_idle(page)


def count(text: str) -> int:
    return int(text.replace(",", ""))


def test_channels_count_every_scored_customer_once(visit, artifacts) -> None:
    page = visit.page
    open_segments(page)
    shown = metrics(page)
    scored = count(shown["Customers with orders in window"])
    open_page(page, "Channels")
    page.locator(CHART).first.wait_for()
    assert_no_problem(page)
    assert count(metrics(page)["New customers"]) == scored
    assert page.locator(CHART).count() >= 3
    screenshot(page, artifacts / "channels.png")


def test_cohorts_and_maturity_draw_their_charts(visit, artifacts) -> None:
    page = visit.page
    open_segments(page)
    open_page(page, "Cohorts")
    page.locator(CHART).first.wait_for()
    assert_no_problem(page)
    screenshot(page, artifacts / "cohorts.png")
    open_page(page, "Maturity")
    page.locator(CHART).first.wait_for()
    assert_no_problem(page)
    # About 200 orders a day at its end: the last stage (docs/acquisition.md §6).
    stage = [value for label, value in metrics(page).items() if label.startswith("Stage, ")]
    assert stage == ["Well established"]
    screenshot(page, artifacts / "maturity.png")


def test_studio_explains_a_customer(visit, artifacts) -> None:
    page = visit.page
    open_segments(page)
    open_page(page, "RFM studio")
    box = page.locator('[data-testid="stTextInput"]').filter(has_text="Customer id or email")
    box = box.locator("input")
    box.fill("Customer00009@Example.com")
    box.press("Enter")
    heading = page.get_by_role("heading").filter(has_text="customer00009@example.com")
    heading.wait_for()
    wait_idle(page)
    assert_no_problem(page)
    segment = heading.inner_text().split(":", 1)[1].strip()
    assert segment in schemes.PRESETS["shopify"].segments
    screenshot(page, artifacts / "studio.png")
