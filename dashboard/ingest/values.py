"""SQL expressions that turn raw VARCHAR cells into typed values, NULL when a value does not parse.

Every builder takes a SQL expression over our own staging columns (``c0``, ``c1``, ...) and
returns SQL text; no uploaded text ever reaches these strings. A NULL result for a non-empty
raw value is how the validation step finds a bad value and explains it.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

# ISO dates and datetimes, and the year-first slash style of WooCommerce exports.
_UNAMBIGUOUS_FORMATS = (
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
)
_MONTH_FIRST_FORMATS = ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y")
_DAY_FIRST_FORMATS = ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y")
RAW_VALUE_CHARS = 200  # a rejected value or line is shown and stored up to this length
_SLASH_DATE = r"^(\d{1,2})/(\d{1,2})/\d{4}"
TRUE_WORDS = ("true", "t", "yes", "y", "1", "cancelled", "canceled")
FALSE_WORDS = ("false", "f", "no", "n", "0")


@dataclass(frozen=True)
class DateOrder:
    """How ``a/b/yyyy`` dates of a column read: ``order`` is month-first, day-first or None."""

    order: str | None
    example_line: int | None = None
    example_value: str | None = None

    def note(self, column: str) -> str | None:
        """Return the sentence that tells the analyst which order was used, if any."""
        if self.order is None:
            return None
        return (
            f"Dates in '{column}' like 3/4/2024 were read {self.order} "
            f"because line {self.example_line} has '{self.example_value}'."
        )


def text(expr: str) -> str:
    """Trimmed text, NULL when empty."""
    return f"NULLIF(trim({expr}), '')"


def customer_key(expr: str) -> str:
    """A customer key: trimmed; e-mails lower-cased; ``17850.0`` (a float id) -> ``17850``."""
    value = text(expr)
    return (
        f"CASE WHEN {value} LIKE '%@%' THEN lower({value}) "
        rf"WHEN {value} LIKE '%.0' AND regexp_full_match({value}, '\d+\.0+') "
        f"THEN split_part({value}, '.', 1) "
        f"ELSE {value} END"
    )


def amount(expr: str) -> str:
    """DECIMAL(18, 2) from ``1234.50``, ``1,234.50``, ``$12.00``; NULL for anything else.

    Currency symbols and spaces are dropped; commas are read as thousands separators only in the
    ``1,234,567.89`` shape, so a decimal comma (``12,50``) stays unparsed rather than becoming 1250.
    """
    bare = rf"regexp_replace(trim({expr}), '[\s$€£¥]', '', 'g')"
    # Plain numbers, nearly all of them, take the cheap cast; only the rest pay for the regexes.
    return (
        f"coalesce(TRY_CAST(trim({expr}) AS DECIMAL(18, 2)), TRY_CAST(CASE "
        rf"WHEN regexp_full_match({bare}, '-?\d{{1,3}}(,\d{{3}})+(\.\d+)?') "
        f"THEN replace({bare}, ',', '') ELSE {bare} END AS DECIMAL(18, 2)))"
    )


def whole_number(expr: str) -> str:
    """INTEGER from ``3`` or ``3.0``; NULL otherwise."""
    return rf"TRY_CAST(regexp_replace(trim({expr}), '\.0+$', '') AS INTEGER)"


def flag(expr: str) -> str:
    """BOOLEAN: true for yes/true/1/cancelled..., false for no/false/0, NULL for anything else."""
    word = f"lower(trim({expr}))"
    return (
        f"CASE WHEN {word} IN {_sql_words(TRUE_WORDS)} THEN true "
        f"WHEN {word} IN {_sql_words(FALSE_WORDS)} THEN false END"
    )


def local_timestamp(expr: str, order: DateOrder) -> str:
    """TIMESTAMP as written in the file: a trailing UTC offset is dropped, keeping wall-clock time.

    ``a/b/yyyy`` dates parse only when ``order`` says which field is the month.
    """
    formats = list(_UNAMBIGUOUS_FORMATS)
    if order.order == "month-first":
        formats += _MONTH_FIRST_FORMATS
    elif order.order == "day-first":
        formats += _DAY_FIRST_FORMATS
    listed = ", ".join(f"'{f}'" for f in formats)
    value = f"trim({expr})"
    # Fast path for the common shapes, through DuckDB's ISO cast: 'YYYY-MM-DD[ HH:MM[:SS]]'
    # with no offset, and Shopify's 'YYYY-MM-DD HH:MM:SS -0700' with the offset cut off.
    iso = (
        f"CASE WHEN length({value}) <= 19 AND strpos(substr({value}, 11), '+') = 0 "
        f"AND strpos(substr({value}, 11), '-') = 0 THEN {value} "
        f"WHEN length({value}) = 25 AND substr({value}, 20, 2) IN (' -', ' +') "
        f"THEN left({value}, 19) END"
    )
    return (
        f"coalesce(TRY_CAST({iso} AS TIMESTAMP), try_strptime({_without_offset(expr)}, [{listed}]))"
    )


def is_slash_date(expr: str) -> str:
    """BOOLEAN: the value looks like ``a/b/yyyy`` (day and month order unknown on its own)."""
    return f"regexp_matches(trim({expr}), '{_SLASH_DATE}')"


def detect_date_order(con: duckdb.DuckDBPyConnection, table: str, expr: str) -> DateOrder:
    """Decide how ``a/b/yyyy`` values of ``expr`` in ``table`` read, from the values themselves.

    Month-first is proven by a second field above 12 (12/31/2024) with no first field above 12;
    day-first the other way round. No proof, or proof both ways, leaves the order unknown.
    """
    first = f"TRY_CAST(regexp_extract(trim({expr}), '{_SLASH_DATE}', 1) AS INTEGER)"
    second = f"TRY_CAST(regexp_extract(trim({expr}), '{_SLASH_DATE}', 2) AS INTEGER)"
    row = con.execute(
        f"""
        SELECT max({first}), max({second}),
               arg_min(line_number, line_number) FILTER (WHERE {first} > 12),
               arg_min(trim({expr}), line_number) FILTER (WHERE {first} > 12),
               arg_min(line_number, line_number) FILTER (WHERE {second} > 12),
               arg_min(trim({expr}), line_number) FILTER (WHERE {second} > 12)
        FROM {table}
        """
    ).fetchone()
    max_first, max_second, day_line, day_value, month_line, month_value = row
    if max_second is not None and max_second > 12 and (max_first or 0) <= 12:
        return DateOrder("month-first", month_line, month_value)
    if max_first is not None and max_first > 12 and (max_second or 0) <= 12:
        return DateOrder("day-first", day_line, day_value)
    return DateOrder(None)


def _without_offset(expr: str) -> str:
    # Only an offset that follows a time of day is dropped, so the "-05" of 2024-01-05 stays.
    return (
        rf"regexp_replace(trim({expr}), "
        r"'(\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)\s*(Z|[+-]\d{2}(:?\d{2})?)$', '\1')"
    )


def _sql_words(words: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{w}'" for w in words) + ")"
