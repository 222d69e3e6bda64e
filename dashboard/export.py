"""Downloads that are safe to open in a spreadsheet program.

A text cell or header that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
read as a formula by Excel, LibreOffice and Google Sheets; such cells get a leading ``'``.
Numbers stay numbers (a numeric column is never touched; a text cell holding a plain negative
number such as ``-12.5`` is left as it is).
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pandas as pd

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NEGATIVE_NUMBER = re.compile(r"^-\d+(\.\d+)?$")


def neutralise_cell(value: object) -> object:
    """Return ``value`` with a leading ``'`` if a spreadsheet would run it as a formula."""
    if not isinstance(value, str) or not value.startswith(FORMULA_TRIGGERS):
        return value
    if PLAIN_NEGATIVE_NUMBER.match(value):
        return value
    return "'" + value


def make_formula_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``frame`` whose text cells and headers cannot run as formulas."""
    safe = frame.copy()
    for column in safe.columns:
        if not (
            pd.api.types.is_numeric_dtype(safe[column])
            or pd.api.types.is_bool_dtype(safe[column])
            or pd.api.types.is_datetime64_any_dtype(safe[column])
        ):
            safe[column] = safe[column].map(neutralise_cell, na_action="ignore")
    safe.columns = [neutralise_cell(str(c)) for c in safe.columns]
    return safe


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """Return ``frame`` as formula-safe UTF-8 CSV bytes (no index).

    Rows end with CRLF (RFC 4180), which also makes the writer quote any cell holding a bare
    carriage return: unquoted, "a", CR, "=1+1" would split into a new row starting with ``=1+1``.
    """
    buffer = io.StringIO()
    make_formula_safe(frame).to_csv(buffer, index=False, lineterminator="\r\n")
    return buffer.getvalue().encode("utf-8")


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` to ``path`` as formula-safe UTF-8 CSV."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(to_csv_bytes(frame))
