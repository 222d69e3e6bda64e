"""GA4 acquisition report downloads: sessions by channel group and period (``ga4-acquisition``).

A GA4 traffic or user acquisition report downloaded as CSV starts with a ``#`` comment
preamble (its title, property and date range: ``# Start date: 20240101``), which the reader
skips (``sniff``, ``read``), then a header such as ``Session primary channel group (Default
Channel Group), Week, Sessions, Engaged sessions, ..., Key events, ..., Total revenue``.

Into ``channel_sessions`` (one row per period start and channel group, the group as GA4 names
it; rows sharing both are added up):

- the period: ``Week`` as GA4's week number since the report's start date (``0001``, four
  digits: start date + 7 x n days), as a week of the year (``01``-``53``, weeks starting on
  Sunday, week 01 starting on 1 January; years counted from the start date's), or as a date;
  ``Nth week`` the same as four digits; ``Date`` / ``Day`` (``20240101`` or any date) and ``Nth
  day`` are added up into weeks starting on Monday; ``Month`` (``01``-``12`` of the start date's
  year, ``202401``, ``2024-01``), ``Nth month`` and ``Year month`` are stored under the month's
  first day. A number needs the preamble's start date; a report without a period column is
  refused (its totals span the whole range);
- sessions = ``Sessions``, engaged_sessions = ``Engaged sessions``, conversions = ``Key
  events`` (``Conversions`` before GA4 renamed them), revenue = ``Total revenue`` (else
  ``Purchase revenue``).
"""

from __future__ import annotations

import duckdb

from dashboard.ingest import values
from dashboard.ingest.columns import Layout
from dashboard.ingest.report import IngestError
from dashboard.ingest.tables import Check, TableSource, create_table_rows

CHANNEL_HEADERS = (
    "Session primary channel group (Default Channel Group)",
    "Session default channel group",
    "Session primary channel group",
    "First user primary channel group (Default Channel Group)",
    "First user default channel group",
    "First user primary channel group",
    "Primary channel group (Default Channel Group)",
    "Default channel group",
)
# period field -> its headers; checked in this order
_PERIODS: dict[str, tuple[str, ...]] = {
    "nth_week": ("Nth week",),
    "week": ("Week", "Week of the year"),
    "nth_day": ("Nth day",),
    "day": ("Date", "Day"),
    "nth_month": ("Nth month",),
    "month": ("Month", "Year month", "Month of the year"),
}
_COLUMNS: dict[str, tuple[str, ...]] = {
    "channel": CHANNEL_HEADERS,
    **_PERIODS,
    "sessions": ("Sessions",),
    "engaged_sessions": ("Engaged sessions",),
    "conversions": ("Key events", "Conversions"),
    "revenue": ("Total revenue", "Purchase revenue"),
}
_REPORT = Layout(_COLUMNS, ("channel",), "a GA4 acquisition report by channel group")
_METRICS = ("sessions", "engaged_sessions", "conversions", "revenue")
_TOTAL_ROWS = ("total", "totals", "grand total")
_STORED_AS = {
    "nth_week": "week, numbered from the report's start date",
    "week": "week as the report gives it",
    "nth_day": "week (days added up into weeks starting on Monday)",
    "day": "week (days added up into weeks starting on Monday)",
    "nth_month": "month, under its first day",
    "month": "month, under its first day",
}


def is_acquisition_report(headers: list[str]) -> bool:
    """Whether ``headers`` are a GA4 acquisition report's: a channel group and a metric."""
    positions = _REPORT.positions(headers)
    return "channel" in positions and any(m in positions for m in _METRICS)


def check_headers(headers: list[str]) -> None:
    """Raise IngestError for a header without a channel group, a metric or a period column."""
    _REPORT.check_headers(headers)
    positions = _REPORT.positions(headers)
    if not any(m in positions for m in _METRICS):
        raise IngestError(
            "Missing required column: Sessions (this is not a GA4 acquisition report)."
        )
    if not any(p in positions for p in _PERIODS):
        raise IngestError(
            "This GA4 report holds totals for its whole date range, with no Week or Date "
            "column; add Week (or Date) as a dimension in GA4 and download it again."
        )


def needed_columns(headers: list[str]) -> list[int]:
    """Return the positions of the columns the builder reads."""
    return _REPORT.needed_columns(headers)


def stage_acquisition(
    con: duckdb.DuckDBPyConnection, headers: list[str], options: values.ReadOptions
) -> TableSource:
    """Stage a GA4 acquisition report as ``table_rows`` (one row per file row).

    In: ``raw_rows`` of the report. Out: ``table_rows(source_line, channel, period_raw,
    week_start DATE, {metric}_raw, sessions BIGINT, engaged_sessions BIGINT, conversions
    DOUBLE, revenue DECIMAL(18, 2), is_total, needs_start)`` and its TableSource.
    """
    cell = _REPORT.cells(headers)
    labels = _REPORT.labels(headers)
    period = next(p for p in _PERIODS if p in labels)
    # The start date is bound, never written into SQL text.
    con.execute(
        "CREATE OR REPLACE TEMP TABLE report_range AS SELECT CAST(? AS DATE) AS first_day",
        [options.report_start],
    )
    raw = values.trimmed(cell(period))
    date_order = values.detect_date_order(
        con, "raw_rows", cell(period), labels[period], options.date_order
    )
    mark = values.detect_decimal(
        con,
        "raw_rows",
        {labels["revenue"]: cell("revenue")} if "revenue" in labels else {},
        options.decimal,
    )
    channel = values.text(cell("channel"))
    create_table_rows(
        con,
        {
            "channel": "VARCHAR",
            "period_raw": "VARCHAR",
            "week_start": "DATE",
            "needs_start": "BOOLEAN",
            "is_total": "BOOLEAN",
            **{f"{m}_raw": "VARCHAR" for m in _METRICS},
            "sessions": "BIGINT",
            "engaged_sessions": "BIGINT",
            "conversions": "DOUBLE",
            "revenue": "DECIMAL(18, 2)",
        },
        {
            "channel": channel,
            "period_raw": values.text(cell(period)),
            "week_start": _period_start(period, raw, date_order),
            "needs_start": f"regexp_full_match({raw}, '\\d{{1,4}}') AND "
            "(SELECT first_day FROM report_range) IS NULL",
            "is_total": f"coalesce(lower({channel}) IN {_TOTAL_ROWS}, false)",
            **{f"{m}_raw": values.text(cell(m)) for m in _METRICS},
            "sessions": _count(cell("sessions")),
            "engaged_sessions": _count(cell("engaged_sessions")),
            "conversions": values.number(cell("conversions"), mark.mark),
            "revenue": values.amount(cell("revenue"), mark.mark),
        },
        "raw_rows",
    )
    notes = [
        date_order.note(labels[period]) if period == "day" else None,
        mark.note,
        f"Sessions, key events and revenue are stored per channel group and "
        f"{_STORED_AS[period]}"
        + (
            f"; numbered periods count from the report's start date, "
            f"{options.report_start:%Y-%m-%d}."
            if options.report_start
            else "."
        ),
    ]
    return TableSource(
        file_format="ga4-acquisition",
        table="channel_sessions",
        key=("week_start", "channel"),
        stored=("week_start", "channel", *_METRICS),
        columns={
            "week_start": labels[period],
            **{k: labels[k] for k in ("channel", *_METRICS) if k in labels},
        },
        checks=(
            Check("channel IS NULL", "channel", "missing channel group", "NULL"),
            Check("is_total", "channel", "a total row of the report (not a channel's)", "channel"),
            Check("period_raw IS NULL", "week_start", "missing period", "NULL"),
            Check(
                "week_start IS NULL AND needs_start",
                "week_start",
                "period given as a number, but the report has no '# Start date' line to count "
                "it from",
                "period_raw",
            ),
            Check(
                "week_start IS NULL",
                "week_start",
                "period not recognised (use a date such as 20240101, or GA4's week numbers)",
                "period_raw",
            ),
            *(
                Check(
                    f"{m}_raw IS NOT NULL AND {m} IS NULL",
                    m,
                    "not a whole number" if m.endswith("sessions") else "not a number",
                    f"{m}_raw",
                )
                for m in _METRICS
            ),
            *(Check(f"{m} < 0", m, "negative value", f"{m}_raw") for m in _METRICS),
        ),
        summed=_METRICS,
        notes=[n for n in notes if n],
    )


def _count(expr: str) -> str:
    """BIGINT from ``1200``, ``1,200`` or ``1200.0``; NULL otherwise."""
    return f"TRY_CAST({values.amount(expr, '.', 0)} AS BIGINT)"


def _period_start(period: str, raw: str, date_order: values.DateOrder) -> str:
    """SQL DATE: the first day of the row's period (see the module doc), NULL when unread."""
    first = "(SELECT first_day FROM report_range)"
    number = f"TRY_CAST({raw} AS INTEGER)"
    as_date = f"CAST({values.local_timestamp(raw, date_order)} AS DATE)"
    monday = "CAST(date_trunc('week', {}) AS DATE)"
    if period == "nth_week":
        return f"CAST({first} + 7 * {number} AS DATE)"
    if period == "week":
        return (
            f"CASE WHEN regexp_full_match({raw}, '\\d{{4}}') "
            f"THEN CAST({first} + 7 * {number} AS DATE) "
            f"WHEN regexp_full_match({raw}, '\\d{{1,2}}') THEN {_week_of_year(raw, first)} "
            f"ELSE {as_date} END"
        )
    if period == "nth_day":
        return monday.format(f"CAST({first} + {number} AS DATE)")
    if period == "day":
        return monday.format(as_date)
    if period == "nth_month":
        return f"CAST(date_trunc('month', {first}) + to_months({number}) AS DATE)"
    of_year = (
        f"make_date(year({first}) + CASE WHEN {number} < month({first}) THEN 1 ELSE 0 END, "
        f"{number}, 1)"
    )
    return (
        f"CASE WHEN regexp_full_match({raw}, '\\d{{1,2}}') AND {number} BETWEEN 1 AND 12 "
        f"THEN {of_year} "
        f"WHEN regexp_full_match({raw}, '\\d{{4}}') THEN "
        f"CAST(date_trunc('month', {first}) + to_months({number}) AS DATE) "
        f"WHEN regexp_full_match({raw}, '\\d{{6}}') THEN CAST(try_strptime({raw}, '%Y%m') AS DATE) "
        f"ELSE {values.month_start(raw, date_order)} END"
    )


def _week_of_year(raw: str, first: str) -> str:
    """SQL DATE: the first day of GA4's week ``raw`` (01-53, weeks starting on Sunday, week 01
    holding 1 January) of the start date's year, or the next year's for a week before it."""
    number = f"TRY_CAST({raw} AS INTEGER)"
    start_week = f"((dayofyear({first}) - 1 + dayofweek(make_date(year({first}), 1, 1))) // 7 + 1)"
    year = f"(year({first}) + CASE WHEN {number} < {start_week} THEN 1 ELSE 0 END)"
    january = f"make_date({year}, 1, 1)"
    return (
        f"CASE WHEN {number} BETWEEN 1 AND 53 THEN CAST(greatest({january}, "
        f"{january} + CAST(7 * ({number} - 1) - dayofweek({january}) AS INTEGER)) AS DATE) END"
    )
