"""Ibis expressions that compile to the same result on every engine, where Ibis's own do not.

``strip``: Ibis compiles ``StringValue.strip()`` to ``TRIM`` with Python's whitespace characters
written as escapes in the SQL text. Spark's SQL parser reads ``\\f`` and ``\\v`` as the letters
``f`` and ``v``, so on Spark ``strip()`` also cut those letters off both ends ("facebook" became
"acebook"). A regular expression carries its escapes through both parsers intact.
"""

from __future__ import annotations

import ibis.expr.types as ir

# Python's string.whitespace, as regular-expression escapes both RE2 (DuckDB) and Java read.
_WHITESPACE = r"[ \t\n\r\x0b\x0c]"
_ENDS = rf"^{_WHITESPACE}+|{_WHITESPACE}+$"


def strip(value: ir.StringValue) -> ir.StringValue:
    """Return ``value`` without leading and trailing whitespace (the characters of Python's
    ``string.whitespace``, as Ibis's ``strip`` removes on DuckDB), the same on DuckDB and Spark.

    In/out: a string column or scalar; null stays null.
    """
    return value.re_replace(_ENDS, "")
