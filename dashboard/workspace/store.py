"""The DuckDB workspace: one database file per dataset, its schema, connections and hardening.

A workspace is a directory; each dataset (one store's data) is ``<workspace>/<name>.duckdb``.
Connections are short-lived and serialised per dataset file inside this process, because
DuckDB refuses two connections with different settings to one file in one process.
Analysis connections are read-only with external access disabled and the configuration locked,
so no query can reach the file system (``read_csv('/etc/passwd')``, ``COPY ... TO``, ``ATTACH``).
"""

from __future__ import annotations

import os
import re
import threading
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

WORKSPACE_ENV = "SEGMENTS_WORKSPACE"
DEFAULT_WORKSPACE = Path(__file__).resolve().parents[2] / "data" / "workspace"
# Matched with fullmatch: "$" would also match before a final newline.
DATASET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


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
        tags            VARCHAR,
        financial_status VARCHAR,
        ingest_id       INTEGER NOT NULL
    """,
    "order_lines": """
        order_id    VARCHAR NOT NULL,
        line_number INTEGER NOT NULL,
        product     VARCHAR,
        sku         VARCHAR,
        quantity    INTEGER,
        price       DECIMAL(18, 2),
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
    "marketing_spend": """
        month     DATE NOT NULL,
        channel   VARCHAR NOT NULL,
        spend     DECIMAL(18, 2) NOT NULL,
        purpose   VARCHAR,
        ingest_id INTEGER NOT NULL
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


def resolve_workspace(override: str | os.PathLike[str] | None = None) -> Path:
    """Return the workspace directory: the override, else $SEGMENTS_WORKSPACE, else the default."""
    chosen = override or os.environ.get(WORKSPACE_ENV) or DEFAULT_WORKSPACE
    path = Path(chosen).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


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
    """Remove dataset ``name`` (its database file and write-ahead log) from ``workspace``."""
    path = dataset_path(workspace, name)
    with _lock_for(path):
        for candidate in (path, path.with_name(path.name + ".wal")):
            candidate.unlink(missing_ok=True)


def replace_dataset(workspace: Path, source: str, target: str) -> None:
    """Make dataset ``source`` become ``target`` in one atomic rename (the old target is gone)."""
    src, dst = dataset_path(workspace, source), dataset_path(workspace, target)
    with _lock_for(src), _lock_for(dst):
        dst.with_name(dst.name + ".wal").unlink(missing_ok=True)
        os.replace(src, dst)


def _lock_for(path: Path) -> threading.RLock:
    with _locks_guard:
        return _locks.setdefault(path, threading.RLock())


def _connect(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    config = {"enable_external_access": False} if read_only else {}
    try:
        return duckdb.connect(str(path), read_only=read_only, config=config)
    except duckdb.IOException as exc:
        raise WorkspaceError(
            f"The dataset '{path.stem}' is in use by another program (for example a running "
            "command line import); try again when it has finished."
        ) from exc


@contextmanager
def open_for_write(workspace: Path, name: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """Yield a read-write connection to dataset ``name`` (created with the schema if absent).

    Only ingest uses this; it needs file access to read uploads. The caller manages transactions.
    """
    path = dataset_path(workspace, name)
    with _lock_for(path):
        con = _connect(path, read_only=False)
        try:
            ensure_schema(con)
            yield con
        finally:
            con.close()


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
