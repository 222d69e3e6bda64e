"""Loading store exports (Shopify orders / customers, any orders table) into a dataset.

``ingest_file`` is the one entry point: it checks the file, reads it through DuckDB into
staging tables, validates every row in SQL and writes the good rows in one transaction, or
raises IngestError (one sentence) and leaves the dataset exactly as it was.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable
from pathlib import Path

import duckdb

from dashboard import store
from dashboard.ingest import load, read, shopify
from dashboard.ingest.mapping import (
    ORDER_FIELDS,
    FieldSpec,
    guess_mapping,
    resolve_mapping,
    stage_generic_orders,
)
from dashboard.ingest.report import IngestError, IngestReport, RowIssue

__all__ = [
    "FORMATS",
    "ORDER_FIELDS",
    "FieldSpec",
    "IngestError",
    "IngestReport",
    "RowIssue",
    "detect_format",
    "guess_mapping",
    "ingest_file",
    "read_headers",
]

FORMATS = ("auto", "shopify-orders", "shopify-customers", "generic")
read_headers = read.read_headers
_log = logging.getLogger(__name__)


def detect_format(headers: list[str]) -> str:
    """Return 'shopify-orders', 'shopify-customers' or 'generic' from a file's header names."""
    if shopify.is_orders_export(headers):
        return "shopify-orders"
    if shopify.is_customers_export(headers):
        return "shopify-customers"
    return "generic"


def ingest_file(
    workspace: Path,
    dataset: str,
    path: Path,
    *,
    file_format: str = "auto",
    mapping: dict[str, str | None] | None = None,
    display_name: str | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> IngestReport:
    """Load one CSV or Parquet file into ``dataset`` (created if absent) and return its report.

    In: a Shopify orders export (one row per line item) -> ``orders`` + ``order_lines``; a
    Shopify customers export -> ``customers``; a generic orders table -> ``orders`` through
    ``mapping`` (canonical field -> the file's header; fields absent or None are not read; None
    means the guess of ``guess_mapping``). Out: the report, with ``ingest_id`` set, of what was
    loaded, skipped as already loaded, and rejected (line, column, reason, value).

    Raises IngestError when nothing can be loaded (empty or binary file, missing required
    column, ...); the dataset is then exactly as before, and not created if it did not exist.
    """
    say = progress or (lambda fraction, message: None)
    if file_format not in FORMATS:
        raise IngestError(f"Unknown file format '{file_format}'; use one of {', '.join(FORMATS)}.")
    try:
        store.validate_dataset_name(dataset)
    except store.WorkspaceError as exc:
        raise IngestError(str(exc)) from exc
    path = Path(path)
    say(0.0, "Checking the file")
    info = read.inspect_file(path)
    if not info.has_rows:
        raise IngestError("The file has a header row but no data rows.")
    chosen = detect_format(info.headers) if file_format == "auto" else file_format
    positions = resolve_mapping(info.headers, mapping) if chosen == "generic" else {}
    shopify.check_headers(chosen, info.headers)
    meta = load.FileMeta(
        file_name=display_name or path.name,
        sha256=_sha256(path),
        read_notes=[],
        today=dt.date.today(),
    )
    created = not store.dataset_exists(workspace, dataset)
    opened = False
    try:
        with store.open_for_write(workspace, dataset) as con:
            opened = True
            return _ingest(con, path, info, chosen, positions, meta, say)
    except BaseException as exc:
        if created and opened:
            store.delete_dataset(workspace, dataset)
        if isinstance(exc, Exception) and not isinstance(exc, IngestError):
            raise _as_sentence(exc, path, dataset) from exc
        raise


def _ingest(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    info: read.FileInfo,
    file_format: str,
    positions: dict[str, int],
    meta: load.FileMeta,
    say: Callable[[float, str], None],
) -> IngestReport:
    say(0.1, "Reading the file")
    con.execute("SET enable_progress_bar = false")
    if file_format == "generic":
        needed = list(positions.values())
    else:
        needed = shopify.needed_columns(file_format, info.headers)
    staged = read.stage_file(con, path, info, needed)
    if staged.records == 0:
        raise IngestError("The file has a header row but no data rows.")
    meta = load.FileMeta(meta.file_name, meta.sha256, staged.notes, meta.today)
    say(0.5, "Checking the values")
    if file_format == "shopify-customers":
        customers = shopify.stage_customers(con, info.headers)
        say(0.8, "Saving")
        report = load.load_customers(con, customers, meta)
    else:
        if file_format == "shopify-orders":
            orders = shopify.stage_orders(con, info.headers)
        else:
            orders = stage_generic_orders(con, info.headers, positions)
        say(0.8, "Saving")
        report = load.load_orders(con, orders, meta)
    say(1.0, "Done")
    return report


def _as_sentence(exc: Exception, path: Path, dataset: str) -> IngestError:
    """The IngestError shown for an error that is not one already: no traceback text."""
    if isinstance(exc, store.WorkspaceError):
        return IngestError(str(exc))
    _log.exception("ingest of %s into %s failed", path.name, dataset)
    return IngestError(
        "The file could not be loaded because of an unexpected error; nothing was changed."
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
