"""Target 5, an upload in the browser: a Shopify orders export, to the first segment chart.

A real Streamlit server runs the app over an empty workspace. For each run, a new browser session
opens the Data page, names a new dataset, and then the clock runs from choosing the file in the
uploader, through "Load file" (upload, format detection, ingest with validation and the rejects
report), to the Segments page of the new dataset with its first chart and table drawn. The
reference is the bare ingest, DuckDB's read_csv of the same file into a table of a new database
file, timed in turns with the uploads.

The app refuses uploads above ``server.maxUploadSize`` (.streamlit/config.toml). When the export
is larger, the benchmark's server runs with the limit raised to fit, and says so.
"""

from __future__ import annotations

import gc
import math
import re
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import browser
from bench.processes import read_cpu_seconds
from bench.step_ingest import ingest_duckdb, remove_database
from bench.streamlit_server import APP, REPO_ROOT, run_server
from bench.timing import Timing
from dashboard.workspace import store

CONFIG = REPO_ROOT / ".streamlit" / "config.toml"
DEFAULT_UPLOAD_LIMIT_MB = 200
REPORT = re.compile(r": ([\d,]+) orders rows read")
ALERT = '[data-testid="stAlertContentSuccess"], [data-testid="stAlertContentWarning"]'


@dataclass(frozen=True)
class UploadTiming:
    """Both sides, the phases of each upload, the orders each read, and the upload limits.

    CPU seconds: the server's for an upload, this process's for a DuckDB load.
    """

    upload: Timing
    reference: Timing
    phases: list[dict[str, float]]
    orders_read: list[int]
    configured_limit_mb: int
    server_limit_mb: int | None


def read_upload_limit_mb(config: Path = CONFIG) -> int:
    """Return ``server.maxUploadSize`` of the app's Streamlit config (Streamlit's default: 200)."""
    if not config.exists():
        return DEFAULT_UPLOAD_LIMIT_MB
    settings = tomllib.loads(config.read_text(encoding="utf-8"))
    return int(settings.get("server", {}).get("maxUploadSize", DEFAULT_UPLOAD_LIMIT_MB))


def choose_server_limit_mb(file_bytes: int, configured_mb: int) -> int | None:
    """Return the upload limit the benchmark's server needs, or None if the configured one fits.

    Streamlit's upload limit counts megabytes of 10**6 bytes.
    """
    needed = math.ceil(file_bytes / 10**6)
    return None if needed <= configured_mb else needed + 1


def prepare_dataset(page: Any, dataset: str) -> None:
    """On the Data page, choose to load into a new dataset named ``dataset``."""
    page.get_by_text("Load a file", exact=True).wait_for(timeout=browser.TIMEOUT_MS)
    browser.wait_idle(page)
    page.get_by_text("A new dataset", exact=True).click()
    name = page.get_by_label("New dataset name")
    name.fill(dataset)
    name.press("Enter")
    page.wait_for_timeout(300)
    browser.wait_idle(page)


def upload_to_chart(page: Any, csv: Path) -> tuple[dict[str, float], int]:
    """Upload ``csv``, load it and open the Segments page.

    Return the seconds of each phase and the number of orders the load report says it read.
    """
    started = time.perf_counter()
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(csv)
    load = page.get_by_role("button", name="Load file")
    load.wait_for(timeout=browser.TIMEOUT_MS)
    browser.wait_idle(page)
    uploaded = time.perf_counter()
    load.click()
    report = page.locator(ALERT).filter(has_text=REPORT).first
    report.wait_for(timeout=browser.TIMEOUT_MS)
    browser.wait_idle(page)
    loaded = time.perf_counter()
    match = REPORT.search(report.inner_text())
    orders_read = int(match.group(1).replace(",", "")) if match else -1
    page.locator('[data-testid="stSidebarNav"] a').filter(has_text="Segments").click()
    browser.wait_drawn(page)
    drawn = time.perf_counter()
    phases = {
        "upload_s": round(uploaded - started, 3),
        "load_s": round(loaded - uploaded, 3),
        "segments_s": round(drawn - loaded, 3),
        "total_s": round(drawn - started, 3),
    }
    return phases, orders_read


def time_reference(csv: Path, scratch: Path) -> tuple[float, float]:
    """Return the wall-clock and CPU seconds of one bare DuckDB load of ``csv`` into a new file."""
    database = scratch / "reference.duckdb"
    remove_database(database)
    gc.collect()
    started, cpu_started = time.perf_counter(), time.process_time()
    ingest_duckdb(database, csv)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    remove_database(database)
    return seconds, cpu


def measure_upload(csv: Path, scratch: Path, runs: int) -> UploadTiming:
    """Time ``runs`` browser uploads of ``csv`` and as many bare DuckDB loads, in turns."""
    workspace = scratch / "workspace"
    workspace.mkdir(parents=True, exist_ok=True)
    configured = read_upload_limit_mb()
    limit = choose_server_limit_mb(csv.stat().st_size, configured)
    options = ["--server.maxUploadSize", str(limit)] if limit else []
    environment = {"SEGMENTS_WORKSPACE": str(workspace), "SEGMENTS_DATASET": "none"}
    phases: list[dict[str, float]] = []
    orders_read: list[int] = []
    cpu: list[float] = []
    reference: list[tuple[float, float]] = []
    with (
        run_server(APP, scratch / "app.log", environment, options) as server,
        browser.launch_browser() as chromium,
    ):
        for run in range(runs):
            dataset = f"upload-{run + 1}"
            with browser.open_page(chromium, server.url, "/data") as page:
                prepare_dataset(page, dataset)
                cpu_started = read_cpu_seconds(server.pid)
                try:
                    phase, read = upload_to_chart(page, csv)
                except Exception as exc:
                    raise RuntimeError(f"upload failed: {exc}\n{server.log_tail()}") from exc
                cpu.append(read_cpu_seconds(server.pid) - cpu_started)
                phases.append(phase)
                orders_read.append(read)
            store.delete_dataset(workspace, dataset)
            reference.append(time_reference(csv, scratch))
    return UploadTiming(
        upload=Timing(tuple(phase["total_s"] for phase in phases), tuple(cpu)),
        reference=Timing(tuple(r[0] for r in reference), tuple(r[1] for r in reference)),
        phases=phases,
        orders_read=orders_read,
        configured_limit_mb=configured,
        server_limit_mb=limit,
    )
