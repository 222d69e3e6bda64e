"""The column headers of the five demo files, and how their money cells are written."""

from __future__ import annotations

_ORDERS_HEADER = (
    "Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Accepts Marketing,"
    "Currency,Subtotal,Shipping,Taxes,Total,Discount Code,Discount Amount,Shipping Method,"
    "Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem compare at price,"
    "Lineitem sku,Lineitem requires shipping,Lineitem taxable,Lineitem fulfillment status,"
    "Billing Name,Billing Street,Billing Address1,Billing Address2,Billing Company,Billing City,"
    "Billing Zip,Billing Province,Billing Country,Billing Phone,Shipping Name,Shipping Street,"
    "Shipping Address1,Shipping Address2,Shipping Company,Shipping City,Shipping Zip,"
    "Shipping Province,Shipping Country,Shipping Phone,Notes,Note Attributes,Cancelled at,"
    "Payment Method,Payment Reference,Refunded Amount,Vendor,Outstanding Balance,Employee,"
    "Location,Device ID,Id,Tags,Risk Level,Source,Lineitem discount,Tax 1 Name,Tax 1 Value,"
    "Tax 2 Name,Tax 2 Value,Tax 3 Name,Tax 3 Value,Tax 4 Name,Tax 4 Value,Tax 5 Name,Tax 5 Value,"
    "Phone,Receipt Number,Duties,Billing Province Name,Shipping Province Name,Payment ID,"
    "Payment Terms Name,Next Payment Due At,Payment References"
)
ORDER_COLUMNS: tuple[str, ...] = tuple(_ORDERS_HEADER.split(","))
# A checkout never became an order, so it has no payment, fulfilment, cancellation or refund.
_ORDER_ONLY_COLUMNS = frozenset(
    {
        "Financial Status",
        "Paid at",
        "Fulfillment Status",
        "Fulfilled at",
        "Lineitem fulfillment status",
        "Cancelled at",
        "Refunded Amount",
        "Outstanding Balance",
        "Receipt Number",
    }
)
CHECKOUT_COLUMNS: tuple[str, ...] = tuple(c for c in ORDER_COLUMNS if c not in _ORDER_ONLY_COLUMNS)
_CUSTOMERS_HEADER = (
    "Customer ID,First Name,Last Name,Email,Accepts Email Marketing,Default Address Company,"
    "Default Address Address1,Default Address Address2,Default Address City,"
    "Default Address Province Code,Default Address Country Code,Default Address Zip,"
    "Default Address Phone,Phone,Accepts SMS Marketing,Total Spent,Total Orders,Note,Tax Exempt,"
    "Tags"
)
CUSTOMER_COLUMNS: tuple[str, ...] = tuple(_CUSTOMERS_HEADER.split(","))
SESSION_COLUMNS = (
    "customer_email",
    "started_at",
    "duration_seconds",
    "pages_viewed",
    "added_to_cart",
    "purchased",
)
SPEND_COLUMNS = ("month", "channel", "spend", "purpose")


def format_money(cents: int) -> str:
    """Cents -> the files' money text, ``1234`` -> ``12.34``."""
    return f"{cents // 100}.{cents % 100:02d}"
