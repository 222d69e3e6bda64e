"""Write ``shopify_orders.csv``: the 79-column Shopify orders export of the simulated orders."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from dashboard.demo.catalogue import COUNTRIES
from dashboard.demo.columns import ORDER_COLUMNS, format_money
from dashboard.demo.order_rows import ORDER_INDEX, expand_line_rows, fill_address
from dashboard.demo.orders import Orders
from dashboard.demo.people import People
from dashboard.demo.timeline import DAY_SECONDS, LAST_SECOND, format_shopify

_ORDER_ID_BASE = 5_800_000_000_000


def write_orders(path: Path, rng: np.random.Generator, people: People, orders: Orders) -> None:
    """Write the 79-column orders export: one row per line item, sorted by Created at then Name."""
    n = len(orders.created)
    created = format_shopify(orders.created)
    fulfilled_seconds = orders.created + rng.integers(6 * 3600, 3 * DAY_SECONDS, size=n)
    fulfilled = format_shopify(np.minimum(fulfilled_seconds, LAST_SECOND))
    cancelled_seconds = orders.created + rng.integers(600, 36 * 3600, size=n)
    cancelled_at = format_shopify(np.minimum(cancelled_seconds, LAST_SECOND))
    due_at = format_shopify(orders.created + 30 * DAY_SECONDS)
    order_ids = _ORDER_ID_BASE + np.cumsum(rng.integers(4000, 12000, size=n))
    pick = rng.integers(0, 1000, size=n)
    spelling = rng.random(n)
    risk = rng.random(n)
    payment = rng.random(n)
    note = rng.random(n)
    line_bounds = np.searchsorted(orders.baskets.owner, np.arange(n + 1))
    column = ORDER_INDEX

    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(ORDER_COLUMNS)
        for k in range(n):
            p = int(orders.person[k])
            source = orders.sources[k]
            is_pos = source == "pos"
            status = _decide_financial_status(orders, k, float(payment[k]))
            is_fulfilled = not orders.cancelled[k] and fulfilled_seconds[k] <= LAST_SECOND

            row = [""] * len(ORDER_COLUMNS)
            row[column["Name"]] = f"#{1001 + k}"
            if p >= 0:
                email = people.emails[p]
                if people.messy_email[p] and spelling[k] < 0.5:
                    email = _draw_email_spelling(rng, email)
                row[column["Email"]] = email
                row[column["Accepts Marketing"]] = "yes" if people.accepts_email[p] else "no"
                fill_address(row, people, p, "'" if pick[k] % 2 else "")
            else:
                row[column["Accepts Marketing"]] = "no"
                if not is_pos:
                    row[column["Phone"]] = f"+1 555-01{pick[k] % 100:02d}"
            row[column["Created at"]] = created[k]
            row[column["Financial Status"]] = status
            if status in ("paid", "refunded", "partially_refunded"):
                row[column["Paid at"]] = created[k]
            row[column["Fulfillment Status"]] = "fulfilled" if is_fulfilled else "unfulfilled"
            if is_fulfilled:
                row[column["Fulfilled at"]] = fulfilled[k]
            row[column["Currency"]] = "USD"
            row[column["Subtotal"]] = format_money(int(orders.baskets.subtotal[k]))
            row[column["Shipping"]] = format_money(int(orders.shipping[k]))
            row[column["Taxes"]] = format_money(int(orders.tax[k]))
            row[column["Total"]] = format_money(int(orders.total[k]))
            row[column["Discount Code"]] = orders.codes[k]
            row[column["Discount Amount"]] = format_money(int(orders.discount[k]))
            if not is_pos:
                row[column["Shipping Method"]] = (
                    "Standard" if orders.shipping[k] else "Free Shipping"
                )
            if note[k] < 0.01:
                row[column["Notes"]] = ("Please gift wrap", "Leave at the back door")[pick[k] % 2]
            row[column["Note Attributes"]] = orders.note_attributes[k]
            if orders.cancelled[k]:
                row[column["Cancelled at"]] = cancelled_at[k]
            if orders.total[k] > 0:
                row[column["Payment Method"]] = _choose_payment_method(source, float(payment[k]))
                reference = f"c{order_ids[k] + 21_000_000_000_000}"
                row[column["Payment Reference"]] = f"{reference}.1"
                row[column["Payment ID"]] = reference
                row[column["Payment References"]] = reference
            row[column["Refunded Amount"]] = format_money(int(orders.refunded[k]))
            outstanding = orders.total[k] if status == "pending" else 0
            row[column["Outstanding Balance"]] = format_money(int(outstanding))
            if status == "pending":
                row[column["Payment Terms Name"]] = "Net 30"
                row[column["Next Payment Due At"]] = due_at[k]
            if is_pos:
                row[column["Employee"]] = "Robin Calder"
                row[column["Location"]] = "Pop-up Market"
                row[column["Device ID"]] = str(40_000 + pick[k] % 3)
            row[column["Id"]] = str(order_ids[k])
            row[column["Tags"]] = orders.tags[k]
            row[column["Risk Level"]] = (
                "High" if risk[k] < 0.004 else "Medium" if risk[k] < 0.03 else "Low"
            )
            row[column["Source"]] = source
            country = COUNTRIES[people.country[p]] if p >= 0 else COUNTRIES[0]
            row[column["Tax 1 Name"]] = country.tax_name
            row[column["Tax 1 Value"]] = format_money(int(orders.tax[k]))
            line_status = "fulfilled" if is_fulfilled else "unfulfilled"
            writer.writerows(
                expand_line_rows(
                    row, orders.baskets, line_bounds[k], line_bounds[k + 1], line_status
                )
            )


def _decide_financial_status(orders: Orders, k: int, u: float) -> str:
    """Shopify's Financial Status of order ``k``; ``u`` decides the rare uncaptured payment."""
    created = int(orders.created[k])
    if orders.cancelled[k]:
        return "refunded" if orders.refunded[k] else "voided"
    is_guest_draft = orders.person[k] < 0 and orders.sources[k] == "shopify_draft_order"
    if is_guest_draft and created > LAST_SECOND - 30 * DAY_SECONDS:
        return "pending"  # wholesale invoices on Net 30 terms
    if created > LAST_SECOND - 2 * DAY_SECONDS and u < 0.05:
        return "authorized"
    if orders.refunded[k] >= orders.total[k] > 0:
        return "refunded"
    if orders.refunded[k]:
        return "partially_refunded"
    return "paid"


def _choose_payment_method(source: str, u: float) -> str:
    """Shopify's Payment Method for an order from ``source``; ``u`` splits cash and PayPal."""
    if source == "shopify_draft_order":
        return "manual"
    if source == "pos":
        return "Cash" if u < 0.3 else "Shopify Payments"
    return "PayPal Express Checkout" if u < 0.2 else "Shopify Payments"


def _draw_email_spelling(rng: np.random.Generator, email: str) -> str:
    """The same address as a person might type it: odd capitals, stray spaces."""
    local, domain = email.split("@")
    variant = int(rng.integers(0, 4))
    if variant == 0:
        return f"{local.capitalize()}@{domain.capitalize()} "
    if variant == 1:
        return email.upper()
    if variant == 2:
        return f" {email}"
    return f"{local.capitalize()}@{domain}"
