"""Validation and the one-transaction write of the keyed tables, with the same report as orders.

Sessions, marketing spend, survey scores, abandoned checkouts and order lines all load the same
way. A builder stages the file as the TEMP VIEW ``table_rows`` (``source_line``, the file's line,
then the typed values and the ``{field}_raw`` text they came from; one row per file row, or per
folded checkout) and
describes it in a ``TableSource``: which stored columns identify a row (``key``), the checks
that reject a row, the warnings a loaded row can carry, and the columns added up over rows
sharing a key (spend: one total per month, channel, purpose and campaign).

Counts reconcile per unit: rows_read = rows_loaded + rows_rejected + rows_duplicate. A row is
a duplicate when the dataset already holds it exactly, or an earlier row of the file is the
same; a row whose key is already loaded (or appears earlier in the file) with other values is
rejected and reported, never overwritten.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb

from dashboard.ingest import ledger, read, validation, values
from dashboard.ingest.report import IngestReport

_VERDICT_REASONS = {
    "repeated": "listed earlier in this file with different values",
    "changed": "already loaded with different values",
    "rejected-row": "another row with the same key was rejected",
}


@dataclass(frozen=True)
class Check:
    """A row test: ``condition`` (SQL over ``table_rows``) true means the row fails it.

    ``field`` names the canonical field (shown as the file's header); ``raw`` is the SQL of the
    value shown in the report.
    """

    condition: str
    field: str
    reason: str
    raw: str


@dataclass
class TableSource:
    """What a builder staged in ``table_rows`` for the canonical table ``table``."""

    file_format: str
    table: str
    key: tuple[str, ...]
    stored: tuple[str, ...]
    columns: dict[str, str]
    checks: tuple[Check, ...] = ()
    warnings: tuple[Check, ...] = ()
    summed: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)
    # Run inside the load's transaction after the insert, with its ingest id; returns notes.
    after_write: Callable[[duckdb.DuckDBPyConnection, int], list[str]] | None = None


def create_table_rows(
    con: duckdb.DuckDBPyConnection, types: dict[str, str], expressions: dict[str, str], source: str
) -> None:
    """Create the view ``table_rows`` over ``source``: ``source_line`` (the source's
    line_number), then one typed column per entry of ``types`` (column -> SQL type), from its
    expression, or NULL without one."""
    select = "line_number AS source_line" + "".join(
        f", CAST(({expressions.get(name, 'NULL')}) AS {kind}) AS {name}"
        for name, kind in types.items()
    )
    con.execute(f"CREATE OR REPLACE TEMP VIEW table_rows AS SELECT {select} FROM {source}")


# The key and stored columns of the sessions and marketing_spend tables, whichever export
# fills them, and the checks every spend row passes (month and amount).
SESSION_KEY = ("customer_id", "started_at")
SESSION_COLUMNS = (
    "customer_id",
    "started_at",
    "duration_seconds",
    "pages_viewed",
    "added_to_cart",
    "purchased",
)
# A NULL campaign (spend not split by campaign) is one value of the key, as in every
# IS NOT DISTINCT FROM comparison the load makes.
SPEND_KEY = ("month", "channel", "purpose", "campaign")
SPEND_COLUMNS = ("month", "channel", "spend", "purpose", "campaign")
# Stored spend of the row's month, channel and kind of purpose (retention or acquisition).
_STORED_SPEND = (
    "SELECT 1 FROM marketing_spend s WHERE s.month = table_rows.month "
    "AND s.channel = table_rows.channel "
    "AND (coalesce(s.purpose, '') = 'retention') = (coalesce(table_rows.purpose, '') = 'retention')"
)
# A month's spend on a channel is stored per campaign or as one total, never both: a total and
# the campaigns it adds up would count it twice (a platform export re-loaded into a dataset an
# earlier version loaded it into without campaigns, or a monthly spend file beside it). Where
# the dataset already holds both kinds for the month (a file that mixes them), rows are judged
# by their key as usual, so re-loading that file stays idempotent.
SPEND_CHECKS = (
    Check("month_raw IS NULL", "month", "missing month", "NULL"),
    Check(
        "month IS NULL",
        "month",
        "month not recognised (use 2025-03, 03/2025 or a date)",
        "month_raw",
    ),
    Check("spend_raw IS NULL", "spend", "missing amount", "NULL"),
    Check("spend IS NULL", "spend", "amount is not a number", "spend_raw"),
    Check("spend < 0", "spend", "negative spend", "spend_raw"),
    Check(
        f"campaign IS NOT NULL AND EXISTS ({_STORED_SPEND} AND s.campaign IS NULL) "
        f"AND NOT EXISTS ({_STORED_SPEND} AND s.campaign IS NOT NULL)",
        "campaign",
        "this month's spend on the channel is already loaded without campaigns, so loading it "
        "per campaign would count it twice",
        "campaign",
    ),
    Check(
        f"campaign IS NULL AND EXISTS ({_STORED_SPEND} AND s.campaign IS NOT NULL) "
        f"AND NOT EXISTS ({_STORED_SPEND} AND s.campaign IS NULL)",
        "channel",
        "this month's spend on the channel is already loaded per campaign, so loading it "
        "without campaigns would count it twice",
        "channel",
    ),
)


def timestamp_checks(name: str, required: bool) -> tuple[Check, ...]:
    """The checks of a timestamp column ``name`` parsed from ``{name}_raw``.

    Missing (when ``required``), day and month not fitting the file's date order, not a date,
    before 1990, or after tomorrow. ``$earliest`` and ``$future`` are bound by ``load_table``.
    """
    raw = f"{name}_raw"
    missing = (Check(f"{raw} IS NULL", name, "missing date", "NULL"),) if required else ()
    return (
        *missing,
        Check(
            f"{raw} IS NOT NULL AND {name} IS NULL AND {values.is_day_month_date(raw)}",
            name,
            validation.DATE_ORDER_MISMATCH,
            raw,
        ),
        Check(f"{raw} IS NOT NULL AND {name} IS NULL", name, validation.DATE_NOT_RECOGNISED, raw),
        Check(f"{name} < $earliest", name, validation.DATE_TOO_EARLY, raw),
        Check(f"{name} >= $future", name, validation.DATE_IN_FUTURE, raw),
    )


def load_table(
    con: duckdb.DuckDBPyConnection, source: TableSource, meta: ledger.FileMeta
) -> IngestReport:
    """Validate ``table_rows``, write the new rows into ``source.table``, return the report."""
    _check_rows(con, source, meta.today)
    if source.summed:
        _sum_groups(con, source)
    else:
        _rank_rows(con, source)
    _judge(con, source)
    _collect_issues(con, source)
    # Only the verdicts are read from here on: free the rows before the write.
    for table in ("table_groups", "table_checked"):
        con.execute(f"DROP TABLE {table}")
    with ledger.transaction(con):
        ingest_id = ledger.next_ingest_id(con)
        stored = ", ".join(source.stored)
        con.execute(
            f"""
            INSERT INTO {source.table} ({stored}, ingest_id)
            SELECT {stored}, ? FROM table_verdicts WHERE status = 'new'
            ORDER BY {", ".join(source.key)}
            """,
            [ingest_id],
        )
        loaded, duplicate = con.execute(
            """
            SELECT coalesce(sum(n_rows) FILTER (WHERE status = 'new'), 0),
                   coalesce(sum(n_rows) FILTER (WHERE status = 'duplicate'), 0)
            FROM table_verdicts
            """
        ).fetchone()
        notes = [*source.notes, *(source.after_write(con, ingest_id) if source.after_write else [])]
        report = ledger.finish_report(
            con, ingest_id, meta, source.file_format, source.table, loaded, duplicate, notes
        )
    if source.summed:
        report.notes.extend(_note_sums(con))
    return report


def _check_rows(con: duckdb.DuckDBPyConnection, source: TableSource, today: dt.date) -> None:
    """Materialise ``table_rows`` as ``table_checked`` with ``check_no`` and ``check_raw``."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE table_check_reasons "
        "(check_no INTEGER, column_name VARCHAR, reason VARCHAR)"
    )
    con.executemany(
        "INSERT INTO table_check_reasons VALUES (?, ?, ?)",
        [
            (number, source.columns.get(check.field), check.reason)
            for number, check in enumerate(source.checks, start=1)
        ],
    )
    first_failing = " ".join(
        f"WHEN {check.condition} THEN {number}"
        for number, check in enumerate(source.checks, start=1)
    )
    raw_shown = " ".join(
        f"WHEN {number} THEN {check.raw}" for number, check in enumerate(source.checks, start=1)
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE table_checked AS
        SELECT *, CAST(CASE check_no {raw_shown or "WHEN 0 THEN NULL"} END AS VARCHAR) AS check_raw
        FROM (
            SELECT *,
                   CAST(CASE {first_failing or "WHEN false THEN 0"} END AS INTEGER) AS check_no
            FROM table_rows
        )
        """,
        _date_bounds(source, today),
    )
    con.execute("DROP VIEW table_rows")
    read.release(con)


def _sum_groups(con: duckdb.DuckDBPyConnection, source: TableSource) -> None:
    """Add up the rows sharing a key into ``table_groups`` (one row per key).

    Other values (stored and raw) are the key's first good row's. A key with a rejected row is
    rejected whole: its total would be short.
    """
    key = ", ".join(source.key)
    sums = ", ".join(f"sum({c}) FILTER (WHERE check_no IS NULL) AS {c}" for c in source.summed)
    kept = {*source.key, *source.summed, "source_line", "check_no", "check_raw"}
    others = [r[0] for r in con.execute("DESCRIBE table_checked").fetchall() if r[0] not in kept]
    firsts = "".join(
        f", arg_min({c}, source_line) FILTER (WHERE check_no IS NULL) AS {c}" for c in others
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE table_groups AS
        SELECT {key}, count(*) AS n_rows, min(source_line) AS first_line,
               bool_or(check_no IS NOT NULL) AS has_rejected_row, 1 AS occurrence,
               true AS same_as_first, {sums}{firsts}
        FROM table_checked GROUP BY {key}
        """
    )


def _rank_rows(con: duckdb.DuckDBPyConnection, source: TableSource) -> None:
    """Number the good rows sharing a key into ``table_groups`` (one row per good file row)."""
    same = " AND ".join(
        f"{c} IS NOT DISTINCT FROM first_value({c}) OVER w"
        for c in source.stored
        if c not in source.key
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE table_groups AS
        SELECT *, 1 AS n_rows, source_line AS first_line, false AS has_rejected_row,
               row_number() OVER w AS occurrence, {same or "true"} AS same_as_first
        FROM table_checked WHERE check_no IS NULL
        WINDOW w AS (PARTITION BY {", ".join(source.key)} ORDER BY source_line)
        """
    )


def _judge(con: duckdb.DuckDBPyConnection, source: TableSource) -> None:
    """Give each group a status: new, duplicate, repeated, changed or rejected-row."""
    if source.summed:
        others = [c for c in source.stored if c not in source.key and c not in source.summed]
        stored = (
            f"SELECT {', '.join(source.key)}, "
            + ", ".join(f"sum({c}) AS {c}" for c in source.summed)
            + "".join(f", any_value({c}) AS {c}" for c in others)
            + f" FROM {source.table} GROUP BY {', '.join(source.key)}"
        )
    else:
        stored = f"SELECT * FROM {source.table}"
    same_key = " AND ".join(f"g.{c} IS NOT DISTINCT FROM k.{c}" for c in source.key)
    same_row = " AND ".join(f"g.{c} IS NOT DISTINCT FROM i.{c}" for c in source.stored)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE table_verdicts AS
        SELECT g.*, CASE
            WHEN g.has_rejected_row THEN 'rejected-row'
            WHEN g.occurrence > 1 AND g.same_as_first THEN 'duplicate'
            WHEN g.occurrence > 1 THEN 'repeated'
            WHEN i.found THEN 'duplicate'
            WHEN k.found THEN 'changed'
            ELSE 'new' END AS status
        FROM table_groups g
        LEFT JOIN (SELECT DISTINCT {", ".join(source.key)}, true AS found FROM ({stored})) k
          ON {same_key}
        LEFT JOIN (SELECT DISTINCT {", ".join(source.stored)}, true AS found FROM ({stored})) i
          ON {same_row}
        """
    )


def _collect_issues(con: duckdb.DuckDBPyConnection, source: TableSource) -> None:
    """Fill ``load_issues``: one rejection per rejected row, then warnings on loaded rows."""
    verdict_reasons = " ".join("WHEN ? THEN ?" for _ in _VERDICT_REASONS)
    params: list[object] = [v for pair in _VERDICT_REASONS.items() for v in pair]
    key_text = "concat_ws(' | ', " + ", ".join(f"CAST(v.{c} AS VARCHAR)" for c in source.key) + ")"
    if source.summed:
        # Every row of a rejected key is rejected, each with the key's reason.
        same_key = " AND ".join(f"r.{c} IS NOT DISTINCT FROM v.{c}" for c in source.key)
        verdict_rows = f"""
            SELECT r.source_line, ?, 'rejected', CASE v.status {verdict_reasons} END, {key_text}
            FROM table_checked r JOIN table_verdicts v ON {same_key}
            WHERE r.check_no IS NULL AND v.status IN ('rejected-row', 'changed')
        """
    else:
        verdict_rows = f"""
            SELECT v.source_line, ?, 'rejected', CASE v.status {verdict_reasons} END, {key_text}
            FROM table_verdicts v WHERE v.status IN ('repeated', 'changed')
        """
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE load_issues AS
        SELECT r.source_line AS line_number, c.column_name, 'rejected' AS severity, c.reason,
               r.check_raw AS raw_value
        FROM table_checked r JOIN table_check_reasons c ON c.check_no = r.check_no
        UNION ALL
        {verdict_rows}
        """,
        [source.columns.get(source.key[0]), *params],
    )
    line = "first_line" if source.summed else "source_line"
    for warning in source.warnings:
        con.execute(
            f"""
            INSERT INTO load_issues
            SELECT {line}, ?, 'warning', ?, CAST({warning.raw} AS VARCHAR) FROM table_verdicts
            WHERE status = 'new' AND {warning.condition}
            """,
            [source.columns.get(warning.field), warning.reason],
        )


def _note_sums(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows, groups = con.execute(
        "SELECT coalesce(sum(n_rows), 0), count(*) FROM table_verdicts "
        "WHERE status = 'new' AND n_rows > 1"
    ).fetchone()
    if not groups:
        return []
    return [f"{rows:,} rows were added up into {groups:,} totals (rows sharing a key)."]


def _date_bounds(source: TableSource, today: dt.date) -> dict[str, dt.date]:
    """The bound values of ``timestamp_checks``: only those the checks use may be passed."""
    used = " ".join(check.condition for check in source.checks)
    bounds = validation.check_dates(today)
    return {name: value for name, value in bounds.items() if f"${name}" in used}
