"""Run the benchmark: every step at every size, ours beside references timed in the same run.

Environment: BENCH_SIZES (``1m``; e.g. ``100k,1m,10m``), BENCH_REPEAT (timed runs per
measurement, median reported; default 3), BENCH_PROFILE=1 (also write a cProfile of our side
of each step to bench/results/). Exits 1 when ours and a reference disagree on the figures.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):
    # Run as ``python bench/run.py``: make the repository root importable.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import step_base, step_ingest, step_slider  # noqa: E402
from bench.checks import Figures, find_differences  # noqa: E402
from bench.generate import Size, ensure_orders_csv, parse_sizes  # noqa: E402
from bench.results import (  # noqa: E402
    Results,
    describe_machine,
    format_memory_table,
    format_table,
    make_entry,
    make_memory_entry,
    write_results,
)
from bench.timing import (  # noqa: E402
    Contender,
    Measured,
    measure_peak_memory,
    profile_once,
    time_interleaved,
)
from dashboard import analysis, store  # noqa: E402

BENCH_DIR = Path(__file__).resolve().parent
DATA_DIR = BENCH_DIR / "data"
RESULTS_DIR = BENCH_DIR / "results"
DATASET = "bench_orders"
DUCKDB_LOAD = "duckdb CTAS read_csv"
PANDAS_LOAD = "pandas read_csv pyarrow"
DUCKDB_SQL = "duckdb SQL"
PANDAS_BASE = "pandas groupby (in memory)"
PANDAS_SLIDER = "pandas cut+groupby (in memory)"


def parse_repeat(text: str | None) -> int:
    """Parse BENCH_REPEAT: a whole number of timed runs, at least 1 (default 3)."""
    repeat = int(text) if text and text.strip() else 3
    if repeat < 1:
        raise ValueError(f"BENCH_REPEAT must be at least 1, got {repeat}.")
    return repeat


def say(message: str) -> None:
    """Print a progress line now (the run takes minutes)."""
    print(message, flush=True)


def record_check(results: Results, label: str, ours: Figures, theirs: Figures) -> bool:
    """Compare figures; record and shout every difference. Return whether they agree."""
    differences = find_differences(ours, theirs)
    for difference in differences:
        line = f"{label}: {difference}"
        results.mismatches.append(line)
        print(f"MISMATCH {line}", file=sys.stderr, flush=True)
    return not differences


def record_pair(
    results: Results,
    step: str,
    size: Size,
    measured: dict[str, Measured],
    reference: str,
    ours: Figures,
    theirs: Figures,
) -> None:
    """Check that ours and ``reference`` computed the same figures, then add their entry."""
    agrees = record_check(results, f"{step} {size.label} vs {reference}", ours, theirs)
    mine, other = measured["ours"].timing, measured[reference].timing
    results.entries.append(make_entry(step, size.label, mine, reference, other, agrees))
    say(
        f"  {step} vs {reference}: {mine.median:.4f}s / {other.median:.4f}s "
        f"(cpu {mine.cpu_median:.4f}s / {other.cpu_median:.4f}s)"
    )


def profile_if_asked(step: str, size: Size, action: Callable[[], object]) -> None:
    """With BENCH_PROFILE=1, profile one more run of our side of ``step``."""
    if os.environ.get("BENCH_PROFILE") == "1":
        profile_once(action, RESULTS_DIR / f"profile-{step}-{size.label}.txt")


def bench_ingest(results: Results, size: Size, csv: Path, workspace: Path, repeat: int) -> None:
    """Time our generic ingest against a bare DuckDB load and pandas, and check they agree."""
    database = store.dataset_path(workspace, DATASET)
    reference_db = workspace / "reference.duckdb"

    def ingest_fresh() -> object:
        store.delete_dataset(workspace, DATASET)
        return step_ingest.ingest_ours(workspace, DATASET, csv)

    profile_if_asked("ingest", size, ingest_fresh)
    measured = time_interleaved(
        {
            "ours": Contender(
                lambda: step_ingest.ingest_ours(workspace, DATASET, csv),
                prepare=lambda: store.delete_dataset(workspace, DATASET),
            ),
            DUCKDB_LOAD: Contender(
                lambda: step_ingest.ingest_duckdb(reference_db, csv),
                prepare=lambda: step_ingest.remove_database(reference_db),
            ),
            PANDAS_LOAD: Contender(lambda: step_ingest.ingest_pandas(csv)),
        },
        repeat,
    )
    ours = step_ingest.read_table_figures(database, "orders")
    ours["rows_reported_loaded"] = measured["ours"].result.rows_loaded
    duck = step_ingest.read_table_figures(reference_db, "t")
    step_ingest.remove_database(reference_db)
    pandas_figures = step_ingest.read_frame_figures(measured[PANDAS_LOAD].result)
    for name, figures in ((DUCKDB_LOAD, duck), (PANDAS_LOAD, pandas_figures)):
        figures["rows_reported_loaded"] = figures["orders"]
        record_pair(results, "ingest", size, measured, name, ours, figures)


def bench_memory(results: Results, size: Size, csv: Path, scratch: Path) -> None:
    """Measure the peak resident memory of each way to load the file, in fresh processes."""
    scratch.mkdir(parents=True, exist_ok=True)
    file_bytes = csv.stat().st_size
    runs = {
        "ingest (ours)": ("ingest", [str(scratch), DATASET, str(csv)]),
        DUCKDB_LOAD: ("duckdb", [str(scratch / "reference.duckdb"), str(csv)]),
        PANDAS_LOAD: ("pandas", [str(csv)]),
    }
    for name, (task, arguments) in runs.items():
        memory = measure_peak_memory(task, arguments)
        results.memory.append(make_memory_entry(name, size.label, file_bytes, memory))
        say(f"  peak memory {name}: {memory.peak_mb:.0f} MB (+{memory.added_mb:.0f} MB)")
    shutil.rmtree(scratch)


def bench_base(results: Results, size: Size, workspace: Path, repeat: int) -> analysis.CustomerBase:
    """Time the per-customer build against DuckDB SQL and pandas; return our last base."""
    database = store.dataset_path(workspace, DATASET)
    profile_if_asked(
        "customer_base",
        size,
        lambda: step_base.release_base(step_base.build_base_ours(workspace, DATASET)),
    )
    orders = step_base.load_orders_frame(database)
    measured = time_interleaved(
        {
            "ours": Contender(
                lambda: step_base.build_base_ours(workspace, DATASET),
                discard=step_base.release_base,
            ),
            DUCKDB_SQL: Contender(lambda: step_base.build_base_duckdb(database)),
            PANDAS_BASE: Contender(lambda: step_base.build_base_pandas(orders)),
        },
        repeat,
    )
    ours = step_base.read_ours_figures(measured["ours"].result)
    for name in (DUCKDB_SQL, PANDAS_BASE):
        theirs = step_base.read_base_figures(measured[name].result)
        record_pair(results, "customer_base", size, measured, name, ours, theirs)
    return measured["ours"].result


def bench_slider(results: Results, size: Size, base: analysis.CustomerBase, repeat: int) -> None:
    """Time the slider recompute (custom cuts, Shopify scheme) against plain pandas."""
    scheme = step_slider.load_scheme()
    profile_if_asked("slider_recompute", size, lambda: step_slider.summarise_ours(base, scheme))
    measures = step_slider.load_measures_frame(base)
    measured = time_interleaved(
        {
            "ours": Contender(lambda: step_slider.summarise_ours(base, scheme)),
            PANDAS_SLIDER: Contender(lambda: step_slider.summarise_pandas(measures, scheme)),
        },
        repeat,
    )
    ours = step_slider.read_summary_figures(measured["ours"].result)
    theirs = step_slider.read_summary_figures(measured[PANDAS_SLIDER].result)
    record_pair(results, "slider_recompute", size, measured, PANDAS_SLIDER, ours, theirs)


def bench_size(results: Results, size: Size, repeat: int) -> None:
    """Generate (or reuse) the orders file of ``size`` and run every step on it."""
    started = time.perf_counter()
    csv = ensure_orders_csv(DATA_DIR, size)
    say(
        f"[{size.label}] {size.orders:,} orders in {csv.name} "
        f"({csv.stat().st_size / 2**20:.0f} MB, ready in {time.perf_counter() - started:.1f}s)"
    )
    workspace = DATA_DIR / f"workspace-{size.label}"
    shutil.rmtree(workspace, ignore_errors=True)
    workspace.mkdir(parents=True)
    try:
        bench_ingest(results, size, csv, workspace, repeat)
        bench_memory(results, size, csv, DATA_DIR / f"memory-{size.label}")
        base = bench_base(results, size, workspace, repeat)
        bench_slider(results, size, base, repeat)
        step_base.release_base(base)
    finally:
        shutil.rmtree(workspace, ignore_errors=True)


def report_mismatches(mismatches: list[str]) -> None:
    """Print every disagreement in a block nobody can miss."""
    bar = "!" * 78
    print(
        f"\n{bar}\nBENCHMARK INVALID: ours and a reference computed different results",
        file=sys.stderr,
    )
    for line in mismatches:
        print(f"  {line}", file=sys.stderr)
    print(bar, file=sys.stderr)


def main() -> int:
    """Run the benchmark, print the tables, write bench/results/latest.json; 1 on mismatch."""
    sizes = parse_sizes(os.environ.get("BENCH_SIZES"))
    repeat = parse_repeat(os.environ.get("BENCH_REPEAT"))
    settings = {"sizes": [s.label for s in sizes], "repeat": repeat, "warmup": 1}
    results = Results()
    started = time.perf_counter()
    for size in sizes:
        bench_size(results, size, repeat)
    machine = describe_machine(settings)
    say(
        f"\nMedian of {repeat} runs after 1 warm-up, taken in turns; ratio = ours / reference "
        "(wall clock; cpu ratio = the same in CPU seconds of this process, all threads)."
    )
    say(f"Machine: {machine['cpu_count']} CPUs, load {machine['load_average_1m_at_end']}.\n")
    print(format_table(results.entries))
    print("\nPeak resident memory of one load, fresh process (added = peak - after imports):")
    print(format_memory_table(results.memory))
    path = RESULTS_DIR / "latest.json"
    write_results(path, results, machine)
    say(f"\nWrote {path.relative_to(BENCH_DIR.parent)} in {time.perf_counter() - started:.0f}s.")
    if results.mismatches:
        report_mismatches(results.mismatches)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
