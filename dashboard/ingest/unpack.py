"""Turning an upload into a file DuckDB reads directly: UTF-8 CSV text or Parquet.

Uploads come as CSV text in any common encoding, Parquet, Excel workbooks (.xlsx), or one of
those inside a ``.gz`` file or a ``.zip`` archive holding one file. Everything is streamed in
chunks into a scratch folder, never held in memory whole, under caps that refuse a zip bomb and
a sheet larger than Excel itself allows:

- ``unpack``: the one file inside a gzip or zip archive, written out as it is.
- ``transcode``: UTF-16 or Windows-1252 text rewritten as UTF-8 (the same lines, line ends kept).
- ``convert_sheet``: one worksheet written as Parquet with columns ``line`` (BIGINT, the sheet's
  row number) and ``c0``, ``c1``, ... (VARCHAR, the cells under each header cell, as text);
  blank rows are left out.
"""

from __future__ import annotations

import codecs
import datetime as dt
import gzip
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

from dashboard.ingest.report import IngestError

CHUNK_BYTES = 1 << 20
GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
# Unpacking stops above the larger of MIN_BOMB_BYTES and MAX_PACK_RATIO x the packed size,
# and above MAX_UNPACKED_BYTES whatever the ratio.
MIN_BOMB_BYTES = 256 * 2**20
MAX_PACK_RATIO = 200
MAX_UNPACKED_BYTES = 32 * 2**30
# A part of a zip archive or workbook that unpacks past RATIO_CHECKED_BYTES may be at most
# MAX_PART_RATIO times its packed size: real sheets and tables pack 5 to 15 times, a bomb's
# filler a thousand.
RATIO_CHECKED_BYTES = 8 * 2**20
MAX_PART_RATIO = 100
# Excel's own limits: a bigger sheet was not written by Excel.
MAX_SHEET_ROWS = 1_048_576
MAX_SHEET_COLUMNS = 16_384
_SHEET_BATCH_ROWS = 20_000
_IGNORED_MEMBERS = ("__MACOSX/", ".DS_Store", "Thumbs.db")
DAMAGED_WORKBOOK = (
    "This Excel workbook could not be read (it may be damaged, or not an .xlsx file)."
)


@dataclass
class Sheet:
    """A worksheet: its name, the header cells (raw text), and what the conversion noticed."""

    name: str
    headers: list[str]
    has_rows: bool = True
    notes: list[str] = field(default_factory=list)


def sniff_container(sample: bytes) -> str | None:
    """Return 'gzip' or 'zip' when the first bytes are those of an archive, else None."""
    if sample.startswith(GZIP_MAGIC):
        return "gzip"
    if sample.startswith(ZIP_MAGIC):
        return "zip"
    return None


def is_workbook(path: Path) -> bool:
    """Whether ``path`` is a zip file laid out as an Excel workbook (.xlsx)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return "xl/workbook.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


def read_packed_start(path: Path, packed: str, size: int) -> tuple[bytes, bool]:
    """Return the first ``size`` unpacked bytes of an archive and whether that is all of it."""
    with _open_packed(path, packed) as (stream, _limit):
        try:
            sample = stream.read(size)
            complete = not stream.read(1)
        except (OSError, EOFError, zlib.error, zipfile.BadZipFile) as exc:
            raise _damaged(packed) from exc
    return sample, complete


def unpack(path: Path, packed: str, target: Path) -> Path:
    """Write the one file inside a gzip or zip archive to ``target`` and return ``target``."""
    with _open_packed(path, packed) as (stream, limit), target.open("wb") as out:
        written = 0
        try:
            for chunk in iter(lambda: stream.read(CHUNK_BYTES), b""):
                written += len(chunk)
                if written > limit:
                    raise _bomb(path, limit)
                out.write(chunk)
        except (OSError, EOFError, zlib.error, zipfile.BadZipFile) as exc:
            raise _damaged(packed) from exc
    return target


def decode_cp1252(data: bytes) -> str:
    """Decode Windows-1252 bytes, its five undefined byte values as Latin-1 (see transcode)."""
    return data.decode("cp1252", errors=_LATIN1_FALLBACK)


def transcode(path: Path, encoding: str, target: Path) -> Path:
    """Rewrite text in ``encoding`` (a UTF-16 flavour or 'cp1252') as UTF-8 in ``target``.

    cp1252 leaves five byte values undefined; they are read as Latin-1 (their C1 control
    characters), so any byte sequence converts and every line survives.
    """
    decoder = codecs.getincrementaldecoder(encoding)(errors=_LATIN1_FALLBACK)
    try:
        with path.open("rb") as source, target.open("wb") as out:
            for chunk in iter(lambda: source.read(CHUNK_BYTES), b""):
                out.write(decoder.decode(chunk).encode("utf-8"))
            out.write(decoder.decode(b"", True).encode("utf-8"))
    except UnicodeDecodeError as exc:
        raise IngestError(
            f"This file is not valid {encoding.upper()} text; save it as 'CSV UTF-8' and "
            "upload it again."
        ) from exc
    return target


def read_sheet_headers(path: Path, sheet: str | None) -> Sheet:
    """Return the chosen (default: first) worksheet's header cells, without converting it."""
    with _open_sheet(path, sheet) as (worksheet, name):
        rows = _sheet_rows(worksheet)
        header = next(rows, None)
        if header is None:
            raise IngestError(f"The sheet '{name}' of this workbook is empty.")
        first, last, cells = _header_span(header[1])
        return Sheet(name, cells, has_rows=any(_span_has_value(r, first, last) for _, r in rows))


def convert_sheet(path: Path, sheet: str | None, target: Path) -> Sheet:
    """Write the chosen worksheet as Parquet (module doc) to ``target``; return what it held.

    Raises IngestError for a damaged workbook, an unknown sheet name, or a sheet with more
    rows or columns than Excel allows.
    """
    with _open_sheet(path, sheet) as (worksheet, name):
        rows = _sheet_rows(worksheet)
        header = next(rows, None)
        if header is None:
            raise IngestError(f"The sheet '{name}' of this workbook is empty.")
        first, last, cells = _header_span(header[1])
        width = last - first + 1
        schema = pa.schema([("line", pa.int64()), *((f"c{i}", pa.string()) for i in range(width))])
        outside = 0
        written = 0
        with pq.ParquetWriter(target, schema) as writer:
            batch: list[list[object]] = [[] for _ in range(width + 1)]
            for number, row in rows:
                if not _span_has_value(row, first, last):
                    outside += any(v is not None and v != "" for v in row)
                    continue
                outside += any(v is not None and v != "" for v in (*row[:first], *row[last + 1 :]))
                batch[0].append(number)
                for i in range(width):
                    position = first + i
                    batch[i + 1].append(_cell_text(row[position]) if position < len(row) else None)
                if len(batch[0]) >= _SHEET_BATCH_ROWS:
                    written += _write_batch(writer, schema, batch)
                    batch = [[] for _ in range(width + 1)]
            written += _write_batch(writer, schema, batch)
    result = Sheet(name, cells, has_rows=written > 0)
    if outside:
        result.notes.append(
            f"{outside:,} rows of the sheet '{name}' have values outside the columns under the "
            "header row; those values were not read."
        )
    return result


@contextmanager
def _open_packed(path: Path, packed: str) -> Iterator[tuple[BinaryIO, int]]:
    """Yield the readable stream of the file inside an archive and its unpacked byte limit."""
    path = Path(path)
    with ExitStack() as stack:
        if packed == "gzip":
            yield stack.enter_context(gzip.open(path, "rb")), _unpack_limit(path.stat().st_size)
        else:
            try:
                archive = stack.enter_context(zipfile.ZipFile(path))
            except (zipfile.BadZipFile, OSError) as exc:
                raise _damaged("zip") from exc
            _refuse_zip_bomb(archive, path)
            member = _only_member(archive)
            yield stack.enter_context(archive.open(member)), _unpack_limit(path.stat().st_size)


def _only_member(archive: zipfile.ZipFile) -> zipfile.ZipInfo:
    members = [
        m
        for m in archive.infolist()
        if not m.is_dir() and not any(part in m.filename for part in _IGNORED_MEMBERS)
    ]
    if len(members) != 1:
        raise IngestError(
            f"This zip archive holds {len(members)} files; put exactly one table "
            "(CSV, Parquet or .xlsx) in it, or upload the file itself."
        )
    if members[0].flag_bits & 0x1:
        raise IngestError("This zip archive is password-protected; upload the file itself.")
    return members[0]


def list_sheets(path: Path) -> list[str]:
    """Return the worksheet names of an Excel workbook, in its order (the first is the default).

    Raises IngestError for a damaged workbook or one without sheets.
    """
    with _open_workbook(path) as workbook:
        return list(workbook.sheetnames)


@contextmanager
def _open_workbook(path: Path) -> Iterator[Any]:
    """Yield an openpyxl workbook opened read-only, once it is known not to be a zip bomb."""
    # openpyxl takes a second to import; only workbook uploads pay for it.
    import openpyxl

    path = Path(path)
    _refuse_workbook_bomb(path)
    with ExitStack() as stack:
        # A file object, not the path: openpyxl refuses a path without the .xlsx extension.
        handle = stack.enter_context(path.open("rb"))
        try:
            workbook = openpyxl.load_workbook(handle, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds of error for a damaged file
            raise IngestError(DAMAGED_WORKBOOK) from exc
        stack.callback(workbook.close)
        if not workbook.sheetnames:
            raise IngestError("This Excel workbook has no sheets.")
        yield workbook


@contextmanager
def _open_sheet(path: Path, sheet: str | None) -> Iterator[tuple[Any, str]]:
    """Yield the chosen (default: first) worksheet of a workbook, read-only, and its name.

    Its rows are read as far as the sheet holds cells: read-only openpyxl otherwise stops at the
    size the sheet's ``<dimension>`` tag states, which other programs often leave stale.
    """
    with _open_workbook(path) as workbook:
        names = workbook.sheetnames
        name = names[0] if sheet is None else sheet
        if name not in names:
            raise IngestError(
                f"The workbook has no sheet called '{sheet}'; its sheets are: {', '.join(names)}."
            )
        worksheet = workbook[name]
        worksheet.reset_dimensions()
        yield worksheet, name


def _refuse_workbook_bomb(path: Path) -> None:
    """Refuse a workbook any of whose parts (sheets, strings, styles, ...) is a zip bomb."""
    try:
        with zipfile.ZipFile(path) as archive:
            _refuse_zip_bomb(archive, path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise IngestError(DAMAGED_WORKBOOK) from exc


def _refuse_zip_bomb(archive: zipfile.ZipFile, path: Path) -> None:
    """Raise IngestError, before anything is unpacked, when the zip archive or workbook at
    ``path`` holds parts that together unpack past the limit of the module doc, or one part
    above RATIO_CHECKED_BYTES packed more than MAX_PART_RATIO times.

    Only the archive's directory is read: Python's zip reader never unpacks a part past the
    size the directory gives it (a part that holds more fails its checksum).
    """
    parts = [m for m in archive.infolist() if not m.is_dir()]
    packed = Path(path).stat().st_size
    limit = _unpack_limit(packed)
    total = sum(m.file_size for m in parts)
    if "xl/workbook.xml" in archive.namelist():
        kind, fix = "workbook", "save the sheet as 'CSV UTF-8' and load that"
        suspect = "a zip bomb or a sheet far larger than Excel allows"
    else:
        kind, fix, suspect = (
            "zip archive",
            "unpack it yourself and load the file inside",
            "a zip bomb",
        )
    if total > limit:
        raise IngestError(
            f"This {kind} unpacks to {total / 2**20:,.0f} MB from a {_megabytes(packed)} "
            f"file, more than the {limit / 2**20:,.0f} MB allowed; it looks like {suspect}, "
            f"so it was not loaded: {fix}."
        )
    for part in parts:
        ratio = part.file_size / max(part.compress_size, 1)
        if part.file_size > RATIO_CHECKED_BYTES and ratio > MAX_PART_RATIO:
            raise IngestError(
                f"The part '{part.filename}' of this {kind} unpacks to "
                f"{part.file_size / 2**20:,.0f} MB from {_megabytes(part.compress_size)}, "
                f"packed more than {MAX_PART_RATIO} times as no real table is; it looks like a "
                f"zip bomb, so it was not loaded: {fix}."
            )


def _sheet_rows(worksheet: Any) -> Iterator[tuple[int, tuple[object, ...]]]:
    """Yield (row number from 1, cell values) of the non-blank rows, from the header row on."""
    started = False
    for number, row in enumerate(worksheet.iter_rows(values_only=True), start=1):
        if number > MAX_SHEET_ROWS or len(row) > MAX_SHEET_COLUMNS:
            raise IngestError(
                f"This sheet has more than {MAX_SHEET_ROWS:,} rows or {MAX_SHEET_COLUMNS:,} "
                "columns, more than Excel allows, so it was not loaded; save it as 'CSV UTF-8' "
                "and load that."
            )
        if not started and not any(v is not None and v != "" for v in row):
            continue
        started = True
        yield number, row


def _header_span(row: tuple[object, ...]) -> tuple[int, int, list[str]]:
    """Return the first and last non-empty header cells' positions and the header texts."""
    filled = [i for i, v in enumerate(row) if v is not None and str(v).strip() != ""]
    first, last = filled[0], filled[-1]
    return first, last, [_cell_text(v) or "" for v in row[first : last + 1]]


def _span_has_value(row: tuple[object, ...], first: int, last: int) -> bool:
    return any(v is not None and v != "" for v in row[first : last + 1])


def _cell_text(value: object) -> str | None:
    """A cell as the text a CSV export of the sheet would hold (dates in ISO form)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _write_batch(writer: pq.ParquetWriter, schema: pa.Schema, batch: list[list[object]]) -> int:
    if not batch[0]:
        return 0
    writer.write_table(pa.Table.from_arrays(batch, schema=schema))
    return len(batch[0])


def _unpack_limit(packed_bytes: int) -> int:
    return min(MAX_UNPACKED_BYTES, max(MIN_BOMB_BYTES, MAX_PACK_RATIO * packed_bytes))


def _bomb(path: Path, limit: int) -> IngestError:
    return IngestError(
        f"This archive unpacks to more than {limit / 2**20:,.0f} MB from a "
        f"{_megabytes(path.stat().st_size)} file; it looks like a zip bomb, so it was not "
        "loaded. Unpack it yourself and load the file inside."
    )


def _damaged(packed: str) -> IngestError:
    kind = "gzip file" if packed == "gzip" else "zip archive"
    return IngestError(f"This {kind} is damaged or truncated and could not be unpacked.")


def _megabytes(size: int) -> str:
    return f"{size / 2**20:,.1f} MB" if size >= 2**20 else f"{size:,}-byte"


def _decode_as_latin1(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    bad = error.object[error.start : error.end]
    return bad.decode("latin-1"), error.end


_LATIN1_FALLBACK = "segments-latin1-fallback"
codecs.register_error(_LATIN1_FALLBACK, _decode_as_latin1)
