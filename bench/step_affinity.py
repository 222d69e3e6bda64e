"""Issue 16's speed target: basket affinity (every pair of products bought in the same order).

The dataset is written straight into a workspace by DuckDB, every draw a hash of the row number
and a salt, so a size always gives the same rows: about ``lines`` order lines over lines / 3
orders (1 to 5 lines each), 5,000 products with skewed popularity (every tenth has no SKU and is
keyed by its name), ~3% guest orders, ~2% cancelled and ~1% zero-value orders.

Ours is ``affinity.count_pairs`` over ``lines.select_valid_lines`` (guests included), as the
``products`` command runs it: the pairs, their counts, support, confidences, lift and the
products' names and categories. The reference is one hand-written DuckDB query of the same pairs
and counts (valid orders, products keyed by SKU else name, the self-join, the floor) with support
and lift. Both must find the same pairs with the same counts.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd

from bench.checks import Figures, query_figures
from dashboard import engines
from dashboard.products import affinity, lines
from dashboard.workspace import store

PRODUCTS = 5_000
FLOOR = 10
AS_OF = dt.date(2024, 12, 31)

ORDERS_SQL = """
INSERT INTO orders (order_id, customer_id, ordered_at, order_total, refunded_amount, net_total,
                    currency, is_cancelled, ingest_id)
SELECT 'O' || i,
       CASE WHEN hash(i, 'guest') % 100 < 3 THEN NULL
            ELSE 'C' || hash(i, 'customer') % greatest($orders // 3, 1) END,
       TIMESTAMP '2023-01-01' + to_seconds(CAST(hash(i, 'time') % (730 * 86400) AS BIGINT)),
       total, 0, total, 'EUR', state BETWEEN 1 AND 2, 1
FROM (
    SELECT i, hash(i, 'state') % 100 AS state,
           CASE WHEN hash(i, 'state') % 100 = 0 THEN 0
                ELSE CAST(10 + (hash(i, 'amount') % 20000) / 100 AS DECIMAL(18, 2)) END AS total
    FROM range($orders) AS r(i)
)
"""
# Each line's product: the square of a uniform draw makes low product numbers far more popular.
LINES_SQL = """
INSERT INTO order_lines (order_id, line_number, product, sku, quantity, price, category,
                         ingest_id)
SELECT 'O' || o, l + 1, 'Product ' || p,
       CASE WHEN p % 10 = 0 THEN NULL ELSE 'SKU-' || lpad(CAST(p AS VARCHAR), 5, '0') END,
       1, 9.99, 'Category ' || p % 40, 1
FROM (
    SELECT o, l,
           CAST(floor($products * power((hash(o, l, 'product') % 1000000) / 1e6, 2)) AS BIGINT)
               AS p
    FROM (SELECT i AS o, CAST(1 + hash(i, 'lines') % 5 AS BIGINT) AS n FROM range($orders) AS r(i)),
         range(n) AS x(l)
)
"""

REFERENCE_SQL = """
WITH valid AS (
    SELECT order_id FROM orders
    WHERE NOT is_cancelled AND order_total > 0 AND CAST(ordered_at AS DATE) <= $as_of
),
baskets AS (
    SELECT DISTINCT l.order_id,
           coalesce(nullif(trim(l.sku), ''), nullif(trim(l.product), '')) AS product_key
    FROM order_lines AS l JOIN valid USING (order_id)
    WHERE product_key IS NOT NULL
),
pairs AS (
    SELECT a.product_key AS product_a, b.product_key AS product_b, count(*) AS orders
    FROM baskets AS a JOIN baskets AS b
      ON a.order_id = b.order_id AND a.product_key < b.product_key
    GROUP BY ALL
    HAVING count(*) >= $floor
),
per_product AS (SELECT product_key, count(*) AS orders FROM baskets GROUP BY product_key),
total AS (SELECT count(DISTINCT order_id) AS orders FROM baskets)
SELECT p.product_a, p.product_b, p.orders, a.orders AS orders_a, b.orders AS orders_b,
       p.orders / total.orders AS support,
       p.orders * total.orders / (a.orders * b.orders) AS lift
FROM pairs AS p
JOIN per_product AS a ON a.product_key = p.product_a
JOIN per_product AS b ON b.product_key = p.product_b
CROSS JOIN total
"""

FIGURES = (
    "count(*) AS pairs, sum(orders) AS orders, sum(orders * orders_a) AS orders_a, "
    "sum(orders * orders_b) AS orders_b, max(orders) AS top_orders, "
    "sum(hash(product_a, product_b, orders)) AS pair_checksum, sum(support) AS support, "
    "sum(lift) AS lift"
)


def build_dataset(workspace: Path, dataset: str, order_lines: int) -> int:
    """Write the dataset of about ``order_lines`` lines; return the number of lines written."""
    parameters = {"orders": max(order_lines // 3, 1)}
    with store.open_for_write(workspace, dataset) as con:
        con.begin()
        con.execute(ORDERS_SQL, parameters)
        con.execute(LINES_SQL, {**parameters, "products": PRODUCTS})
        con.commit()
        row = con.execute("SELECT count(*) FROM order_lines").fetchone()
    assert row is not None
    return int(row[0])


def count_pairs_ours(workspace: Path, dataset: str) -> pd.DataFrame:
    """Count the pairs as the products command does."""
    with engines.open_tables("duckdb", workspace=workspace, dataset=dataset) as tables:
        valid = lines.select_valid_lines(tables.orders, tables["order_lines"], AS_OF)
        return affinity.count_pairs(valid, floor=FLOOR)


def count_pairs_duckdb(database: Path) -> pd.DataFrame:
    """Count the pairs with the hand-written query, on a read-only connection."""
    con = duckdb.connect(str(database), read_only=True)
    try:
        return con.execute(REFERENCE_SQL, {"as_of": AS_OF, "floor": FLOOR}).df()
    finally:
        con.close()


def read_figures(pairs: pd.DataFrame) -> Figures:
    """Return the number of pairs, their counts, a checksum of which pairs with which counts,
    and the sums of support and lift."""
    return query_figures(pairs, FIGURES)
