"""The ingest report: what happened to every row of one file."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pandas as pd


class IngestError(Exception):
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
    up to the first ``load.MAX_ISSUES_PER_REASON`` of each (severity, reason) by line
    (``has_all_issues`` says whether that is all of them).

    ``rows_read`` counts the records of the file's own unit (order rows for a line-item export are
    counted as orders after folding; ``records_read`` keeps the physical record count).
    """

    file_name: str
    file_format: str
    table_name: str
    records_read: int = 0
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rows_duplicate: int = 0
    issues: list[RowIssue] = field(default_factory=list)
    issue_counts: dict[tuple[str, str], int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    ingest_id: int | None = None

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
