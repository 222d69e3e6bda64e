"""A synthetic Shopify orders export (79-column 2023+ header) for the upload benchmark.

Written by DuckDB in one COPY statement, deterministic like bench.generate: the same store
shape (about N/3 customers with skewed order counts, two years of dates, ~3% cancelled, ~5%
refunded, ~0.5% zero-value, ~1% guest checkouts), laid out as Shopify exports it: one row per
line item (1 to 3 per order, about 1.4 on average), order-level columns on an order's first row
only, ``Name`` / ``Email`` / ``Created at`` on every row, local times with a ``-0700`` or
``-0800`` offset, mixed-case e-mails, and UTM lines in a multi-line ``Note Attributes`` cell.
"""

from __future__ import annotations

from pathlib import Path

from bench.generate import GENERATOR_VERSION, SALTS, Size, write_query_csv
from dashboard.demo.columns import ORDER_COLUMNS

SHOPIFY_SALTS = (*SALTS, "lines", "product", "note")
_DRAWS = ", ".join(f"(hash(i, '{salt}') % 1000000) / 1e6 AS u_{salt}" for salt in SHOPIFY_SALTS)

ORDERS_SQL = f"""
WITH draws AS (SELECT i, {_DRAWS} FROM range($n) AS r(i)),
shaped AS (
    SELECT
        *,
        CAST(floor($customers * u_customer * u_customer) AS BIGINT) AS customer_number,
        TIMESTAMP '2023-01-01'
            + to_days(CAST(floor(730 * sqrt(u_day)) AS INTEGER))
            + to_seconds(CAST(floor(86400 * u_second) AS BIGINT)) AS created,
        CASE WHEN u_state < 0.005 THEN 0
             ELSE round(exp(2.5 + 1.5 * (u_amount + u_spread)), 2) END AS total,
        u_state >= 0.005 AND u_state < 0.035 AS is_cancelled,
        1 + CAST(u_lines < 0.3 AS INTEGER) + CAST(u_lines < 0.1 AS INTEGER) AS n_lines
    FROM draws
),
orders AS (
    SELECT
        *,
        '#' || (1001 + row_number() OVER (ORDER BY created, i)) AS name,
        CASE WHEN u_misc < 0.01 THEN NULL
             WHEN u_note < 0.05 THEN printf('Customer%07d@Example.com', customer_number)
             ELSE printf('customer%07d@example.com', customer_number) END AS email,
        strftime(created, '%Y-%m-%d %H:%M:%S')
            || CASE WHEN month(created) BETWEEN 4 AND 10 THEN ' -0700' ELSE ' -0800' END
            AS created_text,
        CASE WHEN total >= 50 OR total = 0 THEN 0 ELSE 4.95 END AS shipping,
        round(total * 0.08 / 1.08, 2) AS taxes,
        CASE WHEN is_cancelled THEN total
             WHEN u_refund < 0.02 THEN total
             WHEN u_refund < 0.05 THEN round(total * (u_refund - 0.02) / 0.03, 2)
             ELSE 0 END AS refunded,
        ['US', 'US', 'US', 'GB', 'DE', 'FR', 'NL', 'CA'][1 + CAST(floor(8 * u_country) AS INTEGER)]
            AS country
    FROM shaped
),
lines AS (
    SELECT
        o.*,
        l.line,
        ['Ceramic Mug - Sand', 'Ceramic Mug - Slate', 'Pour-over Kettle', 'Coffee Beans 250g',
         'Tea Towel - Linen', 'Gift Card'][1 + CAST(floor(6 * ((u_product + l.line * 0.37) % 1))
            AS INTEGER)] AS product,
        greatest(round((o.total - o.shipping - o.taxes) / o.n_lines, 2), 0) AS line_price
    FROM orders AS o, range(o.n_lines) AS l(line)
)
SELECT {{columns}}
FROM lines
ORDER BY created, name, line
"""

FIRST = "line = 0"
# Column -> (value on an order's first row, value on its other line-item rows or None).
VALUES = {
    "Name": ("name", "name"),
    "Email": ("email", "email"),
    "Financial Status": (
        "CASE WHEN is_cancelled THEN 'voided' WHEN refunded = 0 THEN 'paid' "
        "WHEN refunded = total THEN 'refunded' ELSE 'partially_refunded' END",
        None,
    ),
    "Paid at": ("created_text", None),
    "Fulfillment Status": ("CASE WHEN is_cancelled THEN 'unfulfilled' ELSE 'fulfilled' END", None),
    "Accepts Marketing": ("CASE WHEN u_note < 0.6 THEN 'yes' ELSE 'no' END", None),
    "Currency": ("'USD'", None),
    "Subtotal": ("CAST(greatest(total - shipping - taxes, 0) AS DECIMAL(12, 2))", None),
    "Shipping": ("CAST(shipping AS DECIMAL(12, 2))", None),
    "Taxes": ("CAST(taxes AS DECIMAL(12, 2))", None),
    "Total": ("CAST(total AS DECIMAL(12, 2))", None),
    "Discount Code": (
        "CASE WHEN u_misc < 0.10 THEN 'WELCOME10' WHEN u_misc < 0.16 THEN 'SUMMER20' "
        "WHEN u_misc < 0.20 THEN 'VIP' END",
        None,
    ),
    "Discount Amount": ("CAST(0 AS DECIMAL(12, 2))", None),
    "Shipping Method": ("'Standard'", None),
    "Created at": ("created_text", "created_text"),
    "Lineitem quantity": ("1", "1"),
    "Lineitem name": ("product", "product"),
    "Lineitem price": ("CAST(line_price AS DECIMAL(12, 2))", "CAST(line_price AS DECIMAL(12, 2))"),
    "Lineitem sku": ("upper(left(product, 3)) || '-01'", "upper(left(product, 3)) || '-01'"),
    "Lineitem requires shipping": ("'true'", "'true'"),
    "Lineitem taxable": ("'true'", "'true'"),
    "Lineitem fulfillment status": ("'fulfilled'", "'fulfilled'"),
    "Billing Name": ("printf('Customer %d', customer_number)", None),
    "Billing City": ("'Springfield'", None),
    "Billing Zip": ("printf('''%05d', customer_number % 99999)", None),
    "Billing Country": ("country", None),
    "Shipping Name": ("printf('Customer %d', customer_number)", None),
    "Shipping City": ("'Springfield'", None),
    "Shipping Zip": ("printf('''%05d', customer_number % 99999)", None),
    "Shipping Country": ("country", None),
    "Note Attributes": (
        "CASE WHEN u_note < 0.15 THEN 'utm_source: google' || chr(10) || 'utm_medium: cpc' "
        "WHEN u_note < 0.25 THEN 'utm_source: klaviyo' || chr(10) || 'utm_medium: email' END",
        None,
    ),
    "Cancelled at": (
        "CASE WHEN is_cancelled THEN strftime(created + INTERVAL 1 HOUR, '%Y-%m-%d %H:%M:%S') "
        "|| right(created_text, 6) END",
        None,
    ),
    "Payment Method": ("'Shopify Payments'", None),
    "Refunded Amount": ("CAST(refunded AS DECIMAL(12, 2))", None),
    "Vendor": ("'Bench Goods'", "'Bench Goods'"),
    "Outstanding Balance": ("CAST(0 AS DECIMAL(12, 2))", None),
    "Id": ("5800000000000 + i * 7919", None),
    "Tags": ("CASE WHEN u_note > 0.95 THEN 'wholesale' END", None),
    "Risk Level": ("'Low'", None),
    "Source": (
        "CASE WHEN u_refund < 0.60 THEN 'web' WHEN u_refund < 0.85 THEN 'pos' "
        "WHEN u_refund < 0.95 THEN 'tiktok' ELSE 'shopify_draft_order' END",
        None,
    ),
    "Lineitem discount": ("CAST(0 AS DECIMAL(12, 2))", "CAST(0 AS DECIMAL(12, 2))"),
    "Tax 1 Name": ("'State Tax 8%'", None),
    "Tax 1 Value": ("CAST(taxes AS DECIMAL(12, 2))", None),
}


def build_columns() -> str:
    """Return the SELECT list: every column of the 79-column header, in its order, by name."""
    unknown = set(VALUES) - set(ORDER_COLUMNS)
    if unknown:
        raise ValueError(f"not in the Shopify orders header: {sorted(unknown)}")
    selected = []
    for name in ORDER_COLUMNS:
        first, other = VALUES.get(name, ("NULL", "NULL"))
        if other == first:
            value = first
        elif other is None:
            value = f"CASE WHEN {FIRST} THEN {first} END"
        else:
            value = f"CASE WHEN {FIRST} THEN {first} ELSE {other} END"
        selected.append(f'{value} AS "{name}"')
    return ",\n    ".join(selected)


def shopify_file(data_dir: Path, size: Size) -> Path:
    """Return where the Shopify orders export of ``size`` orders lives."""
    return data_dir / f"shopify-orders-v{GENERATOR_VERSION}-{size.label}.csv"


def write_shopify_csv(path: Path, size: Size) -> None:
    """Write a Shopify orders export of ``size.orders`` orders to ``path``."""
    template = ORDERS_SQL.replace("{columns}", build_columns())
    write_query_csv(path, template, size.orders, max(size.orders // 3, 1))


def ensure_shopify_csv(data_dir: Path, size: Size) -> Path:
    """Return the Shopify orders export of ``size``, generating it first if it is not there."""
    path = shopify_file(data_dir, size)
    if not path.exists():
        write_shopify_csv(path, size)
    return path
