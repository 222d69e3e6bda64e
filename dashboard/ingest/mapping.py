"""Generic orders files: the canonical orders fields, header guessing and the mapped staging.

A generic file has one row per order (or per order line when an order id column is mapped;
rows sharing an order id are combined by the load step). The analyst confirms which of the
file's columns holds each canonical field; nothing else of the file is read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb

from dashboard.ingest import values
from dashboard.ingest.load import OrderSource, create_order_rows, note_rounded_ids
from dashboard.ingest.read import column
from dashboard.ingest.report import IngestError


@dataclass(frozen=True)
class FieldSpec:
    """One canonical orders field as the mapping step shows it."""

    label: str
    required: bool
    description: str


ORDER_FIELDS: dict[str, FieldSpec] = {
    "customer_id": FieldSpec(
        "Customer", True, "Who ordered: customer id or e-mail (e-mails are lower-cased)."
    ),
    "ordered_at": FieldSpec(
        "Order date",
        True,
        "When the order was placed: 2024-03-20, 2024-03-20 21:41:00 (a UTC offset is dropped, "
        "the local time kept), 2024/03/20 21:41, or 3/20/2024 when the file proves month-first.",
    ),
    "order_total": FieldSpec(
        "Order total",
        True,
        "What the order was worth: 1234.50, 1,234.50 or $12.00. Negative totals are refused: "
        "give returns as the refunded amount.",
    ),
    "order_id": FieldSpec(
        "Order ID",
        False,
        "Rows sharing an order id are added up into one order; without it every row is one order.",
    ),
    "refunded_amount": FieldSpec(
        "Refunded amount", False, "Money given back; net revenue = total - refunded (empty = 0)."
    ),
    "is_cancelled": FieldSpec(
        "Cancelled",
        False,
        "yes/no, true/false, 1/0, or a status column whose value 'cancelled' marks a cancelled "
        "order (other values count as not cancelled).",
    ),
    "discount_code": FieldSpec("Discount code", False, "The coupon or promo code used, if any."),
    "channel": FieldSpec("Channel", False, "The sales or marketing channel of the order."),
    "country": FieldSpec("Country", False, "The customer's or the order's country."),
    "currency": FieldSpec("Currency", False, "The order's currency code, e.g. USD."),
}

# Per field: names that match exactly (after normalising), then words a name may contain.
_EXACT: dict[str, tuple[str, ...]] = {
    "customer_id": (
        "customer id",
        "customer",
        "customer email",
        "email",
        "email address",
        "e mail",
        "client id",
        "client",
        "customer number",
        "customer no",
        "user id",
        "buyer email",
        "buyer",
    ),
    "ordered_at": (
        "order date",
        "date",
        "created at",
        "ordered at",
        "order time",
        "order datetime",
        "invoice date",
        "purchase date",
        "transaction date",
        "timestamp",
        "datetime",
        "created",
    ),
    "order_total": (
        "order total",
        "total",
        "amount",
        "revenue",
        "order amount",
        "order value",
        "total amount",
        "order total amount",
        "grand total",
        "total price",
        "total paid",
        "sales",
        "value",
    ),
    "order_id": (
        "order id",
        "order",
        "order number",
        "order no",
        "order name",
        "invoice",
        "invoice no",
        "invoice number",
        "invoice id",
        "transaction id",
        "order reference",
    ),
    "refunded_amount": (
        "refunded amount",
        "refunded",
        "refund",
        "refunds",
        "refund amount",
        "total refunded",
    ),
    "is_cancelled": (
        "is cancelled",
        "cancelled",
        "canceled",
        "is canceled",
        "cancelled at",
        "status",
        "order status",
    ),
    "discount_code": (
        "discount code",
        "coupon",
        "coupon code",
        "promo code",
        "promo",
        "voucher",
        "voucher code",
    ),
    "channel": ("channel", "sales channel", "marketing channel", "source", "utm source"),
    "country": ("country", "country code", "billing country", "shipping country"),
    "currency": ("currency", "currency code"),
}
_CONTAINS: dict[str, tuple[str, ...]] = {
    "customer_id": ("email", "customer id", "phone"),
    "ordered_at": ("order date", "date", "created at"),
    "order_total": ("total", "amount", "revenue"),
    "order_id": ("order id", "order number", "invoice"),
    "refunded_amount": ("refund",),
    "is_cancelled": ("cancel",),
    "discount_code": ("coupon", "discount code", "promo"),
    "channel": ("channel",),
    "country": ("country",),
    "currency": ("currency",),
}


def guess_mapping(headers: list[str]) -> dict[str, str | None]:
    """Return canonical field -> the header that most likely holds it (None when none does).

    Exact names win over partial ones across all fields, so ``Total`` is taken for the order
    total before ``Total products`` could be; each header is used once.
    """
    names = {header: _normalise(header) for header in headers}
    guessed: dict[str, str | None] = dict.fromkeys(ORDER_FIELDS)
    used: set[str] = set()

    def take(field: str, matches) -> None:
        for header, name in names.items():
            if guessed[field] is None and header not in used and matches(name):
                guessed[field] = header
                used.add(header)

    for field, synonyms in _EXACT.items():
        for synonym in synonyms:
            take(field, lambda name, s=synonym: name == s)
    for field, words in _CONTAINS.items():
        for word in words:
            take(field, lambda name, w=word: f" {w} " in f" {name} ")
    return guessed


def resolve_mapping(headers: list[str], mapping: dict[str, str | None] | None) -> dict[str, int]:
    """Return canonical field -> column position for a confirmed mapping (None = the guess).

    Raises IngestError naming an unknown field, a header that is not in the file, or the
    required fields left unmapped.
    """
    chosen = guess_mapping(headers) if mapping is None else mapping
    positions: dict[str, int] = {}
    for field, header in chosen.items():
        if field not in ORDER_FIELDS:
            raise IngestError(
                f"'{field}' is not an orders column; use one of {', '.join(ORDER_FIELDS)}."
            )
        if header is None:
            continue
        if header not in headers:
            raise IngestError(f"The mapping names a column '{header}' that is not in the file.")
        positions[field] = headers.index(header)
    missing = [
        s.label.lower() for f, s in ORDER_FIELDS.items() if s.required and f not in positions
    ]
    if len(missing) == 1:
        raise IngestError(
            f"Missing required column: {missing[0]} (map it to one of the file's columns)."
        )
    if missing:
        raise IngestError(
            f"Missing required columns: {', '.join(missing)} (map them to the file's columns)."
        )
    return positions


def stage_generic_orders(
    con: duckdb.DuckDBPyConnection, headers: list[str], positions: dict[str, int]
) -> OrderSource:
    """Stage ``raw_rows`` of a mapped generic file as ``order_rows`` (one row per file row)."""
    cells = {field: column(i) for field, i in positions.items()}
    date_order = values.detect_date_order(con, "raw_rows", cells["ordered_at"])
    expressions = {
        "customer_id": values.customer_key(cells["customer_id"]),
        "ordered_at_raw": values.text(cells["ordered_at"]),
        "ordered_at": values.local_timestamp(cells["ordered_at"], date_order),
        "total_raw": values.text(cells["order_total"]),
        "order_total": values.amount(cells["order_total"]),
    }
    if "order_id" in cells:
        expressions["order_id"] = values.text(cells["order_id"])
    if "refunded_amount" in cells:
        raw = values.text(cells["refunded_amount"])
        expressions["refunded_raw"] = raw
        expressions["refunded_amount"] = (
            f"CASE WHEN {raw} IS NULL THEN 0 ELSE {values.amount(cells['refunded_amount'])} END"
        )
    if "is_cancelled" in cells:
        expressions["is_cancelled"] = f"coalesce({values.flag(cells['is_cancelled'])}, false)"
    if "currency" in cells:
        expressions["currency"] = f"upper({values.text(cells['currency'])})"
    for field in ("discount_code", "channel", "country"):
        if field in cells:
            expressions[field] = values.text(cells[field])
    create_order_rows(con, expressions, "raw_rows")

    labels = {field: headers[i] for field, i in positions.items()}
    notes = [
        date_order.note(labels["ordered_at"]),
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


def _note_status_words(
    con: duckdb.DuckDBPyConnection, cell: str | None, label: str | None
) -> str | None:
    """Name the values of the cancelled column that were read as 'not cancelled'."""
    if cell is None:
        return None
    rows = con.execute(
        f"""
        SELECT trim({cell}) AS word, count(*) AS n FROM raw_rows
        WHERE {values.text(cell)} IS NOT NULL AND {values.flag(cell)} IS NULL
        GROUP BY word ORDER BY n DESC, word LIMIT 5
        """
    ).fetchall()
    if not rows:
        return None
    listed = ", ".join(f"'{word}' ({n:,})" for word, n in rows)
    return (
        f"Values of '{label}' other than yes/no or cancelled were read as not cancelled: {listed}."
    )


def _normalise(header: str) -> str:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", header)
    return " ".join(re.sub(r"[^0-9a-z]+", " ", spaced.lower()).split())
