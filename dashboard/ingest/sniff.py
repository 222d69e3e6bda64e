"""What an uploaded file is, from its first bytes: table kind, encoding, delimiter, headers.

``inspect_file`` reads the first 64 KB only (for an archive, the start of the file inside it;
a workbook or a Parquet file is read from its end) and refuses, with one sentence, what is not
a table: an empty, binary or damaged file, an old-style .xls workbook, an archive in an
archive. The delimiter is sniffed here once and then fixed for the whole read. It also keeps
the first rows as a sample, so detection can look at values (a Shopify checkouts export has the
orders export's header), and finds a preamble above the header: ``#`` comment lines (GA4
report downloads, whose ``# Start date: YYYYMMDD`` line is kept as ``report_start``) or one to
three title lines of one cell each (Google Ads downloads: "Campaign report", "All time").
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb

from dashboard.ingest import lines, unpack
from dashboard.ingest.report import IngestError

SAMPLE_BYTES = 64 * 1024
DELIMITERS = (",", ";", "\t", "|")
_PARQUET_MAGIC = b"PAR1"
_OLD_EXCEL_MAGIC = b"\xd0\xcf\x11\xe0"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_BINARY = "This file is not a CSV, Parquet or Excel table (it looks binary)."
_NESTED = "This archive holds another archive; upload the table file itself."
_CONTROL_BYTES = [bytes([b]) for b in (*range(1, 9), 11, 12, *range(14, 32), 127)]
SAMPLE_ROWS = 200
# A single '#' line can be a header ("# of items,..."); two or more are a report's preamble.
_MIN_PREAMBLE_LINES = 2
# Title lines above a header (one cell each); more than this many is no title.
_MAX_TITLE_LINES = 3
_START_DATE = re.compile(r"#\s*start date:\s*(\d{8})\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class FileInfo:
    """What the first bytes say; headers are cleaned and unique.

    ``kind``: 'csv', 'parquet' or 'xlsx'; ``encoding`` of CSV text: 'utf-8' (BOM or not),
    'utf-16', 'utf-16-le', 'utf-16-be' or 'cp1252'; ``packed``: 'gzip' or 'zip' when the table
    is inside an archive; ``sheet``: the worksheet read. ``sample``: up to SAMPLE_ROWS data
    rows from the start of the file, cells as text (empty for a workbook); ``preamble``: the
    number of physical lines above the header (``#`` comment lines or title lines, and blank
    lines among them); ``report_start``: the report's first day from a ``# Start date:`` line.
    """

    kind: str
    headers: list[str]
    delimiter: str = ","
    has_rows: bool = True
    encoding: str = "utf-8"
    packed: str | None = None
    sheet: str | None = None
    sample: tuple[tuple[str, ...], ...] = ()
    preamble: int = 0
    report_start: dt.date | None = None


def read_headers(path: Path, sheet: str | None = None) -> list[str]:
    """Return the header names of a table file: BOM stripped, trimmed, made unique.

    An empty name becomes ``column N`` (N = its position from 1) and a repeated name gets
    `` (2)``, `` (3)``..., so every name can be chosen in a mapping. ``sheet`` names the worksheet
    of an Excel workbook (default: the first). Raises IngestError for a file that is not a
    readable table.
    """
    return inspect_file(path, sheet).headers


def inspect_file(path: Path, sheet: str | None = None) -> FileInfo:
    """Classify ``path`` from its first bytes; raise IngestError with one sentence if unusable."""
    path = Path(path)
    sample, complete = _read_start(path)
    packed = unpack.sniff_container(sample)
    if packed == "zip" and unpack.is_workbook(path):
        return _inspect_workbook(path, sheet)
    if packed is None:
        return _inspect_plain(path, sample, complete)
    inner, inner_complete = unpack.read_packed_start(path, packed, SAMPLE_BYTES)
    if not inner.strip():
        raise IngestError("The file inside this archive is empty.")
    inner_kind = unpack.sniff_container(inner)
    if inner_kind == "gzip":
        raise IngestError(_NESTED)
    if inner_kind == "zip" or inner.startswith(_PARQUET_MAGIC):
        # A workbook or Parquet file is read from its end: it has to be unpacked to be seen.
        with tempfile.TemporaryDirectory(prefix="segments-inspect-") as folder:
            inner_path = unpack.unpack(path, packed, Path(folder) / "inner")
            if inner_kind == "zip" and not unpack.is_workbook(inner_path):
                raise IngestError(_NESTED)
            return replace(inspect_file(inner_path, sheet), packed=packed)
    return replace(_inspect_text(inner, inner_complete), packed=packed)


def clean_headers(raw: list[str]) -> list[str]:
    """Trim header names, name empty ones by position and number repeated ones."""
    names: list[str] = []
    taken: set[str] = set()
    for position, name in enumerate(raw, start=1):
        base = name.replace("\ufeff", "").strip() or f"column {position}"
        candidate, copy = base, 1
        while candidate.lower() in taken:
            copy += 1
            candidate = f"{base} ({copy})"
        taken.add(candidate.lower())
        names.append(candidate)
    return names


def _read_start(path: Path) -> tuple[bytes, bool]:
    try:
        with path.open("rb") as fh:
            sample = fh.read(SAMPLE_BYTES)
            complete = not fh.read(1)
    except OSError as exc:
        raise IngestError("The file could not be opened.") from exc
    if not sample.strip():
        raise IngestError("The file is empty.")
    return sample, complete


def _inspect_plain(path: Path, sample: bytes, complete: bool) -> FileInfo:
    if sample.startswith(_PARQUET_MAGIC):
        return _inspect_parquet(path)
    if sample.startswith(unpack.ZIP_MAGIC):
        raise IngestError("This zip archive or Excel workbook is damaged and could not be opened.")
    if sample.startswith(_OLD_EXCEL_MAGIC):
        raise IngestError(
            "This is an old-style Excel workbook (.xls); save it as .xlsx or 'CSV UTF-8' and "
            "upload that."
        )
    return _inspect_text(sample, complete)


def _inspect_workbook(path: Path, sheet: str | None) -> FileInfo:
    found = unpack.read_sheet_headers(path, sheet)
    return FileInfo(
        kind="xlsx", headers=clean_headers(found.headers), has_rows=found.has_rows, sheet=found.name
    )


def _inspect_text(sample: bytes, complete: bool) -> FileInfo:
    text, encoding = _decode_sample(sample, complete)
    physical = text.split("\n")
    preamble = _count_preamble(physical)
    report_start = _find_start_date(physical[:preamble])
    text = "\n".join(physical[preamble:])
    try:
        delimiter = _sniff_delimiter(text)
        records = [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter) if r]
    except csv.Error as exc:
        raise IngestError("This file could not be read as a CSV table.") from exc
    if not records:
        raise IngestError("The file is empty.")
    return FileInfo(
        kind="csv",
        headers=clean_headers(records[0]),
        delimiter=delimiter,
        has_rows=len(records) > 1 or not complete,
        encoding=encoding,
        sample=tuple(tuple(r) for r in records[1 : SAMPLE_ROWS + 1]),
        preamble=preamble,
        report_start=report_start,
    )


def _count_preamble(lines: list[str]) -> int:
    """Return how many physical ``lines`` lie above the header (0 when the first is the header).

    Two or more ``#`` comment lines (blank lines among them counted), or else one to
    _MAX_TITLE_LINES title lines that are one cell whatever the delimiter, above a line of
    several cells.
    """
    count = comments = 0
    for line in lines:
        if line.startswith("#"):
            comments += 1
        elif line.strip():
            break
        count += 1
    if comments >= _MIN_PREAMBLE_LINES and count < len(lines):
        return count
    for count, line in enumerate(lines[: _MAX_TITLE_LINES + 1]):
        if _cell_count(line) > 1:
            return count
    return 0


def _cell_count(line: str) -> int:
    """The most cells ``line`` splits into with any of DELIMITERS (0 for a blank line)."""
    line = line.rstrip("\r")
    if not line.strip():
        return 0
    try:
        return max(len(next(csv.reader([line], delimiter=d), [])) for d in DELIMITERS)
    except csv.Error:
        return 1


def _find_start_date(preamble: list[str]) -> dt.date | None:
    """The date of a GA4 preamble's ``# Start date: YYYYMMDD`` line, or None."""
    for line in preamble:
        found = _START_DATE.match(line.strip())
        if found:
            try:
                return dt.datetime.strptime(found.group(1), "%Y%m%d").date()
            except ValueError:
                return None
    return None


def _decode_sample(sample: bytes, complete: bool) -> tuple[str, str]:
    """Return the sample as text and its encoding (see FileInfo), or refuse binary bytes."""
    encoding = _utf16_kind(sample)
    if encoding is not None:
        return _cut_sample(sample, complete, encoding).decode(encoding), encoding
    controls = sum(sample.count(byte) for byte in _CONTROL_BYTES)
    if b"\x00" in sample or controls > len(sample) // 100:
        raise IngestError(_BINARY)
    sample = _cut_sample(sample, complete, "utf-8")
    try:
        return sample.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as exc:
        before = sample[: exc.start]
        if not before.isascii():
            line = before.count(b"\n") + 1
            raise IngestError(lines.MIXED_ENCODINGS.format(line=line)) from None
    return unpack.decode_cp1252(sample), "cp1252"


def _utf16_kind(sample: bytes) -> str | None:
    """'utf-16' with a BOM, 'utf-16-le'/'-be' for BOM-less text whose every other byte is 0."""
    if sample.startswith(_UTF16_BOMS):
        return "utf-16"
    pairs = len(sample) // 2
    if pairs < 2:
        return None
    even_zeros, odd_zeros = sample[0::2].count(0), sample[1::2].count(0)
    if odd_zeros > 0.9 * pairs and even_zeros == 0:
        return "utf-16-le"
    if even_zeros > 0.9 * pairs and odd_zeros == 0:
        return "utf-16-be"
    return None


def _cut_sample(sample: bytes, complete: bool, encoding: str) -> bytes:
    """Cut an incomplete sample at its last line end, so no character is split at its edge."""
    if complete:
        return sample
    if encoding == "utf-16":
        encoding = "utf-16-le" if sample.startswith(b"\xff\xfe") else "utf-16-be"
    end = "\n".encode(encoding)
    cut = sample.rfind(end)
    return sample[: cut + len(end)] if cut > 0 else sample


def _sniff_delimiter(text: str) -> str:
    """Pick the delimiter that splits the sample into the most consistent, widest rows.

    Sniffed once from the first 64 KB and then fixed for the whole read, so one broken line
    further down cannot change how the file is split.
    """
    sample = "".join(text.splitlines(keepends=True)[:200])

    def score(delimiter: str) -> tuple[int, float, int]:
        rows = [r for r in csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter) if r]
        rows = rows[:50]
        width = len(rows[0]) if rows else 0
        if width < 2:
            return (0, 0.0, 0)
        body = rows[1:] or rows
        consistent = sum(1 for r in body if len(r) == width) / len(body)
        return (1, consistent, width)

    return max(DELIMITERS, key=score)


def _inspect_parquet(path: Path) -> FileInfo:
    con = duckdb.connect()
    try:
        described = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()
        rows = con.execute("SELECT count(*) FROM read_parquet(?)", [str(path)]).fetchone()[0]
        cells = ", ".join(f"CAST(#{i + 1} AS VARCHAR)" for i in range(len(described)))
        sample = con.execute(
            f"SELECT {cells} FROM read_parquet(?) LIMIT {SAMPLE_ROWS}", [str(path)]
        ).fetchall()
    except duckdb.Error as exc:
        raise IngestError(
            "This Parquet file could not be read (it may be damaged or truncated)."
        ) from exc
    finally:
        con.close()
    return FileInfo(
        kind="parquet",
        headers=clean_headers([d[0] for d in described]),
        has_rows=rows > 0,
        sample=tuple(tuple("" if v is None else v for v in row) for row in sample),
    )
