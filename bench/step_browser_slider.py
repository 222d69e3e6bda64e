"""Target 1, the slider in the browser: release of a cut slider -> segment table and chart redrawn.

Two real Streamlit servers run side by side: the app over a workspace holding the dataset, and
bench/reference_app.py (the same widgets over a constant summary, no data work). One headless
Chromium opens the Segments page of each, switches to custom cut points, and then moves the
``R 5`` slider one step with the keyboard, in turns between the two pages (right, then left,
...). Each move is timed in the page, from the key's release until the segment table and chart
show new content and Streamlit's run is over (no running state, no status widget); the
server's CPU seconds during the move are read from /proc.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import browser
from bench.processes import read_cpu_seconds
from bench.streamlit_server import APP, REPO_ROOT, Server, run_server
from bench.timing import Timing

REFERENCE_APP = REPO_ROOT / "bench" / "reference_app.py"
SLIDER = "R 5: at most (days)"
OURS = "ours"
REFERENCE = "reference"


@dataclass(frozen=True)
class SliderTiming:
    """Per page: seconds to the end of the run (the measure) and to the redrawn content."""

    done: Timing
    redrawn: Timing


@dataclass(frozen=True)
class OpenPage:
    """A Segments page with custom cut points showing, and the server behind it."""

    page: Any
    server: Server


def open_sliders(page: Any) -> None:
    """Wait for the Segments page, switch to custom cut points and focus the R 5 slider."""
    browser.wait_drawn(page)
    page.get_by_text("Custom cut points", exact=True).click()
    slider = page.get_by_role("slider", name=SLIDER)
    slider.wait_for(timeout=browser.TIMEOUT_MS)
    browser.wait_drawn(page)
    slider.focus()


def move_once(opened: OpenPage, key: str) -> tuple[float, float, float]:
    """Move the focused slider with ``key``; return (seconds to done, to redrawn, server CPU)."""
    opened.page.bring_to_front()
    cpu_before = read_cpu_seconds(opened.server.pid)
    redrawn, done = browser.time_key_redraw(opened.page, key)
    return done, redrawn, read_cpu_seconds(opened.server.pid) - cpu_before


def time_moves(pages: dict[str, OpenPage], moves: int, warmup: int = 1) -> dict[str, SliderTiming]:
    """Move each page's slider ``warmup + moves`` times, in turns; return the timed moves."""
    done: dict[str, list[float]] = {name: [] for name in pages}
    redrawn: dict[str, list[float]] = {name: [] for name in pages}
    cpu: dict[str, list[float]] = {name: [] for name in pages}
    for index in range(warmup + moves):
        key = "ArrowRight" if index % 2 == 0 else "ArrowLeft"
        for name, opened in pages.items():
            seconds, shown, cpu_seconds = move_once(opened, key)
            if index >= warmup:
                done[name].append(seconds)
                redrawn[name].append(shown)
                cpu[name].append(cpu_seconds)
            # Let the page settle (late paints, the grid's accessible table) before the next.
            opened.page.wait_for_timeout(300)
    return {
        name: SliderTiming(
            Timing(tuple(done[name]), tuple(cpu[name])),
            Timing(tuple(redrawn[name]), tuple(cpu[name])),
        )
        for name in pages
    }


@contextmanager
def serve_both(workspace: Path, dataset: str, logs: Path) -> Iterator[dict[str, Server]]:
    """Run the app over ``workspace`` (``dataset`` open) and the reference app side by side."""
    environment = {"SEGMENTS_WORKSPACE": str(workspace), "SEGMENTS_DATASET": dataset}
    with ExitStack() as stack:
        ours = stack.enter_context(run_server(APP, logs / "app.log", environment))
        reference = stack.enter_context(run_server(REFERENCE_APP, logs / "reference.log"))
        yield {OURS: ours, REFERENCE: reference}


def measure_slider(
    workspace: Path, dataset: str, moves: int, logs: Path
) -> dict[str, SliderTiming]:
    """Time ``moves`` slider moves on the app's Segments page and on the reference page."""
    with (
        serve_both(workspace, dataset, logs) as servers,
        browser.launch_browser() as chromium,
        ExitStack() as stack,
    ):
        pages = {}
        for name, server in servers.items():
            page = stack.enter_context(browser.open_page(chromium, server.url))
            try:
                open_sliders(page)
            except Exception as exc:
                raise RuntimeError(f"{name} page did not open: {exc}\n{server.log_tail()}") from exc
            pages[name] = OpenPage(page, server)
        return time_moves(pages, moves)
