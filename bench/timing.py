"""Wall-clock timing (median of repeated runs) and peak memory of a step run in a child process."""

from __future__ import annotations

import gc
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Timing:
    """The seconds of each timed run (warm-up runs are not in here)."""

    runs: tuple[float, ...]

    @property
    def median(self) -> float:
        """Median seconds over the timed runs."""
        return statistics.median(self.runs)


def time_runs(
    action: Callable[[], T],
    repeat: int,
    warmup: int = 1,
    prepare: Callable[[], None] | None = None,
    discard: Callable[[T], None] | None = None,
) -> tuple[Timing, T]:
    """Run ``action`` ``warmup + repeat`` times and time the last ``repeat`` runs.

    ``prepare`` runs untimed before every run (e.g. drop the previous run's table); ``discard``
    releases every result but the last, which is returned for the agreement checks.
    """
    seconds: list[float] = []
    result: T | None = None
    for index in range(warmup + repeat):
        if result is not None and discard is not None:
            discard(result)
        result = None
        if prepare is not None:
            prepare()
        # A collection triggered by an earlier run's garbage would be billed to this run.
        gc.collect()
        started = time.perf_counter()
        result = action()
        elapsed = time.perf_counter() - started
        if index >= warmup:
            seconds.append(elapsed)
    assert result is not None
    return Timing(tuple(seconds)), result


@dataclass(frozen=True)
class PeakMemory:
    """Resident memory of a child process: after its imports, and at its peak."""

    baseline_mb: float
    peak_mb: float
    seconds: float

    @property
    def added_mb(self) -> float:
        """Peak minus baseline: what the measured work itself needed."""
        return self.peak_mb - self.baseline_mb


def measure_peak_memory(task: str, arguments: Sequence[str]) -> PeakMemory:
    """Run ``python -m bench.child TASK ARGS...`` in a fresh process and return its memory.

    A fresh process per measurement, because ru_maxrss never goes down within one process.
    """
    completed = subprocess.run(
        [sys.executable, "-m", "bench.child", task, *arguments],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(
            f"memory child '{task}' failed (exit {completed.returncode}):\n{completed.stderr}"
        )
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    return PeakMemory(report["baseline_mb"], report["peak_mb"], report["seconds"])
