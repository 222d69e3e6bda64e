"""Agreement checks: ours and a reference must produce the same figures, or the timing is void."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from decimal import Decimal
from numbers import Integral, Real

import duckdb
import pandas as pd

Figures = dict[str, object]
# Money is summed as DECIMAL by us and as float by pandas; a cent covers float rounding only.
MONEY_TOLERANCE = 0.01


def query_figures(frame: object, select: str) -> Figures:
    """Run ``SELECT <select> FROM frame`` over an Arrow table or DataFrame; return the one row."""
    con = duckdb.connect()
    try:
        con.register("frame", frame)
        result = con.execute(f"SELECT {select} FROM frame")
        names = [column[0] for column in result.description]
        row = result.fetchone()
    finally:
        con.close()
    assert row is not None
    return {name: normalise(value) for name, value in zip(names, row, strict=True)}


def normalise(value: object) -> object:
    """Return ``value`` as int, float, ISO text or None, so that engines compare equal."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool | Integral):
        return int(value)
    if isinstance(value, Decimal | Real):
        return float(value)
    if isinstance(value, dt.date | pd.Timestamp):
        return pd.Timestamp(value).isoformat()
    return value


def find_differences(ours: Mapping[str, object], reference: Mapping[str, object]) -> list[str]:
    """Return one line per figure that differs between ``ours`` and ``reference``."""
    differences = []
    for key in sorted(set(ours) | set(reference)):
        mine, theirs = ours.get(key, "<missing>"), reference.get(key, "<missing>")
        if not agree(mine, theirs):
            differences.append(f"{key}: ours {mine!r} != reference {theirs!r}")
    return differences


def agree(mine: object, theirs: object) -> bool:
    """Return whether two normalised figures are equal (floats within a cent)."""
    if isinstance(mine, float) or isinstance(theirs, float):
        if not isinstance(mine, int | float) or not isinstance(theirs, int | float):
            return False
        return math.isclose(mine, theirs, rel_tol=1e-12, abs_tol=MONEY_TOLERANCE)
    return mine == theirs
