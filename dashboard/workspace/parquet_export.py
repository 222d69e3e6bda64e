"""Export a dataset as Parquet: the interchange format for Spark, a cluster or object storage.

Layout under the output directory (one folder per canonical table of ``store.SCHEMA``)::

    <out>/orders/order_month=2024-01/data_0.parquet        (hive-partitioned by year-month)
    <out>/sessions/session_month=2024-01/data_0.parquet
    <out>/abandoned_checkouts/checkout_month=2024-01/data_0.parquet
    <out>/customers/data_0.parquet
    <out>/order_lines/data_0.parquet  ... and marketing_spend/, survey_scores/, ingests/, ...

The event tables (``PARTITIONS``) are partitioned by the ``YYYY-MM`` of their time column:
``order_month`` of ``ordered_at``, ``session_month`` of ``started_at``, ``checkout_month`` of
``created_at``. Each table has its own partition column name, none of which is a column of any
table, so a reader can drop it whatever it reads. The partition column exists only in the
directory names; readers drop it again (``engines.open_tables``). An empty sessions or abandoned
checkouts table is one ``data_0.parquet`` without partition folders (a partitioned write of no
rows would leave no file to read the schema from). Column types are the workspace's: money stays
DECIMAL(18, 2), timestamps have no time zone.

This is storage-layer code and the only place besides ingest that lets DuckDB touch files: it
uses a write connection (the sealed read connection cannot write files). It goes through
DuckDB's relational API with ``store.SCHEMA``'s own table and column names and writes no SQL
text; the output path is validated here and handed to ``write_parquet`` as a value.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import NamedTuple

from dashboard.workspace import store


class Partitioning(NamedTuple):
    """How an event table is partitioned: the year-month of ``time_column``, as ``column``."""

    time_column: str
    column: str


PARTITIONS = {
    "orders": Partitioning("ordered_at", "order_month"),
    "sessions": Partitioning("started_at", "session_month"),
    "abandoned_checkouts": Partitioning("created_at", "checkout_month"),
}
DATA_FILE = "data_0.parquet"

# Sort keys (the primary key; every column for a table not listed) so the files come out the same
# on every run.
_ORDER_BY = {
    "orders": "order_id",
    "order_lines": "order_id, line_number",
    "customers": "customer_id",
    "abandoned_checkouts": "checkout_id",
    "ingests": "ingest_id",
    "ingest_issues": "ingest_id, line_number, column_name, severity, reason, raw_value",
}


def find_partition_column(table: str) -> str | None:
    """Return the partition column of ``table`` in an export, or None when it is one folder."""
    partitioning = PARTITIONS.get(table)
    return partitioning.column if partitioning else None


def _prepare_target(out_dir: Path) -> Path:
    """Return ``out_dir`` resolved, if it is absent or an empty directory; else raise."""
    target = Path(out_dir).expanduser().resolve()
    if target.exists():
        if not target.is_dir():
            raise store.WorkspaceError(f"{target} is a file; give a directory to export into.")
        if any(target.iterdir()):
            raise store.WorkspaceError(
                f"{target} is not empty; give a new or empty directory so no files are mixed."
            )
    if not target.parent.is_dir():
        raise store.WorkspaceError(f"The folder {target.parent} does not exist.")
    return target


def export_parquet(workspace: Path, dataset: str, out_dir: Path) -> dict[str, int]:
    """Write every canonical table of ``dataset`` as Parquet under ``out_dir`` (see module doc).

    In: a workspace, a dataset name, an output directory that is absent or empty. Out: rows
    written per table. The export appears all at once (written to a sibling folder, then
    renamed): a failed export leaves nothing behind. Raises store.WorkspaceError when the dataset
    is missing or has no orders, or when ``out_dir`` is not usable.
    """
    if not store.dataset_exists(workspace, dataset):
        raise store.WorkspaceError(
            f"There is no dataset called '{dataset}'; load a file into it first."
        )
    target = _prepare_target(out_dir)
    staging = target.with_name(f".{target.name}.partial-{uuid.uuid4().hex[:8]}")
    counts: dict[str, int] = {}
    try:
        staging.mkdir()
        with store.open_for_write(workspace, dataset) as con:
            for table in store.SCHEMA:
                relation = con.table(table)
                (rows,) = relation.aggregate("count(*)").fetchone()
                counts[table] = int(rows)
                if table == "orders" and not rows:
                    raise store.WorkspaceError(
                        f"The dataset '{dataset}' has no orders yet: nothing to export."
                    )
                order_by = _ORDER_BY.get(table) or ", ".join(f'"{c}"' for c in relation.columns)
                if table in PARTITIONS and rows:
                    time_column, column = PARTITIONS[table]
                    month = f"strftime({time_column}, '%Y-%m') AS {column}"
                    relation.project(f"*, {month}").order(order_by).write_parquet(
                        str(staging / table), partition_by=[column]
                    )
                else:
                    (staging / table).mkdir()
                    relation.order(order_by).write_parquet(str(staging / table / DATA_FILE))
        if target.exists():
            target.rmdir()  # empty, checked above
        staging.rename(target)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return counts
