"""Fixtures of the browser tests: the demo store, a real Streamlit server, headless Chromium.

The demo dataset is built once per session with the command line (as ``make demo`` does) into
a temporary workspace; one ``streamlit run`` serves it on a free loopback port; every test gets
a fresh browser context (a new Streamlit session). The browser is the system Chromium, never a
downloaded one; requests that would leave the machine are refused and recorded.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bench import streamlit_server
from bench.browser import CHROMIUM_ARGS, VIEWPORT

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "tests" / "artifacts"
DATASET = "demo"
DEMO_TIMEOUT_S = 240


def _missing(reason: str) -> None:
    """Fail on CI (the browser tests must run there), skip elsewhere."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true, so this is an error, not a skip)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Path of the system Chromium (Debian package ``chromium``)."""
    path = shutil.which("chromium")
    if path is None:
        _missing(
            "Chromium is not installed: the browser tests need the system package "
            "(apt-get install chromium); Playwright's own browser download is not used."
        )
    return path


@pytest.fixture(scope="session")
def demo_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace holding the demo store, built by ``python -m dashboard demo``."""
    root = tmp_path_factory.mktemp("browser")
    workspace, files_dir = root / "workspace", root / "demo-files"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "dashboard",
            "demo",
            "--dataset",
            DATASET,
            "--workspace",
            str(workspace),
            "--files-dir",
            str(files_dir),
        ],
        check=True,
        cwd=REPO,
        timeout=DEMO_TIMEOUT_S,
        capture_output=True,
    )
    assert (workspace / f"{DATASET}.duckdb").is_file()
    return workspace


@dataclass
class Server:
    """A running ``streamlit run streamlit_app.py`` and the workspace it serves."""

    running: streamlit_server.Server
    workspace: Path

    @property
    def url(self) -> str:
        """The server's address, http://127.0.0.1:PORT."""
        return self.running.url

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the server's output, for failure messages."""
        return self.running.log_tail(lines)


@contextmanager
def run_server(workspace: Path, log: Path, options: tuple[str, ...] = ()) -> Iterator[Server]:
    """Run the app over ``workspace`` until the block ends, as the benchmarks do
    (``bench.streamlit_server``: a free loopback port, no file watcher, stopped afterwards);
    ``options`` are extra ``streamlit run`` settings."""
    environment = {"SEGMENTS_WORKSPACE": str(workspace), "SEGMENTS_DATASET": DATASET}
    with streamlit_server.run_server(
        REPO / "streamlit_app.py", log, environment, options
    ) as running:
        yield Server(running, workspace)


@pytest.fixture(scope="session")
def server(demo_workspace: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real Streamlit server over the demo workspace, shared by the session's tests."""
    with run_server(demo_workspace, tmp_path_factory.mktemp("server") / "streamlit.log") as up:
        yield up


@contextmanager
def serve_a_copy(
    demo_workspace: Path, tmp_path: Path, options: tuple[str, ...] = ()
) -> Iterator[Server]:
    """A server of its own over a copy of the demo workspace in ``tmp_path``."""
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    shutil.copy2(demo_workspace / f"{DATASET}.duckdb", workspace)
    with run_server(workspace, tmp_path / "streamlit.log", options) as up:
        yield up


@pytest.fixture
def fresh_server(demo_workspace: Path, tmp_path: Path) -> Iterator[Server]:
    """A server of its own that has not run the app yet, over a copy of the demo workspace."""
    with serve_a_copy(demo_workspace, tmp_path) as up:
        yield up


@pytest.fixture
def small_upload_server(demo_workspace: Path, tmp_path: Path) -> Iterator[Server]:
    """A server over a copy of the demo workspace whose upload limit is 1 MB."""
    with serve_a_copy(demo_workspace, tmp_path, ("--server.maxUploadSize", "1")) as up:
        yield up


@pytest.fixture
def small_upload_limit(
    browser, small_upload_server: Server, request: pytest.FixtureRequest
) -> Iterator[Visit]:
    """The app's home page on a server that refuses uploads above 1 MB."""
    with open_tab(browser, small_upload_server, "/", request) as tab:
        yield tab


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[object]:
    """Headless system Chromium driven by Playwright (one per session)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright is not installed (pip install -r requirements-dev.txt).")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Visit:
    """One browser tab on the app, and the outside requests it tried (all refused)."""

    page: object
    server: Server
    refused: list[str] = field(default_factory=list)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    """Keep each phase's report on the test item, so fixtures can tell a failed test."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@contextmanager
def open_tab(browser, server: Server, path: str, request: pytest.FixtureRequest) -> Iterator[Visit]:
    """A fresh browser context (a new Streamlit session) with ``server``'s ``path`` open.

    When the test fails, the page as it was is saved to tests/artifacts/failed-<test>.png.
    """
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    context.set_default_timeout(60_000)
    result = Visit(context.new_page(), server)
    loopback = server.url + "/"

    def refuse(route) -> None:
        result.refused.append(route.request.url)
        route.abort()

    context.route(lambda url: not url.startswith(loopback), refuse)
    try:
        result.page.goto(server.url + path, wait_until="domcontentloaded")
        yield result
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            result.page.screenshot(path=str(ARTIFACTS / f"failed-{request.node.name}.png"))
            print(f"server log:\n{server.log_tail()}")
    finally:
        context.close()


@pytest.fixture
def visit(browser, server: Server, request: pytest.FixtureRequest) -> Iterator[Visit]:
    """The app's home page in a new browser session on the shared server."""
    with open_tab(browser, server, "/", request) as tab:
        yield tab


@pytest.fixture
def deep_link_first(
    browser, fresh_server: Server, request: pytest.FixtureRequest
) -> Iterator[Visit]:
    """The Data page opened by its address as the very first request of a new server."""
    with open_tab(browser, fresh_server, "/data", request) as tab:
        yield tab


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where the screenshots go (tests/artifacts, ignored by git)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
