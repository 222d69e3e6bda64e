"""DuckDB against Spark local mode on the same synthetic store: times and identical results.

``python -m bench.spark_compare`` runs it alone; ``make bench`` runs it after its sizes unless
BENCH_SPARK=0 (``is_selected``) and adds its entry to bench/results/latest.json
(``record_comparison``, ``make_comparison_entry``). Environment: BENCH_SPARK_SIZE, default
``20m`` orders; BENCH_SPARK_MASTER, default ``local[2]``; BENCH_SPARK_MEMORY, driver memory,
default ``8g``. On 2 cores it takes about 3 minutes (DuckDB 13 s, Spark 154 s plus 8 s to start),
plus about 2 minutes the first time, to build and export the 20 million orders.

The orders come from ``bench.generate.ORDERS_SQL`` (the same deterministic generator as the main
benchmark), written straight into a workspace dataset and exported with ``export-parquet``; both
are kept under bench/data/ and reused. Each engine then runs what ``python -m dashboard segments
--summary`` runs (customer base, quantile cuts, per-customer segments, summary; Shopify scheme),
once. Writes bench/results/spark-<size>.json; the two engines' CSV bytes must be identical.
CPU seconds of the Spark run include the Spark JVM's own.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.generate import (  # noqa: E402
    GENERATOR_VERSION,
    ORDERS_SQL,
    Size,
    format_count,
    parse_size,
)
from bench.results import Entry, Results, make_check_entry  # noqa: E402
from bench.timing import Timing  # noqa: E402
from dashboard import engines, export
from dashboard.rfm import analysis, cut_points, schemes
from dashboard.workspace import parquet_export, store

BENCH_DIR = Path(__file__).resolve().parent
DATA_DIR = BENCH_DIR / "data"
RESULTS_DIR = BENCH_DIR / "results"
DATASET = "bench_spark"
SCHEME = "shopify"
DEFAULT_SIZE = "20m"
ENTRY_NAME = "segments_spark_local"

INSERT = """
INSERT INTO orders (order_id, customer_id, ordered_at, order_total, refunded_amount, net_total,
                    currency, discount_code, is_cancelled, channel, country, ingest_id)
SELECT order_id, customer_id, ordered_at, order_total, refunded_amount,
       order_total - refunded_amount, currency, discount_code, is_cancelled, channel, country, 1
FROM ({query})
"""


def prepare(size: Size) -> tuple[Path, Path]:
    """Return (workspace, Parquet export) of ``size`` orders, building them if absent."""
    root = DATA_DIR / f"spark-v{GENERATOR_VERSION}-{size.label}"
    workspace = store.resolve_workspace(root / "workspace")
    export_dir = root / "parquet"
    if not store.dataset_exists(workspace, DATASET):
        query = ORDERS_SQL.replace("$n", str(size.orders)).replace(
            "$customers", str(max(size.orders // 3, 1))
        )
        with store.create_scratch(workspace) as scratch:
            staging = store.resolve_workspace(scratch / "workspace")
            with store.open_for_write(staging, DATASET) as con:
                con.execute("SET enable_progress_bar = false")
                con.begin()
                con.execute(INSERT.format(query=query))
                con.commit()
            store.replace_dataset(workspace, store.dataset_path(staging, DATASET), DATASET)
        shutil.rmtree(export_dir, ignore_errors=True)
    if not export_dir.exists():
        parquet_export.export_parquet(workspace, DATASET, export_dir)
    return workspace, export_dir


def run_engine(engine: str, workspace: Path, export_dir: Path) -> dict[str, object]:
    """Run the segments pipeline on ``engine``; return step times and the CSV digests."""
    scheme = schemes.get_scheme(SCHEME)
    times: dict[str, float] = {}
    started = time.perf_counter()
    with engines.open_tables(
        engine, workspace=workspace, dataset=DATASET, parquet_dir=export_dir
    ) as tables:
        times["open"] = time.perf_counter() - started
        mark = time.perf_counter()
        base = analysis.build_customer_base(tables, DATASET)
        times["customer_base"] = time.perf_counter() - mark
        mark = time.perf_counter()
        cuts = cut_points.resolve_cuts(base.measures, cut_points.ScoringSpec(scheme))
        times["quantile_cuts"] = time.perf_counter() - mark
        mark = time.perf_counter()
        members = export.to_csv_bytes(analysis.segment_members(base, cuts, scheme))
        times["segments_csv"] = time.perf_counter() - mark
        mark = time.perf_counter()
        summary = export.to_csv_bytes(analysis.segment_summary(base, cuts, scheme))
        times["summary"] = time.perf_counter() - mark
        base.close()
    times["total"] = time.perf_counter() - started
    return {
        "seconds": {step: round(value, 2) for step, value in times.items()},
        "customers": members.count(b"\n") - 1,
        "segments_sha256": hashlib.sha256(members).hexdigest(),
        "summary_sha256": hashlib.sha256(summary).hexdigest(),
    }


def _jvm_cpu_seconds(session: Any) -> float:
    """CPU seconds the Spark driver JVM (local mode: all of Spark) has used so far (Linux)."""
    runtime = session.sparkContext._jvm.java.lang.management.ManagementFactory.getRuntimeMXBean()
    stat = Path(f"/proc/{runtime.getPid()}/stat").read_text(encoding="ascii")
    user, system = stat.rsplit(")", 1)[1].split()[11:13]  # utime and stime, in clock ticks
    return (int(user) + int(system)) / os.sysconf("SC_CLK_TCK")


def run_comparison(size: Size, master: str) -> dict[str, object]:
    """Build or reuse ``size`` orders, run both engines, write and return spark-<size>.json.

    Out: size, orders, customers, spark_master, cores, scheme, identical (both engines' CSV
    bytes equal), and per engine its step seconds, CPU seconds and digests.
    """
    started = time.perf_counter()
    workspace, export_dir = prepare(size)
    prepare_seconds = time.perf_counter() - started
    print(f"{size.orders:,} orders ready in {prepare_seconds:.1f} s ({export_dir})", flush=True)

    cpu = time.process_time()
    duck = run_engine("duckdb", workspace, export_dir)
    duck["cpu_seconds"] = round(time.process_time() - cpu, 2)
    print(f"duckdb: {duck['seconds']}", flush=True)

    from pyspark.sql import SparkSession

    mark = time.perf_counter()
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    session = (
        SparkSession.builder.master(master)
        .appName("segments-bench")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", os.environ.get("BENCH_SPARK_MEMORY", "8g"))
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", engines.SPARK_WAREHOUSE_DIR)
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    spark_start = time.perf_counter() - mark
    try:
        cpu, jvm_cpu = time.process_time(), _jvm_cpu_seconds(session)
        spark = run_engine("spark", workspace, export_dir)
        used = time.process_time() - cpu + _jvm_cpu_seconds(session) - jvm_cpu
        spark["cpu_seconds"] = round(used, 2)
    finally:
        session.stop()
    spark["seconds"]["session_start"] = round(spark_start, 2)
    print(f"spark ({master}): {spark['seconds']}", flush=True)

    identical = (
        duck["segments_sha256"] == spark["segments_sha256"]
        and duck["summary_sha256"] == spark["summary_sha256"]
    )
    result = {
        "size": size.label,
        "orders": size.orders,
        "customers": duck["customers"],
        "spark_master": master,
        "cores": os.cpu_count(),
        "scheme": SCHEME,
        "identical": identical,
        "duckdb": duck,
        "spark": spark,
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = RESULTS_DIR / f"spark-{size.label}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"{size.orders:,} orders, {duck['customers']:,} customers: DuckDB "
        f"{duck['seconds']['total']} s, Spark {spark['seconds']['total']} s "
        f"(+{spark_start:.1f} s start); results {'IDENTICAL' if identical else 'DIFFER'}; "
        f"written to {out}"
    )
    return result


def is_selected(environ: Mapping[str, str]) -> bool:
    """Whether ``make bench`` runs the comparison: always, unless BENCH_SPARK=0."""
    return environ.get("BENCH_SPARK", "").strip() != "0"


def find_missing_requirement(environ: Mapping[str, str]) -> str | None:
    """Return what Spark local mode lacks on this machine (pyspark, Java), or None.

    ``environ`` gives JAVA_HOME and the PATH searched for ``java``.
    """
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (pip install -r requirements-dev.txt)"
    if not environ.get("JAVA_HOME") and shutil.which("java", path=environ.get("PATH")) is None:
        return "Java is not installed (apt-get install openjdk-17-jre-headless)"
    return None


def make_comparison_entry(result: Mapping[str, Any]) -> Entry:
    """Return the results entry of a comparison (what ``run_comparison`` returns).

    Spark local mode is ours, DuckDB on the same pipeline the reference, one run each. No limit:
    ``holds`` (and ``agrees``) say whether both engines wrote identical bytes. Spark's time
    leaves out starting its session, which ``details`` and the note give.
    """
    duck, spark = result["duckdb"], result["spark"]
    start = spark["seconds"]["session_start"]
    return make_check_entry(
        name=ENTRY_NAME,
        size=result["size"],
        ours=Timing((spark["seconds"]["total"],), (spark["cpu_seconds"],)),
        reference="duckdb, same pipeline",
        theirs=Timing((duck["seconds"]["total"],), (duck["cpu_seconds"],)),
        identical=result["identical"],
        scale=f"{format_count(result['orders'])} orders ({result['customers']:,} customers)",
        note=f"{ENTRY_NAME}: Spark {result['spark_master']}, one run per engine; Spark's time "
        f"leaves out starting its session ({start:.0f} s)",
        details={
            "spark_master": result["spark_master"],
            "customers": result["customers"],
            "spark_session_start_s": start,
            "steps_s": {"duckdb": duck["seconds"], "spark": spark["seconds"]},
        },
    )


def record_comparison(results: Results) -> None:
    """Run the comparison and add its entry to ``results`` (a mismatch when the engines differ)."""
    size = parse_size(os.environ.get("BENCH_SPARK_SIZE", DEFAULT_SIZE))
    master = os.environ.get("BENCH_SPARK_MASTER", engines.DEFAULT_SPARK_MASTER)
    entry = make_comparison_entry(run_comparison(size, master))
    results.entries.append(entry)
    if not entry.holds:
        results.mismatches.append(
            f"{ENTRY_NAME} {size.label}: Spark and DuckDB wrote different CSV files"
        )


def main() -> int:
    """Build or reuse the data, time both engines, print and save the comparison."""
    size = parse_size(os.environ.get("BENCH_SPARK_SIZE", DEFAULT_SIZE))
    master = os.environ.get("BENCH_SPARK_MASTER", engines.DEFAULT_SPARK_MASTER)
    return 0 if run_comparison(size, master)["identical"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
