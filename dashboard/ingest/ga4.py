"""GA4 BigQuery events exports: visits as sessions, or purchase events as orders.

A flattened export of GA4's BigQuery ``events_*`` tables has one row per event (per item for
e-commerce events): ``event_date`` (``20240315``), ``event_timestamp`` (epoch microseconds),
``event_name``, ``user_pseudo_id`` (GA4's browser id), often ``ga_session_id``,
``transaction_id``, ``purchase_revenue_in_usd``, ``item_id``, ``item_name``, ``price_in_usd``.

- ``ga4-events`` (table ``sessions``): events grouped into one session per user_pseudo_id and
  ga_session_id (per day, from event_date, without it). customer = user_pseudo_id; started_at =
  the first event's time; duration = last minus first event; pages viewed = page_view events;
  added to cart / purchased = an add_to_cart / purchase event in the session. A session with an
  event whose time does not read is rejected (its start would be unsure).
- ``ga4-purchases`` (tables ``orders`` and ``order_lines``): one order per transaction_id among
  the purchase events, read from its first row: customer = user_pseudo_id, ordered_at =
  event_timestamp, total = purchase_revenue_in_usd (currency USD) or purchase_revenue; each
  purchase row with an item is an order line. Other events are skipped, with a note.
"""

from __future__ import annotations

import duckdb

from dashboard.ingest import values
from dashboard.ingest.columns import Layout, find_column
from dashboard.ingest.load_orders import OrderSource, create_line_rows, create_order_rows
from dashboard.ingest.report import IngestError
from dashboard.ingest.tables import (
    SESSION_COLUMNS,
    SESSION_KEY,
    Check,
    TableSource,
    create_table_rows,
    timestamp_checks,
)

_COLUMNS: dict[str, tuple[str, ...]] = {
    "user": ("user_pseudo_id",),
    "timestamp": ("event_timestamp",),
    "date": ("event_date",),
    "event": ("event_name",),
    "session": ("ga_session_id", "session_id"),
    "transaction": ("transaction_id", "ecommerce.transaction_id"),
    "revenue_usd": ("purchase_revenue_in_usd", "ecommerce.purchase_revenue_in_usd"),
    "revenue": ("purchase_revenue", "ecommerce.purchase_revenue", "event_value_in_usd"),
    "currency": ("currency",),
    "country": ("country", "geo.country"),
    "item_id": ("item_id",),
    "item_name": ("item_name",),
    "item_category": ("item_category",),
    "quantity": ("quantity",),
    "price": ("price_in_usd", "price"),
}
_EVENTS = Layout(_COLUMNS, ("user",), "a GA4 BigQuery events export")
_PURCHASES = Layout(_COLUMNS, ("user", "transaction"), "a GA4 export of purchase events")
PURCHASE = "purchase"
NO_VISITOR = "no user_pseudo_id: kept as an anonymous visit"


def is_events_export(headers: list[str]) -> bool:
    """Whether ``headers`` are those of a GA4 BigQuery events export (flattened)."""
    present = {
        key
        for key in ("user", "timestamp", "date")
        if find_column(headers, *_COLUMNS[key]) is not None
    }
    return "user" in present and len(present) > 1


def holds_purchases_only(headers: list[str], rows: tuple[tuple[str, ...], ...]) -> bool:
    """Whether the sample ``rows`` are all purchase events that can be read as orders.

    That needs a transaction_id and a revenue column, and every sampled event_name 'purchase'.
    """
    event = find_column(headers, *_COLUMNS["event"])
    has_revenue = any(
        find_column(headers, *_COLUMNS[k]) is not None for k in ("revenue_usd", "revenue")
    )
    if event is None or find_column(headers, *_COLUMNS["transaction"]) is None or not has_revenue:
        return False
    names = {row[event].strip().lower() for row in rows if len(row) > event}
    return names == {PURCHASE}


def check_headers(file_format: str, headers: list[str]) -> None:
    """Raise IngestError naming the first required column the export lacks."""
    layout = _PURCHASES if file_format == "ga4-purchases" else _EVENTS
    layout.check_headers(headers)
    needed = [("event_timestamp", ("timestamp", "date"))]
    if file_format == "ga4-purchases":
        needed.append(("purchase_revenue_in_usd", ("revenue_usd", "revenue")))
    for name, keys in needed:
        if all(find_column(headers, *_COLUMNS[k]) is None for k in keys):
            raise IngestError(f"Missing required column: {name} (this is not {layout.what}).")


def needed_columns(headers: list[str]) -> list[int]:
    """Return the positions of the columns the GA4 builders read."""
    return _EVENTS.needed_columns(headers)


def stage_events(
    con: duckdb.DuckDBPyConnection, headers: list[str], options: values.ReadOptions
) -> TableSource:
    """Group ``raw_rows`` (one per event) into ``table_rows`` (one per session)."""
    cell = _EVENTS.cells(headers)
    labels = _EVENTS.labels(headers)
    time_key = "timestamp" if "timestamp" in labels else "date"
    time = cell(time_key)
    date_order = values.detect_date_order(
        con, "raw_rows", time, labels[time_key], options.date_order
    )
    user = values.text(cell("user"))
    event = f"lower({values.text(cell('event'))})"
    visit = (
        values.text(cell("session"))
        if "session" in labels
        else f"coalesce({values.text(cell('date'))}, "
        f"CAST(CAST({values.local_timestamp(time, date_order)} AS DATE) AS VARCHAR))"
    )
    has_events = "event" in labels
    timed = time_key == "timestamp"
    duration = "CAST(round(epoch(max(time) - min(time))) AS INTEGER)" if timed else "NULL"
    sessions = f"""(
        SELECT min(line_number) AS line_number, customer_id, count(*) AS events,
               CASE WHEN count(time_raw) = count(time) THEN min(time) END AS started_at,
               coalesce(arg_min(time_raw, line_number) FILTER (WHERE time IS NULL),
                        arg_min(time_raw, time)) AS started_at_raw,
               {duration} AS duration_seconds,
               {"count(*) FILTER (WHERE event = 'page_view')" if has_events else "NULL"}
                   AS pages_viewed,
               {"bool_or(event = 'add_to_cart')" if has_events else "NULL"} AS added_to_cart,
               {"bool_or(event = 'purchase')" if has_events else "NULL"} AS purchased
        FROM (
            SELECT line_number, {user} AS customer_id, {values.text(time)} AS time_raw,
                   {values.local_timestamp(time, date_order)} AS time, {event} AS event,
                   CASE WHEN {user} IS NULL THEN CAST(line_number AS VARCHAR) ELSE {visit} END
                       AS visit
            FROM raw_rows
        )
        GROUP BY customer_id, visit
    )"""
    create_table_rows(
        con,
        {
            "customer_id": "VARCHAR",
            "started_at_raw": "VARCHAR",
            "started_at": "TIMESTAMP",
            "duration_seconds": "INTEGER",
            "pages_viewed": "INTEGER",
            "added_to_cart": "BOOLEAN",
            "purchased": "BOOLEAN",
        },
        {
            name: name
            for name in (
                "customer_id",
                "started_at_raw",
                "started_at",
                "duration_seconds",
                "pages_viewed",
                "added_to_cart",
                "purchased",
            )
        },
        sessions,
    )
    events, grouped, purchases = con.execute(
        f"SELECT count(*), count(*) - (SELECT count(*) FROM table_rows), "
        f"count(*) FILTER (WHERE {event} = 'purchase') FROM raw_rows"
    ).fetchone()
    how = "ga_session_id" if "session" in labels else "day"
    notes = [
        date_order.note(labels[time_key]),
        f"The {events:,} events were grouped into {events - grouped:,} sessions, one per "
        f"user_pseudo_id and {how}; user_pseudo_id is GA4's browser id, so these sessions "
        "match customers only in datasets keyed by it, not by e-mail.",
    ]
    if purchases:
        notes.append(
            f"{purchases:,} purchase event(s) mark their sessions as purchased; they are not "
            "loaded as orders (load the store's orders export for revenue)."
        )
    return TableSource(
        file_format="ga4-events",
        table="sessions",
        key=SESSION_KEY,
        stored=SESSION_COLUMNS,
        columns={"customer_id": labels["user"], "started_at": labels[time_key]},
        checks=timestamp_checks("started_at", required=True),
        warnings=(Check("customer_id IS NULL", "customer_id", NO_VISITOR, "NULL"),),
        notes=[n for n in notes if n],
    )


def stage_purchases(
    con: duckdb.DuckDBPyConnection, headers: list[str], options: values.ReadOptions
) -> OrderSource:
    """Fold the purchase events of ``raw_rows`` into ``order_rows`` (one per transaction_id)
    and ``line_rows`` (one per purchase row with an item)."""
    cell = _PURCHASES.cells(headers)
    labels = _PURCHASES.labels(headers)
    time_key = "timestamp" if "timestamp" in labels else "date"
    time = cell(time_key)
    date_order = values.detect_date_order(
        con, "raw_rows", time, labels[time_key], options.date_order
    )
    revenue_key = "revenue_usd" if "revenue_usd" in labels else "revenue"
    revenue = cell(revenue_key)
    mark = values.detect_decimal(con, "raw_rows", {labels[revenue_key]: revenue}, options.decimal)
    transaction = values.text(cell("transaction"))
    purchase_rows = (
        f"(SELECT * FROM raw_rows WHERE lower({values.text(cell('event'))}) = '{PURCHASE}')"
        if "event" in labels
        else "raw_rows"
    )
    currency = (
        "'USD'" if revenue_key == "revenue_usd" else f"upper({values.text(cell('currency'))})"
    )
    create_order_rows(
        con,
        {
            "order_id": transaction,
            "order_id_missing": f"{transaction} IS NULL",
            "customer_id": values.text(cell("user")),
            "ordered_at_raw": values.text(time),
            "ordered_at": values.local_timestamp(time, date_order),
            "total_raw": values.text(revenue),
            "order_total": values.amount(revenue, mark.mark),
            "currency": currency,
            "country": values.text(cell("country")),
        },
        f"""(
            SELECT * FROM {purchase_rows}
            QUALIFY {transaction} IS NULL
                OR row_number() OVER (PARTITION BY {transaction} ORDER BY line_number) = 1
        )""",
    )
    has_lines = "item_name" in labels or "item_id" in labels
    if has_lines:
        product = values.text(cell("item_name"))
        create_line_rows(
            con,
            {
                "order_id": transaction,
                "line_number": f"row_number() OVER (PARTITION BY {transaction} "
                "ORDER BY line_number)",
                "source_line": "line_number",
                "product": product,
                "sku": values.text(cell("item_id")),
                "quantity_raw": values.text(cell("quantity")),
                "quantity": values.whole_number(cell("quantity")),
                "price_raw": values.text(cell("price")),
                "price": values.amount(cell("price"), mark.mark),
                "category": values.text(cell("item_category")),
            },
            f"(SELECT * FROM {purchase_rows} WHERE {transaction} IS NOT NULL "
            f"AND coalesce({product}, {values.text(cell('item_id'))}) IS NOT NULL)",
        )
    notes = [date_order.note(labels[time_key]), mark.note]
    if "event" in labels:
        skipped = con.execute(
            f"SELECT count(*) FROM raw_rows WHERE lower({values.text(cell('event'))}) "
            f"IS DISTINCT FROM '{PURCHASE}'"
        ).fetchone()[0]
        if skipped:
            notes.append(
                f"{skipped:,} rows are other events than purchases and were skipped; load the "
                "file as ga4-events to read them as sessions."
            )
    columns = {
        "order_id": labels["transaction"],
        "customer_id": labels["user"],
        "ordered_at": labels[time_key],
        "order_total": labels[revenue_key],
        "quantity": labels.get("quantity"),
        "price": labels.get("price"),
    }
    return OrderSource(
        file_format="ga4-purchases",
        columns={k: v for k, v in columns.items() if v},
        notes=[n for n in notes if n],
        has_lines=has_lines,
    )
