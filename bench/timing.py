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
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Timing:
    """Wall-clock and CPU seconds of each timed run (warm-up runs are not in here).

    CPU seconds are this process's, all threads included: on a machine shared with other
    busy processes they drift far less than wall-clock seconds.
    """

    runs: tuple[float, ...]
    cpu_runs: tuple[float, ...]

    @property
    def median(self) -> float:
        """Median wall-clock seconds over the timed runs."""
        return statistics.median(self.runs)

    @property
    def cpu_median(self) -> float:
        """Median CPU seconds over the timed runs."""
        return statistics.median(self.cpu_runs)


@dataclass(frozen=True)
class Contender:
    """One side of a comparison: what to time, and what to do around it untimed.

    ``prepare`` runs before every run (e.g. drop the previous run's table); ``discard``
    releases every result but the last, which is kept for the agreement checks.
    """

    action: Callable[[], Any]
    prepare: Callable[[], None] | None = None
    discard: Callable[[Any], None] | None = None


@dataclass(frozen=True)
class Measured:
    """A contender's timing and the result of its last run."""

    timing: Timing
    result: Any


def time_interleaved(
    contenders: dict[str, Contender], repeat: int, warmup: int = 1
) -> dict[str, Measured]:
    """Time each contender ``repeat`` times after ``warmup`` untimed rounds, in turns.

    Rounds alternate between the contenders, so a burst of load from another process on a
    shared machine hits both sides of a comparison instead of skewing its ratio.
    """
    seconds: dict[str, list[float]] = {name: [] for name in contenders}
    cpu_seconds: dict[str, list[float]] = {name: [] for name in contenders}
    results: dict[str, Any] = {}
    for index in range(warmup + repeat):
        for name, contender in contenders.items():
            if name in results and contender.discard is not None:
                contender.discard(results[name])
            results.pop(name, None)
            if contender.prepare is not None:
                contender.prepare()
            # A collection triggered by an earlier run's garbage would be billed to this run.
            gc.collect()
            started, cpu_started = time.perf_counter(), time.process_time()
            results[name] = contender.action()
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
            if index >= warmup:
                seconds[name].append(elapsed)
                cpu_seconds[name].append(cpu)
    return {
        name: Measured(Timing(tuple(seconds[name]), tuple(cpu_seconds[name])), results[name])
        for name in contenders
    }


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


def profile_once(action: Callable[[], object], path: Path, top: int = 40) -> None:
    """Run ``action`` once under cProfile and write the ``top`` functions by cumulative time."""
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    profiler.runcall(action)
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(top)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.getvalue(), encoding="utf-8")
