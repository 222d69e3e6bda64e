"""DuckDB against Spark local mode on the same synthetic store: times and identical results.

``python -m bench.spark_compare`` (environment: BENCH_SPARK_SIZE, default ``20m`` orders;
BENCH_SPARK_MASTER, default ``local[2]``; BENCH_SPARK_MEMORY, driver memory, default ``8g``).

The orders come from ``bench.generate.ORDERS_SQL`` (the same deterministic generator as the main
benchmark), written straight into a workspace dataset and exported with ``export-parquet``; both
are kept under bench/data/ and reused. Each engine then runs what ``python -m dashboard segments
--summary`` runs (customer base, quantile cuts, per-customer segments, summary; Shopify scheme).
Prints the times, writes bench/results/spark-<size>.json, and exits 1 if the two engines' CSV
bytes differ.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.generate import GENERATOR_VERSION, ORDERS_SQL, Size, parse_size  # noqa: E402
from dashboard import analysis, engines, export, parquet_export, schemes, store  # noqa: E402

BENCH_DIR = Path(__file__).resolve().parent
DATA_DIR = BENCH_DIR / "data"
RESULTS_DIR = BENCH_DIR / "results"
DATASET = "bench_spark"
SCHEME = "shopify"

INSERT = """
INSERT INTO orders (order_id, customer_id, ordered_at, order_total, refunded_amount, net_total,
                    currency, discount_code, is_cancelled, channel, country, source_file,
                    ingest_id)
SELECT order_id, customer_id, ordered_at, order_total, refunded_amount,
       order_total - refunded_amount, currency, discount_code, is_cancelled, channel, country,
       'bench', 1
FROM ({query})
"""


def prepare(size: Size) -> tuple[Path, Path]:
    """Return (workspace, Parquet export) of ``size`` orders, building them if absent."""
    root = DATA_DIR / f"spark-v{GENERATOR_VERSION}-{size.label}"
    workspace = store.resolve_workspace(root / "workspace")
    export_dir = root / "parquet"
    if not store.dataset_exists(workspace, DATASET):
        store.delete_dataset(workspace, f"{DATASET}-building")
        query = ORDERS_SQL.replace("$n", str(size.orders)).replace(
            "$customers", str(max(size.orders // 3, 1))
        )
        with store.open_for_write(workspace, f"{DATASET}-building") as con:
            con.execute("SET enable_progress_bar = false")
            con.begin()
            con.execute(INSERT.format(query=query))
            con.commit()
        store.replace_dataset(workspace, f"{DATASET}-building", DATASET)
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
        base = engines.load_customer_base(tables, DATASET)
        times["customer_base"] = time.perf_counter() - mark
        mark = time.perf_counter()
        cuts = analysis.resolve_cuts(base, scheme)
        times["quantile_cuts"] = time.perf_counter() - mark
        mark = time.perf_counter()
        members = export.to_csv_bytes(analysis.segment_members(base, cuts, scheme))
        times["segments_csv"] = time.perf_counter() - mark
        mark = time.perf_counter()
        summary = export.to_csv_bytes(analysis.segment_summary(base, cuts, scheme))
        times["summary"] = time.perf_counter() - mark
        if engine != "duckdb":
            base.measures.release()
    times["total"] = time.perf_counter() - started
    return {
        "seconds": {step: round(value, 2) for step, value in times.items()},
        "customers": members.count(b"\n") - 1,
        "segments_sha256": hashlib.sha256(members).hexdigest(),
        "summary_sha256": hashlib.sha256(summary).hexdigest(),
    }


def main() -> int:
    """Build or reuse the data, time both engines, print and save the comparison."""
    size = parse_size(os.environ.get("BENCH_SPARK_SIZE", "20m"))
    master = os.environ.get("BENCH_SPARK_MASTER", engines.DEFAULT_SPARK_MASTER)
    started = time.perf_counter()
    workspace, export_dir = prepare(size)
    prepare_seconds = time.perf_counter() - started
    print(f"{size.orders:,} orders ready in {prepare_seconds:.1f} s ({export_dir})", flush=True)

    duck = run_engine("duckdb", workspace, export_dir)
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
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    spark_start = time.perf_counter() - mark
    try:
        spark = run_engine("spark", workspace, export_dir)
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
    return 0 if identical else 1


if __name__ == "__main__":
    raise SystemExit(main())
