"""The per-customer purchase summary the "buy till you die" models fit (docs/predictions.md).

The literature's conventions (Fader, Hardie & Lee 2005): purchases on the same calendar day count
once, their values summed; ``x`` is the number of repeat purchase days, ``t_x`` the days from the
first to the last purchase, ``T`` the days from the first purchase to the analysis date. Which
orders are purchases (valid) and which are revenue (counted) is decided in
``dashboard/order_rules.py`` only. Everything here is Ibis and runs on DuckDB and Spark.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir

from dashboard import order_rules


def summarise_purchases(
    orders: ir.Table, as_of: dt.date, rules: order_rules.CountingRules = order_rules.DEFAULT_RULES
) -> ir.Table:
    """One row per customer with at least one valid order on or before ``as_of``.

    In: canonical ``orders``. Out: customer_id, first_purchase_on, last_purchase_on (dates),
    repeat_purchases (int64: distinct days with a valid order, minus 1), t_x_days (int64, last -
    first), T_days (int64, as_of - first), repeat_value_mean (float64: mean over the repeat days,
    every day but the first, of the day's summed valid order totals; null without a repeat day),
    historic_clv (decimal(38, 2): net total of the counted orders up to ``as_of``, returns and
    refunds included).
    """
    counted = order_rules.select_counted_orders(orders, rules, as_of)
    valid = order_rules.is_valid(counted, rules)
    days = counted.group_by(counted.customer_id, day=counted.ordered_at.date()).aggregate(
        value=counted.order_total.sum(where=valid),
        net=counted.net_total.sum(),
        purchase=valid.any(),
    )
    per_customer = (
        days.group_by("customer_id")
        .aggregate(
            first_purchase_on=days.day.min(where=days.purchase),
            last_purchase_on=days.day.max(where=days.purchase),
            purchase_days=days.purchase.sum(),
            # Every purchase day's value but the first's: no window over the days needed.
            repeat_value=days.value.sum(where=days.purchase)
            - days.value.argmin(days.day, where=days.purchase),
            historic_clv=days.net.sum(),
        )
        .filter(lambda t: t.purchase_days > 0)
    )
    repeats = per_customer.purchase_days - 1
    as_of_day = ibis.literal(as_of)
    return per_customer.select(
        customer_id=per_customer.customer_id,
        first_purchase_on=per_customer.first_purchase_on,
        last_purchase_on=per_customer.last_purchase_on,
        repeat_purchases=repeats.cast("int64"),
        t_x_days=per_customer.last_purchase_on.delta(
            per_customer.first_purchase_on, unit="day"
        ).cast("int64"),
        T_days=as_of_day.delta(per_customer.first_purchase_on, unit="day").cast("int64"),
        repeat_value_mean=ibis.ifelse(
            repeats > 0,
            per_customer.repeat_value.cast("float64") / repeats.cast("float64"),
            ibis.null("float64"),
        ),
        historic_clv=per_customer.historic_clv.cast("decimal(38, 2)"),
    )


def compress_purchases(summary: ir.Table) -> ir.Table:
    """The sufficient statistics of the purchase models: customers per distinct (x, t_x, T).

    In: the table of ``summarise_purchases``. Out: repeat_purchases, t_x_days, T_days (int64)
    and customers (int64), one row per distinct triple, in that order.
    """
    keys = ["repeat_purchases", "t_x_days", "T_days"]
    # Ordered: a fit sums the rows' log-likelihoods, and on a flat likelihood another order of
    # the same rows (Spark's, DuckDB's) can move the optimiser's end point.
    return summary.group_by(keys).aggregate(customers=summary.count().cast("int64")).order_by(keys)
