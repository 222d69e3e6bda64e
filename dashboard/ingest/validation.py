"""What every loader validates with: typed staging views, plausible dates, rounded ids.

A builder stages a file as a TEMP VIEW of typed fields, one SQL expression a field
(``create_typed_view``): text that does not parse becomes NULL, which the loader's checks find
and explain with the ``*_raw`` text kept beside it. Dates outside the window of ``check_dates``
are rejected for the same reasons in every table. Ids a spreadsheet rounded (``7.02255E+12``)
cannot be repaired: a note names the column and asks for a fresh export.
"""

from __future__ import annotations

import datetime as dt

import duckdb

EARLIEST_DATE = dt.date(1990, 1, 1)
DATE_ORDER_MISMATCH = (
    "day and month do not fit the date order this file was read with (see the notes)"
)
DATE_NOT_RECOGNISED = "date not recognised (use YYYY-MM-DD or YYYY-MM-DD HH:MM:SS)"
DATE_TOO_EARLY = "implausible date (before 1990)"
DATE_IN_FUTURE = "date in the future"


def create_typed_view(
    con: duckdb.DuckDBPyConnection,
    table: str,
    types: dict[str, str],
    defaults: dict[str, str],
    expressions: dict[str, str],
    source: str,
) -> None:
    """Create the TEMP VIEW ``table`` over ``source`` (table or subquery): one column per entry
    of ``types`` (field -> SQL type), from the field's expression, else its default, else NULL.

    Raises ValueError for an expression of a field ``types`` does not have.
    """
    unknown = set(expressions) - set(types)
    if unknown:
        raise ValueError(f"not a {table} field: {sorted(unknown)}")
    select = typed_columns(types, defaults, expressions)
    con.execute(f"CREATE OR REPLACE TEMP VIEW {table} AS SELECT {select} FROM {source}")


def typed_columns(
    types: dict[str, str], defaults: dict[str, str], expressions: dict[str, str]
) -> str:
    """Return the select list ``CAST((expression) AS type) AS field, ...`` of every field."""
    return ", ".join(
        f"CAST(({expressions.get(name, defaults.get(name, 'NULL'))}) AS {kind}) AS {name}"
        for name, kind in types.items()
    )


def check_dates(today: dt.date) -> dict[str, dt.date]:
    """Return the values of the date checks' parameters ``$earliest`` and ``$future``: the
    plausible date range, from 1990-01-01 up to the end of tomorrow."""
    return {"earliest": EARLIEST_DATE, "future": today + dt.timedelta(days=2)}


def rounded_id_condition(expr: str) -> str:
    """SQL, true when ``expr`` holds an id like ``7.02255E+12`` (a spreadsheet rounded it)."""
    # The cheap test first: most ids have no 'e', and the regex then never runs (a CASE, as an
    # AND in a select list evaluates both sides for every row).
    return (
        f"CASE WHEN contains({expr}, 'E') OR contains({expr}, 'e') "
        rf"THEN regexp_full_match(trim({expr}), '-?\d+(\.\d+)?[eE]\+?\d+') ELSE false END"
    )


def note_rounded_ids(
    con: duckdb.DuckDBPyConnection, table: str, expr: str, label: str
) -> str | None:
    """Return a note when ``expr`` holds ids like ``7.02255E+12`` (a spreadsheet rounded them)."""
    count, example = con.execute(
        f"SELECT count(*), arg_min(trim({expr}), line_number) FROM {table} "
        f"WHERE {rounded_id_condition(expr)}"
    ).fetchone()
    if not count:
        return None
    return (
        f"'{label}' has {count:,} values like {example}: ids were rounded by a spreadsheet "
        "program; re-export from the store and load that file without opening it in a spreadsheet."
    )
