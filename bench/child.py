"""A child process that does one ingest-like task and prints its own peak resident memory.

``python -m bench.child ingest WORKSPACE DATASET CSV`` (our ingest), ``... duckdb DBFILE CSV``
(bare DuckDB CREATE TABLE AS read_csv) or ``... pandas CSV`` (pandas with the pyarrow engine).
The last stdout line is JSON: baseline_mb (after imports), peak_mb, seconds.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path


def read_peak_mb() -> float:
    """Return this process's peak resident set size so far, in MB (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def prepare_ingest(arguments: Sequence[str]) -> Callable[[], object]:
    """Import our ingest and return the call that loads the CSV into a fresh dataset."""
    from bench.steps import ingest_ours

    workspace, dataset, csv = Path(arguments[0]), arguments[1], Path(arguments[2])
    return lambda: ingest_ours(workspace, dataset, csv)


def prepare_duckdb(arguments: Sequence[str]) -> Callable[[], object]:
    """Import DuckDB and return the call that copies the CSV into a fresh database file."""
    from bench.steps import ingest_duckdb

    database, csv = Path(arguments[0]), Path(arguments[1])
    return lambda: ingest_duckdb(database, csv)


def prepare_pandas(arguments: Sequence[str]) -> Callable[[], object]:
    """Import pandas and return the call that reads the CSV into a DataFrame."""
    from bench.steps import ingest_pandas

    csv = Path(arguments[0])
    return lambda: ingest_pandas(csv)


TASKS = {"ingest": prepare_ingest, "duckdb": prepare_duckdb, "pandas": prepare_pandas}


def main(argv: Sequence[str]) -> int:
    """Run the task named by ``argv[0]`` once and print the memory report."""
    if not argv or argv[0] not in TASKS:
        print(f"usage: python -m bench.child {{{','.join(TASKS)}}} ARGS...", file=sys.stderr)
        return 2
    action = TASKS[argv[0]](argv[1:])
    baseline = read_peak_mb()
    started = time.perf_counter()
    action()
    seconds = time.perf_counter() - started
    print(json.dumps({"baseline_mb": baseline, "peak_mb": read_peak_mb(), "seconds": seconds}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
