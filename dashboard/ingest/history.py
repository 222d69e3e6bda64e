"""A past load's report, rebuilt from the dataset's load history.

Each load leaves one ``ingests`` row (counts, the file's record count, the report's notes and the
number of rows of each issue) and the first ``ledger.MAX_ISSUES_PER_REASON`` examples of each issue
in ``ingest_issues``: together they are the report ``ingest_file`` returned.
"""

from __future__ import annotations

import json
from collections import Counter

from ibis.backends.duckdb import Backend as DuckDBBackend

from dashboard.ingest.ledger import MAX_ISSUES_PER_REASON
from dashboard.ingest.report import IngestReport, RowIssue
from dashboard.workspace import store

EARLIER_VERSION_NOTE = (
    "This file was loaded by an earlier version, which did not record the report's notes, the "
    "file's record count or how many rows had each issue: the rows by reason count the examples "
    f"kept (the first {MAX_ISSUES_PER_REASON:,} of each reason)."
)


def read_report(backend: DuckDBBackend, ingest_id: int) -> IngestReport:
    """Return the report of load ``ingest_id`` of an open dataset.

    In: its ``ingests`` row and its ``ingest_issues`` rows. Out: the report as ``ingest_file``
    returned it (counts, record count, notes, rows per (severity, reason), the issues kept);
    for a load by an earlier version, the record count is None, the notes are
    EARLIER_VERSION_NOTE and the rows per reason count the issues kept. Raises
    store.WorkspaceError when the dataset has no load ``ingest_id``.
    """
    row = store.read_ingest(backend, ingest_id)
    if row is None:
        raise store.WorkspaceError(
            f"The dataset has no load number {ingest_id}; its history lists the loads it has."
        )
    issues = [
        RowIssue(
            line_number=issue["line_number"],
            column=issue["column_name"],
            reason=issue["reason"],
            raw_value=issue["raw_value"],
            severity=issue["severity"],
        )
        for issue in store.read_ingest_issues(backend, ingest_id)
    ]
    if row["issue_counts"] is None:
        issue_counts = dict(Counter((issue.severity, issue.reason) for issue in issues))
    else:
        issue_counts = {
            (severity, reason): rows
            for severity, reason, rows in json.loads(str(row["issue_counts"]))
        }
    return IngestReport(
        file_name=str(row["file_name"]),
        file_format=str(row["file_format"]),
        table_name=str(row["table_name"]),
        records_read=row["records_read"],
        rows_read=row["rows_read"],
        rows_loaded=row["rows_loaded"],
        rows_rejected=row["rows_rejected"],
        rows_duplicate=row["rows_duplicate"],
        issues=issues,
        issue_counts=issue_counts,
        notes=[EARLIER_VERSION_NOTE] if row["notes"] is None else json.loads(str(row["notes"])),
        ingest_id=ingest_id,
        loaded_at=row["loaded_at"],
    )
