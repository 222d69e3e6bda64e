"""A real ``streamlit run`` on a free loopback port, for the browser benchmarks.

The browser tests start theirs with it too (tests/browser/conftest.py):
headless, no file watcher (other edits in the repository must not rerun the app), no usage
statistics, terminated (its process group killed if it lingers) when the block ends.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
APP = REPO_ROOT / "streamlit_app.py"
HEALTH_TIMEOUT_S = 90


@dataclass(frozen=True)
class Server:
    """A running Streamlit server: its address, process id and log file."""

    url: str
    pid: int
    log: Path

    def log_tail(self, lines: int = 40) -> str:
        """Return the last lines of the server's output, for error messages."""
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])


def find_free_port() -> int:
    """Return a loopback TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def is_healthy(url: str) -> bool:
    """Return whether Streamlit's health endpoint at ``url`` answers ``ok``."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.status == 200 and response.read().strip() == b"ok"
    except (urllib.error.URLError, OSError):
        return False


def build_command(script: Path, port: int, options: Sequence[str] = ()) -> list[str]:
    """Return the ``streamlit run`` command line for ``script`` on ``port``."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(script),
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
        *options,
    ]


@contextmanager
def run_server(
    script: Path,
    log: Path,
    environment: Mapping[str, str] | None = None,
    options: Sequence[str] = (),
) -> Iterator[Server]:
    """Run ``streamlit run script`` until the block ends; fail if it is not healthy in time.

    ``environment`` is added to this process's environment (e.g. SEGMENTS_WORKSPACE);
    ``options`` are extra command-line settings (e.g. ``--server.maxUploadSize``).
    """
    port = find_free_port()
    url = f"http://127.0.0.1:{port}"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        process = subprocess.Popen(
            build_command(script, port, options),
            cwd=REPO_ROOT,
            env={**os.environ, **(environment or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    running = Server(url, process.pid, log)
    try:
        wait_until_healthy(process, running)
        yield running
    finally:
        stop(process)


def wait_until_healthy(process: subprocess.Popen[bytes], server: Server) -> None:
    """Wait for the health check; raise RuntimeError if the server exits or takes too long."""
    deadline = time.monotonic() + HEALTH_TIMEOUT_S
    while not is_healthy(server.url):
        if process.poll() is not None:
            raise RuntimeError(
                f"streamlit exited with status {process.returncode}:\n{server.log_tail()}"
            )
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"streamlit did not answer {server.url}/_stcore/health within "
                f"{HEALTH_TIMEOUT_S} s:\n{server.log_tail()}"
            )
        time.sleep(0.25)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate the server; kill its process group if it has not gone within 10 s."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
