"""Website traffic by channel from GA4 acquisition reports (docs/acquisition.md §8).

``channel_sessions`` holds one row per period start (``week_start``) and channel group as GA4
names it, loaded from GA4 traffic or user acquisition report downloads (``ingest.ga4_reports``).
GA4's default channel groups are this tool's channel names (``channel_rules.CHANNEL_GROUPS``)
except where ``GA4_CHANNEL_NAMES`` says otherwise: Unassigned (and GA4's ``(not set)`` and
``(other)``) -> Unattributed, Cross-network and Audio -> Paid Other, Mobile Push Notifications
-> SMS. Names are matched without regard to case; a name none of these covers is kept as GA4
wrote it.

- ``build_traffic_by_channel``: sessions, engaged rate (engaged sessions / sessions),
  conversion rate (key events / sessions) and revenue per channel over a period;
  ``build_periods_covered``: the first and last period start and how many periods it holds.
- ``build_direct_share_by_month``: the Direct share of sessions per calendar month (a period's
  rows count in the month of their first day), the evidence the Maturity page shows for the
  Well established stage's "most new customers from direct traffic"; ``summarise_direct_share``
  reads it over the last complete months before the analysis date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import ibis
import ibis.expr.types as ir
import pandas as pd

from dashboard import engines, portable
from dashboard.acquisition.channel_rules import CHANNEL_GROUPS
from dashboard.acquisition.channels import UNATTRIBUTED

TABLE = "channel_sessions"
DIRECT = "Direct"
# GA4 channel group (lower case) -> this tool's channel, where the names differ.
GA4_CHANNEL_NAMES = {
    "unassigned": UNATTRIBUTED,
    "(not set)": UNATTRIBUTED,
    "(other)": UNATTRIBUTED,
    "cross-network": "Paid Other",
    "audio": "Paid Other",
    "mobile push notifications": "SMS",
    **{name.lower(): name for name in CHANNEL_GROUPS},
}
TRAFFIC_COLUMNS = [
    "channel",
    "sessions",
    "engaged_sessions",
    "engaged_rate",
    "conversions",
    "conversion_rate",
    "revenue",
]
DIRECT_SHARE_MONTHS = 3


@dataclass(frozen=True)
class DirectShare:
    """The Direct share of sessions over ``first_month``..``last_month`` (whole months)."""

    first_month: dt.date
    last_month: dt.date
    sessions: int
    direct_sessions: int

    @property
    def share(self) -> float:
        """Direct sessions / all sessions (0.0 without sessions)."""
        return self.direct_sessions / self.sessions if self.sessions else 0.0


def name_channel(channel: ir.StringValue) -> ir.StringValue:
    """Return the tool's channel name for GA4's channel group ``channel`` (see the module doc)."""
    # portable.strip: Ibis's strip() also cut a leading or trailing "f" or "v" off on Spark.
    stripped = portable.strip(channel)
    lowered = stripped.lower()
    cases = [(lowered == ga4, ours) for ga4, ours in GA4_CHANNEL_NAMES.items()]
    return ibis.cases(*cases, else_=stripped)


def has_traffic(tables: Mapping[str, ir.Table]) -> bool:
    """Whether the dataset holds channel sessions rows (a dataset from before has no table)."""
    table = tables.get(TABLE)
    return table is not None and int(table.count().execute()) > 0


def build_traffic_by_channel(
    sessions: ir.Table, first_day: dt.date | None = None, last_day: dt.date | None = None
) -> ir.Table:
    """Sessions, engaged rate, conversion rate and revenue per channel over a period.

    In: ``channel_sessions`` (week_start, channel, sessions, engaged_sessions, conversions,
    revenue); rows whose week_start lies in [first_day, last_day] (None: unbounded). Out: one
    row per channel (TRAFFIC_COLUMNS), most sessions first, ties by channel name; the rates are
    fractions, NULL for a channel without sessions; revenue is NULL when no row has any.
    """
    rows = _select_period(sessions, first_day, last_day)
    rows = rows.mutate(channel=name_channel(rows.channel))
    totals = rows.group_by("channel").aggregate(
        sessions=rows.sessions.sum(),
        engaged_sessions=rows.engaged_sessions.sum(),
        conversions=rows.conversions.sum(),
        revenue=rows.revenue.sum(),
    )
    with_sessions = totals.sessions > 0
    totals = totals.mutate(
        engaged_rate=ibis.ifelse(
            with_sessions, totals.engaged_sessions.cast("float64") / totals.sessions, None
        ),
        conversion_rate=ibis.ifelse(
            with_sessions, totals.conversions.cast("float64") / totals.sessions, None
        ),
    )
    return totals.select(*TRAFFIC_COLUMNS).order_by([ibis.desc(totals.sessions), totals.channel])


def build_periods_covered(
    sessions: ir.Table, first_day: dt.date | None = None, last_day: dt.date | None = None
) -> ir.Table:
    """The periods (weeks, or months for a monthly report) the traffic figures cover.

    In: ``channel_sessions``; rows whose week_start lies in [first_day, last_day] (None:
    unbounded). Out: one row: first_start, last_start (DATE, NULL without rows) and periods
    (the number of distinct period starts).
    """
    rows = _select_period(sessions, first_day, last_day)
    return rows.aggregate(
        first_start=rows.week_start.min(),
        last_start=rows.week_start.max(),
        periods=rows.week_start.nunique(),
    )


def build_direct_share_by_month(sessions: ir.Table) -> ir.Table:
    """The Direct share of sessions per month.

    In: ``channel_sessions``. Out: month (DATE, first day), sessions, direct_sessions,
    direct_share (fraction; NULL for a month without sessions), ordered by month.
    """
    rows = sessions.mutate(
        month=sessions.week_start.truncate("M").cast("date"),
        is_direct=name_channel(sessions.channel) == DIRECT,
    )
    months = rows.group_by("month").aggregate(
        sessions=rows.sessions.sum(),
        direct_sessions=rows.sessions.sum(where=rows.is_direct),
    )
    months = months.mutate(direct_sessions=months.direct_sessions.fill_null(0))
    return months.mutate(
        direct_share=ibis.ifelse(
            months.sessions > 0, months.direct_sessions.cast("float64") / months.sessions, None
        )
    ).order_by("month")


def summarise_direct_share(
    by_month: pd.DataFrame, as_of: dt.date, months: int = DIRECT_SHARE_MONTHS
) -> DirectShare | None:
    """The Direct share over the last ``months`` complete calendar months before ``as_of``.

    In: ``build_direct_share_by_month`` executed. A month is complete when it ends on or before
    ``as_of``. Out: None when those months hold no sessions.
    """
    last = _last_complete_month(as_of)
    first = (pd.Timestamp(last) - pd.DateOffset(months=months - 1)).date()
    window = by_month[
        (pd.to_datetime(by_month.month) >= pd.Timestamp(first))
        & (pd.to_datetime(by_month.month) <= pd.Timestamp(last))
    ]
    total = int(window.sessions.fillna(0).sum())
    if total == 0:
        return None
    return DirectShare(first, last, total, int(window.direct_sessions.fillna(0).sum()))


def load_traffic_by_channel(
    workspace: Path, dataset: str, first_day: dt.date | None, last_day: dt.date | None
) -> pd.DataFrame:
    """``build_traffic_by_channel`` of ``dataset`` on the configured engine, as a DataFrame
    (empty, with TRAFFIC_COLUMNS, when the dataset has no channel sessions)."""
    with engines.open_configured_tables(workspace, dataset) as tables:
        if not has_traffic(tables):
            return pd.DataFrame(columns=TRAFFIC_COLUMNS)
        return build_traffic_by_channel(tables[TABLE], first_day, last_day).to_pandas()


def load_direct_share(
    workspace: Path, dataset: str, as_of: dt.date, months: int = DIRECT_SHARE_MONTHS
) -> DirectShare | None:
    """``summarise_direct_share`` of ``dataset`` on the configured engine (None without rows)."""
    with engines.open_configured_tables(workspace, dataset) as tables:
        if not has_traffic(tables):
            return None
        by_month = build_direct_share_by_month(tables[TABLE]).to_pandas()
    return summarise_direct_share(by_month, as_of, months)


def _select_period(
    sessions: ir.Table, first_day: dt.date | None, last_day: dt.date | None
) -> ir.Table:
    """Keep the rows of ``channel_sessions`` whose week_start lies in [first_day, last_day]."""
    rows = sessions
    if first_day is not None:
        rows = rows.filter(rows.week_start >= first_day)
    if last_day is not None:
        rows = rows.filter(rows.week_start <= last_day)
    return rows


def _last_complete_month(as_of: dt.date) -> dt.date:
    """The first day of the last calendar month that ends on or before ``as_of``."""
    next_day = as_of + dt.timedelta(days=1)
    if next_day.month != as_of.month:
        return as_of.replace(day=1)
    return (as_of.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
