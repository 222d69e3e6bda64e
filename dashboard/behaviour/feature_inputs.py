"""Which inputs of the feature table a dataset has, and the file that enables each missing one.

An input counts as loaded when its table has rows; discount codes and categories also need a
non-blank value in at least one row (docs/behaviour.md §1).
"""

from __future__ import annotations

from collections.abc import Mapping

import ibis.expr.types as ir
from ibis.backends import BaseBackend

from dashboard import portable
from dashboard.behaviour.catalogue import FEATURES, SOURCE_TABLES, SOURCES


def read_tables(backend: BaseBackend) -> dict[str, ir.Table]:
    """Return the tables of an open dataset that the features read, by name."""
    present = set(backend.list_tables())
    return {name: backend.table(name) for name in SOURCE_TABLES if name in present}


def available_sources(tables: Mapping[str, ir.Table]) -> set[str]:
    """Return the keys of SOURCES whose table has rows (and whose column has a value)."""
    found: set[str] = set()
    for name in dict.fromkeys(table for table, _, _ in SOURCES.values()):
        if name not in tables:
            continue
        t = tables[name]
        keys = [k for k, (table, _, _) in SOURCES.items() if table == name]
        counts = t.aggregate(
            **{
                k: t.count()
                if SOURCES[k][1] is None
                else portable.strip(t[SOURCES[k][1]]).nullif("").count()
                for k in keys
            }
        ).to_pyarrow()
        found |= {k for k in keys if (counts.column(k)[0].as_py() or 0) > 0}
    return found


def missing_inputs(
    tables: Mapping[str, ir.Table], available: set[str] | None = None
) -> dict[str, str]:
    """Return feature -> "upload <file> to enable <feature>" for each feature lacking its input.

    In: the dataset's tables by name (absent or empty tables count as missing), and their
    ``available_sources`` when already known.
    """
    if available is None:
        available = available_sources(tables)
    return {
        name: f"upload {SOURCES[f.source][2]} to enable {f.label.lower()}"
        for name, f in FEATURES.items()
        if f.source not in available
    }
