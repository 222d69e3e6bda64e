"""Headless system Chromium driven by Playwright, and what the browser benchmarks read in a page.

The browser is Debian's ``/usr/bin/chromium`` (never a downloaded one), as in the browser tests;
requests that would leave the machine are refused. The page state is read in the page itself:
the segment table from the data grid's accessible cells, the chart from the plotly figure's
data, and whether Streamlit's run is over from the app's script state and status widget.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

CHROMIUM = "/usr/bin/chromium"
# No network on the benchmark machines: without these Chromium keeps trying to reach Google.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1400, "height": 1000}
TIMEOUT_MS = 600_000
DATAFRAME = '[data-testid="stDataFrame"]'
CHART = '[data-testid="stPlotlyChart"]'

# What the analyst sees of the segmentation, and whether the run is over; defined once per page.
PAGE_HELPERS_JS = """() => {
    window.__bench = {
        table() {
            const grid = document.querySelector('[data-testid="stDataFrame"]');
            if (!grid) return '';
            return [...grid.querySelectorAll('[role="row"]')]
                .map(row => [...row.querySelectorAll('[role="gridcell"]')]
                    .map(cell => cell.textContent).join('\\t'))
                .filter(text => text.length > 0).join('\\n');
        },
        chart() {
            const figure = document.querySelector('[data-testid="stPlotlyChart"] .js-plotly-plot');
            if (!figure || !figure.data) return '';
            return JSON.stringify(figure.data.map(trace => [trace.x, trace.y]));
        },
        idle() {
            const app = document.querySelector('[data-testid="stApp"]');
            const status = document.querySelector('[data-testid="stStatusWidget"]');
            return app !== null && app.getAttribute('data-test-script-state') === 'notRunning'
                && (status === null || status.offsetParent === null)
                && document.querySelector('[data-testid="stSkeleton"]') === null;
        },
        snapshot() { return {table: this.table(), chart: this.chart()}; },
    };
}"""
# Before a move: remember what is shown and listen for the key's release.
ARM_JS = """() => {
    const bench = window.__bench;
    bench.before = bench.snapshot();
    bench.release = null;
    document.addEventListener('keyup', () => { bench.release = performance.now(); },
                              {capture: true, once: true});
}"""
# After the move: every frame, until table and chart differ from before and the run is over.
# Returns milliseconds from the release to the redrawn content, and to the end of the run.
AWAIT_REDRAW_JS = """(timeoutMs) => new Promise((resolve, reject) => {
    const bench = window.__bench;
    const started = performance.now();
    let changedAt = null;
    function check() {
        const now = performance.now();
        const shown = bench.snapshot();
        const changed = shown.table !== '' && shown.chart !== ''
            && shown.table !== bench.before.table && shown.chart !== bench.before.chart;
        if (changed && changedAt === null) changedAt = now;
        if (!changed) changedAt = null;
        if (changed && bench.release !== null && bench.idle()) {
            resolve({redrawn_ms: changedAt - bench.release, done_ms: now - bench.release});
            return;
        }
        if (now - started > timeoutMs) {
            reject(new Error(`no redraw within ${timeoutMs} ms (table changed: `
                + `${shown.table !== bench.before.table}, chart changed: `
                + `${shown.chart !== bench.before.chart}, idle: ${bench.idle()})`));
            return;
        }
        requestAnimationFrame(check);
    }
    check();
})"""
# Until the first segment chart and table are drawn and the run is over.
DRAWN_JS = """() => window.__bench !== undefined && window.__bench.table() !== ''
    && window.__bench.chart() !== '' && window.__bench.idle()"""


def find_chromium() -> str:
    """Return the system Chromium's path; raise RuntimeError if it is not installed."""
    path = shutil.which("chromium") or (CHROMIUM if shutil.which(CHROMIUM) else None)
    if path is None:
        raise RuntimeError(
            "Chromium is not installed: the browser benchmarks need the system package "
            "(apt-get install chromium); Playwright's own browser download is not used."
        )
    return path


@contextmanager
def launch_browser() -> Iterator[Any]:
    """Start headless system Chromium with Playwright for the duration of the block."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=find_chromium(), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@contextmanager
def open_page(browser: Any, server_url: str, path: str = "/") -> Iterator[Any]:
    """Open ``path`` of the server in a new browser context (a new Streamlit session).

    Requests to anywhere but the server are refused; the context is closed afterwards.
    """
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(TIMEOUT_MS)
    loopback = server_url.rstrip("/") + "/"
    context.route(lambda address: not address.startswith(loopback), lambda route: route.abort())
    try:
        page = context.new_page()
        page.goto(loopback + path.lstrip("/"), wait_until="domcontentloaded")
        yield page
    finally:
        context.close()


def install_helpers(page: Any) -> None:
    """Define the page-side readers (table, chart, idle) in ``page`` (again after navigation)."""
    page.evaluate(PAGE_HELPERS_JS)


def wait_idle(page: Any) -> None:
    """Wait until Streamlit's run is over (no running state, status widget or skeleton)."""
    install_helpers(page)
    page.wait_for_function("() => window.__bench.idle()", timeout=TIMEOUT_MS)


def wait_drawn(page: Any) -> None:
    """Wait until the segment chart and table are drawn and the run is over."""
    page.locator(CHART).first.wait_for(timeout=TIMEOUT_MS)
    page.locator(f'{DATAFRAME} [role="gridcell"]').first.wait_for(
        state="attached", timeout=TIMEOUT_MS
    )
    install_helpers(page)
    page.wait_for_function(DRAWN_JS, timeout=TIMEOUT_MS, polling="raf")


def time_key_redraw(page: Any, key: str, timeout_ms: int = 120_000) -> tuple[float, float]:
    """Press ``key`` on the focused widget; return seconds from its release to the redrawn
    table and chart, and to the end of the run (the redrawn page, idle)."""
    page.evaluate(ARM_JS)
    page.keyboard.press(key)
    timing = page.evaluate(AWAIT_REDRAW_JS, timeout_ms)
    return timing["redrawn_ms"] / 1000, timing["done_ms"] / 1000
