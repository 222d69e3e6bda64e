"""Builders of the mapped formats, staged from ``raw_rows`` through the confirmed mapping.

``positions`` maps each mapped canonical field (see ``mapping``) to the file's column; fields
left out are not read. One row of the file is one row of the staged table, except generic
orders, where rows sharing an order id are added up by the load step.

- ``stage_orders`` -> ``order_rows`` (load_orders.load_orders); ``stage_customers`` ->
  ``customer_rows`` (load_customers.load_customers);
- ``stage_lines`` (order_lines), ``stage_sessions`` (sessions), ``stage_spend``
  (marketing_spend: one total per month, channel, purpose and campaign) and ``stage_surveys``
  (survey_scores) -> ``table_rows`` (tables.load_table).
"""

from __future__ import annotations

import duckdb

from dashboard.ingest import relational, values
from dashboard.ingest.columns import column
from dashboard.ingest.load_customers import CustomerSource, create_customer_rows
from dashboard.ingest.load_orders import NO_CUSTOMER_KEY, OrderSource, create_order_rows
from dashboard.ingest.tables import (
    SESSION_COLUMNS,
    SESSION_KEY,
    SPEND_CHECKS,
    SPEND_COLUMNS,
    SPEND_KEY,
    Check,
    TableSource,
    create_table_rows,
    timestamp_checks,
)
from dashboard.ingest.validation import note_rounded_ids, rounded_id_condition

_SPEND_PURPOSES = ("acquisition", "retention")
# Order statuses that mean no sale, besides the flag words cancelled/canceled (Olist writes
# 'unavailable' for an order the seller could not fill; WooCommerce 'failed'; Shopify 'voided').
CANCELLED_STATUSES = ("unavailable", "failed", "voided")


def stage_orders(
    con: duckdb.DuckDBPyConnection,
    headers: list[str],
    positions: dict[str, int],
    options: values.ReadOptions,
) -> OrderSource:
    """Stage a mapped orders file as ``order_rows`` (one row per file row).

    Without a total column each order's total comes from its order lines, and a customer key
    that a customers file made an alias is replaced by its person's key (``relational``).
    """
    cells, labels = cells_of(headers, positions)
    date_order = values.detect_date_order(
        con, "raw_rows", cells["ordered_at"], labels["ordered_at"], options.date_order
    )
    mark = _detect_decimal(con, cells, labels, ("order_total", "refunded_amount"), options)
    expressions = order_expressions(cells, date_order, mark.mark)
    source = "raw_rows"
    relational_notes = []
    if "order_total" not in cells:
        order_id = values.text(cells["order_id"])
        source = relational.join_line_totals(source, order_id)
        expressions["order_total"] = "coalesce(line_total, 0)"
        expressions["total_raw"] = "CAST(coalesce(line_total, 0) AS VARCHAR)"
        expressions["total_from_lines"] = "true"
        relational_notes.append(
            relational.note_totals_from_lines(con, order_id, labels["order_id"])
        )
    if "customer_id" in cells and relational.has_aliases(con):
        key = values.customer_key(cells["customer_id"])
        source = relational.join_aliases(source, key)
        expressions["customer_id"] = f"coalesce(alias_customer, {key})"
        relational_notes.append(relational.note_aliased_orders(con, key))
    create_order_rows(con, expressions, source)
    notes = [
        *relational_notes,
        note_missing_customer(cells),
        date_order.note(labels["ordered_at"]),
        mark.note,
        _note_status_words(con, cells.get("is_cancelled"), labels.get("is_cancelled")),
        *(
            note_rounded_ids(con, "raw_rows", cells[f], labels[f])
            for f in ("order_id", "customer_id")
            if f in cells
        ),
    ]
    return OrderSource(
        file_format="generic", columns=labels, notes=[n for n in notes if n], has_lines=False
    )


def order_expressions(
    cells: dict[str, str], date_order: values.DateOrder, mark: str
) -> dict[str, str]:
    """Return the ``order_rows`` expression of each mapped field over the staging ``cells``.

    Without a customer column every order's customer_id is NULL (a guest order); without a
    total column, order_total is left to the caller.
    """
    expressions = {
        "ordered_at_raw": values.text(cells["ordered_at"]),
        "ordered_at": values.local_timestamp(cells["ordered_at"], date_order),
    }
    if "order_total" in cells:
        expressions["total_raw"] = values.text(cells["order_total"])
        expressions["order_total"] = values.amount(cells["order_total"], mark)
    if "customer_id" in cells:
        expressions["customer_id"] = values.customer_key(cells["customer_id"])
    if "order_id" in cells:
        expressions["order_id"] = values.text(cells["order_id"])
    if "refunded_amount" in cells:
        raw = values.text(cells["refunded_amount"])
        expressions["refunded_raw"] = raw
        expressions["refunded_amount"] = (
            f"CASE WHEN {raw} IS NULL THEN 0 "
            f"ELSE {values.amount(cells['refunded_amount'], mark)} END"
        )
    if "is_cancelled" in cells:
        expressions["is_cancelled"] = _read_cancelled(cells["is_cancelled"])
    if "currency" in cells:
        expressions["currency"] = f"upper({values.text(cells['currency'])})"
    for field in ("discount_code", "channel", "country"):
        if field in cells:
            expressions[field] = values.text(cells[field])
    return expressions


def quiet_order_condition(cells: dict[str, str], options: values.ReadOptions) -> str:
    """SQL, true for a row of a mapped orders file that ``stage_orders`` has nothing to say about.

    Such a row has an order id, ids no spreadsheet rounded, a cancelled value that is empty or
    a known word, and (unless the analyst chose the decimal mark) amounts without a comma, so
    that no detection step would decide or note anything from it. Dates need no condition
    here: read with no day-month order, ``a/b/yyyy`` dates fail their check.
    """
    conditions = [
        f"{values.text(cells['order_id'])} IS NOT NULL",
        *(
            f"NOT coalesce({rounded_id_condition(cells[f])}, false)"
            for f in ("order_id", "customer_id")
            if f in cells
        ),
    ]
    if "is_cancelled" in cells:
        cell = cells["is_cancelled"]
        conditions.append(f"({values.text(cell)} IS NULL OR {values.flag(cell)} IS NOT NULL)")
    if options.decimal == "auto":
        conditions += [
            f"NOT coalesce(contains({cells[f]}, ','), false)"
            for f in ("order_total", "refunded_amount")
            if f in cells
        ]
    return " AND ".join(conditions)


def note_missing_customer(cells: dict[str, str]) -> str | None:
    """Say, for a mapped orders file without a customer column, what its orders lack and the fix.

    Each order still gets the ``NO_CUSTOMER_KEY`` warning, as a guest order in any file does, so
    the counts match the dataset's orders without a customer; this note says it once for the file.
    """
    if "customer_id" in cells:
        return None
    return (
        "The file has no customer column, so every order was loaded without a customer: the "
        "orders count in store totals (orders, revenue, average order value) but no customer can "
        "be scored or segmented. To get customer figures, map a column with each order's "
        "customer e-mail, phone or customer id (or add one to the file) and load it into a new "
        "dataset."
    )


def stage_customers(
    con: duckdb.DuckDBPyConnection,
    headers: list[str],
    positions: dict[str, int],
    options: values.ReadOptions,
) -> CustomerSource:
    """Stage a mapped customers file as ``customer_rows`` (one row per file row).

    The e-mail is the mapped e-mail column, else the key when the key is an e-mail. With a
    person key mapped, the customer is the person: their rows all take the values of their
    first row, and the file's other keys become their aliases (``relational.record_aliases``).
    """
    cells, labels = cells_of(headers, positions)
    mark = _detect_decimal(con, cells, labels, ("total_spent",), options)
    key = values.customer_key(cells["customer_id"])
    source, person_notes, after_write = "raw_rows", [], None
    if "person_id" in cells:
        own_key, key = key, f"coalesce({values.customer_key(cells['person_id'])}, {key})"
        relational.stage_aliases(con, own_key, key)
        source = _take_first_values_per_person(cells, key)
        person_notes.append(_note_repeated_persons(con, key, labels["person_id"]))
        after_write = relational.record_aliases
    email = (
        f"lower({values.text(cells['email'])})"
        if "email" in cells
        else f"CASE WHEN {key} LIKE '%@%' THEN {key} END"
    )
    expressions = {"customer_id": key, "email": email}
    for field in ("first_name", "country", "city", "tags"):
        if field in cells:
            expressions[field] = values.text(cells[field])
    for field in ("accepts_marketing", "accepts_sms"):
        if field in cells:
            expressions[f"{field}_raw"] = values.text(cells[field])
            expressions[field] = values.flag(cells[field])
    if "total_spent" in cells:
        expressions["total_spent_raw"] = values.text(cells["total_spent"])
        expressions["total_spent"] = values.amount(cells["total_spent"], mark.mark)
    if "total_orders" in cells:
        expressions["total_orders_raw"] = values.text(cells["total_orders"])
        expressions["total_orders"] = values.whole_number(cells["total_orders"])
    create_customer_rows(con, expressions, source)
    notes = [
        *person_notes,
        mark.note,
        note_rounded_ids(con, "raw_rows", cells["customer_id"], labels["customer_id"]),
    ]
    return CustomerSource(
        file_format="customers",
        columns=labels,
        notes=[n for n in notes if n],
        after_write=after_write,
    )


def _take_first_values_per_person(cells: dict[str, str], person: str) -> str:
    """A subquery of ``raw_rows`` in which every row of a person (``person``, SQL) has the
    mapped values of the person's first row, keys aside."""
    values_cells = [c for f, c in cells.items() if f not in ("customer_id", "person_id")]
    if not values_cells:
        return "raw_rows"
    firsts = ", ".join(f"first_value({c}) OVER person_rows AS {c}" for c in values_cells)
    return (
        f"(SELECT * REPLACE ({firsts}) FROM raw_rows "
        f"WINDOW person_rows AS (PARTITION BY {person} ORDER BY line_number))"
    )


def _note_repeated_persons(con: duckdb.DuckDBPyConnection, person: str, label: str) -> str | None:
    """Say how many rows repeat a person of an earlier row (one row per order, as in Olist)."""
    repeats = con.execute(
        f"SELECT count({person}) - count(DISTINCT {person}) FROM raw_rows"
    ).fetchone()[0]
    if not repeats:
        return None
    return (
        f"{repeats:,} rows repeat the '{label}' of an earlier row: each person is one customer, "
        "with the values of their first row, and every customer key of theirs leads to them."
    )


def stage_lines(
    con: duckdb.DuckDBPyConnection,
    headers: list[str],
    positions: dict[str, int],
    options: values.ReadOptions,
) -> TableSource:
    """Stage a mapped order lines file as ``table_rows``; lines are numbered 1..n per order."""
    cells, labels = cells_of(headers, positions)
    mark = _detect_decimal(con, cells, labels, ("price", "freight"), options)
    order_id = values.text(cells["order_id"])
    expressions = {
        "order_id": order_id,
        "line_number": f"CASE WHEN {order_id} IS NOT NULL THEN row_number() OVER "
        f"(PARTITION BY {order_id} ORDER BY line_number) END",
    }
    for field in ("product", "sku", "category"):
        if field in cells:
            expressions[field] = values.text(cells[field])
    if "quantity" in cells:
        expressions["quantity_raw"] = values.text(cells["quantity"])
        expressions["quantity"] = values.whole_number(cells["quantity"])
    for field in ("price", "freight"):
        if field in cells:
            expressions[f"{field}_raw"] = values.text(cells[field])
            expressions[field] = values.amount(cells[field], mark.mark)
    create_table_rows(
        con,
        {
            "order_id": "VARCHAR",
            "line_number": "INTEGER",
            "product": "VARCHAR",
            "sku": "VARCHAR",
            "quantity_raw": "VARCHAR",
            "quantity": "INTEGER",
            "price_raw": "VARCHAR",
            "price": "DECIMAL(18, 2)",
            "freight_raw": "VARCHAR",
            "freight": "DECIMAL(18, 2)",
            "category": "VARCHAR",
        },
        expressions,
        "raw_rows",
    )
    return TableSource(
        file_format="order-lines",
        table="order_lines",
        key=("order_id", "line_number"),
        stored=(
            "order_id",
            "line_number",
            "product",
            "sku",
            "quantity",
            "price",
            "freight",
            "category",
        ),
        columns=labels,
        checks=(Check("order_id IS NULL", "order_id", "missing order id", "NULL"),),
        warnings=(
            _unreadable("quantity", "quantity is not a whole number (left empty)"),
            _unreadable("price", "price is not a number (left empty)"),
            _unreadable("freight", "freight is not a number (left empty)"),
        ),
        notes=[n for n in (mark.note,) if n],
        after_write=relational.fill_order_totals,
    )


def stage_sessions(
    con: duckdb.DuckDBPyConnection,
    headers: list[str],
    positions: dict[str, int],
    options: values.ReadOptions,
) -> TableSource:
    """Stage a mapped sessions file as ``table_rows`` (one row per session)."""
    cells, labels = cells_of(headers, positions)
    date_order = values.detect_date_order(
        con, "raw_rows", cells["started_at"], labels["started_at"], options.date_order
    )
    expressions = {
        "customer_id": values.customer_key(cells["customer_id"]),
        "started_at_raw": values.text(cells["started_at"]),
        "started_at": values.local_timestamp(cells["started_at"], date_order),
    }
    parse = {
        "duration_seconds": values.seconds,
        "pages_viewed": values.whole_number,
        "added_to_cart": values.flag,
        "purchased": values.flag,
    }
    for field, parser in parse.items():
        if field in cells:
            expressions[f"{field}_raw"] = values.text(cells[field])
            expressions[field] = parser(cells[field])
    create_table_rows(
        con,
        {
            "customer_id": "VARCHAR",
            "started_at_raw": "VARCHAR",
            "started_at": "TIMESTAMP",
            "duration_seconds_raw": "VARCHAR",
            "duration_seconds": "INTEGER",
            "pages_viewed_raw": "VARCHAR",
            "pages_viewed": "INTEGER",
            "added_to_cart_raw": "VARCHAR",
            "added_to_cart": "BOOLEAN",
            "purchased_raw": "VARCHAR",
            "purchased": "BOOLEAN",
        },
        expressions,
        "raw_rows",
    )
    return TableSource(
        file_format="sessions",
        table="sessions",
        key=SESSION_KEY,
        stored=SESSION_COLUMNS,
        columns=labels,
        checks=timestamp_checks("started_at", required=True),
        warnings=(
            Check("customer_id IS NULL", "customer_id", NO_CUSTOMER_KEY, "NULL"),
            _unreadable(
                "duration_seconds", "duration is not seconds or minutes:seconds (left empty)"
            ),
            _unreadable("pages_viewed", "pages viewed is not a whole number (left empty)"),
            _unreadable("added_to_cart", "added to cart is not yes or no (left empty)"),
            _unreadable("purchased", "purchased is not yes or no (left empty)"),
        ),
        notes=[n for n in (date_order.note(labels["started_at"]),) if n],
    )


def stage_spend(
    con: duckdb.DuckDBPyConnection,
    headers: list[str],
    positions: dict[str, int],
    options: values.ReadOptions,
) -> TableSource:
    """Stage a mapped marketing spend file as ``table_rows`` (one row per file row).

    Rows of one month, channel, purpose and campaign (optional; empty = spend not split by
    campaign) are added up by the load step. A purpose other than acquisition or retention is
    kept lower-cased and counted as acquisition (with a warning).
    """
    cells, labels = cells_of(headers, positions)
    date_order = values.detect_date_order(
        con, "raw_rows", cells["month"], labels["month"], options.date_order
    )
    mark = _detect_decimal(con, cells, labels, ("spend",), options)
    expressions = {
        "month_raw": values.text(cells["month"]),
        "month": values.month_start(cells["month"], date_order),
        "channel": values.text(cells["channel"]),
        "spend_raw": values.text(cells["spend"]),
        "spend": values.amount(cells["spend"], mark.mark),
    }
    if "purpose" in cells:
        expressions["purpose_raw"] = values.text(cells["purpose"])
        expressions["purpose"] = f"lower({values.text(cells['purpose'])})"
    if "campaign" in cells:
        expressions["campaign"] = values.text(cells["campaign"])
    create_table_rows(
        con,
        {
            "month_raw": "VARCHAR",
            "month": "DATE",
            "channel": "VARCHAR",
            "spend_raw": "VARCHAR",
            "spend": "DECIMAL(18, 2)",
            "purpose_raw": "VARCHAR",
            "purpose": "VARCHAR",
            "campaign": "VARCHAR",
        },
        expressions,
        "raw_rows",
    )
    purposes = "(" + ", ".join(f"'{p}'" for p in _SPEND_PURPOSES) + ")"
    notes = [date_order.note(labels["month"]), mark.note]
    return TableSource(
        file_format="marketing-spend",
        table="marketing_spend",
        key=SPEND_KEY,
        stored=SPEND_COLUMNS,
        columns=labels,
        checks=(
            *SPEND_CHECKS,
            Check("channel IS NULL", "channel", "missing channel", "NULL"),
        ),
        warnings=(
            Check(
                f"purpose IS NOT NULL AND purpose NOT IN {purposes}",
                "purpose",
                "purpose is neither acquisition nor retention (counted as acquisition)",
                "purpose_raw",
            ),
        ),
        summed=("spend",),
        notes=[n for n in notes if n],
    )


def stage_surveys(
    con: duckdb.DuckDBPyConnection,
    headers: list[str],
    positions: dict[str, int],
    options: values.ReadOptions,
) -> TableSource:
    """Stage a mapped survey scores file as ``table_rows`` (one row per answer)."""
    cells, labels = cells_of(headers, positions)
    mark = _detect_decimal(con, cells, labels, ("score",), options)
    expressions = {
        "customer_id": values.customer_key(cells["customer_id"]),
        "score_raw": values.text(cells["score"]),
        "score": values.number(cells["score"], mark.mark),
    }
    notes = [mark.note]
    if "answered_at" in cells:
        date_order = values.detect_date_order(
            con, "raw_rows", cells["answered_at"], labels["answered_at"], options.date_order
        )
        expressions["answered_at_raw"] = values.text(cells["answered_at"])
        expressions["answered_at"] = values.local_timestamp(cells["answered_at"], date_order)
        notes.append(date_order.note(labels["answered_at"]))
    create_table_rows(
        con,
        {
            "customer_id": "VARCHAR",
            "answered_at_raw": "VARCHAR",
            "answered_at": "TIMESTAMP",
            "score_raw": "VARCHAR",
            "score": "DOUBLE",
        },
        expressions,
        "raw_rows",
    )
    return TableSource(
        file_format="surveys",
        table="survey_scores",
        key=("customer_id", "answered_at"),
        stored=("customer_id", "answered_at", "score"),
        columns=labels,
        checks=(
            Check("customer_id IS NULL", "customer_id", "no customer key", "NULL"),
            Check("score_raw IS NULL", "score", "missing score", "NULL"),
            Check("score IS NULL", "score", "score is not a number", "score_raw"),
            *timestamp_checks("answered_at", required=False),
        ),
        notes=[n for n in notes if n],
    )


def note_unmatched_lines(con: duckdb.DuckDBPyConnection, ingest_id: int) -> str | None:
    """Say how many order lines of ingest ``ingest_id`` belong to orders not in the dataset."""
    lines, orders = con.execute(
        """
        SELECT count(*), count(DISTINCT order_id) FROM order_lines l
        WHERE ingest_id = ? AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.order_id = l.order_id)
        """,
        [ingest_id],
    ).fetchone()
    if not lines:
        return None
    return (
        f"{lines:,} lines belong to {orders:,} orders that are not in the dataset yet; load "
        "the orders file too, with the same order ids, to see them in order figures."
    )


def cells_of(
    headers: list[str], positions: dict[str, int]
) -> tuple[dict[str, str], dict[str, str]]:
    """Return field -> staging column and field -> the file's header name."""
    return (
        {field: column(i) for field, i in positions.items()},
        {field: headers[i] for field, i in positions.items()},
    )


def _detect_decimal(
    con: duckdb.DuckDBPyConnection,
    cells: dict[str, str],
    labels: dict[str, str],
    fields: tuple[str, ...],
    options: values.ReadOptions,
) -> values.DecimalMark:
    amounts = {labels[f]: cells[f] for f in fields if f in cells}
    return values.detect_decimal(con, "raw_rows", amounts, options.decimal)


def _unreadable(field: str, reason: str) -> Check:
    """The warning of an optional value that was given but did not parse (stored empty)."""
    return Check(f"{field}_raw IS NOT NULL AND {field} IS NULL", field, reason, f"{field}_raw")


def _note_status_words(
    con: duckdb.DuckDBPyConnection, cell: str | None, label: str | None
) -> str | None:
    """Name the values of the cancelled column that were read as 'not cancelled'."""
    if cell is None:
        return None
    rows = con.execute(
        f"""
        SELECT trim({cell}) AS word, count(*) AS n FROM raw_rows
        WHERE {values.text(cell)} IS NOT NULL AND NOT {_read_cancelled(cell)}
          AND {values.flag(cell)} IS NULL
        GROUP BY word ORDER BY n DESC, word LIMIT 5
        """
    ).fetchall()
    if not rows:
        return None
    listed = ", ".join(f"'{word}' ({n:,})" for word, n in rows)
    return (
        f"Values of '{label}' other than yes/no or a cancelled status "
        f"({', '.join(CANCELLED_STATUSES)}) were read as not cancelled: {listed}."
    )


def _read_cancelled(cell: str) -> str:
    """SQL: true for a cancelled order's flag word or status (CANCELLED_STATUSES), else false."""
    statuses = ", ".join(f"'{s}'" for s in CANCELLED_STATUSES)
    return f"coalesce({values.flag(cell)}, lower({values.text(cell)}) IN ({statuses}), false)"
