"""Loads into a new dataset, with real processes: two loads racing for one new dataset, and a load
killed (SIGKILL) while it creates one (issue #14 items 1 and 4).

Each load runs ``python -m dashboard ingest`` in its own process. A load that must stop at a
given point runs the same command through ``PAUSED_LOAD``, which wraps one ingest step so that
the process announces it reached it (a signal file) and then waits.
"""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard.workspace import store

REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 120
HEADER = "order_id,customer_id,ordered_at,order_total\n"
# 3 orders, 60.00 in all.
GOOD = HEADER + (
    "g1,ann@x.com,2024-01-05 10:00:00,10.00\n"
    "g2,bob@x.com,2024-01-06 10:00:00,20.00\n"
    "g3,ann@x.com,2024-01-07 10:00:00,30.00\n"
)
# 2 orders, 12.50 in all.
OTHER = HEADER + ("o1,cy@x.com,2024-02-01 10:00:00,5.00\no2,dee@x.com,2024-02-02 10:00:00,7.50\n")
# Every date reads both ways (03/04 or 04/03), so the load stops and asks for the date order.
AMBIGUOUS = HEADER + ("b1,eve@x.com,03/04/2024,11.00\nb2,fay@x.com,05/06/2024,12.00\n")
# Runs `python -m dashboard ARGS...` with STEP (module:function of the ingest package) wrapped:
# "before" waits for the file GO (or 60 s) before the step runs; "after" runs the step, then
# says so in REACHED and sleeps until killed.
PAUSED_LOAD = """
import importlib, sys, time
from pathlib import Path

module_name, function, when, reached, go = sys.argv[1:6]
module = importlib.import_module(module_name)
step = getattr(module, function)

def paused(*args, **kwargs):
    if when == "before":
        Path(reached).touch()
        deadline = time.monotonic() + 60
        while not Path(go).exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        return step(*args, **kwargs)
    result = step(*args, **kwargs)
    Path(reached).touch()
    time.sleep(600)
    return result

setattr(module, function, paused)
from dashboard import cli
raise SystemExit(cli.main(sys.argv[6:]))
"""


def ingest_args(workspace: Path, path: Path) -> list[str]:
    return ["ingest", "--workspace", str(workspace), "--dataset", "shop", str(path)]


def start_paused(
    step: str, when: str, reached: Path, go: Path, args: list[str]
) -> subprocess.Popen[str]:
    module, function = step.split(":")
    return subprocess.Popen(
        [sys.executable, "-c", PAUSED_LOAD, module, function, when, str(reached), str(go), *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_cli(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dashboard", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def wait_for(path: Path, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not path.exists():
        if process.poll() is not None:
            raise AssertionError(f"the load ended first: {process.communicate()}")
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.05)


def orders_of(workspace: Path) -> list[tuple[str, str]]:
    with store.open_for_read(workspace, "shop") as backend:
        orders = backend.table("orders").order_by("order_id").to_pandas()
    return [(row.order_id, f"{row.order_total:.2f}") for row in orders.itertuples()]


@pytest.fixture
def files(tmp_path: Path) -> Path:
    folder = tmp_path / "files"
    folder.mkdir()
    for name, text in (("good.csv", GOOD), ("other.csv", OTHER), ("ambiguous.csv", AMBIGUOUS)):
        (folder / name).write_text(text, encoding="utf-8")
    with gzip.open(folder / "good.csv.gz", "wt", encoding="utf-8") as packed:
        packed.write(GOOD)
    return folder


@pytest.fixture
def kill_on_exit() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate()


def test_a_failed_load_racing_a_good_one_keeps_what_the_good_one_committed(
    tmp_path: Path, files: Path, kill_on_exit: list[subprocess.Popen[str]]
) -> None:
    """Load A (dates it cannot read) starts first and is held after it looked at the dataset;
    load B of 3 good orders runs start to end meanwhile; then A fails. B's orders stay."""
    workspace = tmp_path / "ws"
    reached, go = tmp_path / "a-preparing", tmp_path / "b-done"
    failing = start_paused(
        "dashboard.ingest.read:prepare",
        "before",
        reached,
        go,
        ingest_args(workspace, files / "ambiguous.csv"),
    )
    kill_on_exit.append(failing)
    wait_for(reached, failing)
    good = run_cli(ingest_args(workspace, files / "good.csv"))
    assert good.returncode == 0, good.stderr
    assert "3 loaded" in good.stdout
    go.touch()
    out, err = failing.communicate(timeout=TIMEOUT)
    assert failing.returncode == 2, (out, err)
    assert "--date-order" in err
    assert store.list_datasets(workspace) == ["shop"]
    assert orders_of(workspace) == [("g1", "10.00"), ("g2", "20.00"), ("g3", "30.00")]
    # the audit log names the one load that committed; the failed load left nothing
    assert sorted(p.name for p in workspace.iterdir()) == ["audit.jsonl", "shop.duckdb"]


def test_a_load_waiting_for_a_new_dataset_loads_into_what_the_first_committed(
    tmp_path: Path, files: Path, kill_on_exit: list[subprocess.Popen[str]]
) -> None:
    """Load A holds the write lock of the new dataset (paused inside its write); load B of the
    same dataset waits for it instead of failing, then adds its 2 orders to A's 3."""
    workspace = tmp_path / "ws"
    reached, go = tmp_path / "a-writing", tmp_path / "b-started"
    first = start_paused(
        "dashboard.ingest.one_pass:load_clean_orders",
        "before",
        reached,
        go,
        ingest_args(workspace, files / "good.csv"),
    )
    kill_on_exit.append(first)
    wait_for(reached, first)
    second = subprocess.Popen(
        [sys.executable, "-m", "dashboard", *ingest_args(workspace, files / "other.csv")],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    kill_on_exit.append(second)
    # Long enough for B to start and reach the lock (importing the engine takes about 2 s).
    time.sleep(6)
    assert second.poll() is None, second.communicate()
    assert store.list_datasets(workspace) == []
    go.touch()
    out, err = first.communicate(timeout=TIMEOUT)
    assert first.returncode == 0, err
    out, err = second.communicate(timeout=TIMEOUT)
    assert second.returncode == 0, err
    assert "2 loaded" in out
    assert orders_of(workspace) == [
        ("g1", "10.00"),
        ("g2", "20.00"),
        ("g3", "30.00"),
        ("o1", "5.00"),
        ("o2", "7.50"),
    ]
    with store.open_for_read(workspace, "shop") as backend:
        loads = store.read_ingest_history(backend)
    assert list(loads.file_name) == ["other.csv", "good.csv"]


def test_a_load_killed_while_creating_a_dataset_leaves_nothing_once_cleaned(
    tmp_path: Path, files: Path, kill_on_exit: list[subprocess.Popen[str]]
) -> None:
    """A .gz load killed with SIGKILL after its transaction committed, before the dataset
    appeared: no dataset is listed, and the next process that opens the workspace removes the
    scratch folder with the decoded copy, but never the folder of a load still running."""
    workspace = tmp_path / "ws"
    killed = start_paused(
        "dashboard.ingest.ledger:save_notes",
        "after",
        tmp_path / "killed-committed",
        tmp_path / "unused",
        ingest_args(workspace, files / "good.csv.gz"),
    )
    kill_on_exit.append(killed)
    wait_for(tmp_path / "killed-committed", killed)
    (scratch,) = workspace.glob(".ingest-*")
    decoded = [p for p in scratch.rglob("*") if p.is_file() and p.read_bytes() == GOOD.encode()]
    assert decoded, "the scratch folder holds the decoded upload"
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait(timeout=TIMEOUT)

    assert store.list_datasets(workspace) == []
    assert not list(workspace.glob("*.duckdb*"))
    listed = run_cli(["datasets", "--workspace", str(workspace)])
    assert (listed.returncode, listed.stdout) == (0, ""), listed.stderr
    assert sorted(p.name for p in workspace.iterdir()) == []

    running = start_paused(
        "dashboard.ingest.ledger:save_notes",
        "after",
        tmp_path / "running-committed",
        tmp_path / "unused",
        ["ingest", "--workspace", str(workspace), "--dataset", "other", str(files / "other.csv")],
    )
    kill_on_exit.append(running)
    wait_for(tmp_path / "running-committed", running)
    (live,) = workspace.glob(".ingest-*")
    listed = run_cli(["datasets", "--workspace", str(workspace)])
    assert (listed.returncode, listed.stdout) == (0, ""), listed.stderr
    assert list(workspace.glob(".ingest-*")) == [live]
    assert live.is_dir() and (workspace / ".other.lock").exists()

    running.kill()
    running.wait(timeout=TIMEOUT)
    assert run_cli(["datasets", "--workspace", str(workspace)]).stdout == ""
    assert sorted(p.name for p in workspace.iterdir()) == []


# Runs `python -m dashboard demo ...`, killing itself (SIGKILL) once the first file is loaded
# into the staging dataset: the new demo is half-built.
KILLED_DEMO = """
import os, signal, sys
from dashboard import cli
from dashboard.cli import data_commands

def die_after_the_first_file(report):
    os.kill(os.getpid(), signal.SIGKILL)

data_commands.print_report = die_after_the_first_file
sys.exit(cli.main(sys.argv[1:]))
"""


def test_a_demo_build_killed_halfway_keeps_the_old_demo_and_lists_nothing_new(
    tmp_path: Path,
) -> None:
    workspace = store.resolve_workspace(tmp_path / "workspace")
    (tmp_path / "orders.csv").write_text(GOOD, encoding="utf-8")
    command = [sys.executable, "-m", "dashboard"]
    where = ["--workspace", str(workspace), "--dataset", "demo"]
    subprocess.run(
        [*command, "ingest", str(tmp_path / "orders.csv"), *where],
        check=True,
        cwd=REPO,
        capture_output=True,
        timeout=TIMEOUT,
    )
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_DEMO, "demo", *where, "--files-dir", str(tmp_path / "f")],
        cwd=REPO,
        capture_output=True,
        timeout=TIMEOUT,
    )
    assert killed.returncode == -signal.SIGKILL
    assert store.list_datasets(workspace) == ["demo"]
    with store.open_for_read(workspace, "demo") as backend:
        assert store.count_rows(backend, "orders") == 3  # the old demo, untouched
    listed = subprocess.run(
        [*command, "datasets", "--workspace", str(workspace)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert listed.stdout.split() == ["demo"]
    assert not [p.name for p in workspace.iterdir() if p.name.startswith(store.SCRATCH_PREFIX)]
