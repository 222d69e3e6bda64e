"""WooCommerce order exports (Advanced Order Export For WooCommerce and similar plugins).

Semicolon-separated (the delimiter is sniffed like any other), one row per line item with the
order's columns repeated on every row, dates like ``2025/12/31 11:23``, no currency column.
Columns are found by name, each from a list of the names plugins use (``_COLUMNS``). Rules:

- one order per ``Order Number``; the order's values come from its first row in the file;
- customer_id = the lower-cased billing e-mail when there is one, else the billing phone with
  spaces, dots, dashes and brackets dropped (guest checkouts often leave no e-mail);
- ``Order Status``: Cancelled and Failed orders are cancelled (a failed payment is no sale);
  a Refunded order is refunded in full, unless a refund amount column says how much;
  financial_status = the status, lower-cased;
- currency = the order currency column when the export has one, else empty;
- each row with an item name is an order line, numbered 1..n per order in file order.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from dashboard.ingest import values
from dashboard.ingest.columns import Layout, find_column
from dashboard.ingest.load_orders import OrderSource, create_line_rows, create_order_rows

_COLUMNS: dict[str, tuple[str, ...]] = {
    "order_id": ("Order Number", "Order ID"),
    "status": ("Order Status", "Status"),
    "ordered_at": ("Order Date", "Date"),
    "total": ("Order Total Amount", "Order Total"),
    "email": ("Email (Billing)", "Billing Email", "Customer Email", "Email"),
    "phone": ("Phone (Billing)", "Billing Phone", "Phone"),
    "refunded": ("Order Refund Amount", "Refund Amount"),
    "coupon": ("Coupon Code", "Coupons"),
    "country": ("Country Code (Billing)", "Country (Billing)", "Billing Country"),
    "currency": ("Order Currency", "Currency"),
    "product": ("Item Name", "Product Name"),
    "sku": ("SKU", "Item SKU"),
    "quantity": ("Quantity", "Qty"),
    "price": ("Item Cost", "Item Price"),
}
_REQUIRED = ("order_id", "status", "ordered_at", "total")
_LAYOUT = Layout(_COLUMNS, _REQUIRED, "a complete WooCommerce order export")
check_headers = _LAYOUT.check_headers
needed_columns = _LAYOUT.needed_columns
_SIGNATURE = {"order number", "order status", "order date"}
_CANCELLED = ("cancelled", "canceled", "failed")


def is_export(headers: list[str]) -> bool:
    """Whether ``headers`` are those of a WooCommerce order export."""
    names = {h.lower() for h in headers}
    return names >= _SIGNATURE and find_column(headers, *_COLUMNS["total"]) is not None


def stage_orders(
    con: duckdb.DuckDBPyConnection, headers: list[str], options: values.ReadOptions
) -> OrderSource:
    """Fold ``raw_rows`` (one per line item) into ``order_rows`` (one per order), ``line_rows``."""
    cell = _LAYOUT.cells(headers)
    labels = _LAYOUT.labels(headers)
    order_id, status = values.text(cell("order_id")), f"lower({values.text(cell('status'))})"
    total = cell("total")
    date_order = values.detect_date_order(
        con, "raw_rows", cell("ordered_at"), labels["ordered_at"], options.date_order
    )
    amounts = {labels[f]: cell(f) for f in ("total", "refunded", "price") if f in labels}
    mark = values.detect_decimal(con, "raw_rows", amounts, options.decimal)
    email, phone = f"lower({values.text(cell('email'))})", values.phone_key(cell("phone"))
    if "refunded" in labels:
        refunded_raw = values.text(cell("refunded"))
        refunded = values.amount(cell("refunded"), mark.mark)
    else:
        refunded_raw = f"CASE WHEN {status} = 'refunded' THEN {values.text(total)} END"
        refunded = values.amount(total, mark.mark)
    expressions = {
        "order_id": order_id,
        "order_id_missing": f"{order_id} IS NULL",
        "customer_id": f"coalesce({email}, {phone})",
        "ordered_at_raw": values.text(cell("ordered_at")),
        "ordered_at": values.local_timestamp(cell("ordered_at"), date_order),
        "total_raw": values.text(total),
        "order_total": values.amount(total, mark.mark),
        "refunded_raw": refunded_raw,
        "refunded_amount": f"CASE WHEN {refunded_raw} IS NULL THEN 0 ELSE {refunded} END",
        "is_cancelled": f"coalesce({status} IN {_sql_words(_CANCELLED)}, false)",
        "financial_status": status,
        "currency": f"upper({values.text(cell('currency'))})",
        "discount_code": values.text(cell("coupon")),
        "country": values.text(cell("country")),
    }
    create_order_rows(
        con,
        expressions,
        f"""(
            SELECT * FROM raw_rows
            QUALIFY {order_id} IS NULL
                OR row_number() OVER (PARTITION BY {order_id} ORDER BY line_number) = 1
        )""",
    )
    has_lines = "product" in labels
    if has_lines:
        _stage_lines(con, cell, order_id, mark.mark)
    notes = [
        date_order.note(labels["ordered_at"]),
        mark.note,
        *_notes(con, order_id, status, email, phone, labels),
    ]
    return OrderSource(
        file_format="woocommerce-orders",
        columns={
            "order_id": labels["order_id"],
            "customer_id": labels.get("email", labels.get("phone")),
            "ordered_at": labels["ordered_at"],
            "order_total": labels["total"],
            "refunded_amount": labels.get("refunded", labels["total"]),
            "quantity": labels.get("quantity"),
            "price": labels.get("price"),
        },
        notes=[n for n in notes if n],
        has_lines=has_lines,
    )


def _stage_lines(
    con: duckdb.DuckDBPyConnection, cell: Callable[[str], str], order_id: str, mark: str
) -> None:
    product = values.text(cell("product"))
    create_line_rows(
        con,
        {
            "order_id": order_id,
            "line_number": f"row_number() OVER (PARTITION BY {order_id} ORDER BY line_number)",
            "source_line": "line_number",
            "product": product,
            "sku": values.text(cell("sku")),
            "quantity_raw": values.text(cell("quantity")),
            "quantity": values.whole_number(cell("quantity")),
            "price_raw": values.text(cell("price")),
            "price": values.amount(cell("price"), mark),
            "category": f"CASE WHEN strpos({product}, ' - ') > 0 "
            f"THEN split_part({product}, ' - ', 1) END",
        },
        f"(SELECT * FROM raw_rows WHERE {order_id} IS NOT NULL AND {product} IS NOT NULL)",
    )


def _notes(
    con: duckdb.DuckDBPyConnection,
    order_id: str,
    status: str,
    email: str,
    phone: str,
    labels: dict[str, str],
) -> list[str | None]:
    mixed, by_phone, refunded = con.execute(
        f"""
        SELECT count(*) FILTER (WHERE statuses > 1), count(*) FILTER (WHERE by_phone),
               count(*) FILTER (WHERE refunded)
        FROM (
            SELECT count(DISTINCT {status}) AS statuses,
                   arg_min({email} IS NULL AND {phone} IS NOT NULL, line_number) AS by_phone,
                   arg_min({status} = 'refunded', line_number) AS refunded
            FROM raw_rows WHERE {order_id} IS NOT NULL GROUP BY {order_id}
        )
        """
    ).fetchone()
    notes: list[str | None] = []
    if mixed:
        notes.append(
            f"{mixed:,} orders have a different '{labels['status']}' on different item rows; "
            "each order's first row was used."
        )
    if by_phone:
        notes.append(
            f"{by_phone:,} orders have no e-mail and are keyed by '{labels['phone']}' "
            "(spaces and dashes dropped)."
        )
    if refunded and "refunded" not in labels:
        notes.append(
            f"{refunded:,} orders with the status Refunded were taken as refunded in full "
            "(the export has no refund amount column)."
        )
    if "currency" not in labels:
        notes.append("The export has no currency column: amounts are stored without a currency.")
    return notes


def _sql_words(words: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{w}'" for w in words) + ")"
