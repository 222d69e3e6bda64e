"""Loading store exports into a dataset: orders, order lines, customers, abandoned checkouts,
sessions, channel sessions, marketing spend and survey scores, from every common export format.

``ingest_file`` is the one entry point: it checks the file, turns it into something DuckDB
reads directly (out of a .gz or .zip, UTF-16 or Windows-1252 text as UTF-8, an Excel sheet as
Parquet), reads it into staging tables, validates every row in SQL and writes the good rows in
one transaction, or raises IngestError (one sentence) and leaves the dataset exactly as it was.

Formats (FORMATS; 'auto' detects them from the header names):

- read by their column names: ``shopify-orders``, ``shopify-customers``, ``shopify-checkouts``
  (abandoned checkouts and their lines), ``woocommerce-orders``, ``uci-online-retail``, and the
  analytics and ad platforms' exports of ``platforms.FORMATS`` (GA4 events and acquisition
  reports, Meta Ads, Google Ads);
- mapped (the analyst confirms which column holds each field, see ``fields_for``):
  ``generic`` (orders), ``order-lines``, ``customers``, ``sessions``, ``marketing-spend``,
  ``surveys``.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import duckdb

from dashboard.ingest import (
    generic,
    ledger,
    lines,
    load_customers,
    load_orders,
    one_pass,
    platforms,
    read,
    relational,
    shopify,
    sniff,
    tables,
    uci,
    unpack,
    woocommerce,
)
from dashboard.ingest.detect import (
    Detection,
    choose_format,
    describe_detection,
    describe_file,
    detect_file_format,
    detect_format,
)
from dashboard.ingest.load_customers import CustomerSource
from dashboard.ingest.load_orders import OrderSource
from dashboard.ingest.mapping import (
    MAPPED_FORMATS,
    ORDER_FIELDS,
    FieldSpec,
    fields_for,
    guess_mapping,
    resolve_mapping,
)
from dashboard.ingest.report import IngestError, IngestReport, RowIssue
from dashboard.ingest.values import DATE_ORDERS, DECIMAL_MARKS, ReadOptions
from dashboard.workspace import audit, store

__all__ = [
    "DATE_ORDERS",
    "DECIMAL_MARKS",
    "FORMATS",
    "MAPPED_FORMATS",
    "ORDER_FIELDS",
    "FieldSpec",
    "IngestError",
    "IngestReport",
    "RowIssue",
    "Detection",
    "check_mapping",
    "describe_detection",
    "describe_file",
    "detect_file_format",
    "detect_format",
    "fields_for",
    "guess_mapping",
    "ingest_file",
    "inspect_upload",
    "list_sheets",
    "read_headers",
]

FORMATS = (
    "auto",
    "shopify-orders",
    "shopify-customers",
    "shopify-checkouts",
    "woocommerce-orders",
    "uci-online-retail",
    *platforms.FORMATS,
    *MAPPED_FORMATS,
)
read_headers = sniff.read_headers
NO_DATA_ROWS = "The file has a header row but no data rows."
list_sheets = unpack.list_sheets
# DuckDB may use this much memory, or MEMORY_PER_FILE_BYTE times the file's size if larger, but
# never more than MAX_MEMORY_SHARE of the machine's memory, before it spills temporary tables to
# disk. 0.8 keeps the peak of a 10M-order CSV at about 1.3x the file (1.0 gave 1.5x, 2.0 2.6x),
# for a load a few seconds slower.
MIN_MEMORY_LIMIT = 512 * 2**20
MEMORY_PER_FILE_BYTE = 0.8
MAX_MEMORY_SHARE = 0.8
_log = logging.getLogger(__name__)
# format -> (builder, the positions of the columns it reads)
_FIXED = {
    "shopify-orders": (shopify.stage_orders, partial(shopify.needed_columns, "shopify-orders")),
    "shopify-checkouts": (
        shopify.stage_checkouts,
        partial(shopify.needed_columns, "shopify-checkouts"),
    ),
    "shopify-customers": (
        shopify.stage_customers,
        partial(shopify.needed_columns, "shopify-customers"),
    ),
    "woocommerce-orders": (woocommerce.stage_orders, woocommerce.needed_columns),
    "uci-online-retail": (uci.stage_orders, uci.needed_columns),
    **{name: (f.stage, f.needed_columns) for name, f in platforms.FORMATS.items()},
}
_MAPPED = {
    "generic": generic.stage_orders,
    "order-lines": generic.stage_lines,
    "customers": generic.stage_customers,
    "sessions": generic.stage_sessions,
    "marketing-spend": generic.stage_spend,
    "surveys": generic.stage_surveys,
}
Source = OrderSource | CustomerSource | tables.TableSource


def inspect_upload(
    path: Path, sheet: str | None = None, file_name: str | None = None
) -> tuple[list[str], Detection]:
    """Return the header names of the file at ``path`` (``sheet`` of a workbook) and what
    ``describe_detection`` makes of them, for the choices made before a load.

    Raises IngestError, as ``ingest_file`` would, for a file with a header row but no data rows,
    so it is refused before anyone maps its columns.
    """
    info = sniff.inspect_file(Path(path), sheet)
    if not info.has_rows:
        raise IngestError(NO_DATA_ROWS)
    detection = describe_detection(
        info.headers, file_name or Path(path).name, info.sample, info.preamble > 0
    )
    return info.headers, detection


def check_mapping(
    headers: list[str], file_format: str, mapping: dict[str, str | None] | None
) -> None:
    """Raise IngestError, as ``ingest_file`` would, when ``mapping`` does not fit the file.

    For a mapped format: an unknown field, a header not in ``headers``, a required field left
    out; for the others: any mapping at all, or a required column missing from ``headers``.
    """
    _check_choice(file_format, FORMATS, "file format")
    _resolve_columns(
        detect_format(headers) if file_format == "auto" else file_format, headers, mapping
    )


def ingest_file(
    workspace: Path,
    dataset: str,
    path: Path,
    *,
    file_format: str = "auto",
    mapping: dict[str, str | None] | None = None,
    display_name: str | None = None,
    progress: Callable[[float, str], None] | None = None,
    date_order: str = "auto",
    decimal: str = "auto",
    sheet: str | None = None,
) -> IngestReport:
    """Load one table file into ``dataset`` (created if absent) and return its report.

    In: CSV (any of , ; tab |; UTF-8 with or without BOM, UTF-16, Windows-1252), Parquet, Excel
    .xlsx (``sheet``, default the first), or one of those in a .gz or single-file .zip, in one
    of FORMATS. A mapped format is read through ``mapping`` (canonical field -> the file's
    header; fields absent or None are not read; ``mapping`` None means the guess of
    ``guess_mapping``). ``date_order`` ('auto', 'month-first', 'day-first') says how 3/4/2024
    reads when the file does not prove it; ``decimal`` ('auto', '.', ',') the decimal mark.
    There is no size limit here: the file is streamed. Out: the report, with ``ingest_id`` set,
    of what was loaded, skipped as already loaded, and rejected (line, column, reason, value).

    Raises IngestError when nothing can be loaded (empty or binary file, missing required
    column, dates whose order must be chosen, ...); the dataset is then exactly as before, and
    not created if it did not exist.
    """
    say = progress or (lambda fraction, message: None)
    _check_choice(file_format, FORMATS, "file format")
    _check_choice(date_order, DATE_ORDERS, "date order")
    _check_choice(decimal, DECIMAL_MARKS, "decimal mark")
    try:
        store.validate_dataset_name(dataset)
    except store.WorkspaceError as exc:
        raise IngestError(str(exc)) from exc
    path = Path(path)
    say(0.0, "Checking the file")
    info = sniff.inspect_file(path, sheet)
    if not info.has_rows:
        raise IngestError(NO_DATA_ROWS)
    chosen = choose_format(info, file_format, display_name or path.name)
    positions = _resolve_columns(chosen, info.headers, mapping)
    file_name = display_name or path.name
    store.clean_workspace(workspace)
    # The checksum is read beside DuckDB's reading, which releases the GIL.
    pool = ThreadPoolExecutor(max_workers=1)
    scan = pool.submit(lines.sha256_of, path)
    try:
        with store.create_scratch(workspace) as scratch:
            say(0.05, "Preparing the file")
            readable = read.prepare(path, info, scratch)
            with store.open_for_load(workspace, dataset, scratch) as con:
                report = _read_and_load(
                    con,
                    _LoadPlan(
                        chosen, info, positions, ReadOptions(date_order, decimal, info.report_start)
                    ),
                    readable,
                    scratch,
                    file_name,
                    scan,
                    say,
                )
            say(1.0, "Done")
            audit.record_event(
                workspace, "load", dataset, file=file_name, rows_loaded=report.rows_loaded
            )
            return report
    except Exception as exc:
        if not isinstance(exc, IngestError):
            raise _as_sentence(exc, path, dataset) from exc
        raise
    finally:
        pool.shutdown(cancel_futures=True)


@dataclass(frozen=True)
class _LoadPlan:
    """What ``ingest_file`` decided before the load: the format, the file, columns, options."""

    file_format: str
    info: sniff.FileInfo
    positions: dict[str, int]
    options: ReadOptions


def _read_and_load(
    con: duckdb.DuckDBPyConnection,
    plan: _LoadPlan,
    readable: read.Readable,
    scratch: Path,
    file_name: str,
    scan: Future[str],
    say: Callable[[float, str], None],
) -> IngestReport:
    """Read ``readable`` into the open dataset and write its good rows; return the report."""
    _limit_memory(con, scratch, readable.path)
    chosen, info = plan.file_format, plan.info
    needed = list(plan.positions.values()) if chosen in _MAPPED else _FIXED[chosen][1](info.headers)
    say(0.1, "Reading the file")
    if (
        chosen == "generic"
        and readable.kind == "csv"
        and not readable.line_offset
        and not relational.needs_staged_load(con, plan.positions)
    ):
        unread = ledger.FileMeta(file_name, "", list(readable.notes), dt.date.today())
        report = one_pass.load_clean_orders(
            con, readable.path, info, plan.positions, plan.options, unread, scan.result
        )
        if report is not None:
            # Loaders add notes after writing the ingests row (totals, currencies).
            ledger.save_notes(con, report)
            return report
    staged = read.stage_file(con, readable, info, needed, scratch)
    if staged.records == 0:
        raise IngestError(NO_DATA_ROWS)
    meta = ledger.FileMeta(file_name, scan.result(), staged.notes, dt.date.today(), staged.records)
    say(0.5, "Checking the values")
    source = _stage(con, chosen, info.headers, plan.positions, plan.options)
    say(0.8, "Saving")
    report = _load(con, source, meta)
    ledger.save_notes(con, report)
    return report


def _check_choice(value: str, allowed: tuple[str, ...], what: str) -> None:
    if value not in allowed:
        raise IngestError(f"Unknown {what} '{value}'; use one of {', '.join(allowed)}.")


def _resolve_columns(
    file_format: str, headers: list[str], mapping: dict[str, str | None] | None
) -> dict[str, int]:
    """Return the mapped fields' column positions, or check a named format's header ({})."""
    if file_format in _MAPPED:
        return resolve_mapping(headers, mapping, file_format)
    if mapping and any(mapping.values()):
        raise IngestError(
            f"A {file_format} file is read by its column names; a column mapping is only for "
            f"the mapped formats ({', '.join(MAPPED_FORMATS)})."
        )
    if file_format.startswith("shopify-"):
        shopify.check_headers(file_format, headers)
    elif file_format == "woocommerce-orders":
        woocommerce.check_headers(headers)
    elif file_format in platforms.FORMATS:
        platforms.FORMATS[file_format].check_headers(headers)
    else:
        uci.check_headers(headers)
    return {}


def _limit_memory(con: duckdb.DuckDBPyConnection, scratch: Path, readable: Path) -> None:
    """Let DuckDB spill to ``scratch`` (next to the dataset) beyond a memory limit sized to the
    file, so a big file's temporary tables cost disk, not memory."""
    con.execute("SET enable_progress_bar = false")
    con.execute("SET temp_directory = ?", [str(scratch / "spill")])
    limit = max(MIN_MEMORY_LIMIT, int(MEMORY_PER_FILE_BYTE * readable.stat().st_size))
    try:
        physical = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        physical = None
    if physical:
        limit = min(limit, int(MAX_MEMORY_SHARE * physical))
    con.execute("SET memory_limit = ?", [f"{limit // 2**20}MB"])


def _stage(
    con: duckdb.DuckDBPyConnection,
    file_format: str,
    headers: list[str],
    positions: dict[str, int],
    options: ReadOptions,
) -> Source:
    if file_format in _MAPPED:
        return _MAPPED[file_format](con, headers, positions, options)
    return _FIXED[file_format][0](con, headers, options)


def _load(con: duckdb.DuckDBPyConnection, source: Source, meta: ledger.FileMeta) -> IngestReport:
    if isinstance(source, OrderSource):
        return load_orders.load_orders(con, source, meta)
    if isinstance(source, CustomerSource):
        return load_customers.load_customers(con, source, meta)
    report = tables.load_table(con, source, meta)
    if source.table == "order_lines":
        note = generic.note_unmatched_lines(con, report.ingest_id)
        report.notes.extend([note] if note else [])
    return report


def _as_sentence(exc: Exception, path: Path, dataset: str) -> IngestError:
    """The IngestError shown for an error that is not one already: no traceback text."""
    if isinstance(exc, store.WorkspaceError):
        return IngestError(str(exc))
    # A commit that runs out of memory says so only in its message.
    if isinstance(exc, duckdb.OutOfMemoryException) or "failed to pin block" in str(exc):
        return IngestError(
            "The file needs more memory than this machine can give the import, even spilling "
            "to disk; nothing was changed. Split it into smaller files and load them in turn."
        )
    _log.exception("ingest of %s into %s failed", path.name, dataset)
    return IngestError(
        "The file could not be loaded because of an unexpected error; nothing was changed."
    )
