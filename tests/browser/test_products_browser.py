"""The Products page in headless Chromium on the demo store: the bright spots of Champions, the
gateway table, the replenishment cycles with the beans' ~30 days, and the Behaviour page's
"Product replenishment due" preset with members."""

from __future__ import annotations

import pytest
from test_analysis_pages_browser import CHART, metrics, open_page
from test_behaviour_browser import choose
from test_browser import DATAFRAME, assert_no_problem, grid_rows, screenshot, wait_idle

pytestmark = pytest.mark.browser

COMPUTE_TIMEOUT_MS = 240_000


def read_rows(page, index: int) -> list[list[str]]:
    """The rows of dataframe ``index`` once its grid has drawn them."""
    page.locator(DATAFRAME).nth(index).scroll_into_view_if_needed()
    for _ in range(150):
        rows = grid_rows(page, index)
        if rows:
            return rows
        page.wait_for_timeout(200)
    pytest.fail(f"dataframe {index} has no readable rows")


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()
    wait_idle(page)


def test_products_page_on_the_demo_store(visit, artifacts) -> None:
    page = visit.page
    open_page(page, "Products")
    page.locator(CHART).first.wait_for(timeout=COMPUTE_TIMEOUT_MS)
    wait_idle(page)
    assert_no_problem(page)
    assert page.get_by_text("Champions", exact=True).first.is_visible()
    spots = read_rows(page, 0)
    assert len(spots) >= 1
    # Champions buy their top product more often than customers at large (the index column).
    assert float(spots[0][2]) > 1.0, spots[0]
    screenshot(page, artifacts / "products.png")

    open_tab(page, "Gateway products")
    page.get_by_text("First purchase vs later purchases").wait_for(timeout=COMPUTE_TIMEOUT_MS)
    wait_idle(page)
    assert_no_problem(page)
    gateway = read_rows(page, 0)
    assert len(gateway) >= 3
    assert int(gateway[0][2].replace(",", "")) > 0  # customers of the largest group

    open_tab(page, "Replenishment")
    page.get_by_text("Customers due or overdue now").wait_for(timeout=COMPUTE_TIMEOUT_MS)
    wait_idle(page)
    assert_no_problem(page)
    cycles = read_rows(page, 0)
    medians = {row[0]: float(row[4]) for row in cycles}
    beans = [days for name, days in medians.items() if "bean" in name.lower()]
    assert beans and all(25 <= days <= 36 for days in beans), medians
    screenshot(page, artifacts / "products-replenishment.png")

    open_page(page, "Behaviour")
    choose(page, "bh_preset", "Product replenishment due")
    page.get_by_text("Rule:", exact=False).first.wait_for(timeout=COMPUTE_TIMEOUT_MS)
    wait_idle(page)
    assert_no_problem(page)
    assert int(metrics(page)["Customers"].replace(",", "")) > 0
    assert visit.refused == [], visit.refused
