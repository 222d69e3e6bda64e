"""Export a dataset as Parquet: the interchange format for Spark, a cluster or object storage.

Layout under the output directory (one folder per canonical table of ``store.SCHEMA``)::

    <out>/orders/order_month=2024-01/data_0.parquet   (hive-partitioned by order year-month)
    <out>/customers/data_0.parquet
    <out>/order_lines/data_0.parquet  ... and ingests/, ingest_issues/

``order_month`` (``YYYY-MM`` of ``ordered_at``) exists only in the directory names; readers drop
it again (``engines.open_tables``). Column types are the workspace's: money stays DECIMAL(18, 2),
``ordered_at`` is a timestamp without time zone.

This is storage-layer code and the only place besides ingest that lets DuckDB touch files: it
uses a write connection (the sealed read connection cannot write files). It goes through
DuckDB's relational API with ``store.SCHEMA``'s own table and column names and writes no SQL
text; the output path is validated here and handed to ``write_parquet`` as a value.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

from dashboard import store

PARTITION_COLUMN = "order_month"
PARTITIONED_TABLE = "orders"
DATA_FILE = "data_0.parquet"
_PARTITION_EXPRESSION = f"*, strftime(ordered_at, '%Y-%m') AS {PARTITION_COLUMN}"

# Sort keys (the primary key; every column for a table not listed) so the files come out the same
# on every run.
_ORDER_BY = {
    "orders": "order_id",
    "order_lines": "order_id, line_number",
    "customers": "customer_id",
    "ingests": "ingest_id",
    "ingest_issues": "ingest_id, line_number, column_name, severity, reason, raw_value",
}


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
                order_by = _ORDER_BY.get(table) or ", ".join(f'"{c}"' for c in relation.columns)
                if table == PARTITIONED_TABLE:
                    if not rows:
                        raise store.WorkspaceError(
                            f"The dataset '{dataset}' has no orders yet: nothing to export."
                        )
                    relation.project(_PARTITION_EXPRESSION).order(order_by).write_parquet(
                        str(staging / table), partition_by=[PARTITION_COLUMN]
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
