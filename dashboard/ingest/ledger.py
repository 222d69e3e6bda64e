"""The load history every loader writes: the ``ingests`` row, the issue examples, the report.

Every loader (``load_orders``, ``load_customers``, ``tables``, ``one_pass``) validates its
staged rows first, then inside one ``transaction`` takes ``next_ingest_id``, inserts the good
rows and calls ``finish_report``: the rows, the ``ingests`` row and the issues are written
together or not at all. The issues come from two TEMP tables of one shape (line_number,
column_name, severity, reason, raw_value): ``read_issues``, the reader's, and ``load_issues``,
the loader's; every issue is counted, and the first MAX_ISSUES_PER_REASON of each (severity,
reason) are kept as examples.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb

from dashboard.ingest import values
from dashboard.ingest.report import IngestReport, RowIssue

MAX_ISSUES_PER_REASON = 1000


@dataclass(frozen=True)
class FileMeta:
    """The file being loaded: the name shown, its checksum, what the read step found."""

    file_name: str
    sha256: str
    read_notes: list[str]
    today: dt.date
    records: int = 0  # data records of the file, read or rejected by the CSV reader


def next_ingest_id(con: duckdb.DuckDBPyConnection) -> int:
    """Return the id the ingest being written gets (one more than the last)."""
    return con.execute("SELECT coalesce(max(ingest_id), 0) + 1 FROM ingests").fetchone()[0]


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """BEGIN ... COMMIT around the block; ROLLBACK when it raises."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def finish_report(
    con: duckdb.DuckDBPyConnection,
    ingest_id: int,
    meta: FileMeta,
    file_format: str,
    table_name: str,
    loaded: int,
    duplicate: int,
    notes: list[str],
    unlisted: dict[tuple[str, str], int] | None = None,
) -> IngestReport:
    """Store the ingests row and the issues (capped per reason); return the report.

    Reads ``read_issues`` (the reader's) and ``load_issues`` (the loader's): line_number,
    column_name, severity, reason, raw_value. ``unlisted`` counts issues, by (severity,
    reason), that are in neither table because only their first examples were looked up.
    """
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE all_issues AS
        SELECT line_number, column_name, severity, reason, raw_value FROM read_issues
        UNION ALL
        SELECT line_number, column_name, severity, reason,
               left(raw_value, {values.RAW_VALUE_CHARS}) FROM load_issues
        """
    )
    rejected, warned = con.execute(
        "SELECT count(*) FILTER (WHERE severity = 'rejected'), "
        "count(*) FILTER (WHERE severity = 'warning') FROM all_issues"
    ).fetchone()
    unlisted = unlisted or {}
    rejected += sum(n for (severity, _), n in unlisted.items() if severity == "rejected")
    warned += sum(n for (severity, _), n in unlisted.items() if severity == "warning")
    report = IngestReport(
        file_name=meta.file_name,
        file_format=file_format,
        table_name=table_name,
        records_read=meta.records,
        rows_read=loaded + rejected + duplicate,
        rows_loaded=loaded,
        rows_rejected=rejected,
        rows_duplicate=duplicate,
        notes=[*meta.read_notes, *notes],
        ingest_id=ingest_id,
        loaded_at=dt.datetime.now().replace(microsecond=0),
    )
    report.issue_counts = {
        (severity, reason): total
        for severity, reason, total in con.execute(
            "SELECT severity, reason, count(*) FROM all_issues GROUP BY ALL ORDER BY ALL"
        ).fetchall()
    }
    for key, total in unlisted.items():
        report.issue_counts[key] = report.issue_counts.get(key, 0) + total
    for (_, reason), total in report.issue_counts.items():
        if total > MAX_ISSUES_PER_REASON:
            report.notes.append(
                f"{total:,} rows have the issue '{reason}'; the report and the dataset's load "
                f"history keep the first {MAX_ISSUES_PER_REASON:,} of them as examples."
            )
    con.execute(
        """
        INSERT INTO ingests (ingest_id, file_name, file_format, table_name, rows_read,
                             rows_loaded, rows_rejected, rows_duplicate, rows_warned, loaded_at,
                             sha256, records_read, notes, issue_counts)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        [
            ingest_id,
            meta.file_name,
            file_format,
            table_name,
            report.rows_read,
            loaded,
            rejected,
            duplicate,
            warned,
            report.loaded_at,
            meta.sha256,
            report.records_read,
            json.dumps(report.notes),
            json.dumps(sorted([*key, total] for key, total in report.issue_counts.items())),
        ],
    )
    # Examples, not every issue: a huge file where every row has one would not fit in memory.
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE issue_examples AS
        SELECT * FROM all_issues
        QUALIFY row_number() OVER (PARTITION BY severity, reason ORDER BY line_number)
                <= {MAX_ISSUES_PER_REASON}
        """
    )
    con.execute(
        """
        INSERT INTO ingest_issues
        SELECT ?, line_number, column_name, severity, reason, raw_value FROM issue_examples
        ORDER BY line_number, severity, reason
        """,
        [ingest_id],
    )
    report.issues = [
        RowIssue(*row)
        for row in con.execute(
            """
            SELECT line_number, column_name, reason, raw_value, severity FROM issue_examples
            ORDER BY line_number, severity, reason, column_name, raw_value
            """
        ).fetchall()
    ]
    return report


def save_notes(con: duckdb.DuckDBPyConnection, report: IngestReport) -> None:
    """Store ``report.notes`` in its ``ingests`` row: the notes written after ``finish_report``
    (what the loaded rows add up to, currencies, ...) become part of the load history."""
    con.execute(
        "UPDATE ingests SET notes = ? WHERE ingest_id = ?",
        [json.dumps(report.notes), report.ingest_id],
    )
