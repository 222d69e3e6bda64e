"""Step 2, the per-customer build: analysis.load_customer_base beside hand-written equivalents.

The references compute the same measures by the same rules (rfm.build_customer_measures with
no look-back start): as_of is the date of the latest order; cancelled orders never count;
valid orders are not cancelled and have a total above 0; monetary is the net total of the
counted orders; customers in the customers table without orders are prospects.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from bench.checks import Figures, query_figures
from dashboard.rfm import analysis

BASE_SQL = """
WITH bounds AS (SELECT CAST(max(ordered_at) AS DATE) AS as_of FROM orders),
flags AS (
    SELECT
        o.customer_id,
        CAST(o.ordered_at AS DATE) AS day,
        o.net_total,
        NOT o.is_cancelled AS is_counted,
        NOT o.is_cancelled AND o.order_total > 0 AS is_valid
    FROM orders AS o, bounds AS b
    WHERE o.customer_id IS NOT NULL AND CAST(o.ordered_at AS DATE) <= b.as_of
),
per_customer AS (
    SELECT
        customer_id,
        min(day) FILTER (WHERE is_valid) AS first_order_on,
        max(day) FILTER (WHERE is_valid) AS last_order_on,
        count(*) FILTER (WHERE is_valid) AS frequency,
        sum(net_total) FILTER (WHERE is_counted) AS monetary,
        count(*) FILTER (WHERE is_valid) AS orders_ever
    FROM flags
    GROUP BY customer_id
),
everyone AS (
    SELECT * FROM per_customer
    UNION ALL
    SELECT DISTINCT customer_id, NULL, NULL, 0, NULL, 0
    FROM customers
    WHERE customer_id NOT IN (SELECT customer_id FROM per_customer)
)
SELECT
    e.customer_id,
    CASE WHEN e.frequency > 0 THEN 'scored'
         WHEN e.orders_ever = 0 THEN 'prospect'
         ELSE 'outside_window' END AS status,
    e.first_order_on,
    e.last_order_on,
    date_diff('day', e.last_order_on, b.as_of) AS recency_days,
    e.frequency,
    CAST(coalesce(e.monetary, 0) AS DECIMAL(38, 2)) AS monetary,
    e.orders_ever
FROM everyone AS e, bounds AS b
"""

ORDERS_FRAME_SQL = """
SELECT customer_id, ordered_at, order_total, net_total, is_cancelled FROM orders
"""

# Sums catch most differences; the row hash and the weighted sum catch ones that cancel out.
FIGURES_SQL = """
    count(*) AS customers,
    count(*) FILTER (WHERE status = 'scored') AS scored,
    count(*) FILTER (WHERE status = 'prospect') AS prospects,
    count(*) FILTER (WHERE status = 'outside_window') AS outside_window,
    sum(frequency) AS frequency,
    sum(orders_ever) AS orders_ever,
    sum(monetary) AS monetary,
    sum(recency_days) AS recency_days,
    min(first_order_on) AS first_order_on,
    max(last_order_on) AS last_order_on,
    bit_xor(hash(
        CAST(customer_id AS VARCHAR),
        CAST(status AS VARCHAR),
        CAST(frequency AS BIGINT),
        CAST(orders_ever AS BIGINT),
        CAST(recency_days AS BIGINT)
    )) AS row_hash,
    sum(CAST(monetary AS DOUBLE) * (hash(CAST(customer_id AS VARCHAR)) % 7)) AS monetary_weighted
"""


def build_base_ours(workspace: Path, dataset: str) -> analysis.CustomerBase:
    """Build the per-customer base with the engine."""
    return analysis.load_customer_base(workspace, dataset)


def release_base(base: analysis.CustomerBase) -> None:
    """Close the private in-memory database a CustomerBase holds."""
    base.backend.disconnect()


def build_base_duckdb(database: Path) -> pa.Table:
    """Compute the per-customer measures with one hand-written query into an Arrow table."""
    con = duckdb.connect(str(database), read_only=True)
    try:
        return con.execute(BASE_SQL).to_arrow_table()
    finally:
        con.close()


def load_orders_frame(database: Path) -> pd.DataFrame:
    """Return the columns the measures need from the orders table, as a DataFrame (untimed)."""
    con = duckdb.connect(str(database), read_only=True)
    try:
        return con.execute(ORDERS_FRAME_SQL).df()
    finally:
        con.close()


def build_base_pandas(orders: pd.DataFrame) -> pd.DataFrame:
    """Compute the per-customer measures with a pandas groupby over an in-memory orders frame.

    The orders file has no customers table, so there are no prospects to add from one.
    """
    day = orders.ordered_at.dt.normalize()
    as_of = day.max()
    keep = orders.customer_id.notna() & (day <= as_of)
    known = orders.loc[keep]
    counted = ~known.is_cancelled
    valid = counted & (known.order_total > 0)
    flags = pd.DataFrame(
        {
            "customer_id": known.customer_id,
            "valid_day": day[keep].where(valid),
            "is_valid": valid,
            "counted_net": known.net_total.astype("float64").where(counted, 0.0),
        }
    )
    per_customer = flags.groupby("customer_id", sort=False).agg(
        first_order_on=("valid_day", "min"),
        last_order_on=("valid_day", "max"),
        frequency=("is_valid", "sum"),
        monetary=("counted_net", "sum"),
    )
    per_customer["orders_ever"] = per_customer.frequency
    per_customer["recency_days"] = (as_of - per_customer.last_order_on).dt.days
    per_customer["status"] = np.where(
        per_customer.frequency > 0,
        "scored",
        np.where(per_customer.orders_ever == 0, "prospect", "outside_window"),
    )
    return per_customer.reset_index()


def read_base_figures(measures: object) -> Figures:
    """Return the check figures of a per-customer table (Arrow table or DataFrame)."""
    return query_figures(measures, FIGURES_SQL)


def read_ours_figures(base: analysis.CustomerBase) -> Figures:
    """Return the check figures of our CustomerBase's materialised measures."""
    return read_base_figures(base.measures.to_pyarrow())
