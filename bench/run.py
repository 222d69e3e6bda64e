"""Run the benchmark: the speed targets at every size, ours beside references of the same run.

Environment: BENCH_SIZES (``1m``; e.g. ``100k,1m,10m``), BENCH_REPEAT (timed runs per
measurement, median reported; default 3; the browser slider moves 3 times as often),
BENCH_PROFILE=1 (also write a cProfile of our side of each in-process step to bench/results/),
BENCH_SPARK=0 (leave out the comparison of DuckDB and Spark local mode on 20M orders that runs
after the sizes: bench.spark_compare, about 3 minutes, plus about 2 the first time to build its
data; without Java or pyspark the run stops before it starts, naming what is missing).

A size counts orders for targets 3 to 6, customers for targets 1 and 2 and order lines for
target 8 (see bench.targets for which target runs at which size). Prints the table and the
verdicts, writes bench/results/latest.json and latest.md (the README's table). Exits 1 when ours
and a reference disagree on the figures.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):
    # Run as ``python bench/run.py``: make the repository root importable.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import (  # noqa: E402
    spark_compare,
    step_affinity,
    step_app_memory,
    step_base,
    step_browser_slider,
    step_ingest,
    step_pages,
    step_predict,
    step_slider,
    step_upload,
)
from bench.checks import Figures, find_differences  # noqa: E402
from bench.generate import (  # noqa: E402
    ORDERS_PER_CUSTOMER,
    Size,
    ensure_customers_csv,
    ensure_orders_csv,
    format_count,
    parse_sizes,
)
from bench.generate_shopify import ensure_shopify_csv  # noqa: E402
from bench.report import format_markdown, format_table, format_verdicts  # noqa: E402
from bench.results import (  # noqa: E402
    Judgement,
    Results,
    describe_machine,
    make_entry,
    make_memory_entry,
    write_results,
)
from bench.targets import CRITERIA, find_skip, find_unjudged  # noqa: E402
from bench.timing import (  # noqa: E402
    Contender,
    Measured,
    measure_peak_memory,
    profile_once,
    time_interleaved,
)
from dashboard import order_rules
from dashboard.rfm import analysis
from dashboard.workspace import store

BENCH_DIR = Path(__file__).resolve().parent
DATA_DIR = BENCH_DIR / "data"
RESULTS_DIR = BENCH_DIR / "results"
DATASET = "bench_orders"
CUSTOMERS_DATASET = "bench_customers"
AFFINITY_DATASET = "bench_affinity"
DUCKDB_LOAD = "duckdb CTAS read_csv"
PANDAS_LOAD = "pandas read_csv pyarrow"
DUCKDB_SQL = "duckdb SQL"
PANDAS_BASE = "pandas groupby (in memory)"
PANDAS_SLIDER = "pandas cut+groupby (in memory)"
FILE_SIZE = "CSV file size"
REFERENCE_PAGE = "same page, no data work (bench/reference_app.py)"
PLAIN_PREDICT = (
    "plain BG/NBD + Gamma-Gamma fit over one row per customer (scipy L-BFGS-B, numeric gradients)"
)
SKLEARN_CLUSTERS = "sklearn KMeans + silhouette_score on the 20,000 sample"
DUCKDB_FIRSTS = "duckdb SQL: first orders, cohort sizes, orders per month"
DUCKDB_PAIRS = "duckdb SQL self-join of the same pairs"


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
    judgement: Judgement | None = None,
) -> None:
    """Check that ours and ``reference`` computed the same figures, then add their entry.

    ``judgement`` names the target criterion the entry measures (default: informational).
    """
    agrees = record_check(results, f"{step} {size.label} vs {reference}", ours, theirs)
    mine, other = measured["ours"].timing, measured[reference].timing
    results.entries.append(make_entry(step, size.label, mine, reference, other, agrees, judgement))
    say(
        f"  {step} vs {reference}: {mine.median:.4f}s / {other.median:.4f}s "
        f"(cpu {mine.cpu_median:.4f}s / {other.cpu_median:.4f}s)"
    )


def judge_orders(
    size: Size, criterion: str | None = None, target: int | None = None, note: str = ""
) -> Judgement:
    """Return the judgement of an entry measured on ``size`` orders (informational, with the
    criterion's target, where ``targets.find_unjudged`` says the issue does not set it)."""
    scale = f"{format_count(size.orders)} orders"
    if criterion is not None:
        unjudged = find_unjudged(CRITERIA[criterion].target, size.label, size.orders)
        if unjudged is not None:
            return Judgement(None, unjudged.target, size.orders, scale, note)
    return Judgement(criterion, target, size.orders, scale, note)


def record_unjudged(results: Results, target: int, size: Size) -> None:
    """Record that ``target`` is measured at ``size`` but not judged there, if so."""
    unjudged = find_unjudged(target, size.label, size.orders)
    if unjudged is not None:
        results.skips.append(unjudged)


def judge_customers(size: Size, criterion: str) -> Judgement:
    """Return the judgement of an entry measured on ``size`` customers."""
    orders = format_count(ORDERS_PER_CUSTOMER * size.orders)
    scale = f"{format_count(size.orders)} customers ({orders} orders)"
    return Judgement(criterion, None, size.orders, scale)


def skip_unless_runs(results: Results, target: int, size: Size) -> bool:
    """Return whether ``target`` runs at ``size``; if not, record and print why."""
    skip = find_skip(target, size.label, size.orders)
    if skip is None:
        return True
    results.skips.append(skip)
    say(f"  target {target} skipped at {size.label}: {skip.reason}")
    return False


def profile_if_asked(step: str, size: Size, action: Callable[[], object]) -> None:
    """With BENCH_PROFILE=1, profile one more run of our side of ``step``."""
    if os.environ.get("BENCH_PROFILE") == "1":
        profile_once(action, RESULTS_DIR / f"profile-{step}-{size.label}.txt")


def bench_ingest(results: Results, size: Size, csv: Path, workspace: Path, repeat: int) -> None:
    """Time our generic ingest against a bare DuckDB load and pandas, and check they agree."""
    record_unjudged(results, 4, size)
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
    judgements = {
        DUCKDB_LOAD: judge_orders(size, "ingest_time"),
        PANDAS_LOAD: judge_orders(size, target=4),
    }
    for name, figures in ((DUCKDB_LOAD, duck), (PANDAS_LOAD, pandas_figures)):
        figures["rows_reported_loaded"] = figures["orders"]
        record_pair(results, "ingest", size, measured, name, ours, figures, judgements[name])


def bench_memory(results: Results, size: Size, csv: Path, scratch: Path) -> None:
    """Measure the peak resident memory of each way to load the file, in fresh processes.

    Our ingest's peak (the whole process's, imports included) is target 4's memory criterion;
    the bare DuckDB load's and pandas' peaks are shown beside it.
    """
    scratch.mkdir(parents=True, exist_ok=True)
    file_bytes = csv.stat().st_size
    runs = {
        "ingest peak RSS": ("ingest", [str(scratch), DATASET, str(csv)], "ingest_memory"),
        f"{DUCKDB_LOAD} peak RSS": (
            "duckdb",
            [str(scratch / "reference.duckdb"), str(csv)],
            None,
        ),
        f"{PANDAS_LOAD} peak RSS": ("pandas", [str(csv)], None),
    }
    for name, (task, arguments, criterion) in runs.items():
        memory = measure_peak_memory(task, arguments)
        details = {
            "baseline_mb": round(memory.baseline_mb, 1),
            "added_mb": round(memory.added_mb, 1),
            "added_over_file": round(memory.added_mb / (file_bytes / 2**20), 2),
        }
        judgement = judge_orders(size, criterion, None if criterion else 4)
        results.entries.append(
            make_memory_entry(name, size.label, file_bytes, [memory.peak_mb], judgement, details)
        )
        say(f"  {name}: {memory.peak_mb:.0f} MB (+{memory.added_mb:.0f} MB after imports)")
    shutil.rmtree(scratch)


def bench_base(results: Results, size: Size, workspace: Path, repeat: int) -> analysis.CustomerBase:
    """Time the per-customer build against DuckDB SQL and pandas; return our last base."""
    record_unjudged(results, 3, size)
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
    criteria = {DUCKDB_SQL: "customer_base_sql", PANDAS_BASE: "customer_base_pandas"}
    for name in (DUCKDB_SQL, PANDAS_BASE):
        theirs = step_base.read_base_figures(measured[name].result)
        judgement = judge_orders(size, criteria[name])
        record_pair(results, "customer_base", size, measured, name, ours, theirs, judgement)
    return measured["ours"].result


def bench_slider(results: Results, size: Size, base: analysis.CustomerBase, repeat: int) -> None:
    """Time the slider recompute (custom cuts, Shopify scheme) against plain pandas.

    ``base`` holds ``size`` customers: this is target 2.
    """
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
    judgement = judge_customers(size, "slider_recompute")
    record_pair(results, "slider_recompute", size, measured, PANDAS_SLIDER, ours, theirs, judgement)


def bench_clusters(results: Results, size: Size, base: analysis.CustomerBase, repeat: int) -> None:
    """Time "Find clusters" (issue 18 #12) against plain scikit-learn on the same customers."""
    scheme = step_slider.load_scheme()
    cuts = step_pages.resolve_scoring(base, scheme)
    features = step_pages.load_features(base, cuts, scheme)
    profile_if_asked("find_clusters", size, lambda: step_pages.cluster_ours(base, cuts, scheme))
    measured = time_interleaved(
        {
            "ours": Contender(lambda: step_pages.cluster_ours(base, cuts, scheme)),
            SKLEARN_CLUSTERS: Contender(lambda: step_pages.cluster_sklearn(features)),
        },
        repeat,
    )
    ours = step_pages.read_cluster_figures(len(measured["ours"].result.members))
    theirs = step_pages.read_cluster_figures(len(measured[SKLEARN_CLUSTERS].result))
    judgement = judge_orders(size, note="issue 18 #12: informational, no target")
    record_pair(results, "find_clusters", size, measured, SKLEARN_CLUSTERS, ours, theirs, judgement)


def bench_pages(results: Results, size: Size, workspace: Path, repeat: int) -> None:
    """Time what Channels, Cohorts and Maturity compute in a new session (issue 18 #12) against
    one hand-written DuckDB query of the figures they start from."""
    database = store.dataset_path(workspace, DATASET)
    as_of = analysis.describe_dataset(workspace, DATASET).last_order_on
    profile_if_asked(
        "acquisition_pages", size, lambda: step_pages.open_pages_ours(workspace, DATASET, as_of)
    )
    measured = time_interleaved(
        {
            "ours": Contender(lambda: step_pages.open_pages_ours(workspace, DATASET, as_of)),
            DUCKDB_FIRSTS: Contender(lambda: step_pages.open_pages_duckdb(database, as_of)),
        },
        repeat,
    )
    ours = step_pages.read_pages_figures(measured["ours"].result)
    theirs = measured[DUCKDB_FIRSTS].result
    judgement = judge_orders(size, note="issue 18 #12: informational, no target")
    record_pair(
        results, "acquisition_pages", size, measured, DUCKDB_FIRSTS, ours, theirs, judgement
    )


def bench_predict(results: Results, size: Size, workspace: Path, repeat: int) -> None:
    """Fit and score the purchase and spend models for every customer, beside a plain fit over
    one row per customer (target 7: the compression is what makes ours fast)."""
    database = store.dataset_path(workspace, CUSTOMERS_DATASET)
    with store.open_for_read(workspace, CUSTOMERS_DATASET) as backend:
        as_of = order_rules.latest_order_date(backend.table("orders"))
    assert as_of is not None
    profile_if_asked(
        "predict", size, lambda: step_predict.predict_ours(workspace, CUSTOMERS_DATASET, as_of)
    )
    measured = time_interleaved(
        {
            "ours": Contender(
                lambda: step_predict.predict_ours(workspace, CUSTOMERS_DATASET, as_of)
            ),
            PLAIN_PREDICT: Contender(lambda: step_predict.predict_plain(database, as_of)),
        },
        repeat,
    )
    ours = step_predict.read_ours(measured["ours"].result)
    theirs = step_predict.read_plain(measured[PLAIN_PREDICT].result)
    for line in step_predict.compare_fits(measured["ours"].result, measured[PLAIN_PREDICT].result):
        results.mismatches.append(f"predict {size.label}: {line}")
        print(f"MISMATCH predict {size.label}: {line}", file=sys.stderr, flush=True)
    record_pair(
        results,
        "predict",
        size,
        measured,
        PLAIN_PREDICT,
        ours,
        theirs,
        judge_customers(size, "predict_fit"),
    )


def judge_lines(size: Size) -> Judgement:
    """Return the judgement of the basket affinity entry on ``size`` order lines (target 8;
    informational below the 10M lines the issue sets it at)."""
    scale = f"{format_count(size.orders)} order lines"
    if find_unjudged(8, size.label, size.orders) is not None:
        return Judgement(None, 8, size.orders, scale)
    return Judgement("affinity_sql", None, size.orders, scale)


def bench_affinity(results: Results, size: Size, repeat: int) -> None:
    """Count the pairs of products bought together on ``size`` order lines, against a
    hand-written DuckDB self-join of the same pairs (target 8)."""
    record_unjudged(results, 8, size)
    workspace = DATA_DIR / f"workspace-affinity-{size.label}"
    shutil.rmtree(workspace, ignore_errors=True)
    workspace.mkdir(parents=True)
    try:
        started = time.perf_counter()
        written = step_affinity.build_dataset(workspace, AFFINITY_DATASET, size.orders)
        say(
            f"[{size.label}] {written:,} order lines for basket affinity "
            f"(written in {time.perf_counter() - started:.1f}s)"
        )
        database = store.dataset_path(workspace, AFFINITY_DATASET)
        profile_if_asked(
            "basket_affinity",
            size,
            lambda: step_affinity.count_pairs_ours(workspace, AFFINITY_DATASET),
        )
        measured = time_interleaved(
            {
                "ours": Contender(
                    lambda: step_affinity.count_pairs_ours(workspace, AFFINITY_DATASET)
                ),
                DUCKDB_PAIRS: Contender(lambda: step_affinity.count_pairs_duckdb(database)),
            },
            repeat,
        )
        ours = step_affinity.read_figures(measured["ours"].result)
        theirs = step_affinity.read_figures(measured[DUCKDB_PAIRS].result)
        judgement = judge_lines(size)
        record_pair(
            results, "basket_affinity", size, measured, DUCKDB_PAIRS, ours, theirs, judgement
        )
    finally:
        shutil.rmtree(workspace, ignore_errors=True)


def bench_browser_slider(results: Results, size: Size, workspace: Path, repeat: int) -> None:
    """Time slider moves in headless Chromium on the app and on the reference page (target 1)."""
    moves = 3 * repeat
    timing = step_browser_slider.measure_slider(
        workspace, CUSTOMERS_DATASET, moves, DATA_DIR / f"logs-{size.label}"
    )
    ours, reference = timing[step_browser_slider.OURS], timing[step_browser_slider.REFERENCE]
    details = {
        "moves": moves,
        "redrawn_median_s": round(ours.redrawn.median, 4),
        "reference_redrawn_median_s": round(reference.redrawn.median, 4),
        "cpu": "CPU seconds of each Streamlit server process during a move",
    }
    entry = make_entry(
        "slider release -> table and chart redrawn (browser)",
        size.label,
        ours.done,
        REFERENCE_PAGE,
        reference.done,
        None,
        judge_customers(size, "slider_browser"),
        details,
    )
    results.entries.append(entry)
    say(
        f"  browser slider: {ours.done.median:.3f}s / reference {reference.done.median:.3f}s "
        f"(server cpu {ours.done.cpu_median:.3f}s / {reference.done.cpu_median:.3f}s)"
    )


def bench_customers(results: Results, size: Size, repeat: int) -> None:
    """Targets 1 and 2 on a dataset of ``size`` customers, loaded by our ingest."""
    runs = [skip_unless_runs(results, target, size) for target in (1, 2, 7)]
    if not any(runs):
        return
    started = time.perf_counter()
    csv = ensure_customers_csv(DATA_DIR, size)
    workspace = DATA_DIR / f"workspace-customers-{size.label}"
    shutil.rmtree(workspace, ignore_errors=True)
    workspace.mkdir(parents=True)
    try:
        step_ingest.ingest_ours(workspace, CUSTOMERS_DATASET, csv)
        say(
            f"[{size.label}] {size.orders:,} customers, "
            f"{ORDERS_PER_CUSTOMER * size.orders:,} orders in {csv.name} "
            f"({csv.stat().st_size / 2**20:.0f} MB, loaded in {time.perf_counter() - started:.1f}s)"
        )
        base = step_base.build_base_ours(workspace, CUSTOMERS_DATASET)
        try:
            bench_slider(results, size, base, repeat)
        finally:
            step_base.release_base(base)
        bench_predict(results, size, workspace, repeat)
        if find_skip(1, size.label, size.orders) is None:
            bench_browser_slider(results, size, workspace, repeat)
    finally:
        shutil.rmtree(workspace, ignore_errors=True)


def bench_upload(results: Results, size: Size, repeat: int) -> None:
    """Upload a Shopify export of ``size`` orders in the browser, against a bare load (target 5)."""
    if not skip_unless_runs(results, 5, size):
        return
    started = time.perf_counter()
    csv = ensure_shopify_csv(DATA_DIR, size)
    say(
        f"[{size.label}] Shopify orders export {csv.name} "
        f"({csv.stat().st_size / 2**20:.0f} MB, ready in {time.perf_counter() - started:.1f}s)"
    )
    scratch = DATA_DIR / f"upload-{size.label}"
    shutil.rmtree(scratch, ignore_errors=True)
    try:
        timing = step_upload.measure_upload(csv, scratch, repeat)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    note = ""
    if timing.server_limit_mb is not None:
        note = (
            f"the {csv.stat().st_size / 10**6:.0f} MB Shopify export is above the app's "
            f"upload limit (server.maxUploadSize = {timing.configured_limit_mb} MB in "
            ".streamlit/config.toml), which refuses it; the benchmark's server ran with "
            f"--server.maxUploadSize {timing.server_limit_mb}"
        )
        say(f"  NOTE: {note}")
    agrees = all(read == size.orders for read in timing.orders_read)
    if not agrees:
        line = f"upload {size.label}: orders read {timing.orders_read} != {size.orders}"
        results.mismatches.append(line)
        print(f"MISMATCH {line}", file=sys.stderr, flush=True)
    details = {
        "phases": timing.phases,
        "cpu": "CPU seconds of the Streamlit server (ours) and of this process (DuckDB)",
    }
    entry = make_entry(
        "upload -> first segment chart (browser)",
        size.label,
        timing.upload,
        f"{DUCKDB_LOAD} of the same file",
        timing.reference,
        agrees,
        judge_orders(size, "upload_browser", note=note),
        details,
    )
    results.entries.append(entry)
    say(f"  upload: {timing.upload.median:.2f}s / bare load {timing.reference.median:.2f}s")


def bench_app_memory(results: Results, size: Size, csv: Path, workspace: Path) -> None:
    """Open the Segments page over the ingested ``size`` orders; the server's RSS (target 6)."""
    if not skip_unless_runs(results, 6, size):
        return
    memory = step_app_memory.measure_app_memory(workspace, DATASET, DATA_DIR / f"logs-{size.label}")
    details = {"peak_mb": memory.peak_mb, "open_s": memory.open_s}
    results.entries.append(
        make_memory_entry(
            "app RSS, Segments page open",
            size.label,
            csv.stat().st_size,
            memory.samples_mb,
            judge_orders(size, "app_memory"),
            details,
        )
    )
    say(f"  app memory: {memory.median_mb:.0f} MB (peak {memory.peak_mb:.0f} MB)")


def bench_size(results: Results, size: Size, repeat: int) -> None:
    """Generate (or reuse) the files of ``size`` and run every target that runs at it."""
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
        try:
            bench_clusters(results, size, base, repeat)
        finally:
            step_base.release_base(base)
        bench_pages(results, size, workspace, repeat)
        bench_app_memory(results, size, csv, workspace)
    finally:
        shutil.rmtree(workspace, ignore_errors=True)
    bench_upload(results, size, repeat)
    bench_affinity(results, size, repeat)
    bench_customers(results, size, repeat)


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
    """Run the benchmark, print the tables, write bench/results/latest.json; 1 on mismatch, 2
    when the Spark comparison is asked for but cannot run."""
    sizes = parse_sizes(os.environ.get("BENCH_SIZES"))
    repeat = parse_repeat(os.environ.get("BENCH_REPEAT"))
    compare_spark = spark_compare.is_selected(os.environ)
    if compare_spark and (missing := spark_compare.find_missing_requirement(os.environ)):
        print(
            f"The DuckDB/Spark comparison cannot run: {missing}. "
            "BENCH_SPARK=0 leaves it out of the benchmark.",
            file=sys.stderr,
        )
        return 2
    settings = {
        "sizes": [s.label for s in sizes],
        "repeat": repeat,
        "warmup": 1,
        "spark_compare": compare_spark,
    }
    results = Results()
    started = time.perf_counter()
    for size in sizes:
        bench_size(results, size, repeat)
    if compare_spark:
        say("[spark] DuckDB against Spark local mode (BENCH_SPARK=0 leaves this out)")
        spark_compare.record_comparison(results)
    machine = describe_machine(settings)
    machine["duration_s"] = round(time.perf_counter() - started, 1)
    path = RESULTS_DIR / "latest.json"
    write_results(path, results, machine)
    document = json.loads(path.read_text(encoding="utf-8"))
    say(
        f"\nMedians of {repeat} runs (in-process steps: after 1 warm-up, taken in turns; browser "
        f"slider: {3 * repeat} moves after 1 warm-up); ratio = ours / reference; memory: "
        "resident MB / CSV file MB. Target = the issue's criterion, (n) = extra reference."
    )
    say(f"Machine: {machine['cpu_count']} CPUs, load {machine['load_average_1m_at_end']}.\n")
    print(format_table(document["entries"]))
    print()
    print(format_verdicts(document))
    markdown = RESULTS_DIR / "latest.md"
    markdown.write_text(format_markdown(document), encoding="utf-8")
    say(
        f"\nWrote {path.relative_to(BENCH_DIR.parent)} and {markdown.name} "
        f"in {machine['duration_s']:.0f}s."
    )
    if results.mismatches:
        report_mismatches(results.mismatches)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
