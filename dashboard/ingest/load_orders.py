"""Validation and the one-transaction write of orders (and their lines), with the report.

Format builders (``generic``, ``shopify``, ``woocommerce``, ``uci``) stage a file as TEMP VIEWs
over ``raw_rows``, typed but unvalidated; ``load_orders`` materialises them once, releases the
raw cells, checks every row in SQL, compares with what the dataset already holds, and writes
the good orders, the ``ingests`` row and every issue inside one BEGIN ... COMMIT (``ledger``).

- ``order_rows``: ORDER_ROW_TYPES; one row per file row (generic) or per folded order (Shopify,
  WooCommerce, UCI), ``*_raw`` columns keep the text as written for messages. Optional
  ``line_rows``: LINE_ROW_TYPES.

Counts reconcile per unit (file rows, or orders for a Shopify line-item export):
rows_read = rows_loaded + rows_rejected + rows_duplicate, and every rejected unit carries exactly
one rejected issue. A record the CSV reader could not split counts as one rejected unit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import duckdb

from dashboard.ingest import ledger, read, validation, values
from dashboard.ingest.report import IngestReport

NO_CUSTOMER_KEY = "no customer key: kept for store totals, not scored"
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
    "landing_site": "VARCHAR",
    "click_id": "VARCHAR",
    "tags": "VARCHAR",
    "financial_status": "VARCHAR",
    "total_from_lines": "BOOLEAN",
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
    "landing_site",
    "click_id",
    "tags",
    "financial_status",
    "total_from_lines",
)

# Mapped fields that make each row of an orders file one line of its order.
LINE_ITEM_FIELDS = ("product", "sku", "quantity", "price")
REPEATED_ROWS_NOTE = (
    "{rows:,} rows repeat an earlier row of the same order exactly; each order was loaded "
    "once, and the repeats are counted as already loaded."
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
        validation.DATE_ORDER_MISMATCH,
        "ordered_at_raw",
    ),
    ("ordered_at IS NULL", "ordered_at", validation.DATE_NOT_RECOGNISED, "ordered_at_raw"),
    ("ordered_at < $earliest", "ordered_at", validation.DATE_TOO_EARLY, "ordered_at_raw"),
    ("ordered_at >= $future", "ordered_at", validation.DATE_IN_FUTURE, "ordered_at_raw"),
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


@dataclass
class OrderSource:
    """What a builder staged in ``order_rows``: ``columns`` maps fields to the file's headers."""

    file_format: str
    columns: dict[str, str]
    notes: list[str] = field(default_factory=list)
    has_lines: bool = False

    def is_line_level(self) -> bool:
        """Whether each row of the file is one line of its order (docs/ingest.md §5).

        A line-item export, or a mapped file with a product, SKU, quantity or price column:
        its rows sharing an order id are all added up, identical ones too. In an orders-level
        file a row identical to an earlier row of its order is that order again.
        """
        return self.has_lines or any(name in self.columns for name in LINE_ITEM_FIELDS)


def create_order_rows(
    con: duckdb.DuckDBPyConnection, expressions: dict[str, str], source: str
) -> None:
    """Create the view ``order_rows`` over ``source`` (table or subquery), one expression a field.

    Fields left out get their default (false, 0 refunded, the source's line_number) or NULL.
    """
    validation.create_typed_view(
        con, "order_rows", ORDER_ROW_TYPES, _ORDER_ROW_DEFAULTS, expressions, source
    )


def create_line_rows(
    con: duckdb.DuckDBPyConnection, expressions: dict[str, str], source: str
) -> None:
    """Create the view ``line_rows`` (one row per order line) over ``source``."""
    validation.create_typed_view(con, "line_rows", LINE_ROW_TYPES, {}, expressions, source)


def order_rows_select(expressions: dict[str, str]) -> str:
    """Return the select list of ``order_rows`` (ORDER_ROW_TYPES) from one expression a field."""
    return validation.typed_columns(ORDER_ROW_TYPES, _ORDER_ROW_DEFAULTS, expressions)


def first_failing_check() -> str:
    """SQL over ``order_rows``: the number of the first failing order check, NULL for a good
    row. It takes the parameters ``$earliest`` and ``$future`` (see ``validation.check_dates``)."""
    cases = " ".join(
        f"WHEN {condition} THEN {number}"
        for number, (condition, _, _, _) in enumerate(_ORDER_CHECKS, start=1)
    )
    return f"CASE {cases} END"


def load_orders(
    con: duckdb.DuckDBPyConnection, source: OrderSource, meta: ledger.FileMeta
) -> IngestReport:
    """Validate ``order_rows`` (and ``line_rows``), write the good orders, return the report."""
    _check_orders(con, source, meta.today)
    if source.has_lines:
        con.execute("CREATE OR REPLACE TEMP TABLE line_staged AS SELECT * FROM line_rows")
        con.execute("DROP VIEW line_rows")
    con.execute("DROP VIEW order_rows")
    read.release(con)
    _group_orders(con, source.is_line_level())
    _judge_orders(con)
    _collect_order_issues(con, source)
    with ledger.transaction(con):
        ingest_id = ledger.next_ingest_id(con)
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
        # A repeated row of an order written now, or stored before, is that order again.
        loaded, duplicate, repeats = con.execute(
            """
            SELECT coalesce(sum(n_rows) FILTER (WHERE status = 'new'), 0),
                   coalesce(sum(n_rows + n_repeats) FILTER (WHERE status = 'duplicate'), 0)
                   + coalesce(sum(n_repeats) FILTER (WHERE status = 'new'), 0),
                   coalesce(sum(n_repeats) FILTER (WHERE status IN ('new', 'duplicate')), 0)
            FROM order_verdicts
            """
        ).fetchone()
        notes = [*source.notes, *([REPEATED_ROWS_NOTE.format(rows=repeats)] if repeats else [])]
        report = ledger.finish_report(
            con, ingest_id, meta, source.file_format, "orders", loaded, duplicate, notes
        )
    report.notes.extend(order_notes(con, source))
    return report


def order_notes(con: duckdb.DuckDBPyConnection, source: OrderSource) -> list[str]:
    """Return the notes on the orders just loaded (``order_verdicts``, status 'new'): rows added
    up into one order, orders of total 0, and the currencies the dataset now holds."""
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
    # A file without a total column says instead which orders still lack one (relational.py).
    if zero_totals and "order_total" in source.columns:
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
        validation.check_dates(today),
    )


def _group_orders(con: duckdb.DuckDBPyConnection, line_level: bool) -> None:
    """Key every row and fold rows sharing an order id into ``order_groups`` (one per order).

    Out: ``order_groups``, one row per order key: ``n_rows`` rows added up into it, and
    ``n_repeats`` good rows left out because, in an orders-level file (not ``line_level``),
    they repeat an earlier good row of the order in every value.
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
        SELECT order_key, 1 AS n_rows, 0 AS n_repeats, line_number AS first_line,
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
    stored = ", ".join(c for c in ORDER_VALUES if c != "net_total")
    repeat = (
        "false"
        if line_level
        else "check_no IS NULL AND row_number() OVER (PARTITION BY order_key, check_no, "
        f"{stored} ORDER BY line_number) > 1"
    )
    # Most orders are one row: they skip the aggregation, which only rows sharing a key need.
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE order_group_rows AS
        {single} ANTI JOIN shared USING (order_key)
        UNION ALL BY NAME
        SELECT order_key, count(*) FILTER (WHERE NOT is_repeat) AS n_rows,
               count(*) FILTER (WHERE is_repeat) AS n_repeats, min(line_number) AS first_line,
               bool_or(check_no IS NOT NULL) AS has_rejected_row,
               count(DISTINCT coalesce(customer_id, '')) FILTER (WHERE check_no IS NULL) > 1
                 OR count(DISTINCT ordered_at) FILTER (WHERE check_no IS NULL) > 1
                 AS is_conflicting,
               min(ordered_at) FILTER (WHERE check_no IS NULL) AS ordered_at,
               CAST(sum(order_total) FILTER (WHERE NOT is_repeat) AS DECIMAL(18, 2))
                 AS order_total,
               CAST(sum(refunded_amount) FILTER (WHERE NOT is_repeat) AS DECIMAL(18, 2))
                 AS refunded_amount,
               CAST(sum(order_total) FILTER (WHERE NOT is_repeat)
                    - sum(refunded_amount) FILTER (WHERE NOT is_repeat) AS DECIMAL(18, 2))
                 AS net_total,
               bool_or(is_cancelled) AS is_cancelled,
               {firsts}
        FROM (
            SELECT *, {repeat} AS is_repeat FROM keyed SEMI JOIN shared USING (order_key)
        ) GROUP BY order_key
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
