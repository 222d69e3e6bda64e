"""Validation and the one-transaction write of customers, with the report.

Builders (``generic``, ``shopify``) stage a file as the TEMP VIEW ``customer_rows``
(CUSTOMER_ROW_TYPES; one row per file row, ``*_raw`` columns keep the text as written for
messages). ``load_customers`` materialises it once, releases the raw cells, inserts the new
customers and updates the changed ones, with the ``ingests`` row and every issue, inside one
BEGIN ... COMMIT (``ledger``).

Counts reconcile per file row: rows_read = rows_loaded + rows_rejected + rows_duplicate; an
updated customer counts as loaded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb

from dashboard.ingest import ledger, read, validation
from dashboard.ingest.report import IngestReport

CUSTOMER_ROW_TYPES = {
    "line_number": "BIGINT",
    "customer_id": "VARCHAR",
    "keyed_by_id": "BOOLEAN",
    "email": "VARCHAR",
    "first_name": "VARCHAR",
    "accepts_marketing_raw": "VARCHAR",
    "accepts_marketing": "BOOLEAN",
    "accepts_sms_raw": "VARCHAR",
    "accepts_sms": "BOOLEAN",
    "country": "VARCHAR",
    "city": "VARCHAR",
    "tags": "VARCHAR",
    "total_spent_raw": "VARCHAR",
    "total_spent": "DECIMAL(18, 2)",
    "total_orders_raw": "VARCHAR",
    "total_orders": "INTEGER",
}
_CUSTOMER_ROW_DEFAULTS = {"line_number": "line_number", "keyed_by_id": "false"}
# Stored customer columns an identical re-upload must match (all but the key and ingest_id).
_CUSTOMER_VALUES = (
    "email",
    "first_name",
    "accepts_marketing",
    "accepts_sms",
    "country",
    "city",
    "tags",
    "total_spent",
    "total_orders",
)
_CUSTOMER_WARNINGS = (
    ("keyed_by_id", "customer_id", "no email: keyed by Customer ID, so it cannot match orders"),
    (
        "total_spent_raw IS NOT NULL AND total_spent IS NULL",
        "total_spent",
        "total spent is not a number (left empty)",
    ),
    (
        "total_orders_raw IS NOT NULL AND total_orders IS NULL",
        "total_orders",
        "total orders is not a whole number (left empty)",
    ),
    (
        "accepts_marketing_raw IS NOT NULL AND accepts_marketing IS NULL",
        "accepts_marketing",
        "accepts marketing is not yes or no (left empty)",
    ),
    (
        "accepts_sms_raw IS NOT NULL AND accepts_sms IS NULL",
        "accepts_sms",
        "accepts SMS is not yes or no (left empty)",
    ),
)


@dataclass
class CustomerSource:
    """What a builder staged in ``customer_rows``: ``columns`` maps fields to the file's headers."""

    file_format: str
    columns: dict[str, str]
    notes: list[str] = field(default_factory=list)
    # Run inside the load's transaction after the write, with its ingest id; returns notes.
    after_write: Callable[[duckdb.DuckDBPyConnection, int], list[str]] | None = None


def create_customer_rows(
    con: duckdb.DuckDBPyConnection, expressions: dict[str, str], source: str
) -> None:
    """Create the view ``customer_rows`` over ``source`` with one SQL expression per field."""
    validation.create_typed_view(
        con, "customer_rows", CUSTOMER_ROW_TYPES, _CUSTOMER_ROW_DEFAULTS, expressions, source
    )


def load_customers(
    con: duckdb.DuckDBPyConnection, source: CustomerSource, meta: ledger.FileMeta
) -> IngestReport:
    """Validate ``customer_rows``, insert new customers, update changed ones, return the report."""
    con.execute("CREATE OR REPLACE TEMP TABLE customer_staged AS SELECT * FROM customer_rows")
    con.execute("DROP VIEW customer_rows")
    read.release(con)
    same_as_first = " AND ".join(
        f"{c} IS NOT DISTINCT FROM first_value({c}) OVER w" for c in _CUSTOMER_VALUES
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE customer_ranked AS
        SELECT *, row_number() OVER w AS occurrence, {same_as_first} AS same_as_first
        FROM customer_staged
        WHERE customer_id IS NOT NULL
        WINDOW w AS (PARTITION BY customer_id ORDER BY line_number)
        """
    )
    same_as_stored = " AND ".join(f"r.{c} IS NOT DISTINCT FROM s.{c}" for c in _CUSTOMER_VALUES)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE customer_verdicts AS
        SELECT r.*, CASE
            WHEN r.occurrence > 1 AND r.same_as_first THEN 'duplicate'
            WHEN r.occurrence > 1 THEN 'repeated'
            WHEN s.customer_id IS NULL THEN 'new'
            WHEN {same_as_stored} THEN 'duplicate'
            ELSE 'updated' END AS status
        FROM customer_ranked r LEFT JOIN customers s ON s.customer_id = r.customer_id
        """
    )
    _collect_customer_issues(con, source)
    with ledger.transaction(con):
        ingest_id = ledger.next_ingest_id(con)
        con.execute(
            f"""
            INSERT OR REPLACE INTO customers (customer_id, {", ".join(_CUSTOMER_VALUES)}, ingest_id)
            SELECT customer_id, {", ".join(_CUSTOMER_VALUES)}, ? FROM customer_verdicts
            WHERE status IN ('new', 'updated')
            """,
            [ingest_id],
        )
        loaded, duplicate, updated = con.execute(
            """
            SELECT count(*) FILTER (WHERE status IN ('new', 'updated')),
                   count(*) FILTER (WHERE status = 'duplicate'),
                   count(*) FILTER (WHERE status = 'updated')
            FROM customer_verdicts
            """
        ).fetchone()
        notes = [*source.notes, *(source.after_write(con, ingest_id) if source.after_write else [])]
        report = ledger.finish_report(
            con, ingest_id, meta, source.file_format, "customers", loaded, duplicate, notes
        )
    if updated:
        report.notes.append(
            f"{updated:,} customers already in the dataset were updated with this file's values."
        )
    return report


def _collect_customer_issues(con: duckdb.DuckDBPyConnection, source: CustomerSource) -> None:
    """Fill ``load_issues``: rows without a key or repeated with other values are rejected,
    loaded customers get warnings."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE load_issues AS
        SELECT line_number, ? AS column_name, 'rejected' AS severity, ? AS reason,
               CAST(NULL AS VARCHAR) AS raw_value
        FROM customer_staged WHERE customer_id IS NULL
        UNION ALL
        SELECT line_number, ?, 'rejected', ?, customer_id FROM customer_verdicts
        WHERE status = 'repeated'
        """,
        [
            source.columns.get("customer_id"),
            "no customer key (no email or Customer ID)",
            source.columns.get("customer_id"),
            "customer listed earlier in this file with different values",
        ],
    )
    for condition, name, reason in _CUSTOMER_WARNINGS:
        raw = "customer_id" if name == "customer_id" else f"CAST({name}_raw AS VARCHAR)"
        con.execute(
            f"""
            INSERT INTO load_issues
            SELECT line_number, ?, 'warning', ?, {raw} FROM customer_verdicts
            WHERE status IN ('new', 'updated') AND {condition}
            """,
            [source.columns.get(name), reason],
        )
