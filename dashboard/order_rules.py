"""THE definition of which orders count, used by every analysis (RFM, features, channels,
cohorts, maturity, migration, backtest) on every engine. Change a rule here and every page and
every CLI command follows (docs/segments.md §1 states the rules in words).

- A **counted** order's net total is revenue: it is not cancelled (unless the rules keep
  cancelled orders). Returns and refunds stay: their net total lowers revenue.
- A **valid** order is a purchase: a counted order whose total is above 0 (or 0 and above when
  the rules count zero-value orders). Frequency, first and last order dates, repeat rates,
  active customers and a store's sales count valid orders.
- Customer figures need a customer key; a store's totals count guest orders too.
- The **window** (analysis date, optional look-back start, excluded periods) decides which
  orders a measure sees; orders after the analysis date are never seen.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import ibis
import ibis.expr.types as ir


@dataclass(frozen=True)
class CountingRules:
    """Which orders count: cancelled orders and zero-value orders are left out of frequency."""

    exclude_cancelled: bool = True
    exclude_zero_value: bool = True

    def describe(self) -> str:
        """Return the rules as one sentence for the screen and the report."""
        parts = [
            "cancelled orders are ignored" if self.exclude_cancelled else "cancelled orders count",
            "orders with a total of 0 are not counted as orders"
            if self.exclude_zero_value
            else "orders with a total of 0 count as orders",
            "refunds and returns reduce revenue",
            "orders without a customer are left out of customer figures",
        ]
        return "; ".join(parts) + "."


DEFAULT_RULES = CountingRules()


@dataclass(frozen=True)
class Window:
    """The analysis date (inclusive end) and an optional look-back start (inclusive)."""

    as_of: dt.date
    start: dt.date | None = None
    excluded: tuple[tuple[dt.date, dt.date], ...] = field(default=())


def is_counted(orders: ir.Table, rules: CountingRules = DEFAULT_RULES) -> ir.BooleanValue:
    """Whether each order of a canonical ``orders`` table counts for revenue."""
    return ~orders.is_cancelled if rules.exclude_cancelled else ibis.literal(True)


def is_valid(orders: ir.Table, rules: CountingRules = DEFAULT_RULES) -> ir.BooleanValue:
    """Whether each order of a canonical ``orders`` table is a purchase (a valid order)."""
    total = orders.order_total
    return is_counted(orders, rules) & (total > 0 if rules.exclude_zero_value else total >= 0)


def is_in_window(day: ir.DateValue, window: Window) -> ir.BooleanValue:
    """Whether each order date falls in the window (up to as_of, from start, not excluded)."""
    inside = day <= window.as_of
    if window.start is not None:
        inside = inside & (day >= window.start)
    for start, end in window.excluded:
        inside = inside & ~day.between(start, end)
    return inside


def flag_orders(orders: ir.Table, window: Window, rules: CountingRules = DEFAULT_RULES) -> ir.Table:
    """The orders of known customers up to the analysis date, flagged.

    In: canonical ``orders``. Out: the same columns plus day (date), is_valid, is_counted and
    in_window (booleans), for orders with a customer_id placed on or before ``window.as_of``.
    """
    day = orders.ordered_at.date()
    known = orders.filter(orders.customer_id.notnull() & (day <= window.as_of))
    return known.mutate(
        day=known.ordered_at.date(),
        is_valid=is_valid(known, rules),
        is_counted=is_counted(known, rules),
        in_window=is_in_window(known.ordered_at.date(), window),
    )


def select_valid_orders(
    orders: ir.Table, rules: CountingRules = DEFAULT_RULES, as_of: dt.date | None = None
) -> ir.Table:
    """Valid orders of known customers up to ``as_of``. In/out: canonical orders, filtered."""
    kept = orders.customer_id.notnull() & is_valid(orders, rules)
    if as_of is not None:
        kept = kept & (orders.ordered_at.date() <= as_of)
    return orders.filter(kept)


def select_counted_orders(
    orders: ir.Table,
    rules: CountingRules = DEFAULT_RULES,
    as_of: dt.date | None = None,
    with_guests: bool = False,
) -> ir.Table:
    """Counted orders (revenue) up to ``as_of``, of known customers unless ``with_guests``.

    Zero-value and return rows stay, as in the RFM monetary measure. In/out: canonical orders.
    """
    kept = is_counted(orders, rules)
    if not with_guests:
        kept = kept & orders.customer_id.notnull()
    if as_of is not None:
        kept = kept & (orders.ordered_at.date() <= as_of)
    return orders.filter(kept)


def latest_order_date(orders: ir.Table) -> dt.date | None:
    """Return the date of the latest order (any state) in an ``orders`` table, or None if empty."""
    value = orders.ordered_at.max().execute()
    # DuckDB gives NaT for an empty table, which is not None and not a float: only NaN and NaT
    # differ from themselves.
    if value is None or value != value:
        return None
    return value.date() if hasattr(value, "date") else value


def describe_currency_mix(orders: ir.Table) -> str | None:
    """Return one sentence naming each currency and its orders when there are several, else None.

    In: an ``orders`` table (any state; orders without a currency are left out). Monetary and
    revenue figures add amounts as they are, so a mix must be said wherever they are shown.
    """
    known = orders.filter(orders.currency.notnull())
    counts = known.group_by("currency").aggregate(orders=known.count()).order_by("currency")
    rows = counts.to_pyarrow().to_pylist()
    if len(rows) < 2:
        return None
    listed = [
        f"{row['currency']} ({row['orders']:,} order{'' if row['orders'] == 1 else 's'})"
        for row in rows
    ]
    return (
        f"Orders are in {len(rows)} currencies, {', '.join(listed[:-1])} and {listed[-1]}: "
        "revenue and monetary figures add them up without conversion, so compare them within "
        "one currency or load each currency into its own dataset."
    )
