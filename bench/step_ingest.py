"""Step 1, ingest: our generic CSV ingest beside a bare DuckDB load and pandas with pyarrow."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pandas as pd

from bench.checks import Figures, query_figures
from bench.generate import ORDER_FIELDS

if TYPE_CHECKING:
    from dashboard.ingest import IngestReport

# The generated headers already carry the canonical names, so the mapping is the identity.
MAPPING = {field: field for field in ORDER_FIELDS}

FIGURES_SQL = """
    count(*) AS orders,
    count(DISTINCT customer_id) AS customers,
    count(*) FILTER (WHERE is_cancelled) AS cancelled,
    sum(order_total) AS order_total,
    sum(refunded_amount) AS refunded_amount,
    min(ordered_at) AS first_ordered_at,
    max(ordered_at) AS last_ordered_at
"""


def ingest_ours(workspace: Path, dataset: str, csv: Path) -> IngestReport:
    """Load ``csv`` into ``dataset`` with dashboard.ingest (generic format); return its report."""
    # Imported on use: the reference loads' memory children must not pay for the engine.
    from dashboard.ingest import ingest_file

    return ingest_file(workspace, dataset, csv, file_format="generic", mapping=MAPPING)


def ingest_duckdb(database: Path, csv: Path) -> None:
    """Copy ``csv`` into table ``t`` of a new DuckDB file with nothing but read_csv's sniffing."""
    con = duckdb.connect(str(database))
    try:
        con.execute("SET enable_progress_bar = false")
        con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?)", [str(csv)])
    finally:
        con.close()


def ingest_pandas(csv: Path) -> pd.DataFrame:
    """Read ``csv`` into a DataFrame with the pyarrow engine."""
    return pd.read_csv(csv, engine="pyarrow")


def remove_database(database: Path) -> None:
    """Delete a DuckDB file and its write-ahead log, so the next load starts from nothing."""
    for path in (database, database.with_name(database.name + ".wal")):
        path.unlink(missing_ok=True)


def read_table_figures(database: Path, table: str) -> Figures:
    """Return the check figures of ``table`` (a name of ours, never input) in a DuckDB file."""
    con = duckdb.connect(str(database), read_only=True)
    try:
        frame = con.execute(f"SELECT {FIGURES_SQL} FROM {table}").to_arrow_table()
    finally:
        con.close()
    return query_figures(frame, "*")


def read_frame_figures(frame: pd.DataFrame) -> Figures:
    """Return the check figures of a DataFrame read by pandas."""
    return query_figures(frame, FIGURES_SQL)
