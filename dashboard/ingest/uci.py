"""The UCI Online Retail layout: one row per invoice line.

``InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country`` (the
2009-2011 "Online Retail II" names ``Invoice``, ``Price`` and ``Customer ID`` work too). Rules:

- one order per invoice; its value = sum(Quantity x UnitPrice) over its lines, exact to the
  cent after summing; its date = the earliest line's (an invoice can span a minute change);
- an invoice starting with ``C`` is a return: stored as an order with order_total 0,
  refunded_amount = the returned value (the negated sum), so net_total is negative and
  monetary nets it; it is not cancelled, and a total of 0 keeps it out of frequency;
- dates are month-first (``12/1/2010 8:26``) unless the file proves otherwise or the analyst
  chooses; a line whose quantity, price or date does not read rejects its invoice;
- a missing CustomerID keeps the invoice with no customer (store totals only, with a warning);
- there is no currency column: amounts are stored without one;
- every line is an order line (product = Description, sku = StockCode), numbered 1..n per
  invoice in file order.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from dashboard.ingest import values
from dashboard.ingest.columns import Layout, find_column
from dashboard.ingest.load_orders import OrderSource, create_line_rows, create_order_rows

_COLUMNS: dict[str, tuple[str, ...]] = {
    "invoice": ("InvoiceNo", "Invoice"),
    "stock_code": ("StockCode",),
    "description": ("Description",),
    "quantity": ("Quantity",),
    "invoice_date": ("InvoiceDate",),
    "price": ("UnitPrice", "Price"),
    "customer": ("CustomerID", "Customer ID"),
    "country": ("Country",),
}
_REQUIRED = ("invoice", "quantity", "invoice_date", "price")
_LAYOUT = Layout(_COLUMNS, _REQUIRED, "a complete UCI Online Retail file")
check_headers = _LAYOUT.check_headers
needed_columns = _LAYOUT.needed_columns
_PRICE_SCALE = 4  # some unit prices have a tenth of a penny; the invoice total is cut to cents


def is_export(headers: list[str]) -> bool:
    """Whether ``headers`` are those of the UCI Online Retail layout."""
    return all(find_column(headers, *_COLUMNS[f]) is not None for f in (*_REQUIRED, "stock_code"))


def stage_orders(
    con: duckdb.DuckDBPyConnection, headers: list[str], options: values.ReadOptions
) -> OrderSource:
    """Fold ``raw_rows`` (one per invoice line) into ``order_rows`` (one per invoice), lines."""
    cell = _LAYOUT.cells(headers)
    labels = _LAYOUT.labels(headers)
    date_order = values.detect_date_order(
        con,
        "raw_rows",
        cell("invoice_date"),
        labels["invoice_date"],
        options.date_order,
        default="month-first",
    )
    mark = values.detect_decimal(con, "raw_rows", {labels["price"]: cell("price")}, options.decimal)
    invoice = values.text(cell("invoice"))
    lines = f"""(
        SELECT line_number, {invoice} AS invoice,
               coalesce({invoice}, 'line-' || line_number) AS invoice_key,
               upper({invoice}) LIKE 'C%' AS is_return,
               {values.customer_key(cell("customer"))} AS customer_id,
               {values.text(cell("invoice_date"))} AS date_raw,
               {values.local_timestamp(cell("invoice_date"), date_order)} AS ordered_at,
               {values.text(cell("quantity"))} AS quantity_raw,
               {values.text(cell("price"))} AS price_raw,
               {values.whole_number(cell("quantity"))}
                 * {values.amount(cell("price"), mark.mark, _PRICE_SCALE)} AS line_value,
               {values.text(cell("country"))} AS country
        FROM raw_rows
    )"""
    # A line that does not read shows as 'Quantity x UnitPrice' in the rejection.
    unread = "concat(coalesce(quantity_raw, '(empty)'), ' x ', coalesce(price_raw, '(empty)'))"
    total = f"""coalesce(
        arg_min({unread}, line_number) FILTER (WHERE line_value IS NULL),
        CAST(CAST(sum(line_value) AS DECIMAL(18, 2)) AS VARCHAR))"""
    invoices = f"""(
        SELECT min(line_number) AS line_number, any_value(invoice) AS order_id,
               bool_or(invoice IS NULL) AS order_id_missing,
               arg_min(customer_id, line_number) AS customer_id,
               CASE WHEN NOT bool_or(date_raw IS NULL) THEN coalesce(
                   arg_min(date_raw, line_number) FILTER (WHERE ordered_at IS NULL),
                   arg_min(date_raw, line_number)) END AS ordered_at_raw,
               CASE WHEN bool_and(ordered_at IS NOT NULL) THEN min(ordered_at) END AS ordered_at,
               {total} AS total_raw,
               CASE WHEN bool_and(line_value IS NOT NULL)
                    THEN CASE WHEN bool_or(is_return) THEN 0 ELSE sum(line_value) END
               END AS order_total,
               CASE WHEN bool_or(is_return) THEN {total} END AS refunded_raw,
               CASE WHEN bool_or(is_return) THEN -sum(line_value) ELSE 0 END AS refunded_amount,
               CASE WHEN bool_or(is_return) THEN 'returned' END AS financial_status,
               arg_min(country, line_number) AS country
        FROM {lines} GROUP BY invoice_key
    )"""
    fields = (
        "order_id",
        "order_id_missing",
        "customer_id",
        "ordered_at_raw",
        "ordered_at",
        "total_raw",
        "order_total",
        "refunded_raw",
        "refunded_amount",
        "financial_status",
        "country",
    )
    create_order_rows(con, {f: f for f in fields}, invoices)
    _stage_lines(con, cell, invoice, mark.mark)
    label = f"{labels['quantity']} x {labels['price']}"
    notes = [
        date_order.note(labels["invoice_date"]),
        mark.note,
        *_notes(con, invoice, cell("customer"), labels),
    ]
    return OrderSource(
        file_format="uci-online-retail",
        columns={
            "order_id": labels["invoice"],
            "customer_id": labels.get("customer"),
            "ordered_at": labels["invoice_date"],
            "order_total": label,
            "refunded_amount": label,
            "quantity": labels["quantity"],
            "price": labels["price"],
        },
        notes=[n for n in notes if n],
        has_lines=True,
    )


def _stage_lines(
    con: duckdb.DuckDBPyConnection, cell: Callable[[str], str], invoice: str, mark: str
) -> None:
    create_line_rows(
        con,
        {
            "order_id": invoice,
            "line_number": f"row_number() OVER (PARTITION BY {invoice} ORDER BY line_number)",
            "source_line": "line_number",
            "product": values.text(cell("description")),
            "sku": values.text(cell("stock_code")),
            "quantity_raw": values.text(cell("quantity")),
            "quantity": values.whole_number(cell("quantity")),
            "price_raw": values.text(cell("price")),
            "price": values.amount(cell("price"), mark),
        },
        f"(SELECT * FROM raw_rows WHERE {invoice} IS NOT NULL)",
    )


def _notes(
    con: duckdb.DuckDBPyConnection, invoice: str, customer: str, labels: dict[str, str]
) -> list[str | None]:
    returns, keyless_lines, keyless_invoices, mixed = con.execute(
        f"""
        SELECT count(DISTINCT {invoice}) FILTER (WHERE upper({invoice}) LIKE 'C%'),
               count(*) FILTER (WHERE {values.text(customer)} IS NULL),
               count(DISTINCT {invoice}) FILTER (WHERE {values.text(customer)} IS NULL),
               (SELECT count(*) FROM (
                   SELECT 1 FROM raw_rows WHERE {invoice} IS NOT NULL GROUP BY {invoice}
                   HAVING count(DISTINCT {values.text(customer)}) > 1))
        FROM raw_rows
        """
    ).fetchone()
    notes: list[str | None] = [
        "The file has no currency column: amounts are stored without a currency."
    ]
    if returns:
        notes.append(
            f"{returns:,} invoices starting with 'C' are returns: each is stored with a total "
            "of 0 and its value as the refunded amount, so monetary value nets them and "
            "frequency does not count them."
        )
    if keyless_lines:
        column_name = labels.get("customer", "CustomerID")
        notes.append(
            f"{keyless_lines:,} lines ({keyless_invoices:,} invoices) have no {column_name}: "
            "kept for store totals, not scored."
        )
    if mixed:
        notes.append(
            f"{mixed:,} invoices name more than one customer; each was given its first line's."
        )
    return notes
