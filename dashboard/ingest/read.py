"""Reading an uploaded table file into staging tables through DuckDB.

``sniff.inspect_file`` has looked at the first bytes (archive, kind, encoding, delimiter, header
names). ``prepare`` turns the upload into a file DuckDB reads directly (``unpack``: out of a .gz
or .zip, UTF-16 or Windows-1252 text as UTF-8, an Excel sheet as Parquet). ``stage_file`` then
reads the whole file with the options ``inspect_file`` found fixed:

- TEMP VIEW ``raw_rows(line_number BIGINT, c{i} VARCHAR for each needed column i)``: one row per
  record DuckDB could split, cells as text; ``c{i}`` is the file's i-th column (0-based, see
  ``columns``), so uploaded header names never become SQL identifiers. Columns nobody reads are
  not stored. ``release`` drops it and the table under it once the typed rows are built.
- TEMP TABLE ``read_issues(line_number, column_name, severity, reason, raw_value)``: one row per
  record it could not split (ragged row, broken quoting), from DuckDB's rejects table; the value
  shown is the record's own text in the file, all its lines.
- TEMP TABLE ``header_names(idx, name)``: the header names, as bound values.

Line numbers are physical lines of the file as a text editor shows them, header = line 1; a
record whose quoted cell spans several lines is numbered by its first line (see ``lines``). A
file with a preamble above its header (``FileInfo.preamble``: GA4's ``#`` lines, a Google Ads
title) is read from a copy without it, and its line numbers are moved down by the preamble's
lines, so they stay those of the uploaded file (header = the line after the preamble).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from dashboard.ingest import lines, unpack, values
from dashboard.ingest.columns import column
from dashboard.ingest.ledger import MAX_ISSUES_PER_REASON
from dashboard.ingest.report import IngestError
from dashboard.ingest.sniff import FileInfo

ENCODING_NOTES = {
    "utf-16": "The file is UTF-16 text; it was read as such.",
    "cp1252": "The file is not UTF-8 text; it was read as Windows-1252 (Western European), the "
    "encoding of Excel's plain 'CSV' on Windows. If letters look wrong, save it as 'CSV UTF-8'.",
}

# DuckDB's reject error types, most telling first (one record can have several).
_REJECT_REASONS = (
    ("UNQUOTED VALUE", "broken quoting: a quote is opened but not closed properly"),
    ("TOO MANY COLUMNS", "row has more columns than the header"),
    ("MISSING COLUMNS", "row has fewer columns than the header"),
    ("LINE SIZE OVER MAXIMUM", "line is too long to be a table row"),
)
_OTHER_REJECT = "row could not be read as CSV"


# How a CSV file is read (parameters $columns: every column as VARCHAR, $delim): the header row
# skipped, nothing sniffed, '"' quoting with doubled quotes inside.
CSV_OPTIONS = (
    "header = true, auto_detect = false, columns = $columns, delim = $delim, quote = '\"', "
    "escape = '\"'"
)


@dataclass(frozen=True)
class Readable:
    """A file DuckDB reads directly: UTF-8 CSV text or Parquet (``kind`` 'csv' or 'parquet').

    ``numbered``: a Parquet file written from a sheet, whose ``line`` column holds each row's
    line number and ``c{i}`` columns the cells. ``line_offset``: the lines of the uploaded file
    above the first line of ``path`` (a preamble left out), added to every line number.
    """

    path: Path
    kind: str
    numbered: bool = False
    notes: list[str] = field(default_factory=list)
    line_offset: int = 0


@dataclass
class StagedFile:
    """What ``stage_file`` read: ``records`` counts data records (split + rejected)."""

    records: int
    notes: list[str] = field(default_factory=list)


def prepare(path: Path, info: FileInfo, scratch: Path) -> Readable:
    """Return the file DuckDB will read for ``path``, unpacked and converted into ``scratch``."""
    source = Path(path)
    notes: list[str] = []
    if info.packed is not None:
        source = unpack.unpack(source, info.packed, scratch / "unpacked")
    if info.kind == "xlsx":
        sheet = unpack.convert_sheet(source, info.sheet, scratch / "sheet.parquet")
        if not sheet.has_rows:
            raise IngestError("The file has a header row but no data rows.")
        notes.append(f"The sheet '{sheet.name}' of the workbook was read.")
        return Readable(
            scratch / "sheet.parquet", "parquet", numbered=True, notes=notes + sheet.notes
        )
    if info.kind == "csv" and info.encoding != "utf-8":
        source = unpack.transcode(source, info.encoding, scratch / "utf8.csv")
        notes.append(ENCODING_NOTES["cp1252" if info.encoding == "cp1252" else "utf-16"])
    if info.kind == "csv" and info.preamble:
        source = _drop_lines(source, info.preamble, scratch / "body.csv")
        notes.append(
            f"The {info.preamble} line(s) above the header (the report's title or '#' comments) "
            "were skipped."
        )
    return Readable(source, info.kind, notes=notes, line_offset=info.preamble)


def _drop_lines(path: Path, count: int, target: Path) -> Path:
    """Copy ``path`` to ``target`` without its first ``count`` lines (split at line feeds)."""
    with Path(path).open("rb") as source, target.open("wb") as copy:
        for _ in range(count):
            source.readline()
        for chunk in iter(lambda: source.read(1 << 20), b""):
            copy.write(chunk)
    return target


def stage_file(
    con: duckdb.DuckDBPyConnection,
    readable: Readable,
    info: FileInfo,
    needed: list[int],
    scratch: Path,
) -> StagedFile:
    """Read the whole file into the staging tables of the module doc, keeping columns ``needed``.

    A CSV file whose first 64 KB are ASCII but which is not UTF-8 further down is read again
    as Windows-1252 (converted into ``scratch``); one that mixes UTF-8 accents with other bytes
    is refused.
    """
    con.execute("CREATE OR REPLACE TEMP TABLE header_names (idx INTEGER, name VARCHAR)")
    con.executemany("INSERT INTO header_names VALUES (?, ?)", list(enumerate(info.headers)))
    kept = sorted(set(needed))
    if readable.kind == "parquet":
        staged = _stage_parquet(con, readable, kept)
    else:
        offset = readable.line_offset
        try:
            staged = _stage_csv(con, readable.path, info, kept, offset)
        except lines.NotUtf8Error as exc:
            if exc.mixed:
                raise lines.NotUtf8Error(exc.line + offset, exc.mixed) from None
            converted = unpack.transcode(readable.path, "cp1252", scratch / "cp1252.csv")
            staged = _stage_csv(con, converted, info, kept, offset)
            staged.notes.insert(0, ENCODING_NOTES["cp1252"])
    staged.notes[:0] = readable.notes
    return staged


def _stage_parquet(
    con: duckdb.DuckDBPyConnection, readable: Readable, kept: list[int]
) -> StagedFile:
    if readable.numbered:
        line = "line"
        cells = "".join(f", {column(i)}" for i in kept)
    else:
        # Rows are numbered as the same table saved as CSV would be: first row = line 2.
        line = "file_row_number + 2"
        cells = "".join(f", CAST(#{i + 1} AS VARCHAR) AS {column(i)}" for i in kept)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE raw_cells AS SELECT {line} AS line_number"
        f"{cells} FROM read_parquet(?, file_row_number = true)",
        [str(readable.path)],
    )
    con.execute("CREATE OR REPLACE TEMP VIEW raw_rows AS SELECT * FROM raw_cells")
    create_read_issues(con)
    return StagedFile(records=_count_records(con))


def _stage_csv(
    con: duckdb.DuckDBPyConnection, path: Path, info: FileInfo, kept: list[int], offset: int
) -> StagedFile:
    """Stage the CSV ``path``; its line n is line n + ``offset`` of the uploaded file."""
    # numpy's scan mostly releases the GIL, as does DuckDB's read: run them side by side.
    with ThreadPoolExecutor(max_workers=1) as pool:
        indexing = pool.submit(lines.index_by_quotes, path, info.delimiter)
        try:
            notes = _read_records(con, path, info, kept)
        except IngestError:
            indexing.result()  # text that is not UTF-8 explains the failure better
            raise
        index = indexing.result()
    read, rejected = con.execute(
        "SELECT (SELECT count(*) FROM csv_read), (SELECT count(DISTINCT line) FROM csv_rejects)"
    ).fetchone()
    if len(index) != read + rejected:
        index = lines.index_by_csv_module(path, info.delimiter)
    cells = "".join(f", r.{column(i)}" for i in kept)
    if not rejected and index.is_one_line_per_record():
        # Record n is line n + 2: no join is needed, and no copy of the cells.
        create_read_issues(con)
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW raw_rows AS "
            f"SELECT r.rowid + {2 + int(offset)} AS line_number{cells} FROM csv_read r"
        )
        return StagedFile(records=read, notes=notes)
    _store_index(con, index)
    create_read_issues(con, from_rejects=True)
    _show_own_texts(con, path)
    _store_line_numbers(con, index, read, offset)
    con.execute("DROP TABLE record_index")
    if offset:
        con.execute(
            "UPDATE read_issues SET line_number = line_number + $offset, "
            "end_line = end_line + $offset",
            {"offset": offset},
        )
    # Row n of csv_read is the n-th record DuckDB did not reject: line numbers pair by position.
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW raw_rows AS SELECT n.line_number{cells} "
        "FROM csv_read r POSITIONAL JOIN line_numbers n"
    )
    return StagedFile(
        records=_count_records(con),
        notes=notes + _reconcile(con, len(index), index.physical_lines + offset),
    )


def release(con: duckdb.DuckDBPyConnection) -> None:
    """Drop ``raw_rows`` and the cells under it, once the typed rows no longer read them."""
    con.execute("DROP VIEW IF EXISTS raw_rows")
    con.execute("DROP TABLE IF EXISTS raw_cells")
    con.execute("DROP TABLE IF EXISTS csv_read")
    con.execute("DROP TABLE IF EXISTS line_numbers")


def _read_records(
    con: duckdb.DuckDBPyConnection, path: Path, info: FileInfo, kept: list[int]
) -> list[str]:
    """Create ``csv_read`` (the kept columns, in file order) and DuckDB's ``csv_rejects``."""
    columns = {column(i): "VARCHAR" for i in range(len(info.headers))}
    selected = ", ".join(column(i) for i in kept)
    try:
        _read_csv(con, path, selected, columns, info.delimiter)
    except duckdb.InvalidInputException as exc:
        # DuckDB's reader stops at the first line end unlike the first one (CRLF vs LF).
        if "invalid state" not in str(exc):
            raise IngestError("This file could not be read as a CSV table.") from exc
        with _uniform_line_ends(path) as uniform:
            _read_csv(con, uniform, selected, columns, info.delimiter)
        return [
            "The file mixes Windows (CRLF) and Unix (LF) line ends; it was read with them "
            "made uniform."
        ]
    return []


def _store_line_numbers(
    con: duckdb.DuckDBPyConnection, index: lines.RecordIndex, read: int, offset: int
) -> None:
    """Create TEMP TABLE ``line_numbers(line_number)``: the first line of each of the ``read``
    records DuckDB split, in file order (the index's records, which it lists in file order,
    less those in ``read_issues``; record n on line n + 2 past the end of the index), moved
    down by ``offset`` lines."""
    rejected = con.execute("SELECT duck_line FROM read_issues").fetchnumpy()["duck_line"]
    starts = index.start_lines[~np.isin(index.duck_lines, rejected)][:read]
    numbers = np.arange(read, dtype=np.int64) + 2
    numbers[: len(starts)] = starts
    numbers += offset
    con.register("line_numbers_view", pa.table({"line_number": numbers}))
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE line_numbers AS SELECT * FROM line_numbers_view")
    finally:
        con.unregister("line_numbers_view")


def _store_index(con: duckdb.DuckDBPyConnection, index: lines.RecordIndex) -> None:
    """Copy the record index into TEMP TABLE ``record_index(duck_line, start_line, end_line)``."""
    con.register(
        "record_index_view",
        pa.table(
            {
                "duck_line": pa.array(index.duck_lines, pa.int64()),
                "start_line": pa.array(index.start_lines, pa.int64()),
                "end_line": pa.array(index.end_lines, pa.int64()),
            }
        ),
    )
    con.execute("CREATE OR REPLACE TEMP TABLE record_index AS SELECT * FROM record_index_view")
    con.unregister("record_index_view")


def _read_csv(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    selected: str,
    columns: dict[str, str],
    delimiter: str,
) -> None:
    con.execute("DROP TABLE IF EXISTS csv_rejects")
    con.execute("DROP TABLE IF EXISTS csv_reject_scans")
    # Insertion order is preserved, so rowid is the record's position among split records.
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE csv_read AS
        SELECT {selected} FROM read_csv(
            $path, {CSV_OPTIONS}, store_rejects = true, rejects_table = 'csv_rejects',
            rejects_scan = 'csv_reject_scans')
        """,
        {"path": str(path), "columns": columns, "delim": delimiter},
    )


@contextmanager
def _uniform_line_ends(path: Path) -> Iterator[Path]:
    """Yield a temporary copy of ``path`` with every CRLF turned into LF (same line count)."""
    handle, name = tempfile.mkstemp(suffix=".csv")
    try:
        with Path(path).open("rb") as source, os.fdopen(handle, "wb") as target:
            carry = b""
            for chunk in iter(lambda: source.read(1 << 20), b""):
                chunk = carry + chunk
                # A CR at the chunk's end may start a CRLF split across two chunks.
                carry = b"\r" if chunk.endswith(b"\r") else b""
                target.write(chunk[: len(chunk) - len(carry)].replace(b"\r\n", b"\n"))
            target.write(carry)
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)


def create_read_issues(con: duckdb.DuckDBPyConnection, from_rejects: bool = False) -> None:
    """Create ``read_issues``: empty, or with one rejection per record of ``csv_rejects``."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE read_issues (
            line_number BIGINT, column_name VARCHAR, severity VARCHAR, reason VARCHAR,
            raw_value VARCHAR, duck_line BIGINT, end_line BIGINT, error_type VARCHAR)
        """
    )
    if not from_rejects:
        return
    ranks = " ".join(f"WHEN '{kind}' THEN {rank}" for rank, (kind, _) in enumerate(_REJECT_REASONS))
    reasons = " ".join("WHEN ? THEN ?" for _ in _REJECT_REASONS)
    params = [value for pair in _REJECT_REASONS for value in pair]
    con.execute(
        f"""
        INSERT INTO read_issues
        WITH rejects AS (
            SELECT line AS duck_line, column_idx, csv_line,
                   CAST(error_type AS VARCHAR) AS error_type,
                   CASE CAST(error_type AS VARCHAR) {ranks} ELSE 99 END AS rank
            FROM csv_rejects
        ), per_record AS (
            SELECT duck_line, arg_min(error_type, rank) AS error_type,
                   arg_min(column_idx, rank) AS column_idx, arg_min(csv_line, rank) AS csv_line
            FROM rejects GROUP BY duck_line
        )
        SELECT coalesce(i.start_line, p.duck_line),
               -- where a quote breaks, DuckDB names the column it stopped in, not the culprit
               CASE WHEN p.error_type <> 'UNQUOTED VALUE' THEN h.name END, 'rejected',
               CASE p.error_type {reasons} ELSE ? END,
               left(ltrim(p.csv_line, chr(13) || chr(10)), {values.RAW_VALUE_CHARS}),
               p.duck_line,
               coalesce(i.end_line, p.duck_line), p.error_type
        FROM per_record p
        LEFT JOIN record_index i ON i.duck_line = p.duck_line
        LEFT JOIN header_names h ON h.idx = p.column_idx
        """,
        [*params, _OTHER_REJECT],
    )


def _show_own_texts(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Show each rejected record of ``read_issues`` that the report keeps as an example (the
    first MAX_ISSUES_PER_REASON of each reason, by line) as its own text in the file: its lines
    from ``line_number`` to ``end_line``, so the text shown is always the line named. (DuckDB's
    own text of a record starts with the line end before it in a CRLF file.)"""
    examples = con.execute(
        """
        SELECT duck_line, line_number, end_line FROM read_issues
        QUALIFY row_number() OVER (PARTITION BY reason ORDER BY line_number)
                <= $examples
        ORDER BY line_number
        """,
        {"examples": MAX_ISSUES_PER_REASON},
    ).fetchall()
    if not examples:
        return
    texts = lines.record_texts(
        path, [(first, last) for _, first, last in examples], values.RAW_VALUE_CHARS
    )
    con.register(
        "own_texts",
        pa.table(
            {
                "duck_line": pa.array([e[0] for e in examples], pa.int64()),
                "own_text": pa.array(texts, pa.string()),
            }
        ),
    )
    try:
        con.execute(
            """
            UPDATE read_issues SET raw_value = coalesce(t.own_text, read_issues.raw_value)
            FROM own_texts t WHERE read_issues.duck_line = t.duck_line
            """
        )
    finally:
        con.unregister("own_texts")


def _count_records(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute(
        "SELECT (SELECT count(*) FROM raw_rows) + (SELECT count(*) FROM read_issues)"
    ).fetchone()[0]


def _reconcile(con: duckdb.DuckDBPyConnection, indexed: int, physical_lines: int) -> list[str]:
    """Say where broken quoting swallowed lines, and when the two readers disagree on records."""
    notes = [
        f"An unterminated quote near line {start} swallowed the {end - start} line(s) after it "
        f"(up to line {end}); those rows were not loaded: fix the quote and load the file again."
        for start, end in con.execute(
            "SELECT line_number, end_line FROM read_issues "
            "WHERE error_type = 'UNQUOTED VALUE' AND end_line > line_number ORDER BY line_number"
        ).fetchall()
    ]
    read = _count_records(con)
    if read != indexed:
        notes.append(
            f"Broken quoting makes the rows of this file ambiguous: {read:,} rows were read, "
            f"but a second reading of its {physical_lines:,} lines finds {indexed:,}; check the "
            "rejected rows, and take line numbers after the first of them as approximate."
        )
    return notes
