"""The one-pass load of a clean mapped orders CSV: read, check and insert in one statement.

Most order files are clean: every row has an order id, a date and an amount that parse, and no
order id repeats (an order without a customer is clean: it is loaded with a warning). The staged
load (``read`` then ``load_orders``) copies such a file twice before the insert, to explain bad
rows by line; here the file goes straight from DuckDB's CSV reader into ``orders``, through the
same expressions and checks, inside one transaction. The first row that is not clean (DuckDB's
``error()``), a record the reader cannot split, or a repeated order id rolls it back, and the
staged load runs instead and explains every row. A clean file gives the same rows, report and
load history either way.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from dashboard.ingest import generic, ledger, lines, load_orders, read, sniff, validation, values
from dashboard.ingest.columns import column
from dashboard.ingest.report import IngestReport

NOT_CLEAN = "a row the staged load must explain"
# Records the narrow read that looks for orders without a customer key reads first.
_FIRST_ROWS = 100_000


class _NotClean(Exception):
    """The file is not clean: undo the attempt and stage the file instead."""


# The file as the staged load reads it, every column as text (parameters: ``_file_params``).
_FILE = f"(SELECT NULL AS line_number, * FROM read_csv($path, {read.CSV_OPTIONS}))"


def load_clean_orders(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    info: sniff.FileInfo,
    positions: dict[str, int],
    options: values.ReadOptions,
    meta: ledger.FileMeta,
    checksum: Callable[[], str],
) -> IngestReport | None:
    """Load a clean mapped orders CSV (UTF-8 text, ``info``'s delimiter and headers) in one pass.

    In: ``positions`` of the mapped fields; ``meta`` without its checksum, which ``checksum``
    returns; it is asked after the insert, so the upload can be hashed meanwhile. Out: the
    report, as the staged load would give it, or None, with the dataset untouched, when the
    file is not clean or maps no order id.
    """
    if "order_id" not in positions:
        return None
    cells, labels = generic.cells_of(info.headers, positions)
    try:
        with ledger.transaction(con):
            had_orders = con.execute("SELECT count(*) > 0 FROM orders").fetchone()[0]
            ingest_id = ledger.next_ingest_id(con)
            loaded = _insert_clean_rows(con, path, info, cells, options, meta, ingest_id)
            sha256 = checksum()
            if _has_repeated_ids(con, ingest_id, had_orders):
                raise _NotClean
            read.create_read_issues(con)
            unlisted = _collect_warnings(
                con, path, info, cells, (ingest_id, loaded), labels.get("customer_id")
            )
            meta = ledger.FileMeta(
                meta.file_name, sha256, meta.read_notes, meta.today, records=loaded
            )
            notes = [n for n in (generic.note_missing_customer(cells),) if n]
            report = ledger.finish_report(
                con, ingest_id, meta, "generic", "orders", loaded, 0, notes, unlisted
            )
            # What order_notes reads of the staged load's verdicts: every row a new order.
            con.execute(
                "CREATE OR REPLACE TEMP VIEW order_verdicts AS "
                "SELECT 1 AS n_rows, 'new' AS status, order_total, refunded_amount "
                f"FROM orders WHERE ingest_id = {int(ingest_id)}"
            )
            report.notes.extend(
                load_orders.order_notes(con, load_orders.OrderSource("generic", labels))
            )
    except (_NotClean, duckdb.Error):
        return None
    return report


def _file_params(path: Path, info: sniff.FileInfo) -> dict[str, object]:
    return {
        "path": str(path),
        "columns": {column(i): "VARCHAR" for i in range(len(info.headers))},
        "delim": info.delimiter,
    }


def _insert_clean_rows(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    info: sniff.FileInfo,
    cells: dict[str, str],
    options: values.ReadOptions,
    meta: ledger.FileMeta,
    ingest_id: int,
) -> int:
    """Insert every row of the file into ``orders``; raise duckdb.Error at a row not clean."""
    mark = "." if options.decimal == "auto" else options.decimal
    typed = load_orders.order_rows_select(
        generic.order_expressions(cells, values.DateOrder(None), mark)
    )
    quiet = generic.quiet_order_condition(cells, options)
    columns = ", ".join(load_orders.ORDER_VALUES)
    # Keeping the file's order would cost a third of the insert; nothing here needs it.
    con.execute("SET preserve_insertion_order = false")
    try:
        return con.execute(
            f"""
            INSERT INTO orders (order_id, {columns}, ingest_id)
            SELECT order_id, {columns}, $ingest FROM (
                SELECT *, CAST(order_total - refunded_amount AS DECIMAL(18, 2)) AS net_total
                FROM (SELECT {typed}, {quiet} AS is_quiet FROM {_FILE})
            )
            WHERE CASE WHEN is_quiet AND {load_orders.first_failing_check()} IS NULL THEN true
                       ELSE error($not_clean) END
            """,
            {
                **_file_params(path, info),
                "ingest": ingest_id,
                "not_clean": NOT_CLEAN,
                **validation.check_dates(meta.today),
            },
        ).fetchone()[0]
    finally:
        con.execute("RESET preserve_insertion_order")


def _has_repeated_ids(con: duckdb.DuckDBPyConnection, ingest_id: int, had_orders: bool) -> bool:
    """True when an order id of ingest ``ingest_id`` repeats in it or was stored before."""
    if con.execute(
        "SELECT count(*) > count(DISTINCT order_id) FROM orders WHERE ingest_id = ?",
        [ingest_id],
    ).fetchone()[0]:
        return True
    return (
        had_orders
        and con.execute(
            """
        SELECT count(*) > 0 FROM orders o
        SEMI JOIN (SELECT order_id FROM orders WHERE ingest_id = $ingest) n USING (order_id)
        WHERE o.ingest_id <> $ingest
        """,
            {"ingest": ingest_id},
        ).fetchone()[0]
    )


def _collect_warnings(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    info: sniff.FileInfo,
    cells: dict[str, str],
    counts: tuple[int, int],
    label: str | None,
) -> dict[tuple[str, str], int]:
    """Fill ``load_issues`` with the staged load's one warning: orders without a customer key.

    The report keeps the first ``ledger.MAX_ISSUES_PER_REASON`` warnings of a reason and counts
    the rest. The insert kept no line numbers, so a second, narrow read of the file, in its
    order, finds the first records without a key and stops; their lines come from the file's
    start; without a customer column every record is one. Out: the warnings counted but not
    listed, by (severity, reason).
    """
    ingest_id, loaded = counts
    con.execute(
        "CREATE OR REPLACE TEMP TABLE load_issues (line_number BIGINT, column_name VARCHAR, "
        "severity VARCHAR, reason VARCHAR, raw_value VARCHAR)"
    )
    keyless = con.execute(
        "SELECT count(*) FROM orders WHERE ingest_id = ? AND customer_id IS NULL", [ingest_id]
    ).fetchone()[0]
    if not keyless:
        return {}
    records = (
        _first_keyless_records(con, path, info, cells, ledger.MAX_ISSUES_PER_REASON)
        if "customer_id" in cells
        else np.arange(min(keyless, ledger.MAX_ISSUES_PER_REASON))
    )
    numbers = _record_lines(path, info.delimiter, records, loaded)
    con.register("warned_lines", pa.table({"line_number": pa.array(numbers, pa.int64())}))
    try:
        con.execute(
            "INSERT INTO load_issues SELECT line_number, $label, 'warning', $reason, NULL "
            "FROM warned_lines",
            {"label": label, "reason": load_orders.NO_CUSTOMER_KEY},
        )
    finally:
        con.unregister("warned_lines")
    return {("warning", load_orders.NO_CUSTOMER_KEY): keyless - len(records)}


def _first_keyless_records(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    info: sniff.FileInfo,
    cells: dict[str, str],
    limit: int,
) -> np.ndarray:
    """Return the record numbers (from 0, in file order) of the first ``limit`` records without
    a customer key, reading the file's first records only, ten times more until they are found.
    """
    rows = _FIRST_ROWS
    while True:
        keyless = con.execute(
            f"SELECT {values.customer_key(cells['customer_id'])} IS NULL AS keyless "
            f"FROM {_FILE} LIMIT $rows",
            {**_file_params(path, info), "rows": rows},
        ).fetchnumpy()["keyless"]
        found = np.flatnonzero(keyless)
        if len(found) >= limit or len(keyless) < rows:
            return found[:limit]
        rows *= 10


def _record_lines(path: Path, delimiter: str, records: np.ndarray, loaded: int) -> np.ndarray:
    """Return the line (header = 1) of each of ``records`` (record numbers from 0, ascending)."""
    if lines.lines_are_plain(path, int(records[-1]) + 2):
        return records + 2
    index = lines.index_by_quotes(path, delimiter)
    if len(index) != loaded:
        raise _NotClean  # the two readers disagree on records: the staged load sorts it out
    if index.is_one_line_per_record():
        return records + 2
    return index.start_lines[records]
