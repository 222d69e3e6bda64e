"""Basket affinity: which products are bought together, and which follow each other
(docs/products.md, "Basket affinity").

The pair counting is a self-join in the engine (Ibis, so DuckDB and Spark run the same query);
only the pairs held by at least ``floor`` orders come back to pandas, where the ratios are taken
from the exact integer counts. ``count_pairs`` and ``count_next_order_pairs`` are the expensive
steps, run once per dataset, analysis date and counting rules; ``filter_pairs`` is the cheap step
a minimum count or a category re-runs.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import pandas as pd

from dashboard.products.lines import describe_products

PAIR_COLUMNS = (
    "product_a",
    "product_b",
    "name_a",
    "name_b",
    "category_a",
    "category_b",
    "orders",
    "orders_a",
    "orders_b",
    "support",
    "confidence_a_b",
    "confidence_b_a",
    "lift",
)
NEXT_ORDER_COLUMNS = (
    "product_a",
    "product_b",
    "name_a",
    "name_b",
    "customers",
    "transitions",
    "orders_with_a_and_next",
    "share",
)


def _select_baskets(lines: ir.Table) -> ir.Table:
    """The distinct products of each order.

    In: lines of ``select_valid_lines``. Out: order_id, product_key; one row per product per
    order.
    """
    return lines.select("order_id", "product_key").distinct()


def _label_pairs(pairs: ir.Table, products: ir.Table, with_category: bool) -> ir.Table:
    """Add name_a, name_b (and category_a, category_b) to a table of product_a, product_b.

    In: a table with product_a and product_b; the table of ``lines.describe_products``. Out:
    the same rows with the labels added.
    """
    for side in ("a", "b"):
        labels = {f"name_{side}": "name"}
        if with_category:
            labels[f"category_{side}"] = "category"
        renamed = products.rename(**{f"product_{side}": "product_key"}, **labels)
        pairs = pairs.left_join(renamed, f"product_{side}").drop(f"product_{side}_right")
    return pairs


def count_pairs(lines: ir.Table, floor: int = 2) -> pd.DataFrame:
    """Count, for every two products bought in the same order, the orders holding both.

    In: lines of ``select_valid_lines(..., with_guests=True)``. Out: one row per unordered pair
    of distinct product keys (product_a < product_b) held by at least ``floor`` orders, columns
    product_a, product_b, name_a, name_b, category_a, category_b (nullable), orders (orders
    holding both), orders_a, orders_b (orders holding each), support (orders / all orders with a
    keyed line), confidence_a_b (orders / orders_a), confidence_b_a (orders / orders_b), lift
    (support / (support_a x support_b)); sorted by orders descending, product_a, product_b.
    """
    baskets = _select_baskets(lines)
    left = baskets.rename(product_a="product_key")
    right = baskets.rename(order_b="order_id", product_b="product_key")
    together = left.join(right, [left.order_id == right.order_b, left.product_a < right.product_b])
    pairs = (
        together.group_by(["product_a", "product_b"])
        .aggregate(orders=lambda t: t.count())
        .filter(lambda t: t.orders >= floor)
    )
    per_product = baskets.group_by("product_key").aggregate(n=lambda t: t.count())
    for side in ("a", "b"):
        counts = per_product.rename(**{f"product_{side}": "product_key", f"orders_{side}": "n"})
        pairs = pairs.join(counts, f"product_{side}")
    total = baskets.aggregate(total_orders=baskets.order_id.nunique())
    labelled = _label_pairs(pairs, describe_products(lines), with_category=True)
    frame = labelled.cross_join(total).to_pandas()
    return _finish_pairs(frame)


def _finish_pairs(frame: pd.DataFrame) -> pd.DataFrame:
    """Take the ratios of ``count_pairs`` from its integer counts, then sort.

    In: product_a, product_b, name_a, name_b, category_a, category_b, orders, orders_a, orders_b,
    total_orders. Out: the columns of ``PAIR_COLUMNS``, sorted by orders descending, product_a,
    product_b.
    """
    counts = frame[["orders", "orders_a", "orders_b", "total_orders"]].astype("int64")
    orders, total = counts.orders.astype("float64"), counts.total_orders.astype("float64")
    frame = frame.assign(
        orders=counts.orders,
        orders_a=counts.orders_a,
        orders_b=counts.orders_b,
        support=orders / total,
        confidence_a_b=orders / counts.orders_a,
        confidence_b_a=orders / counts.orders_b,
        # support / (support_a * support_b), from the counts so it is rounded only once
        lift=orders * total / (counts.orders_a.astype("float64") * counts.orders_b),
    )
    return _sort_rows(frame[list(PAIR_COLUMNS)], "orders")


def _sort_rows(frame: pd.DataFrame, count: str) -> pd.DataFrame:
    """Sort by ``count`` descending, then product_a, product_b; renumber the index."""
    ordered = frame.sort_values(
        [count, "product_a", "product_b"], ascending=[False, True, True], kind="stable"
    )
    return ordered.reset_index(drop=True)


def filter_pairs(pairs: pd.DataFrame, min_orders: int, category: str | None = None) -> pd.DataFrame:
    """Keep the pairs held by at least ``min_orders`` orders and, given a category, those with
    either product in it.

    In/out: the table of ``count_pairs`` (same columns and order). Pairs under the ``floor``
    ``count_pairs`` was run with are not in its result, so a smaller ``min_orders`` adds none.
    """
    kept = pairs.orders >= min_orders
    if category is not None:
        kept &= (pairs.category_a == category) | (pairs.category_b == category)
    return pairs[kept.fillna(False)].reset_index(drop=True)


def count_next_order_pairs(lines: ir.Table, floor: int = 2) -> pd.DataFrame:
    """Count, for every product A and B, how often a customer's next order holds B after an
    order that holds A (A may be B: a repurchase).

    In: lines of ``select_valid_lines``; guest lines are ignored. Each customer's orders are
    taken in the order of (ordered_at, order_id). Out: one row per (A, B) with at least
    ``floor`` transitions, columns product_a, product_b, name_a, name_b, customers (distinct
    customers with that transition), transitions (pairs of an order n holding A and the next
    order n+1 holding B), orders_with_a_and_next (orders holding A that have a next order), share
    (transitions / orders_with_a_and_next); sorted by transitions descending, product_a,
    product_b.
    """
    known = lines.filter(lines.customer_id.notnull())
    orders = known.select("customer_id", "order_id", "ordered_at").distinct()
    following = ibis.window(group_by="customer_id", order_by=["ordered_at", "order_id"])
    steps = orders.mutate(next_order=orders.order_id.lead().over(following)).filter(
        lambda t: t.next_order.notnull()
    )
    baskets = _select_baskets(known)
    before = steps.select("customer_id", "order_id", "next_order").join(
        baskets.rename(product_a="product_key"), "order_id"
    )
    with_next = before.group_by("product_a").aggregate(orders_with_a_and_next=lambda t: t.count())
    after = baskets.rename(next_order="order_id", product_b="product_key")
    transitions = (
        before.join(after, "next_order")
        .group_by(["product_a", "product_b"])
        .aggregate(customers=lambda t: t.customer_id.nunique(), transitions=lambda t: t.count())
        .filter(lambda t: t.transitions >= floor)
        .join(with_next, "product_a")
    )
    frame = _label_pairs(transitions, describe_products(lines), with_category=False).to_pandas()
    counts = frame[["customers", "transitions", "orders_with_a_and_next"]].astype("int64")
    frame = frame.assign(
        customers=counts.customers,
        transitions=counts.transitions,
        orders_with_a_and_next=counts.orders_with_a_and_next,
        share=counts.transitions / counts.orders_with_a_and_next.astype("float64"),
    )
    return _sort_rows(frame[list(NEXT_ORDER_COLUMNS)], "transitions")
