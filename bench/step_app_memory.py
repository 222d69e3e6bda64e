"""Target 6, memory of the running app: a real Streamlit server with a large dataset open.

The app runs over the workspace the ingest step filled; one headless Chromium session opens the
Segments page and waits until its chart and table are drawn and the run is over. Then the
resident memory of the server process and its descendants is sampled from /proc (its median is
the measure), along with the tree's peak (VmHWM) while it opened the page.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from bench import browser
from bench.processes import read_tree_mb
from bench.streamlit_server import APP, run_server

SAMPLES = 5
SAMPLE_INTERVAL_S = 0.5


@dataclass(frozen=True)
class AppMemory:
    """Resident MB of the server tree with the page open (samples), and its peak."""

    samples_mb: tuple[float, ...]
    peak_mb: float
    open_s: float

    @property
    def median_mb(self) -> float:
        """Median of the resident samples."""
        return statistics.median(self.samples_mb)


def sample_rss_mb(pid: int, samples: int = SAMPLES) -> tuple[float, ...]:
    """Return ``samples`` readings of the tree's resident MB, SAMPLE_INTERVAL_S apart."""
    readings = []
    for index in range(samples):
        if index:
            time.sleep(SAMPLE_INTERVAL_S)
        readings.append(round(read_tree_mb(pid), 1))
    return tuple(readings)


def measure_app_memory(workspace: Path, dataset: str, logs: Path) -> AppMemory:
    """Open ``dataset``'s Segments page in the app and return the server's memory."""
    environment = {"SEGMENTS_WORKSPACE": str(workspace), "SEGMENTS_DATASET": dataset}
    with (
        run_server(APP, logs / "app-memory.log", environment) as server,
        browser.launch_browser() as chromium,
        browser.open_page(chromium, server.url) as page,
    ):
        started = time.perf_counter()
        try:
            browser.wait_drawn(page)
        except Exception as exc:
            message = f"the Segments page did not open: {exc}\n{server.log_tail()}"
            raise RuntimeError(message) from exc
        opened = time.perf_counter() - started
        page.wait_for_timeout(1000)
        samples = sample_rss_mb(server.pid)
        peak = round(read_tree_mb(server.pid, "VmHWM"), 1)
    return AppMemory(samples, peak, round(opened, 3))
