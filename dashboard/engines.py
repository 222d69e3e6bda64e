"""Where the Ibis expressions run: DuckDB over the workspace, or Spark over a Parquet export.

The engine functions (``rfm``, ``segments``) take Ibis tables and never ask which backend they
are on; this module is the only place that chooses. ``duckdb`` reads the dataset's workspace
file through the sealed read connection; ``spark`` reads the dataset as written by
``python -m dashboard export-parquet`` (``parquet_export``), from a local directory or any URI
Spark can read (``s3a://``, ``abfss://``, ``gs://``, ``dbfs:///``).

pyspark is a dev/cluster dependency: it is imported only when the spark engine is asked for.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
from ibis.backends import BaseBackend

from dashboard import analysis, rfm, store
from dashboard.parquet_export import PARTITION_COLUMN

ENGINES = ("duckdb", "spark")
DEFAULT_SPARK_MASTER = "local[2]"
DEFAULT_RULES = rfm.CountingRules()
URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:/")

# Settings for a session this module creates. A session that already exists (a cluster's, a
# notebook's, a test's) is used as it is, apart from the time zone Ibis pins to UTC.
_SPARK_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",
    # Parquet TIMESTAMP written by DuckDB has no time zone: read it as TIMESTAMP_NTZ.
    "spark.sql.parquet.inferTimestampNTZ.enabled": "true",
}
_LOCAL_SPARK_CONF = {
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.driver.host": "127.0.0.1",
    "spark.sql.shuffle.partitions": "4",
    "spark.driver.memory": "2g",
}


class EngineError(store.WorkspaceError):
    """An engine that cannot be used as asked (missing pyspark or Java, no Parquet export)."""


@dataclass
class EngineTables:
    """A dataset's canonical tables opened on one engine.

    ``orders`` is the canonical orders table; ``customers`` is the customers table or None when
    the dataset has none. ``backend`` is the Ibis backend they live on.
    """

    engine: str
    backend: BaseBackend
    orders: ir.Table
    customers: ir.Table | None


def spark_session(master: str = DEFAULT_SPARK_MASTER, app_name: str = "segments-dashboard") -> Any:
    """Return the active SparkSession, or a new one on ``master`` with this module's settings.

    Raises EngineError with the reason when pyspark or Java is not available.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise EngineError(
            "The spark engine needs pyspark: pip install -r requirements-dev.txt."
        ) from exc
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    builder = SparkSession.builder.master(master).appName(app_name)
    conf = dict(_SPARK_CONF)
    if master.startswith("local"):
        conf.update(_LOCAL_SPARK_CONF)
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # a local run listens on loopback only
    for key, value in conf.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # Java missing or the master unreachable: say so in one sentence
        raise EngineError(f"Could not start Spark on '{master}': {exc}".splitlines()[0]) from exc
    session.sparkContext.setLogLevel("ERROR")
    return session


def stop_spark() -> None:
    """Stop the active SparkSession, if pyspark is installed and one is running."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        return
    session = SparkSession.getActiveSession()
    if session is not None:
        session.stop()


def _join(base: str, name: str) -> str:
    return base.rstrip("/") + "/" + name


@contextmanager
def open_tables(
    engine: str,
    *,
    workspace: Path | None = None,
    dataset: str | None = None,
    parquet_dir: str | Path | None = None,
    spark_master: str = DEFAULT_SPARK_MASTER,
) -> Iterator[EngineTables]:
    """Yield the dataset's canonical tables on ``engine`` (``duckdb`` or ``spark``).

    duckdb: ``workspace`` and ``dataset`` (read-only, sealed; see ``store.open_for_read``).
    spark: ``parquet_dir``, a Parquet export of the dataset (local path or URI), read by the
    active SparkSession or a new one on ``spark_master``. The session is left running for the
    caller (a notebook or a test reuses it); the CLI stops it when it is done.
    """
    if engine == "duckdb":
        if workspace is None or dataset is None:
            raise EngineError("The duckdb engine needs a workspace and a dataset.")
        with store.open_for_read(workspace, dataset) as backend:
            customers = (
                backend.table("customers") if "customers" in store.table_names(backend) else None
            )
            yield EngineTables(engine, backend, backend.table("orders"), customers)
        return
    if engine != "spark":
        raise EngineError(f"Unknown engine '{engine}'; choose one of: {', '.join(ENGINES)}.")
    if parquet_dir is None:
        raise EngineError(
            "The spark engine reads a Parquet export: give --parquet DIR "
            "(write one with `python -m dashboard export-parquet`)."
        )
    root = str(parquet_dir)
    local = not URI.match(root)
    if local:
        root = str(Path(root).expanduser().resolve())
        if not Path(root, "orders").is_dir():
            raise EngineError(f"{root} has no orders/ folder; is it a Parquet export of a dataset?")
    backend = ibis.pyspark.connect(spark_session(spark_master))
    orders = backend.read_parquet(_join(root, "orders"))
    if PARTITION_COLUMN in orders.columns:
        orders = orders.drop(PARTITION_COLUMN)
    customers = None
    if not local or Path(root, "customers").is_dir():
        try:
            customers = backend.read_parquet(_join(root, "customers"))
        except Exception:  # no customers folder in a remote export: orders only
            if local:
                raise
    yield EngineTables(engine, backend, orders, customers)


def load_customer_base(
    tables: EngineTables,
    dataset: str,
    as_of: dt.date | None = None,
    start: dt.date | None = None,
    rules: rfm.CountingRules = DEFAULT_RULES,
    excluded: tuple[tuple[dt.date, dt.date], ...] = (),
) -> analysis.CustomerBase:
    """Build the per-customer measures once, as ``analysis.load_customer_base`` does, on any engine.

    In: ``open_tables``' tables. Out: an ``analysis.CustomerBase`` whose ``measures`` has the
    columns of ``rfm.build_customer_measures``. DuckDB: the measures are copied into a private
    in-memory DuckDB (exactly ``analysis.load_customer_base``), so they outlive the read
    connection. Other engines: they are cached by the engine itself (Spark: ``DataFrame.cache``)
    so scoring and summaries run where the data is; call ``base.measures.release()`` (or stop
    the session) when done. ``as_of`` defaults to the date of the latest order.
    """
    if as_of is None:
        as_of = rfm.latest_order_date(tables.orders)
    if as_of is None:
        raise store.WorkspaceError(f"The dataset '{dataset}' has no orders yet.")
    window = rfm.Window(as_of=as_of, start=start, excluded=excluded)
    expr = rfm.build_customer_measures(tables.orders, window, rules, tables.customers)
    backend: BaseBackend
    if tables.engine == "duckdb":
        backend = store.open_scratch()
        measures = backend.create_table("customer_measures", expr.to_pyarrow())
    else:
        backend = tables.backend
        measures = expr.cache()
    outside = int((measures.status == rfm.STATUS_OUTSIDE_WINDOW).sum().execute() or 0)
    return analysis.CustomerBase(dataset, window, rules, backend, measures, outside)
