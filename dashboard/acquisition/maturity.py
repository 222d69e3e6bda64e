"""The store's business maturity stage over time and whether its retention effort fits it.

docs/acquisition.md §6: a store moves from "Just started" (no sales) through "Gaining
traction" (1+ sale a week), "Consistent" (2+ months open, 1+ sale a day), "Established" (4+
months, 10+ a day) to "Well established" (12+ months, 10+ a day), by the default thresholds of
``StageThresholds``; the recommended share of effort on retention grows with it (0, 15, 30, 50,
60 %).

The stage of each calendar month is read at its last day (the analysis date for the current
month) from the store's own orders: whole months since its first valid order, and valid orders in
the trailing 28 days (per day and per week). Stages are checked from the top: the first whose
conditions hold wins. Guest orders count as sales. The actual retention share of a month is the
share of its valid orders (and net revenue) placed by returning customers, i.e. customers with
an earlier valid order; guest orders are left out of that share since nobody knows if they return.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import pandas as pd

from dashboard import order_rules
from dashboard.acquisition import cohorts

STAGES = ("Just started", "Gaining traction", "Consistent", "Established", "Well established")
STAGE_COLUMNS = [
    "month",
    "evaluated_on",
    "months_open",
    "orders_trailing",
    "sales_per_day",
    "sales_per_week",
    "stage",
    "recommended_retention_share",
]
EFFORT_COLUMNS = [
    "month",
    "stage",
    "recommended_retention_share",
    "orders",
    "returning_orders",
    "returning_share_orders",
    "revenue",
    "returning_revenue",
    "returning_share_revenue",
    "retention_spend_share",
]
FOCUS = {
    "Just started": (
        "Put everything into getting the first customers: traffic, a clear offer and a checkout "
        "that works. There is nobody to retain yet."
    ),
    "Gaining traction": (
        "Keep most effort on acquisition, but start collecting e-mail addresses and send a "
        "welcome series and an order follow-up, so first buyers hear from you again."
    ),
    "Consistent": (
        "Sales come every day: find which channels bring customers who come back, and build "
        "the basics of retention (post-purchase e-mails, replenishment reminders, a "
        "second-order offer)."
    ),
    "Established": (
        "Half the effort belongs to the customers you have: segment them (Champions, At risk, "
        "Dormant), win back lapsing buyers and watch CAC against what customers are worth."
    ),
    "Well established": (
        "Most growth now comes from existing customers and direct traffic: loyalty and VIP "
        "programmes, personalised offers by segment, and acquisition only where CLV : CAC stays "
        "near 3 : 1."
    ),
}


@dataclass(frozen=True)
class StageThresholds:
    """The signals of each stage (docs/acquisition.md §6) and the recommended retention share.

    A month is "Well established" with at least ``well_established_months`` whole months since the
    first sale and ``well_established_sales_per_day``; "Established", "Consistent" likewise;
    "Gaining traction" with at least ``gaining_sales_per_week``; else "Just started".
    """

    gaining_sales_per_week: float = 1.0
    consistent_months: int = 2
    consistent_sales_per_day: float = 1.0
    established_months: int = 4
    established_sales_per_day: float = 10.0
    well_established_months: int = 12
    well_established_sales_per_day: float = 10.0
    trailing_days: int = 28
    retention_shares: tuple[float, ...] = (0.0, 0.15, 0.30, 0.50, 0.60)

    def recommended_share(self, stage: str) -> float:
        """Return the recommended share of effort on retention for ``stage``."""
        return self.retention_shares[STAGES.index(stage)]

    def describe(self) -> list[dict[str, object]]:
        """Return one row per stage: stage, signal (in words), recommended retention share."""
        signals = (
            f"fewer than {self.gaining_sales_per_week:g} sales a week",
            f"at least {self.gaining_sales_per_week:g} sales a week",
            f"{self.consistent_months}+ months open and {self.consistent_sales_per_day:g}+ "
            "sales a day",
            f"{self.established_months}+ months open and {self.established_sales_per_day:g}+ "
            "sales a day",
            f"{self.well_established_months}+ months open and "
            f"{self.well_established_sales_per_day:g}+ sales a day",
        )
        return [
            {"stage": s, "signal": signal, "recommended_retention_share": share}
            for s, signal, share in zip(STAGES, signals, self.retention_shares, strict=True)
        ]


DEFAULT_THRESHOLDS = StageThresholds()


@dataclass(frozen=True)
class StoreTotals:
    """The store's own figures up to an analysis date, guest orders included.

    ``orders``: valid orders (not cancelled, total above 0), of which ``orders_without_customer``
    have no customer key; ``revenue``: net of refunds and returns over the orders not cancelled;
    ``aov``: revenue / orders (None without orders); first and last valid order dates;
    ``months_open``: whole months from the first valid order to the analysis date.
    """

    orders: int
    orders_without_customer: int
    revenue: float
    aov: float | None
    first_order_on: dt.date | None
    last_order_on: dt.date | None
    months_open: int


def classify_stage(
    months_open: int, sales_per_day: float, thresholds: StageThresholds = DEFAULT_THRESHOLDS
) -> str:
    """Return the stage for whole months since the first sale and trailing sales per day."""
    t = thresholds
    if (
        months_open >= t.well_established_months
        and sales_per_day >= t.well_established_sales_per_day
    ):
        return STAGES[4]
    if months_open >= t.established_months and sales_per_day >= t.established_sales_per_day:
        return STAGES[3]
    if months_open >= t.consistent_months and sales_per_day >= t.consistent_sales_per_day:
        return STAGES[2]
    if sales_per_day * 7 >= t.gaining_sales_per_week:
        return STAGES[1]
    return STAGES[0]


def count_whole_months(start: dt.date, end: dt.date) -> int:
    """Return the whole months from ``start`` to ``end`` (2024-11-15 -> 2025-01-14 is 1)."""
    months = cohorts.count_months_between(start, end)
    return months - 1 if end.day < start.day else months


def summarise_store(
    orders: ir.Table,
    as_of: dt.date,
    counting: order_rules.CountingRules = order_rules.DEFAULT_RULES,
) -> StoreTotals:
    """Return the store's totals up to ``as_of`` (StoreTotals) from canonical ``orders``.

    Orders with or without a customer count, so the figures hold for a store whose orders carry
    no customer key at all: revenue is the counted orders' net total (summed exactly and cast to
    float once), orders are the valid ones (``order_rules``).
    """
    kept = order_rules.select_counted_orders(orders, counting, as_of, with_guests=True)
    sale = order_rules.is_valid(kept, counting)
    row = (
        kept.aggregate(
            orders=kept.count(where=sale),
            orders_without_customer=kept.count(where=sale & kept.customer_id.isnull()),
            revenue=kept.net_total.sum().cast("float64"),
            first_order_on=kept.ordered_at.date().min(where=sale),
            last_order_on=kept.ordered_at.date().max(where=sale),
        )
        .to_pyarrow()
        .to_pylist()[0]
    )
    count, revenue, first = int(row["orders"]), row["revenue"] or 0.0, row["first_order_on"]
    return StoreTotals(
        orders=count,
        orders_without_customer=int(row["orders_without_customer"]),
        revenue=revenue,
        aov=revenue / count if count else None,
        first_order_on=first,
        last_order_on=row["last_order_on"],
        months_open=count_whole_months(first, as_of) if first else 0,
    )


def detect_stages(
    orders: ir.Table,
    as_of: dt.date,
    thresholds: StageThresholds = DEFAULT_THRESHOLDS,
    counting: order_rules.CountingRules = order_rules.DEFAULT_RULES,
) -> pd.DataFrame:
    """The stage of every month from the first valid order's month to the month of ``as_of``.

    In: canonical ``orders`` (guest orders count as sales). Out: STAGE_COLUMNS, one row per month
    (first day): evaluated_on (month end, or ``as_of``), months_open (whole months since the first
    sale), orders_trailing (valid orders in the ``trailing_days`` ending on evaluated_on),
    sales_per_day, sales_per_week, stage, recommended_retention_share. Empty without sales.
    """
    counted = order_rules.select_counted_orders(orders, counting, as_of, with_guests=True)
    sales = counted.filter(order_rules.is_valid(counted, counting))
    daily = sales.group_by(day=sales.ordered_at.date()).aggregate(orders=sales.count())
    first = daily.day.min().to_pyarrow().as_py()
    if first is None:
        return pd.DataFrame(columns=STAGE_COLUMNS)
    months = pd.date_range(first.replace(day=1), as_of.replace(day=1), freq="MS").date
    ends = [min((pd.Timestamp(m) + pd.offsets.MonthEnd(0)).date(), as_of) for m in months]
    points = ibis.memtable(
        pd.DataFrame(
            {
                "evaluated_on": pd.to_datetime(ends),
                "window_start": pd.to_datetime(ends)
                - pd.Timedelta(days=thresholds.trailing_days - 1),
            }
        )
    ).mutate(
        evaluated_on=lambda t: t.evaluated_on.date(), window_start=lambda t: t.window_start.date()
    )
    joined = points.left_join(
        daily, [points.window_start <= daily.day, daily.day <= points.evaluated_on]
    )
    counts = (
        joined.group_by("evaluated_on").aggregate(orders_trailing=joined.orders.sum()).to_pandas()
    )
    trailing = dict(
        zip(
            pd.to_datetime(counts.evaluated_on).dt.date,
            counts.orders_trailing.fillna(0),
            strict=True,
        )
    )
    rows = []
    for month, end in zip(months, ends, strict=True):
        n = int(trailing.get(end, 0))
        per_day = n / thresholds.trailing_days
        opened = count_whole_months(first, end)
        stage = classify_stage(opened, per_day, thresholds)
        rows.append(
            {
                "month": month,
                "evaluated_on": end,
                "months_open": opened,
                "orders_trailing": n,
                "sales_per_day": per_day,
                "sales_per_week": per_day * 7,
                "stage": stage,
                "recommended_retention_share": thresholds.recommended_share(stage),
            }
        )
    return pd.DataFrame(rows, columns=STAGE_COLUMNS)


def summarise_returning(
    orders: ir.Table,
    as_of: dt.date,
    counting: order_rules.CountingRules = order_rules.DEFAULT_RULES,
) -> pd.DataFrame:
    """Per month: valid orders and net revenue of known customers, and the returning customers'.

    In: canonical ``orders``. Out: month (first day), orders, returning_orders, revenue,
    returning_revenue (floats), sorted by month. An order is returning when its customer has an
    earlier valid order (ties on the same second broken by order id).
    """
    valid = order_rules.select_valid_orders(orders, counting, as_of)
    rank = ibis.row_number().over(group_by="customer_id", order_by=["ordered_at", "order_id"])
    ranked = valid.mutate(is_returning=rank > 0, month=valid.ordered_at.truncate("M").date())
    table = (
        ranked.group_by("month")
        .aggregate(
            orders=ranked.count(),
            returning_orders=ranked.is_returning.sum(),
            revenue=ranked.net_total.sum().cast("float64"),
            returning_revenue=ranked.net_total.sum(where=ranked.is_returning).cast("float64"),
        )
        .order_by("month")
        .to_pandas()
    )
    table["month"] = pd.to_datetime(table.month).dt.date
    table["returning_revenue"] = table.returning_revenue.fillna(0.0)
    return table


def compare_effort(
    stages: pd.DataFrame, returning: pd.DataFrame, spend_by_month: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Recommended retention share of each month's stage beside the actual shares.

    In: ``detect_stages`` output; ``summarise_returning`` output; optionally
    ``spend.summarise_effort_spend`` output. Out: EFFORT_COLUMNS, one row per stage month;
    retention_spend_share is empty without spend rows for the month.
    """
    table = stages[["month", "stage", "recommended_retention_share"]].merge(
        returning, on="month", how="left"
    )
    for column in ("orders", "returning_orders"):
        table[column] = table[column].fillna(0).astype("int64")
    for column in ("revenue", "returning_revenue"):
        table[column] = table[column].fillna(0.0)
    table["returning_share_orders"] = table.returning_orders / table.orders.where(table.orders > 0)
    table["returning_share_revenue"] = table.returning_revenue / table.revenue.where(
        table.revenue > 0
    )
    if spend_by_month is not None and not spend_by_month.empty:
        table = table.merge(spend_by_month[["month", "retention_spend_share"]], how="left")
    else:
        table["retention_spend_share"] = float("nan")
    return table[EFFORT_COLUMNS]


def describe_current_stage(
    stages: pd.DataFrame, effort: pd.DataFrame, thresholds: StageThresholds = DEFAULT_THRESHOLDS
) -> str:
    """One paragraph: the stage of the last month, why, what to focus on, and the effort split.

    In: ``detect_stages`` and ``compare_effort`` outputs (non-empty).
    """
    current = stages.iloc[-1]
    effort_now = effort.iloc[-1]
    stage = str(current.stage)
    since = stages[stages.stage != stage]
    reached = stages.month.iloc[0] if since.empty else stages.month[since.index[-1] + 1]
    recommended = thresholds.recommended_share(stage)
    actual = effort_now.returning_share_revenue
    parts = [
        f"The store is {stage.lower()} (since {reached:%B %Y}): {current.months_open} whole months "
        f"since its first sale and {current.sales_per_day:.1f} sales a day over the last "
        f"{thresholds.trailing_days} days.",
        FOCUS[stage],
        f"Recommended share of effort on retention: {recommended:.0%}.",
    ]
    if pd.notna(actual):
        verdict = (
            "about right"
            if abs(actual - recommended) <= 0.1
            else ("more than recommended" if actual > recommended else "less than recommended")
        )
        parts.append(
            f"Returning customers brought {actual:.0%} of this month's revenue "
            f"({effort_now.returning_share_orders:.0%} of orders): {verdict}."
        )
    if pd.notna(effort_now.retention_spend_share):
        parts.append(
            f"{effort_now.retention_spend_share:.0%} of this month's spend is on retention."
        )
    return " ".join(parts)
