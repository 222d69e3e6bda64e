"""Synthetic orders for the benchmark, written by DuckDB in one COPY statement.

Every random draw is a hash of the row number and a salt, so a given size always gives the same
file, whatever the number of threads. The shape is meant to look like a small web store:
about N/3 customers with a skewed order count, two years of dates with growth, lognormal-ish
order totals with cents, ~3% cancelled, ~5% refunded, ~0.5% zero-value, ~1% guest checkouts.
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
ORDERS_SQL = f"""
WITH draws AS (SELECT i, {_DRAWS} FROM range($n) AS r(i)),
shaped AS (
    SELECT
        i,
        u_misc,
        u_state,
        u_refund,
        u_country,
        CAST(floor($customers * u_customer * u_customer) AS BIGINT) AS customer_number,
        TIMESTAMP '2023-01-01'
            + to_days(CAST(floor(730 * sqrt(u_day)) AS INTEGER))
            + to_seconds(CAST(floor(86400 * u_second) AS BIGINT)) AS ordered_at,
        CASE WHEN u_state < 0.005 THEN 0
             ELSE round(exp(2.5 + 1.5 * (u_amount + u_spread)), 2) END AS total
    FROM draws
)
SELECT
    printf('O%010d', i) AS order_id,
    CASE WHEN u_misc < 0.01 THEN NULL ELSE printf('C%09d', customer_number) END AS customer_id,
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


@dataclass(frozen=True)
class Size:
    """A benchmark size: its label as typed (``1m``) and the number of orders it means."""

    label: str
    orders: int


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
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial.csv")
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        query = ORDERS_SQL.replace("$n", str(size.orders)).replace(
            "$customers", str(max(size.orders // 3, 1))
        )
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
