"""Where the Ibis expressions run: DuckDB over the workspace, or Spark over a Parquet export.

The engine functions (``rfm``, ``segments``, ``features``, ``builder``, ``channels``,
``cohorts``, ``maturity``, ``spend``) take Ibis tables and never ask which backend they are on;
this module is the only place that chooses. ``duckdb`` reads the dataset's workspace file through
the sealed read connection; ``spark`` reads the dataset as written by
``python -m dashboard export-parquet`` (``parquet_export``), from a local directory or any URI
Spark can read (``s3a://``, ``abfss://``, ``gs://``, ``dbfs:///``).

The command line chooses with ``--engine``; the app and every loader that takes a workspace
(``open_configured_tables``) with the environment: ``SEGMENTS_ENGINE`` (``duckdb`` or
``spark``), ``SEGMENTS_SPARK_MASTER`` and ``SEGMENTS_PARQUET_DIR`` (a folder holding one export
per dataset, ``<dir>/<dataset>/``).

pyspark is a dev/cluster dependency: it is imported only when the spark engine is asked for.
"""

from __future__ import annotations

import os
import re
import tempfile
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
from ibis.backends import BaseBackend

from dashboard.workspace import limits, store
from dashboard.workspace.parquet_export import find_partition_column

ENGINES = ("duckdb", "spark")
DEFAULT_SPARK_MASTER = "local[2]"
URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:/")
TABLES = tuple(store.SCHEMA)  # every table of a dataset, and of its Parquet export
ENGINE_ENV = "SEGMENTS_ENGINE"
SPARK_MASTER_ENV = "SEGMENTS_SPARK_MASTER"
PARQUET_DIR_ENV = "SEGMENTS_PARQUET_DIR"
# Spark creates its warehouse folder (unused here) by default in the current directory.
SPARK_WAREHOUSE_DIR = str(Path(tempfile.gettempdir()) / "segments-spark-warehouse")

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
    "spark.sql.warehouse.dir": SPARK_WAREHOUSE_DIR,
}


class EngineError(store.WorkspaceError):
    """An engine that cannot be used as asked (missing pyspark or Java, no Parquet export)."""


@dataclass
class EngineTables(Mapping[str, ir.Table]):
    """A dataset's canonical tables opened on one engine, by name (a read-only mapping).

    Holds every table of ``store.SCHEMA`` that the dataset has: all of them in a workspace, the
    folders present in a Parquet export. Spark reads a table on first use. ``backend`` is the
    Ibis backend they live on; ``orders`` and ``customers`` (None when absent) are shortcuts.
    """

    engine: str
    backend: BaseBackend
    names: tuple[str, ...]
    read: Callable[[str], ir.Table] = field(repr=False)  # raises KeyError for an unreadable one
    _opened: dict[str, ir.Table] = field(default_factory=dict, repr=False)

    def __getitem__(self, name: str) -> ir.Table:
        if name not in self.names:
            raise KeyError(name)
        if name not in self._opened:
            self._opened[name] = self.read(name)
        return self._opened[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)

    @property
    def orders(self) -> ir.Table:
        """The canonical orders table."""
        return self["orders"]

    @property
    def customers(self) -> ir.Table | None:
        """The customers table, or None when the dataset has none."""
        return self.get("customers")


@dataclass(frozen=True)
class EngineSettings:
    """Which engine the loaders that take a workspace use (see ``read_engine_settings``).

    ``parquet_root`` holds one Parquet export per dataset (``<root>/<dataset>``), for spark.
    """

    engine: str = "duckdb"
    spark_master: str = DEFAULT_SPARK_MASTER
    parquet_root: str | None = None

    def parquet_dir(self, dataset: str) -> str:
        """Return where the Parquet export of ``dataset`` is (a path or a URI)."""
        if self.parquet_root is None:
            raise EngineError(
                f"The spark engine reads Parquet exports: set {PARQUET_DIR_ENV} to a folder "
                "holding one export per dataset."
            )
        return self.parquet_root.rstrip("/") + "/" + store.validate_dataset_name(dataset)


def read_engine_settings(environ: Mapping[str, str] | None = None) -> EngineSettings:
    """Return the engine settings from the environment (``os.environ`` by default).

    ``SEGMENTS_ENGINE``: duckdb (default) or spark; ``SEGMENTS_SPARK_MASTER`` (default
    local[2]); ``SEGMENTS_PARQUET_DIR``: a folder of exports, ``<dir>/<dataset>``, needed by
    spark. Raises EngineError for an unknown engine or spark without the folder.
    """
    env = os.environ if environ is None else environ
    engine = env.get(ENGINE_ENV, "").strip().lower() or "duckdb"
    if engine not in ENGINES:
        raise EngineError(
            f"{ENGINE_ENV}='{engine}' is not an engine; choose one of: {', '.join(ENGINES)}."
        )
    root = env.get(PARQUET_DIR_ENV, "").strip() or None
    if engine == "spark" and root is None:
        raise EngineError(
            f"{ENGINE_ENV}=spark reads Parquet exports: set {PARQUET_DIR_ENV} to a folder "
            "holding one export per dataset (python -m dashboard export-parquet --out "
            "<folder>/<dataset>)."
        )
    master = env.get(SPARK_MASTER_ENV, "").strip() or DEFAULT_SPARK_MASTER
    return EngineSettings(engine, master, root)


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


def has_active_spark() -> bool:
    """Return whether a SparkSession is running in this process (False without pyspark)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        return False
    return SparkSession.getActiveSession() is not None


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


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


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

    duckdb: ``workspace`` and ``dataset`` (read-only, sealed; see ``store.open_for_read``); the
    block's queries run under the memory limit and query timeout of ``limits.current_limits``
    and end in ``limits.LimitError`` when they reach one (``limits.guard_queries``).
    spark: ``parquet_dir``, a Parquet export of the dataset (local path or URI), read by the
    active SparkSession or a new one on ``spark_master``. The session is left running for the
    caller (a notebook or a test reuses it); the CLI stops it when it is done.
    """
    if engine == "duckdb":
        if workspace is None or dataset is None:
            raise EngineError("The duckdb engine needs a workspace and a dataset.")
        timeout = limits.current_limits().query_timeout
        with (
            store.open_for_read(workspace, dataset) as backend,
            limits.guard_queries(backend.con, timeout),
        ):
            present = store.table_names(backend)
            names = tuple(name for name in TABLES if name in present)
            yield EngineTables(engine, backend, names, backend.table)
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
        names = tuple(name for name in TABLES if Path(root, name).is_dir())
    else:
        names = TABLES  # a remote export: a table that cannot be read is taken as absent
    backend = ibis.pyspark.connect(spark_session(spark_master))
    unreadable: set[str] = set()

    def read(name: str) -> ir.Table:
        if name in unreadable:
            raise KeyError(name)
        try:
            table = backend.read_parquet(_join(root, name))
        except Exception as exc:  # a missing folder of a remote export, or unreadable files
            if name == "orders" or local:
                where = _join(root, name)
                raise EngineError(f"Could not read {where}: {_first_line(exc)}") from exc
            unreadable.add(name)
            raise KeyError(name) from exc
        partition = find_partition_column(name)
        return table.drop(partition) if partition in table.columns else table

    # The orders are read now, so an export without readable orders fails here in one sentence.
    yield EngineTables(engine, backend, names, read, {"orders": read("orders")})


@contextmanager
def open_configured_tables(
    workspace: Path, dataset: str, settings: EngineSettings | None = None
) -> Iterator[EngineTables]:
    """Yield ``dataset``'s tables on the configured engine (``read_engine_settings`` by default).

    duckdb reads ``dataset`` in ``workspace``; spark reads ``<parquet_root>/<dataset>``.
    """
    chosen = settings if settings is not None else read_engine_settings()
    if chosen.engine == "duckdb":
        with open_tables("duckdb", workspace=workspace, dataset=dataset) as tables:
            yield tables
        return
    with open_tables(
        chosen.engine, parquet_dir=chosen.parquet_dir(dataset), spark_master=chosen.spark_master
    ) as tables:
        yield tables


def holds_locally(backend: BaseBackend) -> bool:
    """Whether ``backend`` is a private in-memory DuckDB of ``materialise`` (not a cluster's)."""
    return backend.name == "duckdb"


def release(backend: BaseBackend, table: ir.Table) -> None:
    """Free a table of ``materialise``: close the private DuckDB, or uncache it (Spark runs on)."""
    if holds_locally(backend):
        backend.disconnect()
    else:
        table.release()


def materialise(tables: EngineTables, expr: ir.Table, name: str) -> tuple[BaseBackend, ir.Table]:
    """Compute ``expr`` once and hold the result where the slider-speed steps can reuse it.

    In: an expression over ``tables``. Out: (backend, table) with the same rows and columns.
    DuckDB: computed into Arrow and read in place by a private in-memory DuckDB as ``name``, so
    it outlives the read connection (close it with ``backend.disconnect()``). Other engines:
    cached by the engine itself (Spark: ``DataFrame.cache``) so later steps run where the data
    is (free it with ``table.release()``; the session stays).
    """
    if tables.engine == "duckdb":
        backend = store.open_scratch()
        backend.con.register(name, expr.to_pyarrow())
        return backend, backend.table(name)
    # Through a temporary view: Ibis's cache() on Spark does not register the expression's
    # in-memory tables (ibis.memtable), create_view does.
    view = tables.backend.create_view(f"{name}_{uuid.uuid4().hex[:12]}", expr)
    return tables.backend, view.cache()
