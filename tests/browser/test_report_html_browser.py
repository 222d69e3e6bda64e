"""Issue 17 #6: the HTML report opens from disk in headless Chromium with no server and no
network, and its plotly charts render (the JavaScript is in the file)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bench.browser import VIEWPORT
from dashboard import cli

ORDERS = [
    {"order_id": "1", "customer_id": "ann", "ordered_at": "2024-01-10 10:00:00",
     "order_total": "100.00", "discount_code": "vip"},
    {"order_id": "2", "customer_id": "ann", "ordered_at": "2024-03-01 10:00:00",
     "order_total": "50.00"},
    {"order_id": "3", "customer_id": "bob", "ordered_at": "2024-02-01 10:00:00",
     "order_total": "30.00"},
    {"order_id": "4", "customer_id": "cat", "ordered_at": "2024-03-31 10:00:00",
     "order_total": "20.00"},
    {"order_id": "5", "customer_id": "dan", "ordered_at": "2024-02-20 10:00:00",
     "order_total": "80.00"},
    {"order_id": "6", "customer_id": "dan", "ordered_at": "2024-03-20 10:00:00",
     "order_total": "60.00"},
]  # fmt: skip


def test_report_renders_offline_from_disk(
    browser, workspace: Path, make_dataset: Callable[..., str], tmp_path: Path, artifacts: Path
) -> None:
    make_dataset("shop", ORDERS)
    out = tmp_path / "store-report.html"
    argv = ["report", "--workspace", str(workspace), "--dataset", "shop", "--format", "html"]
    assert cli.main([*argv, "--out", str(out)]) == 0

    context = browser.new_context(viewport=VIEWPORT, offline=True)
    refused: list[str] = []

    def refuse(route) -> None:
        refused.append(route.request.url)
        route.abort()

    context.route(lambda url: not url.startswith("file://"), refuse)
    try:
        page = context.new_page()
        page.goto(out.as_uri(), wait_until="load")
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=30_000)
        charts = page.locator(".js-plotly-plot")
        assert charts.count() == 3
        for index in range(3):
            assert charts.nth(index).locator("svg.main-svg").count() >= 1
        # The segment chart draws its bars (one path per bar and trace).
        assert page.locator(".js-plotly-plot").first.locator("g.point path").count() > 0
        assert page.locator("h1").inner_text() == "Store report: shop"
        page.screenshot(path=str(artifacts / "report.png"), full_page=True)
    finally:
        context.close()
    assert refused == []
