"""Which export a file is, from its header names (docs/ingest.md)."""

from __future__ import annotations

from dashboard.ingest import shopify, uci, woocommerce
from dashboard.ingest.mapping import guess_mapping


def detect_format(headers: list[str]) -> str:
    """Return the format ``headers`` most likely belong to (FORMATS without 'auto').

    Exports with a known header win; then a mapped table whose distinctive fields the header
    names give (spend, a score, a session's start and length, a product line, a customer
    profile); anything else is taken for a generic orders table.
    """
    if shopify.is_orders_export(headers):
        return "shopify-orders"
    if shopify.is_checkouts_export(headers):
        return "shopify-checkouts"
    if shopify.is_customers_export(headers):
        return "shopify-customers"
    if woocommerce.is_export(headers):
        return "woocommerce-orders"
    if uci.is_export(headers):
        return "uci-online-retail"
    orders = guess_mapping(headers, "generic")
    if all(orders[f] for f in ("customer_id", "ordered_at", "order_total")):
        return "generic"
    distinctive = {
        "marketing-spend": (("month", "channel", "spend"), ()),
        "surveys": (("customer_id", "score"), ()),
        "sessions": (("started_at",), ("duration_seconds", "pages_viewed", "added_to_cart")),
        "order-lines": (("order_id",), ("product", "sku")),
        "customers": (("customer_id",), ("first_name", "accepts_marketing", "total_orders")),
    }
    for file_format, (every, some) in distinctive.items():
        guessed = guess_mapping(headers, file_format)
        if all(guessed[f] for f in every) and (not some or any(guessed[f] for f in some)):
            return file_format
    return "generic"
