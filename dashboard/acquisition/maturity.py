"""The store's business maturity stage over time and whether its retention effort fits it.

docs/acquisition.md §6: a store moves from "Just started" (no sales) through "Gaining
traction" (1+ sale a week), "Consistent" (2+ months open, 1+ sale a day), "Established" (4+
months, 10+ a day) to "Well established" (12+ months, 10+ a day), by the default thresholds of
``StageThresholds``; the recommended share of effort on retention grows with it (0, 15, 30, 50,
60 %).

Each calendar month's signal is read at its last day (the analysis date for the current month)
from the store's own orders: whole months since its first valid order, and valid orders a day
over the trailing ``trailing_months`` calendar months ending with it (3 by default; fewer while the
store is younger). Stages are checked from the top: the first whose conditions hold wins. A
change of stage counts only once the signal has stayed above (or below) the stage held for
``hold_months`` consecutive complete months (3 by default); the new stage then holds from the
first month of that run. The current month, when the analysis date is not its last day, is
partial: it never changes the stage, so the headline is the stage of the last complete month.
Guest orders count as sales. The actual retention share of a month is the
share of its valid orders (and net revenue) placed by returning customers, i.e. customers with
an earlier valid order; guest orders are left out of that share since nobody knows if they return.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
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
    "complete",
    "months_open",
    "window_start",
    "orders_trailing",
    "sales_per_day",
    "sales_per_week",
    "signal_stage",
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
    "Gaining traction" with at least ``gaining_sales_per_week``; else "Just started". Sales a
    day are averaged over ``trailing_months`` calendar months; a change of stage counts once it
    has held for ``hold_months`` consecutive complete months.
    """

    gaining_sales_per_week: float = 1.0
    consistent_months: int = 2
    consistent_sales_per_day: float = 1.0
    established_months: int = 4
    established_sales_per_day: float = 10.0
    well_established_months: int = 12
    well_established_sales_per_day: float = 10.0
    trailing_months: int = 3
    hold_months: int = 3
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


def hold_stages(signals: Sequence[str], complete: Sequence[bool], hold_months: int) -> list[str]:
    """Return the stage that held in each month, from each month's signal stage (STAGES names).

    The first complete month's signal starts the series. A change counts once the signal has
    stayed above (or below) the stage held for ``hold_months`` consecutive complete months: the
    new stage is the lowest (or highest) signal of that run, and it holds from the run's first
    month. An incomplete month keeps the stage held before it; only when no month is complete
    does the partial month's own signal stand.
    """
    rank = [STAGES.index(s) for s in signals]
    held: list[int] = []
    current: int | None = None
    run_start: int | None = None
    for i, (signal, whole) in enumerate(zip(rank, complete, strict=True)):
        if not whole or current is None:
            held.append(signal if current is None else current)
            current = signal if whole and current is None else current
            continue
        if signal == current:
            run_start = None
        elif run_start is None or (signal > current) != (rank[run_start] > current):
            run_start = i
        held.append(current)
        if run_start is not None and i - run_start + 1 >= hold_months:
            run = rank[run_start : i + 1]
            current = min(run) if signal > current else max(run)
            held[run_start : i + 1] = [current] * len(run)
            run_start = None
    return [STAGES[h] for h in held]


def find_headline(stages: pd.DataFrame) -> int:
    """Return the position of the month that decides the headline: the last complete month.

    In: ``detect_stages`` output (non-empty). Without a complete month, the last (partial) one.
    """
    whole = [i for i, complete in enumerate(stages.complete) if complete]
    return whole[-1] if whole else len(stages) - 1


def describe_window(row: pd.Series) -> str:
    """Return the months a stage row's sales a day are read over, e.g. "Jan 2025 to Mar 2025"."""
    start, end = row.window_start, row.evaluated_on
    if (start.year, start.month) == (end.year, end.month):
        return f"{end:%b %Y}"
    return f"{start:%b %Y} to {end:%b %Y}"


def detect_stages(
    orders: ir.Table,
    as_of: dt.date,
    thresholds: StageThresholds = DEFAULT_THRESHOLDS,
    counting: order_rules.CountingRules = order_rules.DEFAULT_RULES,
) -> pd.DataFrame:
    """The stage of every month from the first valid order's month to the month of ``as_of``.

    In: canonical ``orders`` (guest orders count as sales). Out: STAGE_COLUMNS, one row per month
    (first day): evaluated_on (month end, or ``as_of``), complete (False for a month ``as_of``
    ends early), months_open (whole months since the first sale), window_start (the first day of
    the ``trailing_months`` window, not before the first sale), orders_trailing (valid orders from
    window_start to evaluated_on), sales_per_day (orders_trailing / the window's days),
    sales_per_week, signal_stage (the stage these signals alone give), stage (the stage that held:
    ``hold_stages``) and its recommended_retention_share. Empty without sales.
    """
    counted = order_rules.select_counted_orders(orders, counting, as_of, with_guests=True)
    sales = counted.filter(order_rules.is_valid(counted, counting))
    daily = sales.group_by(day=sales.ordered_at.date()).aggregate(orders=sales.count())
    first = daily.day.min().to_pyarrow().as_py()
    if first is None:
        return pd.DataFrame(columns=STAGE_COLUMNS)
    months = pd.date_range(first.replace(day=1), as_of.replace(day=1), freq="MS")
    month_ends = [(m + pd.offsets.MonthEnd(0)).date() for m in months]
    ends = [min(end, as_of) for end in month_ends]
    back = pd.DateOffset(months=thresholds.trailing_months - 1)
    starts = [max((m - back).date(), first) for m in months]
    points = ibis.memtable(
        pd.DataFrame({"evaluated_on": pd.to_datetime(ends), "window_start": pd.to_datetime(starts)})
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
    for month, start, end, month_end in zip(months.date, starts, ends, month_ends, strict=True):
        n = int(trailing.get(end, 0))
        per_day = n / ((end - start).days + 1)
        opened = count_whole_months(first, end)
        rows.append(
            {
                "month": month,
                "evaluated_on": end,
                "complete": end == month_end,
                "months_open": opened,
                "window_start": start,
                "orders_trailing": n,
                "sales_per_day": per_day,
                "sales_per_week": per_day * 7,
                "signal_stage": classify_stage(opened, per_day, thresholds),
            }
        )
    table = pd.DataFrame(rows)
    table["stage"] = hold_stages(table.signal_stage, table.complete, thresholds.hold_months)
    table["recommended_retention_share"] = table.stage.map(thresholds.recommended_share)
    return table[STAGE_COLUMNS]


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


def find_stage_since(stages: pd.DataFrame, position: int) -> dt.date:
    """Return the first month of the run of the stage held at ``position`` (``detect_stages``)."""
    held = stages.stage.tolist()
    start = position
    while start > 0 and held[start - 1] == held[position]:
        start -= 1
    return stages.month.iloc[start]


def describe_current_stage(
    stages: pd.DataFrame, effort: pd.DataFrame, thresholds: StageThresholds = DEFAULT_THRESHOLDS
) -> str:
    """One paragraph: the stage of the last complete month, why, what to focus on, the effort split.

    In: ``detect_stages`` and ``compare_effort`` outputs (non-empty, one row per month each).
    A partial current month is named, never used: it decides neither the stage nor the verdict.
    """
    position = find_headline(stages)
    current, effort_now = stages.iloc[position], effort.iloc[position]
    stage = str(current.stage)
    reached = find_stage_since(stages, position)
    recommended = thresholds.recommended_share(stage)
    actual = effort_now.returning_share_revenue
    month = f"{current.month:%B %Y}"
    parts = [
        f"The store is {stage.lower()} (since {reached:%B %Y}): {current.months_open} whole months "
        f"since its first sale and {current.sales_per_day:.1f} sales a day over "
        f"{describe_window(current)}.",
        f"A change of stage counts once it has held for {thresholds.hold_months} consecutive "
        "complete months.",
    ]
    if current.signal_stage != stage:
        parts.append(
            f"The signals of {month} point to {str(current.signal_stage).lower()}, which has not "
            "held long enough yet."
        )
    last = stages.iloc[-1]
    if not last.complete and position != len(stages) - 1:
        end = last.evaluated_on
        parts.append(
            f"{last.month:%B %Y} is not complete (data to {end.day} {end:%B}), so it does not "
            "decide the stage."
        )
    parts += [FOCUS[stage], f"Recommended share of effort on retention: {recommended:.0%}."]
    if pd.notna(actual):
        verdict = (
            "about right"
            if abs(actual - recommended) <= 0.1
            else ("more than recommended" if actual > recommended else "less than recommended")
        )
        parts.append(
            f"Returning customers brought {actual:.0%} of {month}'s revenue "
            f"({effort_now.returning_share_orders:.0%} of orders): {verdict}."
        )
    if pd.notna(effort_now.retention_spend_share):
        parts.append(f"{effort_now.retention_spend_share:.0%} of {month}'s spend is on retention.")
    return " ".join(parts)
