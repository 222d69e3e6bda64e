"""Abandoned checkouts: what was left behind, by product, category and acquisition channel.

Reads the ``abandoned_checkouts`` created on or before the analysis date and their
``checkout_lines`` (line items of the abandoned-checkouts export: product, SKU, quantity, price;
no category). Products are keyed as order lines are (SKU, else name); a product's name and
category are the ones its order lines give it (``lines.describe_products``), so it is named the
same here as on every other product table. Docs: docs/products.md, "Abandoned checkouts".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import ibis
import ibis.expr.types as ir
import pandas as pd

from dashboard import order_rules
from dashboard.acquisition import channels
from dashboard.acquisition.retention import ANONYMOUS, NO_PURCHASE_YET
from dashboard.errors import UserError
from dashboard.products.gateway import UNCATEGORISED
from dashboard.products.lines import describe_products, key_products, select_valid_lines

GROUPINGS = ("product", "category", "channel")
ABANDONED_COLUMNS = [
    "key",
    "name",
    "checkouts",
    "customers",
    "units",
    "value_left",
    "recovered",
    "recovered_share",
]
_MONEY = "decimal(38, 2)"


class AbandonedGroupingError(UserError):
    """A grouping of abandoned checkouts other than product, category or channel."""


def has_checkout_lines(tables: Mapping[str, ir.Table]) -> bool:
    """Whether the dataset holds abandoned checkouts with at least one line item.

    In: a dataset's tables by name (``engines.EngineTables``); absent tables count as empty.
    """
    if "abandoned_checkouts" not in tables or "checkout_lines" not in tables:
        return False
    checkouts = tables["abandoned_checkouts"].select("checkout_id")
    held = tables["checkout_lines"].join(checkouts, "checkout_id")
    return int(held.limit(1).count().execute()) > 0


def summarise_abandoned(
    tables: Mapping[str, ir.Table],
    as_of: dt.date,
    by: str = "product",
    rules: order_rules.CountingRules = order_rules.DEFAULT_RULES,
    attribution: ir.Table | None = None,
) -> pd.DataFrame:
    """What abandoned checkouts left behind, per product, category or acquisition channel.

    In: a dataset's tables by name (``engines.EngineTables``: orders, abandoned_checkouts,
    checkout_lines, order_lines when loaded); the checkouts created on or before ``as_of``.
    ``by``: "product" (key = SKU, else name; name = the product's display name from the valid
    order lines up to as_of, else its most frequent name among checkout lines), "category" (the
    product's category from the order lines, UNCATEGORISED when unknown) or "channel" (the
    acquisition channel of the checkout's customer in ``attribution``, the table of
    ``channels.attribute_channels``, built here with the default channel rules when None;
    ANONYMOUS for a checkout without a customer, NO_PURCHASE_YET for a customer without a valid
    order). A checkout is recovered when its customer placed a valid order at or after its
    created_at and on or before as_of.
    Out: ABANDONED_COLUMNS, one row per key: checkouts (distinct checkouts holding it),
    customers (distinct known customers), units (sum of quantity, 1 when missing), value_left
    (sum of price x quantity, a missing price as 0; float), recovered (distinct recovered
    checkouts), recovered_share (recovered / checkouts). By channel a checkout counts once, its
    units and value over its lines; a checkout without lines counts with 0 units and 0 value
    (its total, which holds shipping and tax, is not used), so value_left adds up to the same
    amount whatever the grouping. Sorted by value_left descending, then key. Raises
    AbandonedGroupingError for another ``by``.
    """
    if by not in GROUPINGS:
        raise AbandonedGroupingError(
            f"Abandoned checkouts are grouped by {', '.join(GROUPINGS)}, not {by!r}."
        )
    if "abandoned_checkouts" not in tables:
        return _type_summary(pd.DataFrame({c: [] for c in ABANDONED_COLUMNS}))
    checkouts = _flag_recovered(tables, as_of, rules)
    lines = _key_checkout_lines(tables, checkouts)
    if by == "channel":
        per_key = _sum_by_channel(tables, checkouts, lines, as_of, rules, attribution)
    elif lines is None:
        return _type_summary(pd.DataFrame({c: [] for c in ABANDONED_COLUMNS}))
    else:
        per_key = _sum_by_product(tables, lines, as_of, rules, by)
    frame = per_key.to_pandas()
    frame["recovered_share"] = frame.recovered / frame.checkouts
    frame["value_left"] = frame.value_left.astype("float64")
    frame = frame.sort_values(["value_left", "key"], ascending=[False, True], kind="mergesort")
    return _type_summary(frame[ABANDONED_COLUMNS].reset_index(drop=True))


def collect_latest_abandoned(
    tables: Mapping[str, ir.Table],
    as_of: dt.date,
    rules: order_rules.CountingRules = order_rules.DEFAULT_RULES,
) -> ir.Table:
    """What each known customer left in their latest abandoned checkout up to as_of.

    In: a dataset's tables by name (abandoned_checkouts and checkout_lines needed; order_lines
    name and categorise the products when loaded). The latest checkout is every checkout of the
    customer at their latest created_at on or before as_of. Out: customer_id,
    abandoned_products (array<string>: the display names of its products, distinct, sorted),
    abandoned_categories (array<string>: their categories, UNCATEGORISED included, distinct,
    sorted); customers whose latest checkout has no line items have no row.
    """
    checkouts = tables["abandoned_checkouts"]
    seen = checkouts.filter(
        checkouts.customer_id.notnull() & (checkouts.created_at.date() <= ibis.literal(as_of))
    )
    latest_at = seen.created_at.max().over(group_by="customer_id")
    latest = seen.mutate(_latest_at=latest_at).filter(lambda t: t.created_at == t._latest_at)
    lines = _key_checkout_lines(tables, latest.select("checkout_id", "customer_id"))
    # Named from every checkout up to as_of, guests' included, as in summarise_abandoned.
    every = checkouts.filter(checkouts.created_at.date() <= ibis.literal(as_of))
    every_line = _key_checkout_lines(tables, every.select("checkout_id"))
    described = _describe_checkout_products(tables, every_line, as_of, rules)
    named = lines.join(described, "product_key")
    return named.group_by("customer_id").aggregate(
        abandoned_products=named["name"].collect(distinct=True).sort(),
        abandoned_categories=named.category.collect(distinct=True).sort(),
    )


def _flag_recovered(
    tables: Mapping[str, ir.Table], as_of: dt.date, rules: order_rules.CountingRules
) -> ir.Table:
    """The checkouts created on or before as_of: checkout_id, customer_id (null for a guest),
    recovered (boolean: the customer's last valid order up to as_of is at or after
    created_at; the rule of the builder's ordered_after_checkout)."""
    checkouts = tables["abandoned_checkouts"]
    seen = checkouts.filter(checkouts.created_at.date() <= ibis.literal(as_of))
    valid = order_rules.select_valid_orders(tables["orders"], rules, as_of)
    last = valid.group_by("customer_id").aggregate(_last_order_at=valid.ordered_at.max())
    last = last.rename(_buyer="customer_id")
    joined = seen.left_join(last, seen.customer_id == last._buyer)
    return joined.select(
        "checkout_id",
        "customer_id",
        recovered=(joined._last_order_at >= joined.created_at).fill_null(False),
    )


def _key_checkout_lines(tables: Mapping[str, ir.Table], checkouts: ir.Table) -> ir.Table | None:
    """The line items of ``checkouts`` (checkout_id and any other columns, kept), keyed.

    Out: the checkouts' columns, product_key (SKU, else name), product (the line's name, else
    its key), quantity (int64, 1 when missing), value (decimal price x quantity, 0 without a
    price); lines without SKU and name are left out. None when the dataset has no
    checkout_lines table.
    """
    if "checkout_lines" not in tables:
        return None
    lines = tables["checkout_lines"]
    keyed = lines.mutate(product_key=key_products(lines)).filter(lambda t: t.product_key.notnull())
    joined = keyed.join(checkouts, "checkout_id")
    quantity = joined.quantity.cast("int64").fill_null(1)
    value = (joined.price.cast(_MONEY) * quantity.cast(_MONEY)).cast(_MONEY)
    return joined.select(
        *checkouts.columns,
        product_key=joined.product_key,
        product=joined["product"].coalesce(joined.product_key),
        quantity=quantity,
        value=value.fill_null(ibis.literal(0).cast(_MONEY)),
    )


def _describe_checkout_products(
    tables: Mapping[str, ir.Table],
    lines: ir.Table,
    as_of: dt.date,
    rules: order_rules.CountingRules,
) -> ir.Table:
    """Each checkout product's name and category.

    In: lines of ``_key_checkout_lines``. Out: product_key, name (the display name of the
    product among valid order lines up to as_of, else its most frequent checkout line name),
    category (from the order lines, UNCATEGORISED when unknown); one row per product key.
    """
    named = describe_products(
        lines.select("product_key", "product", category=ibis.null("string"))
    ).select("product_key", checkout_name="name")
    if "order_lines" not in tables:
        return named.select(
            "product_key", name=named.checkout_name, category=ibis.literal(UNCATEGORISED)
        )
    sold = select_valid_lines(tables["orders"], tables["order_lines"], as_of, rules)
    known = describe_products(sold).rename(_sold_key="product_key")
    joined = named.left_join(known, named.product_key == known._sold_key)
    return joined.select(
        "product_key",
        name=joined["name"].coalesce(joined.checkout_name),
        category=joined.category.fill_null(UNCATEGORISED),
    )


def _sum_by_product(
    tables: Mapping[str, ir.Table],
    lines: ir.Table,
    as_of: dt.date,
    rules: order_rules.CountingRules,
    by: str,
) -> ir.Table:
    """Per product or category: key, name and the counted columns (value_left decimal).

    In: lines of ``_key_checkout_lines`` over ``_flag_recovered`` checkouts.
    """
    described = _describe_checkout_products(tables, lines, as_of, rules)
    joined = lines.join(described, "product_key")
    key = joined.product_key if by == "product" else joined.category
    rows = joined.mutate(key=key)
    per_key = rows.group_by("key").aggregate(
        checkouts=rows.checkout_id.nunique(),
        customers=rows.customer_id.nunique(),
        units=rows.quantity.sum(),
        value_left=rows.value.sum(),
        recovered=rows.recovered.ifelse(rows.checkout_id, ibis.null("string")).nunique(),
    )
    if by == "category":
        return per_key.mutate(name=per_key.key)
    names = described.select(_product="product_key", name="name")
    joined = per_key.join(names, per_key.key == names._product)
    return joined.drop("_product")


def _sum_by_channel(
    tables: Mapping[str, ir.Table],
    checkouts: ir.Table,
    lines: ir.Table | None,
    as_of: dt.date,
    rules: order_rules.CountingRules,
    attribution: ir.Table | None,
) -> ir.Table:
    """Per acquisition channel: key, name and the counted columns (value_left decimal).

    In: ``_flag_recovered`` checkouts and their ``_key_checkout_lines`` (None: no lines).
    """
    if attribution is None:
        attribution = channels.attribute_channels(
            tables["orders"], channels.default_rules(), as_of, rules
        )
    acquired = attribution.select(_buyer="customer_id", _acquired_by="channel")
    joined = checkouts.left_join(acquired, checkouts.customer_id == acquired._buyer)
    keyed = joined.select(
        "checkout_id",
        "customer_id",
        "recovered",
        key=ibis.cases(
            (joined.customer_id.isnull(), ANONYMOUS),
            (joined._acquired_by.isnull(), NO_PURCHASE_YET),
            else_=joined._acquired_by,
        ),
    )
    if lines is None:
        rows = keyed.mutate(units=ibis.literal(0, "int64"), value=ibis.literal(0).cast(_MONEY))
    else:
        per_checkout = lines.group_by(_checkout="checkout_id").aggregate(
            units=lines.quantity.sum(), value=lines.value.sum()
        )
        rows = keyed.left_join(per_checkout, keyed.checkout_id == per_checkout._checkout)
        rows = rows.mutate(
            units=rows.units.fill_null(0),
            value=rows.value.fill_null(ibis.literal(0).cast(_MONEY)),
        )
    per_key = rows.group_by("key").aggregate(
        checkouts=rows.count(),
        customers=rows.customer_id.nunique(),
        units=rows.units.sum(),
        value_left=rows.value.sum(),
        recovered=rows.recovered.cast("int64").sum(),
    )
    return per_key.mutate(name=per_key.key)


def _type_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """The same dtypes whatever the engine: counts int64, money and shares float64."""
    return frame.astype(
        {
            "key": "object",
            "name": "object",
            "checkouts": "int64",
            "customers": "int64",
            "units": "int64",
            "value_left": "float64",
            "recovered": "int64",
            "recovered_share": "float64",
        }
    )
