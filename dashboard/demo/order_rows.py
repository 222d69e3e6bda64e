"""One order as Shopify exports it: a row of ``ORDER_COLUMNS`` per line item.

Order-level columns are filled on an order's first row only; the line columns below repeat on
every row. Shared by the orders and the abandoned checkouts exports.
"""

from __future__ import annotations

from dashboard.demo.baskets import Baskets
from dashboard.demo.catalogue import COUNTRIES, PRODUCTS
from dashboard.demo.columns import ORDER_COLUMNS, format_money
from dashboard.demo.people import People

_LINE_COLUMNS = frozenset(
    {
        "Name",
        "Email",
        "Created at",
        "Lineitem quantity",
        "Lineitem name",
        "Lineitem price",
        "Lineitem compare at price",
        "Lineitem sku",
        "Lineitem requires shipping",
        "Lineitem taxable",
        "Lineitem fulfillment status",
        "Vendor",
        "Lineitem discount",
    }
)
ORDER_INDEX = {name: i for i, name in enumerate(ORDER_COLUMNS)}
_LINE_INDEXES = [i for i, name in enumerate(ORDER_COLUMNS) if name in _LINE_COLUMNS]


def fill_address(row: list[str], people: People, p: int, phone_prefix: str) -> None:
    """Billing and shipping columns of one order row from person ``p``'s default address."""
    country = COUNTRIES[people.country[p]]
    city, province, province_name, zip_code = country.cities[people.city[p]]
    name = f"{people.first_names[p]} {people.last_names[p]}"
    zip_code = f"'{zip_code}" if country.code == "US" else zip_code
    phone = f"{phone_prefix}{people.phones[p]}" if people.phones[p] else ""
    for side in ("Billing", "Shipping"):
        row[ORDER_INDEX[f"{side} Name"]] = name
        row[ORDER_INDEX[f"{side} Street"]] = people.addresses[p]
        row[ORDER_INDEX[f"{side} Address1"]] = people.addresses[p]
        row[ORDER_INDEX[f"{side} City"]] = city
        row[ORDER_INDEX[f"{side} Zip"]] = zip_code
        row[ORDER_INDEX[f"{side} Province"]] = province
        row[ORDER_INDEX[f"{side} Country"]] = country.code
        row[ORDER_INDEX[f"{side} Phone"]] = phone
        row[ORDER_INDEX[f"{side} Province Name"]] = province_name


def expand_line_rows(
    first_row: list[str], baskets: Baskets, start: int, stop: int, line_status: str
) -> list[list[str]]:
    """Expand one order's first row into its line-item rows (line columns on every row).

    Lines ``start:stop`` of ``baskets`` belong to the order; ``first_row`` is filled in place and
    becomes the first of the returned rows.
    """
    rows = []
    for k in range(start, stop):
        product = PRODUCTS[baskets.product[k]]
        row = first_row if k == start else [""] * len(ORDER_COLUMNS)
        if k > start:
            for i in _LINE_INDEXES:
                row[i] = first_row[i]
        row[ORDER_INDEX["Lineitem quantity"]] = str(baskets.quantity[k])
        row[ORDER_INDEX["Lineitem name"]] = product.name
        row[ORDER_INDEX["Lineitem price"]] = format_money(product.price_cents)
        row[ORDER_INDEX["Lineitem sku"]] = product.sku
        is_gift_card = product.category == "Gift Cards"
        row[ORDER_INDEX["Lineitem requires shipping"]] = "false" if is_gift_card else "true"
        row[ORDER_INDEX["Lineitem taxable"]] = "false" if is_gift_card else "true"
        row[ORDER_INDEX["Lineitem fulfillment status"]] = line_status
        row[ORDER_INDEX["Vendor"]] = product.vendor
        row[ORDER_INDEX["Lineitem discount"]] = "0.00"
        rows.append(row)
    return rows
