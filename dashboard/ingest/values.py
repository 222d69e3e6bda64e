"""SQL expressions that turn raw VARCHAR cells into typed values, NULL when a value does not parse.

Every builder takes a SQL expression over our own staging columns (``c0``, ``c1``, ...) and
returns SQL text; no uploaded text ever reaches these strings. A NULL result for a non-empty
raw value is how the validation step finds a bad value and explains it.

Two things cannot be read from one value alone and are decided once per file, from all of a
column's values, unless the analyst chose them: the order of day and month in ``3/4/2024``
(``detect_date_order``) and the decimal mark of amounts (``detect_decimal``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from dashboard.ingest.report import IngestError

DATE_ORDERS = ("auto", "month-first", "day-first")
DECIMAL_MARKS = ("auto", ".", ",")
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
_PLAIN_DATETIME = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9]"
_DAY_MONTH_TIMES = ("%H:%M:%S", "%H:%M", "%I:%M:%S %p", "%I:%M %p")
_MONTH_FORMATS = ("%Y-%m", "%Y/%m", "%m/%Y", "%B %Y", "%b %Y")
RAW_VALUE_CHARS = 200  # a rejected value or line is shown and stored up to this length
# a/b/yyyy with '/', '.' or '-' between: which of a and b is the month is the file's convention.
_DAY_MONTH_DATE = r"^(\d{1,2})[/.-](\d{1,2})[/.-]\d{4}"
# The same after the spaces trim() removes (Unicode space separators): no trimmed copy needed.
_PADDED_DAY_MONTH_DATE = r"^\p{Zs}*(\d{1,2})[/.-](\d{1,2})[/.-]\d{4}"
_DOTTED = r"^\d{1,2}\."
TRUE_WORDS = ("true", "t", "yes", "y", "1", "cancelled", "canceled")
FALSE_WORDS = ("false", "f", "no", "n", "0")
HOW_TO_CHOOSE_DATES = (
    "choose the date order and load the file again ('Date order' in the app; "
    "--date-order day-first or --date-order month-first on the command line)"
)
# Dropped from amounts; the quote is doubled for the SQL literal (Swiss 1'234.50).
_SYMBOLS = "[\\s\u00a0$€£¥'']"


@dataclass(frozen=True)
class ReadOptions:
    """The analyst's choices for what a file cannot settle alone ('auto': decided from it).

    ``date_order``: one of DATE_ORDERS; ``decimal``: one of DECIMAL_MARKS; ``report_start``:
    the first day of a report's date range, from its preamble (GA4's ``# Start date:``), which
    periods given as numbers (week 0001) count from.
    """

    date_order: str = "auto"
    decimal: str = "auto"
    report_start: dt.date | None = None


@dataclass(frozen=True)
class DateOrder:
    """How ``a/b/yyyy`` dates of a column read: ``order`` is month-first, day-first or None.

    ``basis`` says why: 'proof' (a value has a field above 12), 'chosen' (by the analyst),
    'format' (the export format's convention) or 'dotted' (``01.02.2024``, the European style).
    """

    order: str | None
    basis: str | None = None
    example_line: int | None = None
    example_value: str | None = None

    def note(self, column: str) -> str | None:
        """Return the sentence that tells the analyst which order was used, if any."""
        if self.order is None:
            return None
        if self.basis == "proof":
            return (
                f"Dates in '{column}' like 3/4/2024 were read {self.order} "
                f"because line {self.example_line} has '{self.example_value}'."
            )
        why = {
            "chosen": "as chosen",
            "format": "as this export format writes them",
            "dotted": "the European style of dotted dates; choose month-first if that is wrong",
        }[self.basis or "chosen"]
        return (
            f"Dates in '{column}' like '{self.example_value}' (line {self.example_line}) were "
            f"read {self.order} ({why})."
        )


@dataclass(frozen=True)
class DecimalMark:
    """The decimal mark of a file's amounts ('.' or ','), and the note that explains it."""

    mark: str = "."
    note: str | None = None


def trimmed(expr: str) -> str:
    """``trim(expr)``, skipped for the usual value: ASCII with no space at either end.

    trim() removes the Unicode space separators, of which ASCII has only ' ', and costs more
    than the rest of a value's parsing; ``strlen = length`` holds exactly for ASCII text.
    """
    return (
        f"CASE WHEN strlen({expr}) = length({expr}) AND NOT starts_with({expr}, ' ') "
        f"AND NOT ends_with({expr}, ' ') THEN {expr} ELSE trim({expr}) END"
    )


def text(expr: str) -> str:
    """Trimmed text, NULL when empty."""
    return f"NULLIF({trimmed(expr)}, '')"


def customer_key(expr: str) -> str:
    """A customer key: trimmed; e-mails lower-cased; ``17850.0`` (a float id) -> ``17850``."""
    value = text(expr)
    return (
        f"CASE WHEN {value} LIKE '%@%' THEN lower({value}) "
        rf"WHEN {value} LIKE '%.0' AND regexp_full_match({value}, '\d+\.0+') "
        f"THEN split_part({value}, '.', 1) "
        f"ELSE {value} END"
    )


def phone_key(expr: str) -> str:
    """A phone number as a customer key: spaces, dots, dashes and brackets dropped."""
    return f"NULLIF(regexp_replace(trim({expr}), '[\\s().-]', '', 'g'), '')"


def amount(expr: str, mark: str = ".", scale: int = 2) -> str:
    """DECIMAL(18, scale) from ``1234.50``, ``1,234.50``, ``$12.00``; NULL for anything else.

    Currency symbols and spaces are dropped. With ``mark`` '.', commas are read as thousands
    separators only in the ``1,234,567.89`` shape, so a decimal comma (``12,50``) stays unparsed
    rather than becoming 1250; with ``mark`` ',' the roles swap (``1.234,50`` -> 1234.50).
    """
    kind = f"DECIMAL(18, {int(scale)})"
    bare = f"regexp_replace(trim({expr}), '{_SYMBOLS}', '', 'g')"
    if mark == ",":
        decimal_comma = _once(
            bare,
            r"CASE WHEN regexp_full_match(v, '-?\d{1,3}(\.\d{3})+(,\d+)?') "
            "THEN replace(replace(v, '.', ''), ',', '.') "
            r"WHEN regexp_full_match(v, '-?\d+(,\d+)?') THEN replace(v, ',', '.') END",
        )
        return f"TRY_CAST({decimal_comma} AS {kind})"
    # Plain numbers, nearly all of them, take the cheap cast; only the rest pay for the regexes.
    thousands = _once(
        bare,
        r"CASE WHEN regexp_full_match(v, '-?\d{1,3}(,\d{3})+(\.\d+)?') "
        "THEN replace(v, ',', '') ELSE v END",
    )
    return f"coalesce(TRY_CAST({trimmed(expr)} AS {kind}), TRY_CAST({thousands} AS {kind}))"


def number(expr: str, mark: str = ".") -> str:
    """DOUBLE from ``9``, ``4.5`` (or ``4,5`` with ``mark`` ','); NULL otherwise, also for NaN."""
    value = f"trim({expr})"
    if mark == ",":
        value = f"replace({value}, ',', '.')"
    parsed = f"TRY_CAST({value} AS DOUBLE)"
    return f"CASE WHEN isfinite({parsed}) THEN {parsed} END"


def whole_number(expr: str) -> str:
    """INTEGER from ``3`` or ``3.0``; NULL otherwise."""
    return rf"TRY_CAST(regexp_replace(trim({expr}), '\.0+$', '') AS INTEGER)"


def seconds(expr: str) -> str:
    """INTEGER seconds from ``420``, ``420.6`` (rounded), ``7:00`` or ``0:07:00``; else NULL."""
    value = f"trim({expr})"
    part = f"TRY_CAST(string_split({value}, ':')[{{}}] AS INTEGER)"
    return (
        rf"CASE WHEN regexp_full_match({value}, '\d+(\.\d+)?') "
        f"THEN TRY_CAST(round(TRY_CAST({value} AS DOUBLE)) AS INTEGER) "
        rf"WHEN regexp_full_match({value}, '\d+:[0-5]\d:[0-5]\d') "
        f"THEN {part.format(1)} * 3600 + {part.format(2)} * 60 + {part.format(3)} "
        rf"WHEN regexp_full_match({value}, '\d+:[0-5]\d') "
        f"THEN {part.format(1)} * 60 + {part.format(2)} END"
    )


def flag(expr: str) -> str:
    """BOOLEAN: true for yes/true/1/cancelled..., false for no/false/0, NULL for anything else."""
    word = f"lower({trimmed(expr)})"
    # The words as listed match without trim() and lower(), the costly part.
    return (
        f"CASE WHEN list_contains({_sql_words(TRUE_WORDS)}, {expr}) THEN true "
        f"WHEN list_contains({_sql_words(FALSE_WORDS)}, {expr}) THEN false "
        f"WHEN list_contains({_sql_words(TRUE_WORDS)}, {word}) THEN true "
        f"WHEN list_contains({_sql_words(FALSE_WORDS)}, {word}) THEN false END"
    )


def local_timestamp(expr: str, order: DateOrder) -> str:
    """TIMESTAMP as written in the file: a trailing UTC offset is dropped, keeping wall-clock time.

    ``a/b/yyyy`` dates (also with '.' or '-') parse only when ``order`` says which field is the
    month. ISO 8601's basic format reads too: ``20240315`` and ``20240315T143000`` (GA4's
    event_date, CDNOW, warehouse exports). A 9-10 digit number is read as epoch seconds, a 13
    digit one as epoch milliseconds and a 16 digit one as epoch microseconds (GA4's
    event_timestamp), UTC, the only time an epoch can give; the lengths cannot overlap with
    each other or with ``YYYYMMDD`` for any date from 1990 on.
    """
    formats = list(_UNAMBIGUOUS_FORMATS)
    if order.order in ("month-first", "day-first"):
        day_month = "%m/%d/%Y" if order.order == "month-first" else "%d/%m/%Y"
        formats += [f"{day_month} {time}" for time in _DAY_MONTH_TIMES] + [day_month]
    listed = ", ".join(f"'{f}'" for f in formats)
    value = trimmed(expr)
    # The usual value, digits in 'YYYY-MM-DD HH:MM:SS', is its own trimmed ISO shape: it is
    # cast directly, and the shape tests below (each bound once, see _once) run for the rest.
    plain = f"CASE WHEN {expr} GLOB '{_PLAIN_DATETIME}' THEN TRY_CAST({expr} AS TIMESTAMP) END"
    # Other common shapes, through DuckDB's ISO cast: 'YYYY-MM-DD[ HH:MM[:SS]]' with no offset,
    # and Shopify's 'YYYY-MM-DD HH:MM:SS -0700' with the offset cut off.
    iso = _once(
        value,
        "CASE WHEN length(v) <= 19 AND strpos(substr(v, 11), '+') = 0 "
        "AND strpos(substr(v, 11), '-') = 0 THEN v "
        "WHEN length(v) = 25 AND substr(v, 20, 2) IN (' -', ' +') THEN left(v, 19) END",
    )
    epoch = _once(
        value,
        r"CASE WHEN regexp_full_match(v, '\d{9,10}') THEN epoch_ms(TRY_CAST(v AS BIGINT) * 1000) "
        r"WHEN regexp_full_match(v, '\d{13}') THEN epoch_ms(TRY_CAST(v AS BIGINT)) "
        r"WHEN regexp_full_match(v, '\d{16}') THEN make_timestamp(TRY_CAST(v AS BIGINT)) "
        r"WHEN regexp_full_match(v, '\d{8}') THEN try_strptime(v, '%Y%m%d') "
        r"WHEN regexp_full_match(v, '\d{8}T\d{4}(\d{2})?Z?') "
        r"THEN try_strptime(rtrim(v, 'Z'), ['%Y%m%dT%H%M%S', '%Y%m%dT%H%M']) END",
    )
    slashed = (
        f"regexp_replace({_without_offset(expr)}, "
        r"'^(\d{1,2})[.-](\d{1,2})[.-](\d{4})', '\1/\2/\3')"
    )
    return (
        f"coalesce({plain}, TRY_CAST({iso} AS TIMESTAMP), {epoch}, "
        f"try_strptime({slashed}, [{listed}]))"
    )


def month_start(expr: str, order: DateOrder) -> str:
    """DATE: the first day of the month of ``2025-03``, ``03/2025``, ``March 2025`` or any date."""
    listed = ", ".join(f"'{f}'" for f in _MONTH_FORMATS)
    return (
        f"CAST(date_trunc('month', coalesce(try_strptime(trim({expr}), [{listed}]), "
        f"{local_timestamp(expr, order)})) AS DATE)"
    )


def is_day_month_date(expr: str) -> str:
    """BOOLEAN: the value looks like ``a/b/yyyy`` (day and month order unknown on its own)."""
    return f"regexp_matches({expr}, '{_PADDED_DAY_MONTH_DATE}')"


def detect_date_order(
    con: duckdb.DuckDBPyConnection,
    table: str,
    expr: str,
    label: str,
    requested: str = "auto",
    default: str | None = None,
) -> DateOrder:
    """Decide how ``a/b/yyyy`` values of ``expr`` in ``table`` read (``label``: its header).

    The analyst's choice (``requested``) wins. Otherwise month-first is proven by a second field
    above 12 (12/31/2024) with no first field above 12, day-first the other way round; without
    proof the format's convention (``default``) holds, then day-first for dotted dates.

    Raises IngestError, saying how to choose, when values prove both orders or none does.
    """
    first, second = (
        f"TRY_CAST(regexp_extract(trim({expr}), '{_DAY_MONTH_DATE}', {group}) AS INTEGER)"
        for group in (1, 2)
    )
    row = con.execute(
        f"""
        SELECT count(*), count(*) FILTER (WHERE NOT regexp_matches(value, '{_DOTTED}')),
               arg_min(line_number, line_number), arg_min(value, line_number),
               max(first), max(second),
               arg_min(line_number, line_number) FILTER (WHERE first > 12),
               arg_min(value, line_number) FILTER (WHERE first > 12),
               arg_min(line_number, line_number) FILTER (WHERE second > 12),
               arg_min(value, line_number) FILTER (WHERE second > 12)
        FROM (
            SELECT line_number, trim({expr}) AS value, {first} AS first, {second} AS second
            FROM {table} WHERE {is_day_month_date(expr)}
        )
        """
    ).fetchone()
    shaped_count, undotted, line, value, max_first, max_second = row[:6]
    day_line, day_value, month_line, month_value = row[6:]
    if not shaped_count:
        return DateOrder(None)
    if requested != "auto":
        return DateOrder(requested, "chosen", line, value)
    month_proof, day_proof = max_second > 12, max_first > 12
    if month_proof and not day_proof:
        return DateOrder("month-first", "proof", month_line, month_value)
    if day_proof and not month_proof:
        return DateOrder("day-first", "proof", day_line, day_value)
    if month_proof and day_proof:
        raise IngestError(
            f"Dates in '{label}' disagree on the order of day and month: line {day_line} has "
            f"'{day_value}' (day first) but line {month_line} has '{month_value}' (month "
            f"first); {HOW_TO_CHOOSE_DATES}. Rows that do not fit the chosen order are rejected."
        )
    if default is not None:
        return DateOrder(default, "format", line, value)
    if not undotted:
        return DateOrder("day-first", "dotted", line, value)
    raise IngestError(
        f"Dates in '{label}' such as '{value}' (line {line}) could be day-first or month-first, "
        f"and no date in the file tells which: {HOW_TO_CHOOSE_DATES}."
    )


def detect_decimal(
    con: duckdb.DuckDBPyConnection,
    table: str,
    columns: dict[str, str],
    requested: str = "auto",
) -> DecimalMark:
    """Decide the decimal mark of the amount ``columns`` (header label -> expression).

    The analyst's choice (``requested``) wins. Otherwise a comma is the decimal mark when some
    value can only be read that way (``12,50``, ``1.234,50``, ``1.234.567``) and none can only be
    read with a point (``12.50``, ``1,234.50``, ``1,234,567``); a file with both is read with a
    point, and says so.
    """
    if requested != "auto":
        return DecimalMark(requested)
    if not columns:
        return DecimalMark()
    # Only a value with a comma can argue for a decimal comma: most files stop here.
    with_comma = " OR ".join(f"contains({expr}, ',')" for expr in columns.values())
    if not con.execute(f"SELECT count(*) FROM {table} WHERE {with_comma}").fetchone()[0]:
        return DecimalMark()
    bare = f"regexp_replace(trim(value), '{_SYMBOLS}', '', 'g')"
    comma = r"-?\d+,\d{1,2}|-?\d{1,3}(\.\d{3})+,\d+|-?\d{1,3}(\.\d{3}){2,}"
    point = r"-?\d+\.\d{1,2}|-?\d{1,3}(,\d{3})+\.\d+|-?\d{1,3}(,\d{3}){2,}"
    values = " UNION ALL ".join(
        f"SELECT ? AS label, line_number, {expr} AS value FROM {table}" for expr in columns.values()
    )
    comma_row = con.execute(
        f"""
        SELECT arg_min(label, line_number), min(line_number), arg_min(value, line_number)
        FROM ({values}) WHERE contains(value, ',') AND regexp_full_match({bare}, '{comma}')
        """,
        list(columns),
    ).fetchone()
    if comma_row[1] is None:
        return DecimalMark()
    point_row = con.execute(
        f"""
        SELECT arg_min(label, line_number), min(line_number), arg_min(value, line_number)
        FROM ({values}) WHERE regexp_full_match({bare}, '{point}')
        """,
        list(columns),
    ).fetchone()
    comma_label, comma_line, comma_value = comma_row
    if point_row[1] is not None:
        point_label, point_line, point_value = point_row
        return DecimalMark(
            ".",
            f"Amounts mix decimal points ('{point_label}', line {point_line}: '{point_value}') "
            f"and decimal commas ('{comma_label}', line {comma_line}: '{comma_value}'); they "
            "were read with a decimal point, so amounts with a decimal comma were rejected. "
            "Choose the decimal comma (--decimal , on the command line) if that is wrong.",
        )
    return DecimalMark(
        ",",
        f"Amounts were read with a decimal comma ('{comma_label}', line {comma_line}: "
        f"'{comma_value}'), points and spaces being thousands separators.",
    )


def _without_offset(expr: str) -> str:
    # Only an offset that follows a time of day is dropped, so the "-05" of 2024-01-05 stays.
    return (
        rf"regexp_replace(trim({expr}), "
        r"'(\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)\s*(Z|[+-]\d{2}(:?\d{2})?)$', '\1')"
    )


def _once(expr: str, body: str) -> str:
    """``body`` with ``v`` bound to ``expr``, which is computed once and only where reached.

    Written out several times, ``expr`` would be hoisted by DuckDB's common-subexpression step
    and computed for every row, even rows a surrounding coalesce or CASE never reaches.
    """
    return f"list_transform([{expr}], lambda v: {body})[1]"


def _sql_words(words: tuple[str, ...]) -> str:
    # A list, not an IN (...): DuckDB turns a long IN list into a join, costly per row.
    return "[" + ", ".join(f"'{w}'" for w in words) + "]"
