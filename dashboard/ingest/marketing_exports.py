"""Ad platforms' exports read as marketing spend, and marketing files this version does not load.

- ``meta-ads``: a Meta Ads Manager export (``Reporting starts``, ``Reporting ends``, ``Amount
  spent (USD)``, ``Campaign name``, ``Ad set name``, ...); channel ``Meta Ads``.
- ``google-ads``: a Google Ads report (``Day``, ``Week`` or ``Month``, ``Campaign``, ``Cost``,
  ``Currency code``); channel ``Google Ads``.

The channel is the platform's name as the spend mapping knows it (``acquisition.spend``'s
default mapping: Meta Ads -> Paid Social, Google Ads -> Paid Search). The month is that of the
row's day, week or month, else of ``Reporting starts``. Spend is kept per month and campaign
(``Campaign name`` / ``Campaign``; a row without one is spend without a campaign): the ad sets
and days of a campaign are added up, and a note says how many campaigns were loaded. A Meta
row whose reporting period runs into a later month is rejected unless it is a week at most
(then it counts in the month it starts, with a note); a Google Ads ``Total: ...`` row is
rejected as a total. Purpose is left empty (counted as acquisition).

``describe_unloaded`` names the known marketing files that hold no orders, customers or spend
(Klaviyo campaign reports) in one sentence: what the file is and why it is not loaded.
"""

from __future__ import annotations

import duckdb

from dashboard.ingest import values
from dashboard.ingest.columns import Layout, column, find_column
from dashboard.ingest.report import IngestError
from dashboard.ingest.tables import (
    SPEND_CHECKS,
    SPEND_COLUMNS,
    SPEND_KEY,
    Check,
    TableSource,
    create_table_rows,
)

_META_COLUMNS: dict[str, tuple[str, ...]] = {
    "day": ("Day", "Date"),
    "week": ("Week",),
    "month": ("Month",),
    "starts": ("Reporting starts",),
    "ends": ("Reporting ends",),
    "campaign": ("Campaign name",),
}
_GOOGLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "day": ("Day", "Date"),
    "week": ("Week",),
    "month": ("Month",),
    "campaign": ("Campaign",),
    "spend": ("Cost",),
    "currency": ("Currency code", "Currency"),
}
_META = Layout(_META_COLUMNS, ("starts",), "a Meta Ads Manager export")
_GOOGLE = Layout(_GOOGLE_COLUMNS, ("campaign", "spend"), "a Google Ads report")
CHANNELS = {"meta-ads": "Meta Ads", "google-ads": "Google Ads"}
_META_SPEND_PREFIX = "amount spent"
_PERIODS = ("day", "week", "month")
_LONGEST_SPLIT_PERIOD_DAYS = 7  # a week may run into the next month; a longer period may not


def is_meta_ads_export(headers: list[str]) -> bool:
    """Whether ``headers`` are those of a Meta Ads Manager export."""
    return find_column(headers, "Reporting starts") is not None and _meta_spend(headers) is not None


def is_google_ads_export(headers: list[str]) -> bool:
    """Whether ``headers`` are those of a Google Ads report (a period, campaign, cost, currency)."""
    period = any(find_column(headers, *_GOOGLE_COLUMNS[k]) is not None for k in _PERIODS)
    return period and all(
        find_column(headers, *_GOOGLE_COLUMNS[k]) is not None
        for k in ("campaign", "spend", "currency")
    )


def describe_unloaded(headers: list[str]) -> str | None:
    """The sentence that refuses a known marketing file no table holds, or None for others."""
    names = {h.lower() for h in headers}
    if "click rate" in names and names & {"list/segment", "group id", "open rate", "campaign name"}:
        return (
            "This is a Klaviyo campaign report (opens and clicks per e-mail campaign); it holds "
            "no orders, customers or spend, so it is not loaded: load the Shopify orders and "
            "customers exports, and the e-mail tool's cost as a marketing spend file."
        )
    return None


def check_headers(file_format: str, headers: list[str]) -> None:
    """Raise IngestError naming the first required column the export lacks."""
    if file_format == "meta-ads":
        _META.check_headers(headers)
        if _meta_spend(headers) is None:
            raise IngestError(
                "Missing required column: Amount spent (this is not a Meta Ads Manager export)."
            )
        return
    _GOOGLE.check_headers(headers)
    if not any(find_column(headers, *_GOOGLE_COLUMNS[k]) is not None for k in _PERIODS):
        raise IngestError("Missing required column: Day (this is not a Google Ads report).")


def needed_columns(file_format: str, headers: list[str]) -> list[int]:
    """Return the positions of the columns the builder reads."""
    if file_format == "meta-ads":
        return [*_META.needed_columns(headers), _meta_spend(headers)]
    return _GOOGLE.needed_columns(headers)


def stage_meta_ads(
    con: duckdb.DuckDBPyConnection, headers: list[str], options: values.ReadOptions
) -> TableSource:
    """Stage a Meta Ads Manager export as ``table_rows`` (one row per file row)."""
    cell = _META.cells(headers)
    labels = _META.labels(headers)
    spend_index = _meta_spend(headers)
    spend_label = headers[spend_index]
    period_key = next((k for k in (*_PERIODS, "starts") if k in labels), "starts")
    starts, ends = cell("starts"), cell("ends")
    date_order = values.detect_date_order(
        con, "raw_rows", cell(period_key), labels[period_key], options.date_order
    )
    start_day = f"CAST({values.local_timestamp(starts, date_order)} AS DATE)"
    end_day = f"CAST({values.local_timestamp(ends, date_order)} AS DATE)"
    spans_months = (
        f"date_trunc('month', {end_day}) > date_trunc('month', {start_day})"
        if "ends" in labels and period_key == "starts"
        else "false"
    )
    long_period = f"date_diff('day', {start_day}, {end_day}) >= {_LONGEST_SPLIT_PERIOD_DAYS}"
    source = _stage_spend(
        con,
        "meta-ads",
        (cell(period_key), labels[period_key]),
        (column(spend_index), spend_label),
        (cell("campaign"), labels.get("campaign")),
        date_order,
        options,
        {
            "spans_months": spans_months,
            "long_period": f"coalesce({long_period}, false)"
            if spans_months != "false"
            else "false",
            "is_total": "false",
        },
    )
    source.checks = (
        Check(
            "spans_months AND long_period",
            "month",
            "reporting period runs into another month (export with a breakdown by day, week "
            "or month)",
            "month_raw",
        ),
        *source.checks,
    )
    split_weeks = con.execute(
        "SELECT count(*) FROM table_rows WHERE spans_months AND NOT long_period"
    ).fetchone()[0]
    if split_weeks:
        source.notes.append(
            f"{split_weeks:,} rows of a week that runs into the next month were counted in the "
            "month they start."
        )
    if "(" in spend_label:
        currency = spend_label[spend_label.index("(") + 1 :].rstrip(")")
        source.notes.append(f"Amounts are in {currency} ('{spend_label}'); none was converted.")
    return source


def stage_google_ads(
    con: duckdb.DuckDBPyConnection, headers: list[str], options: values.ReadOptions
) -> TableSource:
    """Stage a Google Ads report as ``table_rows`` (one row per file row)."""
    cell = _GOOGLE.cells(headers)
    labels = _GOOGLE.labels(headers)
    period_key = next(k for k in _PERIODS if k in labels)
    date_order = values.detect_date_order(
        con, "raw_rows", cell(period_key), labels[period_key], options.date_order
    )
    is_total = " OR ".join(
        f"coalesce(lower({values.text(cell(k))}) LIKE 'total%', false)"
        for k in (period_key, "campaign")
    )
    source = _stage_spend(
        con,
        "google-ads",
        (cell(period_key), labels[period_key]),
        (cell("spend"), labels["spend"]),
        (cell("campaign"), labels["campaign"]),
        date_order,
        options,
        {"spans_months": "false", "long_period": "false", "is_total": f"({is_total})"},
    )
    source.checks = (
        Check("is_total", "month", "a total row of the report (not a period's spend)", "month_raw"),
        *source.checks,
    )
    currencies = [
        row[0]
        for row in con.execute(
            f"SELECT DISTINCT upper({values.text(cell('currency'))}) FROM raw_rows ORDER BY 1"
        ).fetchall()
        if row[0]
    ]
    if currencies:
        source.notes.append(
            f"Amounts are in {', '.join(currencies)} ('{labels['currency']}'); none was converted."
        )
    return source


def _stage_spend(
    con: duckdb.DuckDBPyConnection,
    file_format: str,
    period: tuple[str, str],
    spend: tuple[str, str],
    campaign: tuple[str, str | None],
    date_order: values.DateOrder,
    options: values.ReadOptions,
    flags: dict[str, str],
) -> TableSource:
    """Create ``table_rows`` of one platform's spend rows and return its TableSource.

    ``period``, ``spend`` and ``campaign`` are (staging column, header name), the campaign's
    (MISSING, None) for an export without one; ``flags`` the SQL of the BOOLEAN columns
    spans_months, long_period and is_total the platform's checks read.
    """
    (period_cell, period_label), (spend_cell, spend_label) = period, spend
    campaign_cell, campaign_label = campaign
    mark = values.detect_decimal(con, "raw_rows", {spend_label: spend_cell}, options.decimal)
    create_table_rows(
        con,
        {
            "month_raw": "VARCHAR",
            "month": "DATE",
            "channel": "VARCHAR",
            "spend_raw": "VARCHAR",
            "spend": "DECIMAL(18, 2)",
            "purpose": "VARCHAR",
            "campaign": "VARCHAR",
            "spans_months": "BOOLEAN",
            "long_period": "BOOLEAN",
            "is_total": "BOOLEAN",
        },
        {
            "month_raw": values.text(period_cell),
            "month": values.month_start(period_cell, date_order),
            "channel": f"'{CHANNELS[file_format]}'",
            "spend_raw": values.text(spend_cell),
            "spend": values.amount(spend_cell, mark.mark),
            "campaign": values.text(campaign_cell),
            **flags,
        },
        "raw_rows",
    )
    without_campaign = con.execute(
        "SELECT count(*) FROM table_rows WHERE campaign IS NULL AND NOT is_total"
    ).fetchone()[0]
    notes = [
        date_order.note(period_label),
        mark.note,
        f"{without_campaign:,} rows have no campaign name and were kept as "
        f"{CHANNELS[file_format]} spend without a campaign."
        if without_campaign
        else None,
    ]
    columns = {"month": period_label, "spend": spend_label}
    if campaign_label:
        columns["campaign"] = campaign_label
    return TableSource(
        file_format=file_format,
        table="marketing_spend",
        key=SPEND_KEY,
        stored=SPEND_COLUMNS,
        columns=columns,
        checks=SPEND_CHECKS,
        summed=("spend",),
        notes=[n for n in notes if n],
        after_write=_count_campaigns,
    )


def _count_campaigns(con: duckdb.DuckDBPyConnection, ingest_id: int) -> list[str]:
    """The note saying how many campaigns the load ``ingest_id`` stored spend for."""
    loaded = con.execute(
        "SELECT count(DISTINCT campaign) FROM marketing_spend WHERE ingest_id = ?", [ingest_id]
    ).fetchone()[0]
    if not loaded:
        return []
    noun = "campaign" if loaded == 1 else "campaigns"
    return [
        f"Spend of {loaded:,} {noun} was loaded, one total per month and campaign (its ad sets "
        "and days added up)."
    ]


def _meta_spend(headers: list[str]) -> int | None:
    """The position of Meta's ``Amount spent (XXX)`` column (its currency varies)."""
    for index, header in enumerate(headers):
        if header.lower().startswith(_META_SPEND_PREFIX):
            return index
    return None
