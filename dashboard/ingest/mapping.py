"""The mapped formats: each one's canonical fields, header guessing, and the confirmed mapping.

A mapped file (orders, order lines, customers, sessions, marketing spend or survey scores) has
its own header names. The analyst confirms which of the file's columns holds each canonical
field of the format (``fields_for``), starting from ``guess_mapping``; nothing else of the file
is read. Formats read by their column names (Shopify, WooCommerce, UCI) have no fields here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dashboard.ingest.report import IngestError


@dataclass(frozen=True)
class FieldSpec:
    """One canonical field as the mapping step shows it."""

    label: str
    required: bool
    description: str


_DATE_FORMS = (
    "2024-03-20, 2024-03-20 21:41:00 (a UTC offset is dropped, the local time kept), "
    "2024/03/20 21:41, 20.03.2024, 20240320, epoch seconds (or milli- or microseconds), or "
    "3/20/2024 (day and month order proven "
    "by the file or chosen)"
)
ORDER_FIELDS: dict[str, FieldSpec] = {
    "customer_id": FieldSpec(
        "Customer",
        False,
        "Who ordered: customer id, e-mail (lower-cased) or phone. Without it every order is a "
        "guest order: counted in store totals, but no customer can be scored or segmented.",
    ),
    "ordered_at": FieldSpec("Order date", True, f"When the order was placed: {_DATE_FORMS}."),
    "order_total": FieldSpec(
        "Order total",
        False,
        "What the order was worth: 1234.50, 1,234.50, $12.00 or 1.234,50 (decimal comma). "
        "Negative totals are refused: give returns as the refunded amount. Without it, each "
        "order's total is the sum of its lines (price x quantity + freight) from an order "
        "lines file, and the order id is required.",
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
        "yes/no, true/false, 1/0, or a status column whose values 'cancelled', 'canceled', "
        "'unavailable', 'failed' or 'voided' mark a cancelled order (other values count as "
        "not cancelled).",
    ),
    "discount_code": FieldSpec("Discount code", False, "The coupon or promo code used, if any."),
    "channel": FieldSpec("Channel", False, "The sales or marketing channel of the order."),
    "country": FieldSpec("Country", False, "The customer's or the order's country."),
    "currency": FieldSpec("Currency", False, "The order's currency code, e.g. USD."),
}
LINE_FIELDS: dict[str, FieldSpec] = {
    "order_id": FieldSpec(
        "Order ID", True, "The order the line belongs to; lines are numbered in file order."
    ),
    "product": FieldSpec("Product", False, "The product's name."),
    "sku": FieldSpec("SKU", False, "The product or variant code."),
    "quantity": FieldSpec("Quantity", False, "Units bought: a whole number."),
    "price": FieldSpec("Unit price", False, "The price of one unit."),
    "category": FieldSpec("Category", False, "The product's category or type."),
    "freight": FieldSpec(
        "Freight", False, "The shipping charged for the line; added to its order's total."
    ),
}
CUSTOMER_FIELDS: dict[str, FieldSpec] = {
    "customer_id": FieldSpec(
        "Customer",
        True,
        "The customer key, as the orders give it: e-mail (lower-cased) or customer id.",
    ),
    "person_id": FieldSpec(
        "Person",
        False,
        "When the customer key is one per order (Olist's customer_id), the person's own id "
        "(customer_unique_id): orders under any of a person's keys become that person's.",
    ),
    "email": FieldSpec("E-mail", False, "The e-mail address, when the key is another id."),
    "first_name": FieldSpec("First name", False, "The customer's first name."),
    "accepts_marketing": FieldSpec("Accepts e-mail marketing", False, "yes/no, true/false, 1/0."),
    "accepts_sms": FieldSpec("Accepts SMS marketing", False, "yes/no, true/false, 1/0."),
    "country": FieldSpec("Country", False, "The customer's country."),
    "city": FieldSpec("City", False, "The customer's city."),
    "tags": FieldSpec("Tags", False, "The customer's tags, as one text."),
    "total_spent": FieldSpec("Total spent", False, "What the store says they spent."),
    "total_orders": FieldSpec(
        "Total orders", False, "How many orders the store counts for them (0 = a prospect)."
    ),
}
SESSION_FIELDS: dict[str, FieldSpec] = {
    "customer_id": FieldSpec(
        "Customer",
        True,
        "Who visited: e-mail (lower-cased) or customer id; empty cells are anonymous visits.",
    ),
    "started_at": FieldSpec("Started at", True, f"When the session started: {_DATE_FORMS}."),
    "duration_seconds": FieldSpec(
        "Duration", False, "Seconds (420), or minutes and seconds (7:00, 0:07:00)."
    ),
    "pages_viewed": FieldSpec("Pages viewed", False, "A whole number."),
    "added_to_cart": FieldSpec("Added to cart", False, "yes/no, true/false, 1/0."),
    "purchased": FieldSpec("Purchased", False, "yes/no, true/false, 1/0."),
}
SPEND_FIELDS: dict[str, FieldSpec] = {
    "month": FieldSpec(
        "Month",
        True,
        "2025-03, 03/2025, March 2025, or any date in the month; rows of one month and channel "
        "are added up.",
    ),
    "channel": FieldSpec(
        "Channel", True, "Where the money went, as marketers name it (Google Ads, Meta Ads)."
    ),
    "spend": FieldSpec("Spend", True, "The amount spent: 1234.50, 1,234.50 or 1.234,50."),
    "purpose": FieldSpec(
        "Purpose",
        False,
        "acquisition (winning new customers, the default) or retention (keeping them).",
    ),
    "campaign": FieldSpec(
        "Campaign",
        False,
        "The ad campaign, as named in the orders' utm_campaign for CAC by campaign; empty = "
        "spend not split by campaign.",
    ),
}
SURVEY_FIELDS: dict[str, FieldSpec] = {
    "customer_id": FieldSpec("Customer", True, "Who answered: e-mail or customer id."),
    "score": FieldSpec("Score", True, "The answer as a number, e.g. an NPS score 0-10."),
    "answered_at": FieldSpec("Answered at", False, f"When they answered: {_DATE_FORMS}."),
}

# file format -> (the table's noun in messages, its fields)
MAPPED_FORMATS: dict[str, tuple[str, dict[str, FieldSpec]]] = {
    "generic": ("orders", ORDER_FIELDS),
    "order-lines": ("order lines", LINE_FIELDS),
    "customers": ("customers", CUSTOMER_FIELDS),
    "sessions": ("sessions", SESSION_FIELDS),
    "marketing-spend": ("marketing spend", SPEND_FIELDS),
    "surveys": ("survey scores", SURVEY_FIELDS),
}

_ORDER_IDS = (
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
)
_EMAILS = ("email", "email address", "e mail", "customer email")
# Per format and field: (names that match exactly after normalising, words a name may contain).
_SYNONYMS: dict[str, dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "generic": {
        "customer_id": (
            (
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
            ("email", "customer id", "phone"),
        ),
        "ordered_at": (
            (
                "order date",
                "date",
                "created at",
                "ordered at",
                "order time",
                "order datetime",
                "order purchase timestamp",
                "purchase timestamp",
                "invoice date",
                "purchase date",
                "transaction date",
                "timestamp",
                "datetime",
                "created",
            ),
            ("order date", "date", "created at"),
        ),
        "order_total": (
            (
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
            ("total", "amount", "revenue"),
        ),
        "order_id": (_ORDER_IDS, ("order id", "order number", "invoice")),
        "refunded_amount": (
            ("refunded amount", "refunded", "refund", "refunds", "refund amount", "total refunded"),
            ("refund",),
        ),
        "is_cancelled": (
            (
                "is cancelled",
                "cancelled",
                "canceled",
                "is canceled",
                "cancelled at",
                "status",
                "order status",
            ),
            ("cancel",),
        ),
        "discount_code": (
            (
                "discount code",
                "coupon",
                "coupon code",
                "promo code",
                "promo",
                "voucher",
                "voucher code",
            ),
            ("coupon", "discount code", "promo"),
        ),
        "channel": (
            ("channel", "sales channel", "marketing channel", "source", "utm source"),
            ("channel",),
        ),
        "country": (
            ("country", "country code", "billing country", "shipping country"),
            ("country",),
        ),
        "currency": (("currency", "currency code"), ("currency",)),
    },
    "order-lines": {
        "order_id": (_ORDER_IDS, ("order id", "order number", "invoice")),
        "product": (
            (
                "product",
                "product name",
                "item",
                "item name",
                "description",
                "lineitem name",
                "title",
                "product title",
                "name",
            ),
            ("product", "item name", "description"),
        ),
        "sku": (
            (
                "sku",
                "stock code",
                "product code",
                "item code",
                "variant sku",
                "lineitem sku",
                "article number",
            ),
            ("sku", "stock code"),
        ),
        "quantity": (("quantity", "qty", "units", "lineitem quantity"), ("quantity", "qty")),
        "price": (
            ("price", "unit price", "item price", "lineitem price", "price each"),
            ("price",),
        ),
        "category": (
            ("category", "product type", "type", "product category", "collection"),
            ("category",),
        ),
        "freight": (
            ("freight", "freight value", "shipping", "shipping cost", "shipping price"),
            ("freight",),
        ),
    },
    "customers": {
        "customer_id": (
            (
                *_EMAILS,
                "customer id",
                "customer",
                "client id",
                "customer number",
                "customer no",
                "user id",
                "id",
            ),
            ("email", "customer id"),
        ),
        "person_id": (
            ("customer unique id", "unique customer id", "person id", "person"),
            ("unique id", "person"),
        ),
        "email": (_EMAILS, ("email",)),
        "first_name": (("first name", "firstname", "given name", "name"), ("first name",)),
        "accepts_marketing": (
            (
                "accepts marketing",
                "accepts email marketing",
                "email marketing",
                "newsletter",
                "opt in",
                "marketing consent",
                "subscribed",
            ),
            ("marketing", "newsletter"),
        ),
        "accepts_sms": (("accepts sms marketing", "sms marketing", "sms opt in"), ("sms",)),
        "country": (("country", "country code"), ("country",)),
        "city": (("city", "town"), ("city",)),
        "tags": (("tags", "tag", "labels"), ("tag",)),
        "total_spent": (
            ("total spent", "lifetime value", "ltv", "total spend", "amount spent"),
            ("spent",),
        ),
        "total_orders": (
            ("total orders", "orders count", "number of orders", "orders"),
            ("orders",),
        ),
    },
    "sessions": {
        "customer_id": (
            (
                "customer id",
                "customer",
                *_EMAILS,
                "user id",
                "visitor id",
                "client id",
                "user",
            ),
            ("email", "customer", "user id"),
        ),
        "started_at": (
            (
                "started at",
                "start time",
                "session start",
                "started",
                "timestamp",
                "date",
                "session date",
                "time",
                "datetime",
                "start",
            ),
            ("start", "date"),
        ),
        "duration_seconds": (
            ("duration", "duration seconds", "session duration", "seconds", "time on site"),
            ("duration",),
        ),
        "pages_viewed": (
            ("pages viewed", "pages", "page views", "pageviews", "views"),
            ("page",),
        ),
        "added_to_cart": (
            ("added to cart", "add to cart", "cart", "added to basket"),
            ("cart", "basket"),
        ),
        "purchased": (
            ("purchased", "purchase", "converted", "conversion", "ordered", "bought", "revenue"),
            ("purchase", "convert"),
        ),
    },
    "marketing-spend": {
        "month": (("month", "date", "period", "day", "month start"), ("month", "date")),
        "channel": (
            ("channel", "source", "platform", "network", "media", "medium"),
            ("channel",),
        ),
        "spend": (
            ("spend", "cost", "amount", "spent", "budget", "ad spend", "media spend"),
            ("spend", "cost"),
        ),
        "purpose": (("purpose", "goal", "objective", "type"), ("purpose",)),
        "campaign": (("campaign", "campaign name", "utm campaign"), ("campaign",)),
    },
    "surveys": {
        "customer_id": (
            ("customer id", "customer", *_EMAILS, "respondent", "respondent email", "user id"),
            ("email", "customer"),
        ),
        "score": (
            ("score", "nps", "nps score", "rating", "csat", "satisfaction", "answer"),
            ("score", "rating"),
        ),
        "answered_at": (
            ("answered at", "date", "submitted at", "response date", "timestamp", "created at"),
            ("date", "submitted"),
        ),
    },
}


def fields_for(file_format: str) -> dict[str, FieldSpec]:
    """Return the canonical fields of a mapped format, in display order ({} for the others)."""
    return MAPPED_FORMATS.get(file_format, ("", {}))[1]


def guess_mapping(headers: list[str], file_format: str = "generic") -> dict[str, str | None]:
    """Return canonical field -> the header that most likely holds it (None when none does).

    Exact names win over partial ones across all fields, so ``Total`` is taken for the order
    total before ``Total products`` could be; each header is used once. A format read by its
    column names has no fields: {}.
    """
    if file_format not in _SYNONYMS:
        return {}
    synonyms = _SYNONYMS[file_format]
    names = {header: _normalise(header) for header in headers}
    guessed: dict[str, str | None] = dict.fromkeys(fields_for(file_format))
    used: set[str] = set()

    def take(field: str, matches) -> None:
        for header, name in names.items():
            if guessed[field] is None and header not in used and matches(name):
                guessed[field] = header
                used.add(header)

    for field, (exact, _) in synonyms.items():
        for synonym in exact:
            take(field, lambda name, s=synonym: name == s)
    for field, (_, words) in synonyms.items():
        for word in words:
            take(field, lambda name, w=word: f" {w} " in f" {name} ")
    return guessed


def resolve_mapping(
    headers: list[str], mapping: dict[str, str | None] | None, file_format: str = "generic"
) -> dict[str, int]:
    """Return canonical field -> column position for a confirmed mapping (None = the guess).

    Raises IngestError naming an unknown field, a header that is not in the file, or the
    required fields left unmapped.
    """
    noun, fields = MAPPED_FORMATS[file_format]
    chosen = guess_mapping(headers, file_format) if mapping is None else mapping
    positions: dict[str, int] = {}
    for field, header in chosen.items():
        if field not in fields:
            article = "an" if noun[0] in "aeiou" else "a"
            raise IngestError(
                f"'{field}' is not {article} {noun} column; use one of {', '.join(fields)}."
            )
        if header is None:
            continue
        if header not in headers:
            raise IngestError(f"The mapping names a column '{header}' that is not in the file.")
        positions[field] = headers.index(header)
    missing = [s.label.lower() for f, s in fields.items() if s.required and f not in positions]
    if len(missing) == 1:
        raise IngestError(
            f"Missing required column: {missing[0]} (map it to one of the file's columns)."
        )
    if missing:
        raise IngestError(
            f"Missing required columns: {', '.join(missing)} (map them to the file's columns)."
        )
    if file_format == "generic" and not {"order_total", "order_id"} & set(positions):
        raise IngestError(
            "Missing required column: order total (map it, or map the order id so that each "
            "order's total comes from an order lines file)."
        )
    return positions


def _normalise(header: str) -> str:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", header)
    return " ".join(re.sub(r"[^0-9a-z]+", " ", spaced.lower()).split())
