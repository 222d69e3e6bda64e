"""Where a field's cells are: staging column names, and export layouts found by header names.

The staging tables name the file's i-th column (0-based) ``c{i}`` (``column``), so uploaded
header names never become SQL identifiers; a builder reads a field through the staging column
of its header, or MISSING when the file lacks it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dashboard.ingest.report import IngestError

# The cell of a column the file does not have.
MISSING = "CAST(NULL AS VARCHAR)"


def column(index: int) -> str:
    """Return the staging column identifier of the file's column ``index`` (0-based)."""
    return f"c{int(index)}"


@dataclass(frozen=True)
class Layout:
    """An export layout found by column names: field -> accepted header names, required fields.

    ``what`` completes the sentence "this is not ..." when a required column is missing.
    """

    columns: dict[str, tuple[str, ...]]
    required: tuple[str, ...]
    what: str

    def positions(self, headers: list[str]) -> dict[str, int]:
        """Return field -> position of its column, for the fields the file has."""
        found = {key: find_column(headers, *names) for key, names in self.columns.items()}
        return {key: index for key, index in found.items() if index is not None}

    def check_headers(self, headers: list[str]) -> None:
        """Raise IngestError naming the first required column the file lacks."""
        present = self.positions(headers)
        for key in self.required:
            if key not in present:
                raise IngestError(
                    f"Missing required column: {self.columns[key][0]} (this is not {self.what})."
                )

    def needed_columns(self, headers: list[str]) -> list[int]:
        """Return the positions of the columns the builder reads."""
        return list(self.positions(headers).values())

    def labels(self, headers: list[str]) -> dict[str, str]:
        """Return field -> the file's header name, for the fields the file has."""
        return {key: headers[i] for key, i in self.positions(headers).items()}

    def cells(self, headers: list[str]) -> Callable[[str], str]:
        """Return ``cell(field)``: the staging column of the field's column, else MISSING."""
        positions = self.positions(headers)

        def cell(key: str) -> str:
            return column(positions[key]) if key in positions else MISSING

        return cell


def find_column(headers: list[str], *names: str) -> int | None:
    """Return the position of the first of ``names`` found among ``headers`` (any case)."""
    lowered = [h.lower() for h in headers]
    for name in names:
        if name.lower() in lowered:
            return lowered.index(name.lower())
    return None
