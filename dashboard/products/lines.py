"""The order lines the product analyses read: lines of valid orders, keyed by product.

A product is keyed by its SKU, or by its name when the line has no SKU; a line with neither is
left out. Ingest stores product, SKU and category trimmed, and NULL when empty (every loader goes
through ``ingest.values.text``), so no trimming here. Which orders are valid is decided in
``dashboard/order_rules.py`` only.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir

from dashboard import order_rules


def key_products(lines: ir.Table) -> ir.StringValue:
    """The product key of each order line: its SKU, else its name (null when it has neither)."""
    return lines.sku.coalesce(lines.product)


def select_valid_lines(
    orders: ir.Table,
    order_lines: ir.Table,
    as_of: dt.date,
    rules: order_rules.CountingRules = order_rules.DEFAULT_RULES,
    with_guests: bool = True,
) -> ir.Table:
    """The lines of valid orders placed on or before ``as_of``.

    In: canonical ``orders`` and ``order_lines``. Out: order_id, customer_id (null for a guest
    order; guests left out unless ``with_guests``), ordered_at (timestamp), day (date),
    product_key, product (the line's name, else its key), category (null when unknown),
    quantity (int64, 1 when missing), revenue (float64: price x quantity, 0 when the price is
    missing). One row per line; lines without SKU and name are left out.
    """
    valid = orders.filter(
        order_rules.is_valid(orders, rules) & (orders.ordered_at.date() <= ibis.literal(as_of))
    )
    if not with_guests:
        valid = valid.filter(valid.customer_id.notnull())
    keyed = order_lines.mutate(product_key=key_products(order_lines)).filter(
        lambda t: t.product_key.notnull()
    )
    joined = keyed.join(valid.select("order_id", "customer_id", "ordered_at"), "order_id")
    quantity = joined.quantity.cast("int64").fill_null(1)
    return joined.select(
        order_id=joined.order_id,
        customer_id=joined.customer_id,
        ordered_at=joined.ordered_at,
        day=joined.ordered_at.date(),
        product_key=joined.product_key,
        product=joined.product.coalesce(joined.product_key),
        category=joined.category,
        quantity=quantity,
        revenue=(joined.price.cast("float64") * quantity.cast("float64")).fill_null(0.0),
    )


def _pick_most_frequent(lines: ir.Table, column: str) -> ir.Table:
    """The most frequent non-null value of ``column`` among each product's lines (ties: the
    smallest value).

    In: lines of ``select_valid_lines``. Out: product_key, ``column``; one row per product with
    at least one non-null value.
    """
    counted = (
        lines.filter(lines[column].notnull())
        .group_by(["product_key", column])
        .aggregate(lines_=lambda t: t.count())
    )
    rank = ibis.row_number().over(
        group_by="product_key", order_by=[ibis.desc("lines_"), ibis.asc(column)]
    )
    ranked = counted.mutate(rank_=rank)
    return ranked.filter(ranked.rank_ == 0).select("product_key", column)


def describe_products(lines: ir.Table) -> ir.Table:
    """Each product's display name and category.

    In: lines of ``select_valid_lines``. Out: product_key, name (the most frequent ``product`` of
    the key), category (the most frequent non-null category, null when it has none); one row per
    product key.
    """
    names = _pick_most_frequent(lines, "product").rename(name="product")
    categories = _pick_most_frequent(lines, "category")
    return names.left_join(categories, "product_key").select("product_key", "name", "category")
