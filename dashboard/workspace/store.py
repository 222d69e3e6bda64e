"""The DuckDB workspace: one database file per dataset, its schema, connections and hardening.

A workspace is a directory; each dataset (one store's data) is ``<workspace>/<name>.duckdb``.
Connections are short-lived and serialised per dataset file inside this process, because
DuckDB refuses two connections with different settings to one file in one process.
Analysis connections are read-only with external access disabled and the configuration locked,
so no query can reach the file system (``read_csv('/etc/passwd')``, ``COPY ... TO``, ``ATTACH``).

Writes are serialised across processes too (the app and command-line runs): every writer holds
the dataset's lock file, ``<workspace>/.<name>.lock``, for its whole write (``write_lock``),
so whether a load creates the dataset is decided by one writer at a time. A load gets a private
scratch folder, ``<workspace>/.ingest-*`` (decoded uploads, spilled temporary tables), and builds
a dataset that does not exist yet there, as ``new.duckdb``; the dataset appears only when the load
has committed, by one atomic rename (``open_for_load``). A load that fails or is killed leaves
its scratch folder, never a dataset: ``clean_workspace`` removes the folders of loads whose
process is gone, and runs when a process first opens the workspace and before every load.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import ibis
import ibis.expr.types as ir
import pandas as pd
from ibis.backends.duckdb import Backend as DuckDBBackend
from ibis.backends.sql.datatypes import DuckDBType

from dashboard.errors import UserError
from dashboard.workspace import audit, limits, locks

WORKSPACE_ENV = "SEGMENTS_WORKSPACE"
DEFAULT_WORKSPACE = Path(__file__).resolve().parents[2] / "data" / "workspace"
# Matched with fullmatch: "$" would also match before a final newline.
DATASET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
SCRATCH_PREFIX = ".ingest-"
# Held by the load that owns a scratch folder, for as long as it runs.
OWNER_LOCK = "owner.lock"
NEW_DATASET_FILE = "new.duckdb"
# A scratch folder without its owner lock is either being created this instant (the lock comes
# next) or was left by a version that did not lock them; it is removed once this old.
UNOWNED_SCRATCH_SECONDS = 3600


class WorkspaceError(UserError):
    """A problem the analyst can fix, stated as one sentence."""


# orders and order_lines have no PRIMARY KEY: ingest already keeps their keys unique (every
# order id is judged against the file and the stored rows before the insert), and the index
# would cost more than the rest of an ingest (x3 on the file, x3 on the time to write 1M orders).
SCHEMA = {
    "orders": """
        order_id        VARCHAR NOT NULL,
        customer_id     VARCHAR,
        ordered_at      TIMESTAMP NOT NULL,
        order_total     DECIMAL(18, 2) NOT NULL,
        refunded_amount DECIMAL(18, 2) NOT NULL,
        net_total       DECIMAL(18, 2) NOT NULL,
        currency        VARCHAR,
        discount_code   VARCHAR,
        is_cancelled    BOOLEAN NOT NULL,
        channel         VARCHAR,
        country         VARCHAR,
        source_name     VARCHAR,
        utm_source      VARCHAR,
        utm_medium      VARCHAR,
        utm_campaign    VARCHAR,
        referrer        VARCHAR,
        landing_site    VARCHAR,
        click_id        VARCHAR,
        tags            VARCHAR,
        financial_status VARCHAR,
        total_from_lines BOOLEAN,
        ingest_id       INTEGER NOT NULL
    """,
    "order_lines": """
        order_id    VARCHAR NOT NULL,
        line_number INTEGER NOT NULL,
        product     VARCHAR,
        sku         VARCHAR,
        quantity    INTEGER,
        price       DECIMAL(18, 2),
        freight     DECIMAL(18, 2),
        category    VARCHAR,
        ingest_id   INTEGER NOT NULL
    """,
    "customers": """
        customer_id       VARCHAR NOT NULL PRIMARY KEY,
        email             VARCHAR,
        first_name        VARCHAR,
        accepts_marketing BOOLEAN,
        accepts_sms       BOOLEAN,
        country           VARCHAR,
        city              VARCHAR,
        tags              VARCHAR,
        total_spent       DECIMAL(18, 2),
        total_orders      INTEGER,
        ingest_id         INTEGER NOT NULL
    """,
    # Another key a customers file gives a customer by (Olist's per-order customer_id): orders
    # keyed by ``alias`` are stored under ``customer_id`` (ingest/relational.py).
    "customer_aliases": """
        alias       VARCHAR NOT NULL PRIMARY KEY,
        customer_id VARCHAR NOT NULL,
        ingest_id   INTEGER NOT NULL
    """,
    "sessions": """
        customer_id      VARCHAR,
        started_at       TIMESTAMP NOT NULL,
        duration_seconds INTEGER,
        pages_viewed     INTEGER,
        added_to_cart    BOOLEAN,
        purchased        BOOLEAN,
        ingest_id        INTEGER NOT NULL
    """,
    "abandoned_checkouts": """
        checkout_id   VARCHAR NOT NULL PRIMARY KEY,
        customer_id   VARCHAR,
        created_at    TIMESTAMP NOT NULL,
        total         DECIMAL(18, 2),
        currency      VARCHAR,
        source_name   VARCHAR,
        ingest_id     INTEGER NOT NULL
    """,
    # The line items of abandoned checkouts, numbered 1..n per checkout in file order.
    "checkout_lines": """
        checkout_id VARCHAR NOT NULL,
        line_number INTEGER NOT NULL,
        product     VARCHAR,
        sku         VARCHAR,
        quantity    INTEGER,
        price       DECIMAL(18, 2),
        ingest_id   INTEGER NOT NULL
    """,
    # Sessions by channel group and period from GA4 acquisition reports, one row per week_start
    # (a monthly report's rows: the month's first day) and channel, the group as GA4 names it.
    "channel_sessions": """
        week_start       DATE NOT NULL,
        channel          VARCHAR NOT NULL,
        sessions         BIGINT,
        engaged_sessions BIGINT,
        conversions      DOUBLE,
        revenue          DECIMAL(18, 2),
        ingest_id        INTEGER NOT NULL
    """,
    # One row per month, channel, purpose and campaign; campaign is NULL for spend not split by
    # campaign (a monthly spend file, and every row a dataset stored before the column existed).
    "marketing_spend": """
        month     DATE NOT NULL,
        channel   VARCHAR NOT NULL,
        spend     DECIMAL(18, 2) NOT NULL,
        purpose   VARCHAR,
        ingest_id INTEGER NOT NULL,
        campaign  VARCHAR
    """,
    "survey_scores": """
        customer_id  VARCHAR NOT NULL,
        answered_at  TIMESTAMP,
        score        DOUBLE NOT NULL,
        ingest_id    INTEGER NOT NULL
    """,
    # records_read counts the file's physical records; notes is a JSON list of the report's
    # sentences; issue_counts is JSON [[severity, reason, rows], ...], the totals beyond the
    # examples ingest_issues keeps. The three are NULL for files loaded by earlier versions.
    "ingests": """
        ingest_id     INTEGER NOT NULL PRIMARY KEY,
        file_name     VARCHAR NOT NULL,
        file_format   VARCHAR NOT NULL,
        table_name    VARCHAR NOT NULL,
        rows_read     BIGINT NOT NULL,
        rows_loaded   BIGINT NOT NULL,
        rows_rejected BIGINT NOT NULL,
        rows_duplicate BIGINT NOT NULL,
        rows_warned   BIGINT NOT NULL,
        loaded_at     TIMESTAMP NOT NULL,
        sha256        VARCHAR NOT NULL,
        records_read  BIGINT,
        notes         VARCHAR,
        issue_counts  VARCHAR
    """,
    "ingest_issues": """
        ingest_id   INTEGER NOT NULL,
        line_number BIGINT,
        column_name VARCHAR,
        severity    VARCHAR NOT NULL,
        reason      VARCHAR NOT NULL,
        raw_value   VARCHAR
    """,
}

# Columns earlier versions stored that this one does not: orders.source_file repeated the
# file name of its ingest (ingests.file_name) on every order, a fifth of the time to write them.
_DROPPED_COLUMNS = {"orders": ("source_file",)}

_locks: dict[Path, threading.RLock] = {}
_locks_guard = threading.Lock()
_cleaned: set[Path] = set()


def resolve_workspace(override: str | os.PathLike[str] | None = None) -> Path:
    """Return the workspace directory: the override, else $SEGMENTS_WORKSPACE, else the default.

    The first time a process resolves a workspace, the leftovers of dead loads are removed
    (``clean_workspace``): this is how the app and every command clean up when they start.
    """
    chosen = override or os.environ.get(WORKSPACE_ENV) or DEFAULT_WORKSPACE
    path = Path(chosen).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    if path not in _cleaned:
        _cleaned.add(path)
        clean_workspace(path)
    return path


def clean_workspace(workspace: Path) -> list[Path]:
    """Remove what loads that are no longer running left in ``workspace``; return what went.

    That is every scratch folder (``.ingest-*``: a decoded copy of an upload, spilled tables, a
    new dataset that was never committed) whose owner lock no live process holds, and a
    write-ahead log (``<name>.duckdb.wal``) whose dataset file does not exist and whose dataset
    lock is free, and the lock files a killed writer could not delete. A running load's files
    are never touched. Problems removing a file are ignored: the next clean tries again.
    """
    removed: list[Path] = []
    for folder in workspace.glob(f"{SCRATCH_PREFIX}*"):
        try:
            if folder.is_dir() and _is_abandoned(folder):
                shutil.rmtree(folder)
                removed.append(folder)
        except OSError:
            continue
    for wal in workspace.glob("*.duckdb.wal"):
        name = wal.name.removesuffix(".duckdb.wal")
        if not DATASET_NAME.fullmatch(name) or wal.with_suffix("").exists():
            continue
        try:
            with locks.try_hold(_lock_path(workspace, name)) as free:
                if free and not wal.with_suffix("").exists():
                    wal.unlink(missing_ok=True)
                    removed.append(wal)
        except OSError:
            continue
    for lock in workspace.glob(".*.lock"):
        if not DATASET_NAME.fullmatch(lock.name[1:].removesuffix(".lock")):
            continue
        try:
            # Holding a free lock and letting go deletes its file.
            with locks.try_hold(lock) as free:
                if free:
                    removed.append(lock)
        except OSError:
            continue
    return removed


def _is_abandoned(folder: Path) -> bool:
    """Whether no running load owns the scratch ``folder``."""
    owner = folder / OWNER_LOCK
    if not owner.exists():
        return time.time() - folder.stat().st_mtime > UNOWNED_SCRATCH_SECONDS
    with locks.try_hold(owner) as free:
        return free


@contextmanager
def create_scratch(workspace: Path) -> Iterator[Path]:
    """Yield a new private folder in ``workspace`` for one load's temporary files, owned (locked)
    by this process until the block ends, then removed with everything in it.

    If the process dies first, ``clean_workspace`` removes the folder once it sees the owner
    lock free.
    """
    folder = Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX, dir=workspace))
    try:
        with locks.hold(folder / OWNER_LOCK):
            yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def validate_dataset_name(name: str) -> str:
    """Return ``name`` if it is a safe dataset name (letters, digits, - and _), else raise."""
    if not DATASET_NAME.fullmatch(name or ""):
        raise WorkspaceError(
            f"'{name}' is not a valid dataset name: use 1-64 letters, digits, '-' or '_', "
            "starting with a letter or digit."
        )
    return name


def dataset_path(workspace: Path, name: str) -> Path:
    """Return the database file of dataset ``name`` in ``workspace``."""
    return workspace / f"{validate_dataset_name(name)}.duckdb"


def list_datasets(workspace: Path) -> list[str]:
    """Return the names of the datasets in ``workspace``, sorted."""
    return sorted(p.stem for p in workspace.glob("*.duckdb") if DATASET_NAME.fullmatch(p.stem))


def dataset_exists(workspace: Path, name: str) -> bool:
    """Return whether dataset ``name`` has a database file in ``workspace``."""
    return dataset_path(workspace, name).exists()


def delete_dataset(workspace: Path, name: str) -> None:
    """Remove dataset ``name`` (its database file and write-ahead log) from ``workspace``,
    after any write to it running in this or another process has finished."""
    path = dataset_path(workspace, name)
    with write_lock(workspace, name):
        for candidate in (path, _wal_of(path)):
            candidate.unlink(missing_ok=True)
    audit.record_event(workspace, "delete", name)


def replace_dataset(workspace: Path, built: Path, target: str) -> None:
    """Make the closed database file ``built`` dataset ``target`` in one atomic rename (the old
    target is gone). ``built`` is made in a scratch folder of ``workspace`` (``create_scratch``),
    so a build that dies halfway is never listed as a dataset and is cleaned up."""
    destination = dataset_path(workspace, target)
    with write_lock(workspace, target):
        _wal_of(destination).unlink(missing_ok=True)
        os.replace(built, destination)


@contextmanager
def write_lock(workspace: Path, name: str) -> Iterator[None]:
    """Hold the write lock of dataset ``name`` for the block: no other thread or process writes,
    creates or deletes it meanwhile (each waits its turn). Nested holds in one thread are free."""
    path = dataset_path(workspace, name)
    # The file lock is taken first: waiting for another process must not hold up this process's
    # readers of the dataset, who take only the thread lock.
    with locks.hold(_lock_path(workspace, name)), _lock_for(path):
        yield


def _lock_path(workspace: Path, name: str) -> Path:
    return workspace / f".{name}.lock"


def _wal_of(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def _lock_for(path: Path) -> threading.RLock:
    with _locks_guard:
        return _locks.setdefault(path, threading.RLock())


def _connect(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    config = {"enable_external_access": False} if read_only else {}
    try:
        con = duckdb.connect(str(path), read_only=read_only, config=config)
    except duckdb.IOException as exc:
        raise WorkspaceError(
            f"The dataset '{path.stem}' is in use by another program (for example a running "
            "command line import); try again when it has finished."
        ) from exc
    if read_only:
        limits.apply_memory_limit(con)
    return con


@contextmanager
def open_for_write(workspace: Path, name: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """Yield a read-write connection to dataset ``name`` (created with the schema if absent).

    Only ingest uses this; it needs file access to read uploads. The caller manages transactions.
    The dataset's write lock is held for the block (``write_lock``).
    """
    path = dataset_path(workspace, name)
    with write_lock(workspace, name):
        con = _connect(path, read_only=False)
        try:
            ensure_schema(con)
            yield con
        finally:
            con.close()


@contextmanager
def open_for_load(workspace: Path, name: str, scratch: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """Yield a read-write connection for one load into dataset ``name``; whether the load
    creates the dataset is decided under its write lock, held for the whole block.

    An existing dataset is opened in place (the caller's transaction keeps it as it was on
    failure). A new one is built as ``scratch``/new.duckdb and appears, when the block ends
    without an error, by one atomic rename after a checkpoint (no write-ahead log is left); if
    the block fails, or the process dies, no dataset appears and the scratch folder holds all
    there was of it. ``scratch`` comes from ``create_scratch`` (same file system as the
    workspace).
    """
    path = dataset_path(workspace, name)
    with write_lock(workspace, name):
        if path.exists():
            with open_for_write(workspace, name) as con:
                yield con
            return
        building = scratch / NEW_DATASET_FILE
        con = _connect(building, read_only=False)
        try:
            ensure_schema(con)
            yield con
            con.execute("CHECKPOINT")
        finally:
            con.close()
        # A log left by an earlier dataset of this name would be replayed into this one.
        _wal_of(path).unlink(missing_ok=True)
        os.replace(building, path)


@contextmanager
def open_for_read(workspace: Path, name: str) -> Iterator[DuckDBBackend]:
    """Yield an Ibis DuckDB backend over dataset ``name``, read-only and sealed off from files."""
    path = dataset_path(workspace, name)
    if not path.exists():
        raise WorkspaceError(f"There is no dataset called '{name}'; load a file into it first.")
    with _lock_for(path):
        con = _connect(path, read_only=True)
        try:
            backend = ibis.duckdb.from_connection(con)
            seal(con)
            yield backend
        finally:
            con.close()


def open_scratch() -> DuckDBBackend:
    """Return an Ibis backend over a private in-memory database, sealed off from files.

    Used to hold one session's materialised per-customer table for the cheap slider step.
    """
    con = duckdb.connect(":memory:", config={"enable_external_access": False})
    backend = ibis.duckdb.from_connection(con)
    seal(con)
    return backend


def seal(con: duckdb.DuckDBPyConnection) -> None:
    """Disable file access and lock the configuration of ``con`` for the rest of its life."""
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the canonical tables that do not exist yet and bring the columns of a dataset
    written by an earlier version to SCHEMA: obsolete ones are dropped, new ones added (empty,
    so nullable). Identifiers come from SCHEMA and _DROPPED_COLUMNS only."""
    for table, columns in SCHEMA.items():
        con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({columns})")
    present = set(
        con.execute(
            "SELECT table_name, column_name FROM duckdb_columns() "
            "WHERE database_name = current_database() AND schema_name = 'main'"
        ).fetchall()
    )
    for table, names in _DROPPED_COLUMNS.items():
        for name in names:
            if (table, name) in present:
                con.execute(f"ALTER TABLE {table} DROP COLUMN {name}")
    for table, columns in SCHEMA.items():
        for name, column_type in _declared_columns(columns):
            if (table, name) not in present:
                con.execute(f"ALTER TABLE {table} ADD COLUMN {name} {column_type}")


def _declared_columns(columns: str) -> list[tuple[str, str]]:
    """Return (name, type) of each column of a SCHEMA entry, constraints left out."""
    declared = []
    for line in columns.strip().splitlines():
        name, definition = line.strip().rstrip(",").split(None, 1)
        declared.append((name, re.sub(r"\s+(NOT NULL|PRIMARY KEY)\b", "", definition).strip()))
    return declared


def table_names(backend: DuckDBBackend) -> set[str]:
    """Return the names of the tables present in an open dataset."""
    return set(backend.list_tables())


def count_rows(backend: DuckDBBackend, table: str) -> int:
    """Return the number of rows of ``table`` (0 when the table is absent)."""
    if table not in table_names(backend):
        return 0
    return int(backend.table(table).count().execute())


def _ingests_table(backend: DuckDBBackend) -> ir.Table:
    """The ``ingests`` table with every column of SCHEMA: a dataset written by an earlier version
    and only read since (read-only connections do not bring it up to date) gets its missing
    columns as NULL."""
    ingests = backend.table("ingests")
    missing = {
        name: ibis.null(DuckDBType.from_string(column_type))
        for name, column_type in _declared_columns(SCHEMA["ingests"])
        if name not in ingests.columns
    }
    return ingests.mutate(**missing) if missing else ingests


def read_ingest_history(backend: DuckDBBackend) -> pd.DataFrame:
    """Return the ingests of an open dataset, newest first (one row per loaded file, the
    columns of SCHEMA["ingests"])."""
    return _ingests_table(backend).order_by(ibis.desc("ingest_id")).to_pandas()


def read_ingest(backend: DuckDBBackend, ingest_id: int) -> dict[str, Any] | None:
    """Return the ``ingests`` row of one load as a dict (column -> value), None if absent."""
    ingests = _ingests_table(backend)
    rows = ingests.filter(ingests.ingest_id == ibis.literal(ingest_id)).to_pyarrow().to_pylist()
    return rows[0] if rows else None


def read_ingest_issues(backend: DuckDBBackend, ingest_id: int) -> list[dict[str, Any]]:
    """Return the stored issues of one ingest, in the order of its report.

    Out: one dict per stored issue: line_number, column_name, severity, reason, raw_value;
    ordered by line, severity, reason, column and value (missing lines last).
    """
    issues = backend.table("ingest_issues")
    return (
        issues.filter(issues.ingest_id == ibis.literal(ingest_id))
        .drop("ingest_id")
        .order_by(["line_number", "severity", "reason", "column_name", "raw_value"])
        .to_pyarrow()
        .to_pylist()
    )
