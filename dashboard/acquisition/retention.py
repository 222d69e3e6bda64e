"""Retention KPIs per month or quarter: who stays, who is new, who comes back (docs/products.md).

Every count is over valid orders of known customers up to the analysis date
(``dashboard/order_rules.py``); a customer is active in a period when they placed a valid order
in it. Periods are calendar months or quarters, numbered in the engine as integers (months or
quarters since year 0) so that "the next period" is an integer join on every engine; only
per-period counts come back to pandas.

- ``measure_retention``: per period, active, new and returning customers, retention and churn
  against the previous period, and the repeat purchase rate of everyone acquired so far.
- ``measure_time_to_second_order``: how many customers took N days from their first to their
  second purchase day; ``summarise_time_to_second_order`` reads its median and shares.
- ``measure_conversion``: sessions with a purchase / sessions, overall and by the acquisition
  channel of the session's customer.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir
import pandas as pd

from dashboard import engines, order_rules
from dashboard.acquisition import channels
from dashboard.errors import UserError

PERIODS = {"month": 12, "quarter": 4}  # period kind -> periods per year
RETENTION_COLUMNS = [
    "period_start",
    "period_end",
    "is_partial",
    "active_customers",
    "new_customers",
    "returning_customers",
    "previous_active",
    "retained",
    "retention_rate",
    "churn_rate",
    "customers_to_date",
    "repeat_customers_to_date",
    "repeat_purchase_rate",
]
SECOND_ORDER_COLUMNS = ["days", "customers"]
SECOND_ORDER_WITHIN_DAYS = (30, 90, 365)
CONVERSION_COLUMNS = [
    "period_start",
    "channel",
    "sessions",
    "purchasing_sessions",
    "conversion_rate",
]
ALL_CHANNELS = "All"
ANONYMOUS = "Anonymous"
# A known customer's session when that customer has no valid order up to the analysis date,
# so no acquisition channel.
NO_PURCHASE_YET = "No purchase yet"


class RetentionPeriodError(UserError):
    """A retention period other than a month or a quarter."""


def check_period(period: str) -> int:
    """Return the periods per year of ``period`` ("month" or "quarter"); raise a UserError else."""
    if period not in PERIODS:
        raise RetentionPeriodError(
            f"The retention period must be 'month' or 'quarter', not '{period}'."
        )
    return PERIODS[period]


def number_periods(day: ir.DateValue, period: str) -> ir.IntegerValue:
    """The period of each date as an integer: months (or quarters) since January of year 0."""
    per_year = check_period(period)
    within = day.month() - 1 if per_year == 12 else day.quarter() - 1
    return day.year().cast("int64") * per_year + within.cast("int64")


def number_day(day: dt.date, period: str) -> int:
    """Return the period number of one date, as ``number_periods`` numbers it in the engine."""
    per_year = check_period(period)
    return day.year * per_year + (day.month - 1) // (12 // per_year)


def start_period(number: int, period: str) -> dt.date:
    """Return the first day of the period numbered ``number`` (see ``number_periods``)."""
    per_year = check_period(period)
    year, within = divmod(number, per_year)
    return dt.date(year, within * (12 // per_year) + 1, 1)


def end_period(number: int, period: str) -> dt.date:
    """Return the last day of the period numbered ``number`` (see ``number_periods``)."""
    return start_period(number + 1, period) - dt.timedelta(days=1)


def _count_by_period(table: ir.Table, column: str) -> dict[int, int]:
    """Rows of ``table`` per value of its period-number ``column``, as {number: rows}."""
    counts = table.group_by(column).aggregate(rows=table.count()).to_pandas()
    return {int(k): int(v) for k, v in zip(counts[column], counts["rows"], strict=True)}


def _rank_purchase_days(
    orders: ir.Table, as_of: dt.date, rules: order_rules.CountingRules
) -> ir.Table:
    """Each known customer's distinct valid purchase days, numbered 0, 1, ... in date order."""
    valid = order_rules.select_valid_orders(orders, rules, as_of)
    days = valid.select("customer_id", day=valid.ordered_at.date()).distinct()
    rank = ibis.row_number().over(group_by="customer_id", order_by="day")
    return days.mutate(purchase=rank)


def _first_two_days(orders: ir.Table, as_of: dt.date, rules: order_rules.CountingRules) -> ir.Table:
    """One row per customer: first_day and second_day (null without a second purchase day)."""
    ranked = _rank_purchase_days(orders, as_of, rules)
    ranked = ranked.filter(ranked.purchase < 2)
    return ranked.group_by("customer_id").aggregate(
        first_day=ranked.day.min(),
        second_day=ranked.day.max(where=ranked.purchase == 1),
    )


def measure_retention(
    orders: ir.Table,
    as_of: dt.date,
    period: str = "month",
    rules: order_rules.CountingRules = order_rules.DEFAULT_RULES,
) -> pd.DataFrame:
    """Retention, churn, new and returning customers and the repeat purchase rate per period.

    In: canonical ``orders``; valid orders of known customers up to ``as_of`` count; ``period``
    "month" or "quarter" (else ``RetentionPeriodError``). Out: RETENTION_COLUMNS, one row per
    period from the period of the first valid order to the period of ``as_of`` (periods where
    nobody ordered included, with zeros), sorted by period_start:

    - period_start, period_end (dates: the period's last day, or ``as_of`` when earlier),
      is_partial (``as_of`` is before the period's last day);
    - active_customers (a valid order in the period), new_customers (their first valid order
      is in the period), returning_customers = active - new;
    - previous_active (active in the previous period), retained (active in both the previous
      period and this one): both null (pandas Int64) for the first period;
    - retention_rate = retained / previous_active, churn_rate = 1 - retention_rate (NaN when
      previous_active is 0 or null);
    - customers_to_date (first valid order on or before period_end), repeat_customers_to_date
      (2+ distinct valid purchase days on or before period_end), repeat_purchase_rate = repeat /
      customers_to_date (NaN when 0).
    """
    check_period(period)
    valid = order_rules.select_valid_orders(orders, rules, as_of)
    activity = valid.select(
        "customer_id", number=number_periods(valid.ordered_at.date(), period)
    ).distinct()
    following = activity.select(next_customer="customer_id", next_number="number")
    # A customer active in period p and in p + 1 is retained in p + 1.
    pairs = activity.join(
        following,
        [
            activity.customer_id == following.next_customer,
            activity.number + 1 == following.next_number,
        ],
    )
    firsts = _first_two_days(orders, as_of, rules)
    firsts = firsts.select(
        first=number_periods(firsts.first_day, period),
        second=number_periods(firsts.second_day, period),
    )
    active = _count_by_period(activity, "number")
    retained = _count_by_period(pairs, "next_number")
    new = _count_by_period(firsts, "first")
    repeat = _count_by_period(firsts.filter(firsts.second.notnull()), "second")
    if not new:
        return pd.DataFrame(columns=RETENTION_COLUMNS)
    numbers = list(range(min(new), number_day(as_of, period) + 1))
    starts = [start_period(n, period) for n in numbers]
    ends = [end_period(n, period) for n in numbers]
    table = pd.DataFrame(
        {
            "period_start": starts,
            "period_end": [min(end, as_of) for end in ends],
            "is_partial": [as_of < end for end in ends],
            "active_customers": [active.get(n, 0) for n in numbers],
            "new_customers": [new.get(n, 0) for n in numbers],
        }
    )
    table["returning_customers"] = table.active_customers - table.new_customers
    previous = table.active_customers.shift(1)
    table["previous_active"] = pd.array(previous, dtype="Int64")
    table["retained"] = pd.array([pd.NA] + [retained.get(n, 0) for n in numbers[1:]], "Int64")
    base = previous.where(previous > 0)
    table["retention_rate"] = table.retained.astype("float64") / base
    table["churn_rate"] = 1.0 - table.retention_rate
    table["customers_to_date"] = table.new_customers.cumsum()
    table["repeat_customers_to_date"] = pd.Series([repeat.get(n, 0) for n in numbers]).cumsum()
    to_date = table.customers_to_date.where(table.customers_to_date > 0)
    table["repeat_purchase_rate"] = table.repeat_customers_to_date / to_date
    for column in ("active_customers", "new_customers", "returning_customers"):
        table[column] = table[column].astype("int64")
    for column in ("customers_to_date", "repeat_customers_to_date"):
        table[column] = table[column].astype("int64")
    return table[RETENTION_COLUMNS]


def measure_time_to_second_order(
    orders: ir.Table,
    as_of: dt.date,
    rules: order_rules.CountingRules = order_rules.DEFAULT_RULES,
) -> pd.DataFrame:
    """How many customers took each number of days from their first to their second purchase.

    In: canonical ``orders``; valid orders of known customers up to ``as_of`` count, several on
    one day as one purchase day. Out: SECOND_ORDER_COLUMNS: days (int64, second distinct valid
    purchase day - first, at least 1) and customers (int64), one row per days value that
    occurs, sorted by days. Customers without a second purchase day are not in it.
    """
    firsts = _first_two_days(orders, as_of, rules)
    firsts = firsts.filter(firsts.second_day.notnull())
    gaps = firsts.select(days=firsts.second_day.delta(firsts.first_day, unit="day").cast("int64"))
    table = gaps.group_by("days").aggregate(customers=gaps.count()).order_by("days").to_pandas()
    table = table.astype({"days": "int64", "customers": "int64"})
    return table[SECOND_ORDER_COLUMNS].reset_index(drop=True)


def summarise_time_to_second_order(distribution: pd.DataFrame) -> dict[str, float | int | None]:
    """Return the count, median and shares of a time-to-second-order distribution.

    In: the output of ``measure_time_to_second_order``. Out: customers (with a second purchase
    day), median_days (over customers; the mean of the two middle values for an even count;
    None without customers), share_within_30, share_within_90 and share_within_365 (share of
    those customers whose second purchase day came within that many days; None without them).
    """
    ordered = distribution.sort_values("days")
    customers = int(ordered.customers.sum())
    summary: dict[str, float | int | None] = {"customers": customers, "median_days": None}
    for days in SECOND_ORDER_WITHIN_DAYS:
        within = int(ordered.customers[ordered.days <= days].sum())
        summary[f"share_within_{days}"] = within / customers if customers else None
    if customers:
        reached = ordered.customers.cumsum()
        # The customers at 1-based positions (n + 1) // 2 and n // 2 + 1 hold the median.
        low = ordered.days[reached >= (customers + 1) // 2].iloc[0]
        high = ordered.days[reached >= customers // 2 + 1].iloc[0]
        summary["median_days"] = (int(low) + int(high)) / 2
    return summary


def measure_conversion(
    tables: engines.EngineTables,
    as_of: dt.date,
    period: str = "month",
    channel_rules: pd.DataFrame | None = None,
    rules: order_rules.CountingRules = order_rules.DEFAULT_RULES,
) -> pd.DataFrame | None:
    """Conversion rate (sessions with a purchase / sessions) per period, overall and by channel.

    In: a dataset's tables; its ``sessions`` (started_at, customer_id, purchased) started on or
    before ``as_of`` count; ``period`` "month" or "quarter". A session converts when its
    ``purchased`` flag is true (unknown counts as no purchase). A session's channel is the
    acquisition channel of its customer (``channels.attribute_channels`` with ``channel_rules``,
    the default rules when None, and ``rules``, up to ``as_of``): ANONYMOUS when the session
    has no customer, NO_PURCHASE_YET when its customer has no valid order up to ``as_of``.
    Out: None when the dataset has no sessions rows; else CONVERSION_COLUMNS, per period from
    the first session's period to ``as_of``'s an ALL_CHANNELS row (zeros when no session) and
    one row per channel with sessions in it; conversion_rate = purchasing_sessions / sessions
    (NaN without sessions); sorted by period_start, then All first, then channel name.
    """
    check_period(period)
    if "sessions" not in tables or int(tables["sessions"].count().execute()) == 0:
        return None
    sessions = tables["sessions"]
    sessions = sessions.filter(sessions.started_at.date() <= ibis.literal(as_of))
    if channel_rules is None:
        channel_rules = channels.default_rules()
    attribution = channels.attribute_channels(tables.orders, channel_rules, as_of, rules)
    attribution = attribution.select(known_customer="customer_id", acquired_by="channel")
    joined = sessions.left_join(attribution, sessions.customer_id == attribution.known_customer)
    channel = ibis.cases(
        (joined.customer_id.isnull(), ANONYMOUS),
        (joined.acquired_by.isnull(), NO_PURCHASE_YET),
        else_=joined.acquired_by,
    )
    rows = joined.select(
        number=number_periods(joined.started_at.date(), period),
        channel=channel,
        purchased=joined.purchased.fill_null(False),
    )
    counts = (
        rows.group_by(["number", "channel"])
        .aggregate(sessions=rows.count(), purchasing_sessions=rows.purchased.sum())
        .to_pandas()
    )
    if counts.empty:
        return pd.DataFrame(columns=CONVERSION_COLUMNS)
    last = number_day(as_of, period)
    counts = counts.astype({"number": "int64", "sessions": "int64"})
    counts["purchasing_sessions"] = counts.purchasing_sessions.fillna(0).astype("int64")
    totals = counts.groupby("number")[["sessions", "purchasing_sessions"]].sum()
    totals = totals.reindex(range(int(counts.number.min()), last + 1), fill_value=0)
    totals = totals.rename_axis("number").reset_index().assign(channel=ALL_CHANNELS)
    table = pd.concat([totals, counts], ignore_index=True)
    table["period_start"] = [start_period(int(n), period) for n in table.number]
    table["conversion_rate"] = table.purchasing_sessions / table.sessions.where(table.sessions > 0)
    table["_order"] = (table.channel != ALL_CHANNELS).astype("int64")
    table = table.sort_values(["number", "_order", "channel"]).reset_index(drop=True)
    return table[CONVERSION_COLUMNS]
