"""A child process that does one ingest-like task and prints its own peak resident memory.

``python -m bench.child ingest WORKSPACE DATASET CSV`` (our ingest), ``... duckdb DBFILE CSV``
(bare DuckDB CREATE TABLE AS read_csv) or ``... pandas CSV`` (pandas with the pyarrow engine).
The last stdout line is JSON: baseline_mb (resident after imports), peak_mb (the highest
resident size during the task), seconds.
"""

from __future__ import annotations

import gc
import json
import resource
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path


def read_status_mb(field: str) -> float | None:
    """Return a memory field of /proc/self/status (``VmRSS``, ``VmHWM``) in MB, if available."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def reset_peak() -> bool:
    """Reset the kernel's peak RSS (VmHWM) to the current RSS; return whether that worked.

    Imports alone peak higher than a small load, so without a reset the load would not show.
    """
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True


def read_peak_mb(reset_worked: bool) -> float:
    """Return the peak RSS since the reset, else since the process began (ru_maxrss, KiB)."""
    peak = read_status_mb("VmHWM") if reset_worked else None
    if peak is None:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return peak


def prepare_ingest(arguments: Sequence[str]) -> Callable[[], object]:
    """Import our ingest and return the call that loads the CSV into a fresh dataset."""
    # Imported here, not on first call, so the engine's modules count in the baseline.
    import dashboard.ingest  # noqa: F401
    from bench.step_ingest import ingest_ours

    workspace, dataset, csv = Path(arguments[0]), arguments[1], Path(arguments[2])
    return lambda: ingest_ours(workspace, dataset, csv)


def prepare_duckdb(arguments: Sequence[str]) -> Callable[[], object]:
    """Import DuckDB and return the call that copies the CSV into a fresh database file."""
    from bench.step_ingest import ingest_duckdb

    database, csv = Path(arguments[0]), Path(arguments[1])
    return lambda: ingest_duckdb(database, csv)


def prepare_pandas(arguments: Sequence[str]) -> Callable[[], object]:
    """Import pandas and return the call that reads the CSV into a DataFrame."""
    from bench.step_ingest import ingest_pandas

    csv = Path(arguments[0])
    return lambda: ingest_pandas(csv)


TASKS = {"ingest": prepare_ingest, "duckdb": prepare_duckdb, "pandas": prepare_pandas}


def main(argv: Sequence[str]) -> int:
    """Run the task named by ``argv[0]`` once and print the memory report."""
    if not argv or argv[0] not in TASKS:
        print(f"usage: python -m bench.child {{{','.join(TASKS)}}} ARGS...", file=sys.stderr)
        return 2
    action = TASKS[argv[0]](argv[1:])
    gc.collect()
    reset_worked = reset_peak()
    baseline = read_status_mb("VmRSS") if reset_worked else read_peak_mb(False)
    started = time.perf_counter()
    action()
    seconds = time.perf_counter() - started
    report = {"baseline_mb": baseline, "peak_mb": read_peak_mb(reset_worked), "seconds": seconds}
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
