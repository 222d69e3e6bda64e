"""The ingest report: what happened to every row of one file."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

import pandas as pd

from dashboard.errors import UserError
from dashboard.export import to_csv_bytes

NOT_RECORDED = "not recorded"


class IngestError(UserError):
    """A file that cannot be loaded at all; the message is one sentence for the analyst."""


@dataclass(frozen=True)
class RowIssue:
    """One problem with one row: ``severity`` is ``rejected`` (row not loaded) or ``warning``."""

    line_number: int | None
    column: str | None
    reason: str
    raw_value: str | None = None
    severity: str = "rejected"


@dataclass
class IngestReport:
    """What one file gave; counts reconcile: rows_read == loaded + rejected + duplicate rows.

    ``issue_counts`` counts every issue by (severity, reason); ``issues`` lists them one per row,
    up to the first ``ledger.MAX_ISSUES_PER_REASON`` of each (severity, reason) by line
    (``has_all_issues`` says whether that is all of them).

    ``rows_read`` counts the records of the file's own unit (order rows for a line-item export are
    counted as orders after folding; ``records_read`` keeps the physical record count, None when
    an earlier version loaded the file and did not record it).
    """

    file_name: str
    file_format: str
    table_name: str
    records_read: int | None = 0
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rows_duplicate: int = 0
    issues: list[RowIssue] = field(default_factory=list)
    issue_counts: dict[tuple[str, str], int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    ingest_id: int | None = None
    loaded_at: dt.datetime | None = None

    @property
    def rows_warned(self) -> int:
        """Number of loaded rows that carry a warning."""
        return sum(n for (severity, _), n in self.issue_counts.items() if severity == "warning")

    def reason_counts(self, severity: str = "rejected") -> Counter[str]:
        """Return how many rows have each reason of ``severity`` (rejected, or warning)."""
        return Counter(
            {reason: n for (kind, reason), n in self.issue_counts.items() if kind == severity}
        )

    def has_all_issues(self) -> bool:
        """Whether ``issues`` lists every issue, not only the first examples of each reason."""
        return len(self.issues) == sum(self.issue_counts.values())

    def summary(self) -> str:
        """Return one line that states the counts for the analyst."""
        text = (
            f"{self.file_name}: {self.rows_read:,} {self.table_name.replace('_', ' ')} rows read, "
            f"{self.rows_loaded:,} loaded, {self.rows_rejected:,} rejected"
        )
        if self.rows_duplicate:
            text += f", {self.rows_duplicate:,} already loaded (skipped)"
        if self.rows_warned:
            text += f", {self.rows_warned:,} loaded with a warning"
        return text + "."

    def reconciliation(self) -> str:
        """Return one line: the file's records = rows loaded + rejected + already loaded."""
        outcome = (
            f"{self.rows_loaded:,} loaded + {self.rows_rejected:,} rejected + "
            f"{self.rows_duplicate:,} already loaded"
        )
        unit = self.table_name.replace("_", " ")
        if self.records_read is None:
            return (
                f"Records in the file: {NOT_RECORDED}; {self.rows_read:,} {unit} rows read = "
                f"{outcome}."
            )
        if self.records_read == self.rows_read:
            return f"{self.records_read:,} records in the file = {outcome}."
        return (
            f"{self.records_read:,} records in the file, read as {self.rows_read:,} {unit} rows "
            f"= {outcome}."
        )

    def issues_frame(self) -> pd.DataFrame:
        """Return the issues as a table: line, column, severity, reason, value (one per issue)."""
        return pd.DataFrame(
            [
                {
                    "line": i.line_number,
                    "column": i.column,
                    "severity": i.severity,
                    "reason": i.reason,
                    "value": i.raw_value,
                }
                for i in self.issues
            ],
            columns=["line", "column", "severity", "reason", "value"],
        )


def render_report_csv(report: IngestReport) -> bytes:
    """Return ``report`` as formula-safe CSV bytes: four blocks, each with its header row,
    separated by an empty line.

    Out: the summary (item, value: file, format, table, load number, loaded at, records in the
    file, rows read, loaded, rejected, already loaded, loaded with a warning, the reconciliation
    line); the notes (note, one a row); the rows of each issue (severity, reason, rows: rejected
    first, most rows first); the issues listed (line, column, severity, reason, value, one a row).
    """
    summary = pd.DataFrame(
        [
            ("file", report.file_name),
            ("format", report.file_format),
            ("table", report.table_name),
            ("load number", report.ingest_id),
            ("loaded at", f"{report.loaded_at:%Y-%m-%d %H:%M:%S}" if report.loaded_at else None),
            (
                "records in the file",
                NOT_RECORDED if report.records_read is None else report.records_read,
            ),
            ("rows read", report.rows_read),
            ("rows loaded", report.rows_loaded),
            ("rows rejected", report.rows_rejected),
            ("rows already loaded (skipped)", report.rows_duplicate),
            ("rows loaded with a warning", report.rows_warned),
            ("reconciliation", report.reconciliation()),
        ],
        columns=["item", "value"],
    )
    notes = pd.DataFrame({"note": report.notes}, dtype=object)
    counts = pd.DataFrame(
        [
            (severity, reason, rows)
            for (severity, reason), rows in sorted(
                report.issue_counts.items(),
                key=lambda item: (item[0][0] != "rejected", -item[1], item[0][1]),
            )
        ],
        columns=["severity", "reason", "rows"],
    )
    issues = report.issues_frame().astype({"line": "Int64"})
    return b"\r\n".join(to_csv_bytes(block) for block in (summary, notes, counts, issues))
