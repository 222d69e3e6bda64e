"""End to end in headless Chromium: the demo store through a real Streamlit server.

Streamlit draws dataframes on a canvas (glide data grid); the grid also keeps an accessible
table of the visible cells (``role=row`` / ``role=gridcell``, raw values), which is what these
tests read. The chart's numbers are read from the SVG text of the plotly figure.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pandas as pd
import pytest

from dashboard.rfm.schemes import PRESETS, PROSPECTS

pytestmark = pytest.mark.browser

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

APP = '[data-testid="stApp"]'
DATAFRAME = '[data-testid="stDataFrame"]'
PROBLEMS = '[data-testid="stException"], [data-testid="stAlertContentError"]'
DOWNLOAD = '[data-testid="stDownloadButton"]'
DOWNLOAD_LABEL = re.compile(r"^Download ([\d,]+) customers \(CSV\)$")
# The segment's download, not the store report's beside it.
CUSTOMERS_DOWNLOAD = re.compile(r"Download [\d,]+ customers \(CSV\)")
EXPORT_COLUMNS = {
    "customer_id",
    "recency_days",
    "frequency",
    "monetary",
    "r_score",
    "f_score",
    "m_score",
    "segment",
}
SHOPIFY_SEGMENTS = [*PRESETS["shopify"].segments, PROSPECTS]

# The rows of the n-th dataframe on the page, from the grid's accessible table.
GRID_ROWS_JS = """([selector, index]) => {
    const grid = document.querySelectorAll(selector)[index];
    if (!grid) return [];
    return [...grid.querySelectorAll('[role="row"]')]
        .map(row => [...row.querySelectorAll('[role="gridcell"]')].map(cell => cell.textContent))
        .filter(cells => cells.length > 0);
}"""
CHART_TEXT_JS = """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"] svg text')]
    .map(node => node.textContent)"""
IDLE_JS = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    const status = document.querySelector('[data-testid="stStatusWidget"]');
    return app !== null && app.getAttribute('data-test-script-state') === 'notRunning'
        && (status === null || status.offsetParent === null)
        && document.querySelector('[data-testid="stSkeleton"]') === null;
}"""


# --- helpers -----------------------------------------------------------------------------------


def wait_idle(page) -> None:
    """Wait until the script run is over (no running state, no status widget, no skeleton)."""
    page.wait_for_function(IDLE_JS)


def grid_rows(page, index: int = 0) -> list[list[str]]:
    """Return the cell texts of dataframe ``index`` on the page, one list per row."""
    return page.evaluate(GRID_ROWS_JS, [DATAFRAME, index])


def segment_table(page) -> pd.DataFrame:
    """Return segment and customers of the Segments page's summary table."""
    # The grid fills its accessible rows once it is drawn, which can lag a busy rerun.
    page.locator(DATAFRAME).first.scroll_into_view_if_needed()
    rows: list[list[str]] = []
    for _ in range(150):
        rows = grid_rows(page, 0)
        if rows:
            break
        page.wait_for_timeout(200)
    assert rows, "the segment table has no readable rows"
    return pd.DataFrame(
        {"segment": [r[0] for r in rows], "customers": [int(float(r[1])) for r in rows]}
    )


def observe(page) -> tuple[list[list[str]], list[str]]:
    """What the analyst sees of the segmentation: the table's cells and the chart's texts."""
    return grid_rows(page, 0), page.evaluate(CHART_TEXT_JS)


def wait_for_change(page, before: object, timeout_s: float = 60) -> object:
    """Wait until ``observe(page)`` differs from ``before`` and the run is over; return it."""
    deadline = page.evaluate("() => Date.now()") + timeout_s * 1000
    while True:
        wait_idle(page)
        now = observe(page)
        if now != before:
            return now
        if page.evaluate("() => Date.now()") > deadline:
            pytest.fail(f"nothing changed within {timeout_s} s")
        page.wait_for_timeout(200)


def wait_stable(page, quiet_s: float = 1.0) -> object:
    """Wait until the run is over and ``observe(page)`` stays the same for ``quiet_s``."""
    last, since = None, None
    for _ in range(600):
        wait_idle(page)
        now, clock = observe(page), page.evaluate("() => Date.now()")
        if now != last:
            last, since = now, clock
        elif clock - since >= quiet_s * 1000:
            return now
        page.wait_for_timeout(200)
    pytest.fail("the page kept changing")


def open_segments(page) -> None:
    """Wait until the Segments page has drawn its metrics, chart and table."""
    page.locator(DATAFRAME).first.wait_for()
    page.locator('[data-testid="stMetricValue"]').first.wait_for()
    page.locator('[data-testid="stPlotlyChart"] svg text').first.wait_for(state="attached")
    page.locator(f'{DATAFRAME} [role="gridcell"]').first.wait_for(state="attached")
    wait_idle(page)


def assert_no_problem(page) -> None:
    """No exception box and no st.error on the page."""
    problems = page.locator(PROBLEMS)
    assert problems.count() == 0, problems.all_inner_texts()


def download_count(page) -> int:
    """N of the "Download N customers (CSV)" button."""
    label = page.locator(DOWNLOAD).filter(has_text=CUSTOMERS_DOWNLOAD).inner_text().strip()
    match = DOWNLOAD_LABEL.match(label)
    assert match, f"unexpected download label {label!r}"
    return int(match.group(1).replace(",", ""))


def screenshot(page, path) -> None:
    """Screenshot the whole page: Streamlit scrolls inside its main block, not the document,
    so the viewport is stretched to the main block's height for the picture."""
    size = page.viewport_size
    height = page.evaluate(
        "() => Math.max(document.querySelector('[data-testid=\"stMain\"]').scrollHeight,"
        " document.documentElement.scrollHeight)"
    )
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], height)})
    try:
        page.wait_for_timeout(300)
        page.screenshot(path=str(path), full_page=True)
    finally:
        page.set_viewport_size(size)


def choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the selectbox labelled ``label``."""
    box = page.locator('[data-testid="stSelectbox"]').filter(
        has=page.get_by_text(label, exact=True)
    )
    box.scroll_into_view_if_needed()
    box.locator("input").click()
    page.get_by_role("option", name=option, exact=True).click()


# --- tests -------------------------------------------------------------------------------------


def test_segments_page_shows_table_chart_and_totals(visit, artifacts) -> None:
    page = visit.page
    open_segments(page)
    assert_no_problem(page)
    table = segment_table(page)
    assert table.segment.tolist() == SHOPIFY_SEGMENTS
    assert (table.customers >= 0).all()
    # The table accounts for every customer that the "All customers" download holds.
    assert table.customers.sum() == download_count(page)
    metrics = dict(
        zip(
            page.locator('[data-testid="stMetricLabel"]').all_inner_texts(),
            page.locator('[data-testid="stMetricValue"]').all_inner_texts(),
            strict=True,
        )
    )
    customers = int(metrics["Customers with orders in window"].replace(",", ""))
    prospects = int(metrics["Prospects (no valid order)"].replace(",", ""))
    assert customers + prospects == table.customers.sum()
    assert prospects == table.customers[table.segment == PROSPECTS].sum()
    chart = page.evaluate(CHART_TEXT_JS)
    assert set(SHOPIFY_SEGMENTS) <= set(chart), chart
    assert {"Share of customers", "Share of revenue"} <= set(chart)
    # Machines may be offline: the page needs nothing from outside this server.
    assert visit.refused == [], visit.refused
    screenshot(page, artifacts / "segments.png")


def test_moving_a_cut_point_with_the_keyboard_changes_the_segments(visit, artifacts) -> None:
    page = visit.page
    open_segments(page)
    page.get_by_text("Custom cut points", exact=True).click()
    sliders = page.get_by_role("slider")
    sliders.first.wait_for()
    wait_idle(page)
    assert sliders.count() == 12
    before = observe(page)
    total_before = segment_table(page).customers.sum()
    # F = 5 from 10 orders: four steps down to 6 orders stays above F = 4 (5 orders).
    top_frequency = page.get_by_role("slider", name="F 5: at least (orders)")
    assert float(top_frequency.input_value()) == 10
    top_frequency.focus()
    for _ in range(4):
        page.keyboard.press("ArrowLeft")
    wait_for_change(page, before)
    after = wait_stable(page)
    assert float(top_frequency.input_value()) == 6
    assert after[0] != before[0], "the segment table did not change"
    assert after[1] != before[1], "the chart did not change"
    assert segment_table(page).customers.sum() == total_before
    assert_no_problem(page)
    screenshot(page, artifacts / "segments-custom.png")


def test_download_of_one_segment_is_complete_and_formula_safe(visit, tmp_path) -> None:
    page = visit.page
    open_segments(page)
    table = segment_table(page)
    populated = table[(table.customers > 0) & (table.segment != PROSPECTS)]
    chosen = populated.sort_values("customers").iloc[len(populated) // 2]
    choose(page, "Segment", chosen.segment)
    expected_label = f"Download {int(chosen.customers):,} customers (CSV)"
    page.locator(DOWNLOAD).filter(has_text=expected_label).wait_for()
    wait_idle(page)
    n = download_count(page)
    assert n == chosen.customers
    with page.expect_download() as download_info:
        page.locator(DOWNLOAD).filter(has_text=CUSTOMERS_DOWNLOAD).locator("button").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    raw = target.read_bytes()
    frame = pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False)
    assert len(frame) == n
    assert set(frame.columns) >= EXPORT_COLUMNS, frame.columns.tolist()
    assert (frame.segment == chosen.segment).all()
    assert frame.customer_id.is_unique
    dangerous = [
        (column, value)
        for column in frame.columns
        for value in frame[column]
        if value.startswith(("=", "+", "@", "\t", "\r"))
    ]
    assert not dangerous, dangerous[:5]
    assert_no_problem(page)


def test_data_page_lists_the_loaded_files(visit, artifacts) -> None:
    page = visit.page
    open_segments(page)
    page.locator('[data-testid="stSidebarNav"] a').filter(has_text="Data").click()
    page.get_by_text("Files loaded", exact=True).wait_for()
    page.locator(f'{DATAFRAME} [role="gridcell"]').first.wait_for(state="attached")
    wait_idle(page)
    assert page.url.rstrip("/").endswith("/data")
    assert_no_problem(page)
    history = grid_rows(page, 0)
    cells = {cell for row in history for cell in row}
    assert len(history) == 5, history
    assert {
        "shopify-orders",
        "shopify-customers",
        "sessions",
        "shopify-checkouts",
        "marketing-spend",
    } <= cells, history
    screenshot(page, artifacts / "data.png")


def test_upload_a_shopify_export_into_a_new_dataset(visit, artifacts) -> None:
    page = visit.page
    open_segments(page)
    page.locator('[data-testid="stSidebarNav"] a').filter(has_text="Data").click()
    page.get_by_text("Load a file", exact=True).wait_for()
    wait_idle(page)
    page.get_by_text("A new dataset", exact=True).click()
    name = page.get_by_label("New dataset name")
    name.fill("uploaded")
    name.press("Enter")
    wait_idle(page)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
        FIXTURES / "shopify_orders_export_example.csv"
    )
    load = page.get_by_role("button", name="Load file")
    load.wait_for()
    wait_idle(page)
    load.click()
    summary = page.locator(
        '[data-testid="stAlertContentSuccess"], [data-testid="stAlertContentWarning"]'
    ).filter(has_text=re.compile(r"shopify_orders_export_example\.csv: [\d,]+ orders rows read"))
    summary.first.wait_for()
    wait_idle(page)
    text = summary.first.inner_text()
    assert re.search(r"[\d,]+ loaded, [\d,]+ rejected", text), text
    assert_no_problem(page)
    assert (visit.server.workspace / "uploaded.duckdb").is_file()
    # The page now shows the new dataset (the sidebar switched to it).
    page.get_by_role("heading", name="Dataset: uploaded").wait_for()
    wait_idle(page)
    # Then the store's customers export, into that same dataset (the first "Into" choice).
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
        FIXTURES / "shopify_customers_export_example.csv"
    )
    load = page.get_by_role("button", name="Load file")
    load.wait_for()
    wait_idle(page)
    load.click()
    report = page.locator(
        '[data-testid="stAlertContentSuccess"], [data-testid="stAlertContentWarning"]'
    ).filter(has_text=re.compile(r"shopify_customers_export_example\.csv: ([\d,]+) customers"))
    report.first.wait_for()
    wait_idle(page)
    assert_no_problem(page)
    read = int(
        re.search(r": ([\d,]+) customers", report.first.inner_text()).group(1).replace(",", "")
    )
    rows = len(pd.read_csv(FIXTURES / "shopify_customers_export_example.csv"))
    assert read == rows
    value = page.locator('[data-testid="stMetric"]').filter(has_text="Customers file rows")
    assert value.locator('[data-testid="stMetricValue"]').inner_text() == f"{rows:,}"
    screenshot(page, artifacts / "upload.png")


def test_a_deep_link_to_the_data_page_works_on_a_new_server(deep_link_first) -> None:
    page = deep_link_first.page
    page.get_by_text("Load a file", exact=True).wait_for()
    wait_idle(page)
    nav = page.locator('[data-testid="stSidebarNav"] a').all_inner_texts()
    assert [label.split("\n")[-1] for label in nav][:2] == ["Segments", "Data"], nav
    page.get_by_text("Files loaded", exact=True).wait_for(timeout=10_000)
    assert_no_problem(page)


def test_a_file_above_the_upload_limit_is_refused_with_the_limit(
    small_upload_limit, tmp_path: Path
) -> None:
    """Bad input 8: the browser refuses a file above ``server.maxUploadSize`` and states the
    limit; nothing is loaded (the CLI has no limit: see test_ingest_bad_input)."""
    page = small_upload_limit.page
    open_segments(page)
    page.locator('[data-testid="stSidebarNav"] a').filter(has_text="Data").click()
    page.get_by_text("Load a file", exact=True).wait_for()
    wait_idle(page)
    uploader = page.locator('[data-testid="stFileUploader"]').first
    uploader.get_by_text("1MB per file").wait_for()
    big = tmp_path / "big_orders.csv"
    row = "order-{},someone{}@example.com,2024-01-05 10:00:00,12.50\n"
    big.write_text(
        "order_id,email,ordered_at,total\n" + "".join(row.format(i, i) for i in range(40_000))
    )
    assert big.stat().st_size > 2**20
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(big)
    uploader.get_by_text("Error: File must be 1.0MB or smaller.").wait_for()
    wait_idle(page)
    assert page.get_by_role("button", name="Load file").count() == 0
    workspace = small_upload_limit.server.workspace
    assert sorted(workspace.glob("*.duckdb")) == [workspace / "demo.duckdb"]
