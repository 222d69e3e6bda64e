"""Validation, the one-transaction write, and the ingest report of orders and customers.

Format builders (``generic``, ``shopify``, ``woocommerce``, ``uci``) stage a file as TEMP VIEWs
over ``raw_rows``, typed but unvalidated; this module materialises them once, releases the raw
cells, checks every row in SQL, compares with what the dataset already holds, and writes the
good rows, the ``ingests`` row and every issue inside one BEGIN ... COMMIT. (The other tables
go through ``tables``, which shares the report step.)

- ``order_rows``: ORDER_ROW_TYPES; one row per file row (generic) or per folded order (Shopify,
  WooCommerce, UCI), ``*_raw`` columns keep the text as written for messages. Optional
  ``line_rows``: LINE_ROW_TYPES.
- ``customer_rows``: CUSTOMER_ROW_TYPES; one row per file row.

Counts reconcile per unit (file rows, or orders for a Shopify line-item export):
rows_read = rows_loaded + rows_rejected + rows_duplicate, and every rejected unit carries exactly
one rejected issue. A record the CSV reader could not split counts as one rejected unit.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import duckdb

from dashboard.ingest import read, values
from dashboard.ingest.report import IngestReport, RowIssue

MAX_ISSUES_PER_REASON = 1000
EARLIEST_DATE = dt.date(1990, 1, 1)
NO_CUSTOMER_KEY = "no customer key: kept for store totals, not scored"
DATE_ORDER_MISMATCH = (
    "day and month do not fit the date order this file was read with (see the notes)"
)
DATE_NOT_RECOGNISED = "date not recognised (use YYYY-MM-DD or YYYY-MM-DD HH:MM:SS)"
DATE_TOO_EARLY = "implausible date (before 1990)"
DATE_IN_FUTURE = "date in the future"

ORDER_ROW_TYPES = {
    "line_number": "BIGINT",
    "order_id": "VARCHAR",
    "order_id_missing": "BOOLEAN",
    "customer_id": "VARCHAR",
    "ordered_at_raw": "VARCHAR",
    "ordered_at": "TIMESTAMP",
    "total_raw": "VARCHAR",
    "order_total": "DECIMAL(18, 2)",
    "refunded_raw": "VARCHAR",
    "refunded_amount": "DECIMAL(18, 2)",
    "is_cancelled": "BOOLEAN",
    "currency": "VARCHAR",
    "discount_code": "VARCHAR",
    "channel": "VARCHAR",
    "country": "VARCHAR",
    "source_name": "VARCHAR",
    "utm_source": "VARCHAR",
    "utm_medium": "VARCHAR",
    "utm_campaign": "VARCHAR",
    "referrer": "VARCHAR",
    "tags": "VARCHAR",
    "financial_status": "VARCHAR",
}
_ORDER_ROW_DEFAULTS = {
    "line_number": "line_number",
    "order_id_missing": "false",
    "refunded_amount": "0",
    "is_cancelled": "false",
}
LINE_ROW_TYPES = {
    "order_id": "VARCHAR",
    "line_number": "INTEGER",
    "source_line": "BIGINT",
    "product": "VARCHAR",
    "sku": "VARCHAR",
    "quantity_raw": "VARCHAR",
    "quantity": "INTEGER",
    "price_raw": "VARCHAR",
    "price": "DECIMAL(18, 2)",
    "category": "VARCHAR",
}
CUSTOMER_ROW_TYPES = {
    "line_number": "BIGINT",
    "customer_id": "VARCHAR",
    "keyed_by_id": "BOOLEAN",
    "email": "VARCHAR",
    "first_name": "VARCHAR",
    "accepts_marketing_raw": "VARCHAR",
    "accepts_marketing": "BOOLEAN",
    "accepts_sms_raw": "VARCHAR",
    "accepts_sms": "BOOLEAN",
    "country": "VARCHAR",
    "city": "VARCHAR",
    "tags": "VARCHAR",
    "total_spent_raw": "VARCHAR",
    "total_spent": "DECIMAL(18, 2)",
    "total_orders_raw": "VARCHAR",
    "total_orders": "INTEGER",
}
_CUSTOMER_ROW_DEFAULTS = {"line_number": "line_number", "keyed_by_id": "false"}

# Stored order columns an identical re-upload must match (all but ingest_id).
ORDER_VALUES = (
    "customer_id",
    "ordered_at",
    "order_total",
    "refunded_amount",
    "net_total",
    "currency",
    "discount_code",
    "is_cancelled",
    "channel",
    "country",
    "source_name",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "referrer",
    "tags",
    "financial_status",
)
_CUSTOMER_VALUES = (
    "email",
    "first_name",
    "accepts_marketing",
    "accepts_sms",
    "country",
    "city",
    "tags",
    "total_spent",
    "total_orders",
)

# Values of rows sharing an order id that are added up or combined rather than taken first.
_FOLDED = ("ordered_at", "order_total", "refunded_amount", "net_total", "is_cancelled")

# (condition on order_rows, field, reason, raw value shown); the first failing check counts.
_ORDER_CHECKS = (
    ("order_id_missing", "order_id", "missing order id", "NULL"),
    ("ordered_at_raw IS NULL", "ordered_at", "missing date", "NULL"),
    (
        f"ordered_at IS NULL AND {values.is_day_month_date('ordered_at_raw')}",
        "ordered_at",
        DATE_ORDER_MISMATCH,
        "ordered_at_raw",
    ),
    ("ordered_at IS NULL", "ordered_at", DATE_NOT_RECOGNISED, "ordered_at_raw"),
    ("ordered_at < $earliest", "ordered_at", DATE_TOO_EARLY, "ordered_at_raw"),
    ("ordered_at >= $future", "ordered_at", DATE_IN_FUTURE, "ordered_at_raw"),
    ("total_raw IS NULL", "order_total", "missing amount", "NULL"),
    ("order_total IS NULL", "order_total", "amount is not a number", "total_raw"),
    (
        "order_total < 0",
        "order_total",
        "negative amount: returns must be given as refunded_amount",
        "total_raw",
    ),
    (
        "refunded_raw IS NOT NULL AND refunded_amount IS NULL",
        "refunded_amount",
        "refunded amount is not a number",
        "refunded_raw",
    ),
    ("refunded_amount < 0", "refunded_amount", "negative refunded amount", "refunded_raw"),
)
_ORDER_VERDICT_REASONS = {
    "rejected-row": "another row of the same order was rejected",
    "conflicting": "rows with the same order id disagree on customer or date",
    "changed": "order id already loaded with different values",
}
# (condition on line_rows, field, reason); the raw value shown is the field's ``*_raw`` column.
_LINE_WARNINGS = (
    (
        "quantity_raw IS NOT NULL AND quantity IS NULL",
        "quantity",
        "line item quantity is not a whole number (left empty)",
    ),
    (
        "price_raw IS NOT NULL AND price IS NULL",
        "price",
        "line item price is not a number (left empty)",
    ),
)
_CUSTOMER_WARNINGS = (
    ("keyed_by_id", "customer_id", "no email: keyed by Customer ID, so it cannot match orders"),
    (
        "total_spent_raw IS NOT NULL AND total_spent IS NULL",
        "total_spent",
        "total spent is not a number (left empty)",
    ),
    (
        "total_orders_raw IS NOT NULL AND total_orders IS NULL",
        "total_orders",
        "total orders is not a whole number (left empty)",
    ),
    (
        "accepts_marketing_raw IS NOT NULL AND accepts_marketing IS NULL",
        "accepts_marketing",
        "accepts marketing is not yes or no (left empty)",
    ),
    (
        "accepts_sms_raw IS NOT NULL AND accepts_sms IS NULL",
        "accepts_sms",
        "accepts SMS is not yes or no (left empty)",
    ),
)


@dataclass
class OrderSource:
    """What a builder staged in ``order_rows``: ``columns`` maps fields to the file's headers."""

    file_format: str
    columns: dict[str, str]
    notes: list[str] = field(default_factory=list)
    has_lines: bool = False


@dataclass
class CustomerSource:
    """What a builder staged in ``customer_rows``: ``columns`` maps fields to the file's headers."""

    file_format: str
    columns: dict[str, str]
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class FileMeta:
    """The file being loaded: the name shown, its checksum, what the read step found."""

    file_name: str
    sha256: str
    read_notes: list[str]
    today: dt.date
    records: int = 0  # data records of the file, read or rejected by the CSV reader


def create_order_rows(
    con: duckdb.DuckDBPyConnection, expressions: dict[str, str], source: str
) -> None:
    """Create the view ``order_rows`` over ``source`` (table or subquery), one expression a field.

    Fields left out get their default (false, 0 refunded, the source's line_number) or NULL.
    """
    _create_typed(con, "order_rows", ORDER_ROW_TYPES, _ORDER_ROW_DEFAULTS, expressions, source)


def create_line_rows(
    con: duckdb.DuckDBPyConnection, expressions: dict[str, str], source: str
) -> None:
    """Create the view ``line_rows`` (one row per order line) over ``source``."""
    _create_typed(con, "line_rows", LINE_ROW_TYPES, {}, expressions, source)


def create_customer_rows(
    con: duckdb.DuckDBPyConnection, expressions: dict[str, str], source: str
) -> None:
    """Create the view ``customer_rows`` over ``source`` with one SQL expression per field."""
    _create_typed(
        con, "customer_rows", CUSTOMER_ROW_TYPES, _CUSTOMER_ROW_DEFAULTS, expressions, source
    )


def rounded_id_condition(expr: str) -> str:
    """SQL, true when ``expr`` holds an id like ``7.02255E+12`` (a spreadsheet rounded it)."""
    # The cheap test first: most ids have no 'e', and the regex then never runs (a CASE, as an
    # AND in a select list evaluates both sides for every row).
    return (
        f"CASE WHEN contains({expr}, 'E') OR contains({expr}, 'e') "
        rf"THEN regexp_full_match(trim({expr}), '-?\d+(\.\d+)?[eE]\+?\d+') ELSE false END"
    )


def note_rounded_ids(
    con: duckdb.DuckDBPyConnection, table: str, expr: str, label: str
) -> str | None:
    """Return a note when ``expr`` holds ids like ``7.02255E+12`` (a spreadsheet rounded them)."""
    count, example = con.execute(
        f"SELECT count(*), arg_min(trim({expr}), line_number) FROM {table} "
        f"WHERE {rounded_id_condition(expr)}"
    ).fetchone()
    if not count:
        return None
    return (
        f"'{label}' has {count:,} values like {example}: ids were rounded by a spreadsheet "
        "program; re-export from the store and load that file without opening it in a spreadsheet."
    )


def load_orders(
    con: duckdb.DuckDBPyConnection, source: OrderSource, meta: FileMeta
) -> IngestReport:
    """Validate ``order_rows`` (and ``line_rows``), write the good orders, return the report."""
    _check_orders(con, source, meta.today)
    if source.has_lines:
        con.execute("CREATE OR REPLACE TEMP TABLE line_staged AS SELECT * FROM line_rows")
        con.execute("DROP VIEW line_rows")
    con.execute("DROP VIEW order_rows")
    read.release(con)
    _group_orders(con)
    _judge_orders(con)
    _collect_order_issues(con, source)
    with transaction(con):
        ingest_id = next_ingest_id(con)
        con.execute(
            f"""
            INSERT INTO orders (order_id, {", ".join(ORDER_VALUES)}, ingest_id)
            SELECT order_key, {", ".join(ORDER_VALUES)}, ? FROM order_verdicts
            WHERE status = 'new'
            """,
            [ingest_id],
        )
        if source.has_lines:
            con.execute(
                """
                INSERT INTO order_lines
                    (order_id, line_number, product, sku, quantity, price, category, ingest_id)
                SELECT l.order_id, l.line_number, l.product, l.sku, l.quantity, l.price,
                       l.category, ?
                FROM line_staged l JOIN order_verdicts v ON v.order_key = l.order_id
                WHERE v.status = 'new' ORDER BY l.order_id, l.line_number
                """,
                [ingest_id],
            )
        loaded, duplicate = con.execute(
            """
            SELECT coalesce(sum(n_rows) FILTER (WHERE status = 'new'), 0),
                   coalesce(sum(n_rows) FILTER (WHERE status = 'duplicate'), 0)
            FROM order_verdicts
            """
        ).fetchone()
        report = finish_report(
            con, ingest_id, meta, source.file_format, "orders", loaded, duplicate, source.notes
        )
    report.notes.extend(order_notes(con, source))
    return report


def load_customers(
    con: duckdb.DuckDBPyConnection, source: CustomerSource, meta: FileMeta
) -> IngestReport:
    """Validate ``customer_rows``, insert new customers, update changed ones, return the report."""
    con.execute("CREATE OR REPLACE TEMP TABLE customer_staged AS SELECT * FROM customer_rows")
    con.execute("DROP VIEW customer_rows")
    read.release(con)
    same_as_first = " AND ".join(
        f"{c} IS NOT DISTINCT FROM first_value({c}) OVER w" for c in _CUSTOMER_VALUES
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE customer_ranked AS
        SELECT *, row_number() OVER w AS occurrence, {same_as_first} AS same_as_first
        FROM customer_staged
        WHERE customer_id IS NOT NULL
        WINDOW w AS (PARTITION BY customer_id ORDER BY line_number)
        """
    )
    same_as_stored = " AND ".join(f"r.{c} IS NOT DISTINCT FROM s.{c}" for c in _CUSTOMER_VALUES)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE customer_verdicts AS
        SELECT r.*, CASE
            WHEN r.occurrence > 1 AND r.same_as_first THEN 'duplicate'
            WHEN r.occurrence > 1 THEN 'repeated'
            WHEN s.customer_id IS NULL THEN 'new'
            WHEN {same_as_stored} THEN 'duplicate'
            ELSE 'updated' END AS status
        FROM customer_ranked r LEFT JOIN customers s ON s.customer_id = r.customer_id
        """
    )
    _collect_customer_issues(con, source)
    with transaction(con):
        ingest_id = next_ingest_id(con)
        con.execute(
            f"""
            INSERT OR REPLACE INTO customers (customer_id, {", ".join(_CUSTOMER_VALUES)}, ingest_id)
            SELECT customer_id, {", ".join(_CUSTOMER_VALUES)}, ? FROM customer_verdicts
            WHERE status IN ('new', 'updated')
            """,
            [ingest_id],
        )
        loaded, duplicate, updated = con.execute(
            """
            SELECT count(*) FILTER (WHERE status IN ('new', 'updated')),
                   count(*) FILTER (WHERE status = 'duplicate'),
                   count(*) FILTER (WHERE status = 'updated')
            FROM customer_verdicts
            """
        ).fetchone()
        report = finish_report(
            con, ingest_id, meta, source.file_format, "customers", loaded, duplicate, source.notes
        )
    if updated:
        report.notes.append(
            f"{updated:,} customers already in the dataset were updated with this file's values."
        )
    return report


def _create_typed(
    con: duckdb.DuckDBPyConnection,
    table: str,
    types: dict[str, str],
    defaults: dict[str, str],
    expressions: dict[str, str],
    source: str,
) -> None:
    unknown = set(expressions) - set(types)
    if unknown:
        raise ValueError(f"not a {table} field: {sorted(unknown)}")
    select = typed_columns(types, defaults, expressions)
    con.execute(f"CREATE OR REPLACE TEMP VIEW {table} AS SELECT {select} FROM {source}")


def typed_columns(
    types: dict[str, str], defaults: dict[str, str], expressions: dict[str, str]
) -> str:
    """Return the select list ``CAST((expression) AS type) AS field, ...`` of every field."""
    return ", ".join(
        f"CAST(({expressions.get(name, defaults.get(name, 'NULL'))}) AS {kind}) AS {name}"
        for name, kind in types.items()
    )


def order_rows_select(expressions: dict[str, str]) -> str:
    """Return the select list of ``order_rows`` (ORDER_ROW_TYPES) from one expression a field."""
    return typed_columns(ORDER_ROW_TYPES, _ORDER_ROW_DEFAULTS, expressions)


def first_failing_check() -> str:
    """SQL over ``order_rows``: the number of the first failing order check, NULL for a good
    row. It takes the parameters ``$earliest`` and ``$future`` (see ``check_dates``)."""
    cases = " ".join(
        f"WHEN {condition} THEN {number}"
        for number, (condition, _, _, _) in enumerate(_ORDER_CHECKS, start=1)
    )
    return f"CASE {cases} END"


def check_dates(today: dt.date) -> dict[str, dt.date]:
    """Return the values of ``first_failing_check``'s parameters: the plausible date range."""
    return {"earliest": EARLIEST_DATE, "future": today + dt.timedelta(days=2)}


def _check_orders(con: duckdb.DuckDBPyConnection, source: OrderSource, today: dt.date) -> None:
    """Materialise ``order_rows`` as ``checked``, adding ``check_no`` (the first failing check,
    NULL = good) and ``check_raw`` (the value shown) to each row; the ``*_raw`` text columns,
    read by the checks only, are not kept."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE order_checks "
        "(check_no INTEGER, column_name VARCHAR, reason VARCHAR)"
    )
    con.executemany(
        "INSERT INTO order_checks VALUES (?, ?, ?)",
        [
            (number, source.columns.get(name), reason)
            for number, (_, name, reason, _) in enumerate(_ORDER_CHECKS, start=1)
        ],
    )
    raw_shown = " ".join(
        f"WHEN {number} THEN {raw}" for number, (_, _, _, raw) in enumerate(_ORDER_CHECKS, start=1)
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE checked AS
        SELECT * EXCLUDE (ordered_at_raw, total_raw, refunded_raw) FROM (
            SELECT *, {first_failing_check()} AS check_no,
                   CAST(CASE check_no {raw_shown} END AS VARCHAR) AS check_raw
            FROM order_rows
        )
        """,
        check_dates(today),
    )


def _group_orders(con: duckdb.DuckDBPyConnection) -> None:
    """Key every row and fold rows sharing an order id into ``order_groups`` (one per order).

    Rows without an order id get a key from their content (customer, time, total), so the same
    row in a re-uploaded or overlapping file gets the same key and is recognised as loaded.
    Both are views over ``checked`` when they can be: when every row has its order id, and when
    no order id repeats (the usual case), nothing is copied.
    """
    needs_hash = con.execute(
        "SELECT count(*) > 0 FROM checked WHERE order_id IS NULL AND check_no IS NULL"
    ).fetchone()[0]
    if not needs_hash:
        con.execute(
            "CREATE OR REPLACE TEMP VIEW keyed AS "
            "SELECT *, coalesce(order_id, 'line-' || line_number) AS order_key FROM checked"
        )
    else:
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE keyed_rows AS
            SELECT *, coalesce(order_id, 'line-' || line_number) AS order_key
            FROM checked WHERE order_id IS NOT NULL OR check_no IS NOT NULL
            UNION ALL BY NAME
            SELECT * EXCLUDE (content_hash, occurrence), 'row-' || content_hash
                   || CASE WHEN occurrence > 1 THEN '-' || occurrence ELSE '' END AS order_key
            FROM (
                SELECT *, row_number() OVER (PARTITION BY content_hash ORDER BY line_number)
                          AS occurrence
                FROM (
                    SELECT *, left(md5(concat_ws('|', coalesce(customer_id, ''),
                                                 strftime(ordered_at, '%Y-%m-%d %H:%M:%S.%f'),
                                                 CAST(order_total AS VARCHAR))), 12)
                              AS content_hash
                    FROM checked WHERE order_id IS NULL AND check_no IS NULL
                )
            )
            """
        )
        con.execute("CREATE OR REPLACE TEMP VIEW keyed AS SELECT * FROM keyed_rows")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE shared AS "
        "SELECT order_key FROM keyed GROUP BY order_key HAVING count(*) > 1"
    )
    others = [c for c in ORDER_VALUES if c not in _FOLDED]
    single = f"""
        SELECT order_key, 1 AS n_rows, line_number AS first_line,
               check_no IS NOT NULL AS has_rejected_row, false AS is_conflicting,
               ordered_at, order_total, refunded_amount,
               CAST(order_total - refunded_amount AS DECIMAL(18, 2)) AS net_total,
               is_cancelled, {", ".join(others)}
        FROM keyed
    """
    if not con.execute("SELECT count(*) FROM shared").fetchone()[0]:
        con.execute(f"CREATE OR REPLACE TEMP VIEW order_groups AS {single}")
        return
    firsts = ", ".join(
        f"arg_min({c}, line_number) FILTER (WHERE check_no IS NULL) AS {c}" for c in others
    )
    # Most orders are one row: they skip the aggregation, which only rows sharing a key need.
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE order_group_rows AS
        {single} ANTI JOIN shared USING (order_key)
        UNION ALL BY NAME
        SELECT order_key, count(*) AS n_rows, min(line_number) AS first_line,
               bool_or(check_no IS NOT NULL) AS has_rejected_row,
               count(DISTINCT coalesce(customer_id, '')) FILTER (WHERE check_no IS NULL) > 1
                 OR count(DISTINCT ordered_at) FILTER (WHERE check_no IS NULL) > 1
                 AS is_conflicting,
               min(ordered_at) FILTER (WHERE check_no IS NULL) AS ordered_at,
               CAST(sum(order_total) AS DECIMAL(18, 2)) AS order_total,
               CAST(sum(refunded_amount) AS DECIMAL(18, 2)) AS refunded_amount,
               CAST(sum(order_total) - sum(refunded_amount) AS DECIMAL(18, 2)) AS net_total,
               bool_or(is_cancelled) AS is_cancelled,
               {firsts}
        FROM keyed SEMI JOIN shared USING (order_key) GROUP BY order_key
        """
    )
    con.execute("CREATE OR REPLACE TEMP VIEW order_groups AS SELECT * FROM order_group_rows")


def _judge_orders(con: duckdb.DuckDBPyConnection) -> None:
    """Give each order a status: new, duplicate (stored identically), changed, or rejected.

    Only the orders that are not simply new are written down (``order_judged``: usually few);
    ``order_verdicts`` is a view adding the status to ``order_groups``, so the file's rows are
    not copied once more.
    """
    identical = " AND ".join(f"g.{c} IS NOT DISTINCT FROM o.{c}" for c in ORDER_VALUES)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE order_judged AS
        SELECT g.order_key, CASE
            WHEN g.has_rejected_row THEN 'rejected-row'
            WHEN g.is_conflicting THEN 'conflicting'
            WHEN {identical} THEN 'duplicate'
            ELSE 'changed' END AS status
        FROM order_groups g LEFT JOIN orders o ON o.order_id = g.order_key
        WHERE g.has_rejected_row OR g.is_conflicting OR o.order_id IS NOT NULL
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP VIEW order_verdicts AS
        SELECT g.*, coalesce(j.status, 'new') AS status
        FROM order_groups g LEFT JOIN order_judged j ON j.order_key = g.order_key
        """
    )


def _collect_order_issues(con: duckdb.DuckDBPyConnection, source: OrderSource) -> None:
    """Fill ``load_issues``: one rejection per rejected row, warnings on loaded orders."""
    verdict_reasons = " ".join("WHEN ? THEN ?" for _ in _ORDER_VERDICT_REASONS)
    params: list[object] = [v for pair in _ORDER_VERDICT_REASONS.items() for v in pair]
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE load_issues AS
        SELECT k.line_number, c.column_name, 'rejected' AS severity, c.reason,
               k.check_raw AS raw_value
        FROM keyed k JOIN order_checks c ON c.check_no = k.check_no
        UNION ALL
        SELECT k.line_number, ?, 'rejected', CASE v.status {verdict_reasons} END, k.order_key
        FROM keyed k JOIN order_judged v ON v.order_key = k.order_key
        WHERE k.check_no IS NULL AND v.status IN ('rejected-row', 'conflicting', 'changed')
        UNION ALL
        SELECT first_line, ?, 'warning', ?, NULL FROM order_verdicts
        WHERE status = 'new' AND customer_id IS NULL
        """,
        [
            source.columns.get("order_id"),
            *params,
            source.columns.get("customer_id"),
            NO_CUSTOMER_KEY,
        ],
    )
    if source.has_lines:
        for condition, name, reason in _LINE_WARNINGS:
            con.execute(
                f"""
                INSERT INTO load_issues
                SELECT l.source_line, ?, 'warning', ?, l.{name}_raw
                FROM line_staged l JOIN order_verdicts v ON v.order_key = l.order_id
                WHERE v.status = 'new' AND {condition}
                """,
                [source.columns.get(name), reason],
            )


def _collect_customer_issues(con: duckdb.DuckDBPyConnection, source: CustomerSource) -> None:
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE load_issues AS
        SELECT line_number, ? AS column_name, 'rejected' AS severity, ? AS reason,
               CAST(NULL AS VARCHAR) AS raw_value
        FROM customer_staged WHERE customer_id IS NULL
        UNION ALL
        SELECT line_number, ?, 'rejected', ?, customer_id FROM customer_verdicts
        WHERE status = 'repeated'
        """,
        [
            source.columns.get("customer_id"),
            "no customer key (no email or Customer ID)",
            source.columns.get("customer_id"),
            "customer listed earlier in this file with different values",
        ],
    )
    for condition, name, reason in _CUSTOMER_WARNINGS:
        raw = "customer_id" if name == "customer_id" else f"CAST({name}_raw AS VARCHAR)"
        con.execute(
            f"""
            INSERT INTO load_issues
            SELECT line_number, ?, 'warning', ?, {raw} FROM customer_verdicts
            WHERE status IN ('new', 'updated') AND {condition}
            """,
            [source.columns.get(name), reason],
        )


def finish_report(
    con: duckdb.DuckDBPyConnection,
    ingest_id: int,
    meta: FileMeta,
    file_format: str,
    table_name: str,
    loaded: int,
    duplicate: int,
    notes: list[str],
    unlisted: dict[tuple[str, str], int] | None = None,
) -> IngestReport:
    """Store the ingests row and the issues (capped per reason); return the report.

    Reads ``read_issues`` (the reader's) and ``load_issues`` (the loader's): line_number,
    column_name, severity, reason, raw_value. ``unlisted`` counts issues, by (severity,
    reason), that are in neither table because only their first examples were looked up.
    """
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE all_issues AS
        SELECT line_number, column_name, severity, reason, raw_value FROM read_issues
        UNION ALL
        SELECT line_number, column_name, severity, reason,
               left(raw_value, {values.RAW_VALUE_CHARS}) FROM load_issues
        """
    )
    rejected, warned = con.execute(
        "SELECT count(*) FILTER (WHERE severity = 'rejected'), "
        "count(*) FILTER (WHERE severity = 'warning') FROM all_issues"
    ).fetchone()
    unlisted = unlisted or {}
    rejected += sum(n for (severity, _), n in unlisted.items() if severity == "rejected")
    warned += sum(n for (severity, _), n in unlisted.items() if severity == "warning")
    report = IngestReport(
        file_name=meta.file_name,
        file_format=file_format,
        table_name=table_name,
        records_read=meta.records,
        rows_read=loaded + rejected + duplicate,
        rows_loaded=loaded,
        rows_rejected=rejected,
        rows_duplicate=duplicate,
        notes=[*meta.read_notes, *notes],
        ingest_id=ingest_id,
        loaded_at=dt.datetime.now().replace(microsecond=0),
    )
    report.issue_counts = {
        (severity, reason): total
        for severity, reason, total in con.execute(
            "SELECT severity, reason, count(*) FROM all_issues GROUP BY ALL ORDER BY ALL"
        ).fetchall()
    }
    for key, total in unlisted.items():
        report.issue_counts[key] = report.issue_counts.get(key, 0) + total
    for (_, reason), total in report.issue_counts.items():
        if total > MAX_ISSUES_PER_REASON:
            report.notes.append(
                f"{total:,} rows have the issue '{reason}'; the report and the dataset's load "
                f"history keep the first {MAX_ISSUES_PER_REASON:,} of them as examples."
            )
    con.execute(
        """
        INSERT INTO ingests (ingest_id, file_name, file_format, table_name, rows_read,
                             rows_loaded, rows_rejected, rows_duplicate, rows_warned, loaded_at,
                             sha256, records_read, notes, issue_counts)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        [
            ingest_id,
            meta.file_name,
            file_format,
            table_name,
            report.rows_read,
            loaded,
            rejected,
            duplicate,
            warned,
            report.loaded_at,
            meta.sha256,
            report.records_read,
            json.dumps(report.notes),
            json.dumps(sorted([*key, total] for key, total in report.issue_counts.items())),
        ],
    )
    # Examples, not every issue: a huge file where every row has one would not fit in memory.
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE issue_examples AS
        SELECT * FROM all_issues
        QUALIFY row_number() OVER (PARTITION BY severity, reason ORDER BY line_number)
                <= {MAX_ISSUES_PER_REASON}
        """
    )
    con.execute(
        """
        INSERT INTO ingest_issues
        SELECT ?, line_number, column_name, severity, reason, raw_value FROM issue_examples
        ORDER BY line_number, severity, reason
        """,
        [ingest_id],
    )
    report.issues = [
        RowIssue(*row)
        for row in con.execute(
            """
            SELECT line_number, column_name, reason, raw_value, severity FROM issue_examples
            ORDER BY line_number, severity, reason, column_name, raw_value
            """
        ).fetchall()
    ]
    return report


def save_notes(con: duckdb.DuckDBPyConnection, report: IngestReport) -> None:
    """Store ``report.notes`` in its ``ingests`` row: the notes written after ``finish_report``
    (what the loaded rows add up to, currencies, ...) become part of the load history."""
    con.execute(
        "UPDATE ingests SET notes = ? WHERE ingest_id = ?",
        [json.dumps(report.notes), report.ingest_id],
    )


def order_notes(con: duckdb.DuckDBPyConnection, source: OrderSource) -> list[str]:
    combined_rows, combined_orders, zero_totals = con.execute(
        """
        SELECT coalesce(sum(n_rows) FILTER (WHERE n_rows > 1), 0),
               count(*) FILTER (WHERE n_rows > 1),
               count(*) FILTER (WHERE order_total = 0 AND refunded_amount = 0)
        FROM order_verdicts WHERE status = 'new'
        """
    ).fetchone()
    notes = []
    if combined_orders and not source.has_lines:
        notes.append(
            f"{combined_rows:,} rows were added up into {combined_orders:,} orders "
            "(rows sharing an order id)."
        )
    if zero_totals:
        notes.append(
            f"{zero_totals:,} orders have a total of 0 (loaded; RFM does not count them as "
            "purchases unless asked to)."
        )
    currencies = con.execute(
        "SELECT currency, count(*) FROM orders WHERE currency IS NOT NULL "
        "GROUP BY currency ORDER BY currency"
    ).fetchall()
    if len(currencies) > 1:
        listed = ", ".join(f"{currency} ({count:,} orders)" for currency, count in currencies)
        notes.append(
            f"The dataset holds orders in {len(currencies)} currencies: {listed}. Amounts are "
            "never converted or added across currencies without saying so: compare monetary "
            "figures within one currency, or load each currency into its own dataset."
        )
    return notes


def next_ingest_id(con: duckdb.DuckDBPyConnection) -> int:
    """Return the id the ingest being written gets (one more than the last)."""
    return con.execute("SELECT coalesce(max(ingest_id), 0) + 1 FROM ingests").fetchone()[0]


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """BEGIN ... COMMIT around the block; ROLLBACK when it raises."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
