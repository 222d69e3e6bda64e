"""Synthetic orders for the benchmark, written by DuckDB in one COPY statement.

Every random draw is a hash of the row number and a salt, so a given size always gives the same
file, whatever the number of threads. The shape is meant to look like a small web store:
about N/3 customers with a skewed order count, two years of dates with growth, lognormal-ish
order totals with cents, ~3% cancelled, ~5% refunded, ~0.5% zero-value, ~1% guest checkouts.

The customer-sized files (``ensure_customers_csv``) have exactly the asked number of customers:
the first C rows give each customer one order, the other 2C orders follow the same skew.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

GENERATOR_VERSION = 1
DEFAULT_SIZES = "1m"
SIZE_PATTERN = re.compile(r"^(\d+)([km]?)$")
MULTIPLIERS = {"": 1, "k": 1_000, "m": 1_000_000}
ORDER_FIELDS = (
    "order_id",
    "customer_id",
    "ordered_at",
    "order_total",
    "refunded_amount",
    "is_cancelled",
    "discount_code",
    "channel",
    "country",
    "currency",
)

# Uniform draws in [0, 1) from hash(row, salt); one salt per independent column.
SALTS = ("customer", "day", "second", "amount", "spread", "state", "refund", "misc", "country")
_DRAWS = ", ".join(f"(hash(i, '{salt}') % 1000000) / 1e6 AS u_{salt}" for salt in SALTS)

# The customer draw is squared so low customer numbers order far more often (skewed frequency).
SKEWED_CUSTOMER = "CAST(floor($customers * u_customer * u_customer) AS BIGINT)"
GUEST = "u_misc < 0.01"
ORDERS_SQL_TEMPLATE = """
WITH draws AS (SELECT i, {draws} FROM range($n) AS r(i)),
shaped AS (
    SELECT
        i,
        u_misc,
        u_state,
        u_refund,
        u_country,
        {customer_number} AS customer_number,
        TIMESTAMP '2023-01-01'
            + to_days(CAST(floor(730 * sqrt(u_day)) AS INTEGER))
            + to_seconds(CAST(floor(86400 * u_second) AS BIGINT)) AS ordered_at,
        CASE WHEN u_state < 0.005 THEN 0
             ELSE round(exp(2.5 + 1.5 * (u_amount + u_spread)), 2) END AS total
    FROM draws
)
SELECT
    printf('O%010d', i) AS order_id,
    CASE WHEN {guest} THEN NULL ELSE printf('C%09d', customer_number) END AS customer_id,
    ordered_at,
    CAST(total AS DECIMAL(12, 2)) AS order_total,
    CAST(CASE
        WHEN u_state >= 0.005 AND u_state < 0.035 THEN total
        WHEN u_refund < 0.02 THEN total
        WHEN u_refund < 0.05 THEN round(total * (u_refund - 0.02) / 0.03, 2)
        ELSE 0 END AS DECIMAL(12, 2)) AS refunded_amount,
    u_state >= 0.005 AND u_state < 0.035 AS is_cancelled,
    CASE WHEN u_misc < 0.10 THEN 'WELCOME10' WHEN u_misc < 0.16 THEN 'SUMMER20'
         WHEN u_misc < 0.20 THEN 'VIP' ELSE NULL END AS discount_code,
    CASE WHEN u_refund < 0.60 THEN 'web' WHEN u_refund < 0.85 THEN 'pos' ELSE 'app' END AS channel,
    ['US', 'US', 'US', 'GB', 'DE', 'FR', 'NL', 'CA'][1 + CAST(floor(8 * u_country) AS INTEGER)]
        AS country,
    'USD' AS currency
FROM shaped
ORDER BY ordered_at, order_id
"""
ORDERS_SQL = ORDERS_SQL_TEMPLATE.format(draws=_DRAWS, customer_number=SKEWED_CUSTOMER, guest=GUEST)
# Every customer number below $customers owns row i = its number, never a guest checkout.
COVERING_ORDERS_SQL = ORDERS_SQL_TEMPLATE.format(
    draws=_DRAWS,
    customer_number=f"CASE WHEN i < $customers THEN i ELSE {SKEWED_CUSTOMER} END",
    guest=f"{GUEST} AND i >= $customers",
)
# Orders per customer in the customer-sized files: the N/3 customers of the orders files.
ORDERS_PER_CUSTOMER = 3


@dataclass(frozen=True)
class Size:
    """A benchmark size: its label as typed (``1m``) and the number of orders it means."""

    label: str
    orders: int


def format_count(count: int) -> str:
    """Return a count the way sizes are typed: ``100k``, ``1M``, ``1.5M``, ``12,345``."""
    for suffix, unit in (("M", 1_000_000), ("k", 1_000)):
        if count >= unit and count % (unit // 10) == 0:
            return f"{count / unit:g}{suffix}"
    return f"{count:,}"


def parse_size(text: str) -> Size:
    """Parse ``100k``, ``1m``, ``10m``, ``20m`` or a plain number of orders."""
    label = text.strip().lower()
    match = SIZE_PATTERN.match(label)
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"'{text}' is not a size like 100k, 1m or 10m.")
    return Size(label, int(match.group(1)) * MULTIPLIERS[match.group(2)])


def parse_sizes(text: str | None) -> list[Size]:
    """Parse a comma-separated BENCH_SIZES value (default ``1m``)."""
    parts = [part for part in (text or DEFAULT_SIZES).split(",") if part.strip()]
    return [parse_size(part) for part in parts]


def orders_file(data_dir: Path, size: Size) -> Path:
    """Return where the orders CSV of ``size`` lives (versioned, so old files never get reused)."""
    return data_dir / f"orders-v{GENERATOR_VERSION}-{size.label}.csv"


def write_orders_csv(path: Path, size: Size) -> None:
    """Write ``size.orders`` synthetic orders to ``path`` as CSV with a header of ORDER_FIELDS."""
    write_query_csv(path, ORDERS_SQL, size.orders, max(size.orders // 3, 1))


def write_query_csv(path: Path, template: str, orders: int, customers: int) -> None:
    """Write the orders of ``template`` ($n orders, $customers customer numbers) to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial.csv")
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        query = template.replace("$n", str(orders)).replace("$customers", str(customers))
        con.execute(f"COPY ({query}) TO '{partial}' (HEADER, DELIMITER ',')")
    finally:
        con.close()
    partial.replace(path)


def ensure_orders_csv(data_dir: Path, size: Size) -> Path:
    """Return the orders CSV of ``size``, generating it first if it is not there yet."""
    path = orders_file(data_dir, size)
    if not path.exists():
        write_orders_csv(path, size)
    return path


def customers_file(data_dir: Path, size: Size) -> Path:
    """Return where the orders CSV with ``size.orders`` customers (3 orders each) lives."""
    return data_dir / f"orders-v{GENERATOR_VERSION}-{size.label}-customers.csv"


def ensure_customers_csv(data_dir: Path, size: Size) -> Path:
    """Return an orders CSV with exactly ``size.orders`` customers, generating it if absent.

    Here the size counts customers: the file holds ORDERS_PER_CUSTOMER times as many orders.
    """
    path = customers_file(data_dir, size)
    if not path.exists():
        orders = ORDERS_PER_CUSTOMER * size.orders
        write_query_csv(path, COVERING_ORDERS_SQL, orders, size.orders)
    return path
