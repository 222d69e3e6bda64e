"""How chosen segments overlap: customers in both of each pair (docs/behaviour.md §5)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import ibis.expr.types as ir
import pandas as pd

from dashboard.behaviour.compiler import flag_segments
from dashboard.behaviour.definitions import Definition


def overlap_matrix(
    base: ir.Table, definitions: Mapping[str, Definition], workspace: Path
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """How chosen segments overlap: (counts, shares), segments x segments.

    counts[a][b] = customers in both a and b (the diagonal is each segment's size);
    shares[a][b] = counts[a][b] / size of a (the row's segment), NaN for an empty segment.
    """
    table, columns = flag_segments(base, definitions, workspace)
    order = list(definitions)
    row = (
        table.aggregate(
            **{
                f"c_{i}_{j}": (table[columns[a]] & table[columns[b]]).cast("int64").sum()
                for i, a in enumerate(order)
                for j, b in enumerate(order)
                if j >= i
            }
        )
        .to_pandas()
        .iloc[0]
    )
    counts = pd.DataFrame(0, index=order, columns=order, dtype="int64")
    for i, a in enumerate(order):
        for j, b in enumerate(order):
            value = row[f"c_{min(i, j)}_{max(i, j)}"]
            counts.loc[a, b] = 0 if pd.isna(value) else int(value)
    sizes = pd.Series([counts.loc[s, s] for s in order], index=order)
    shares = counts.div(sizes.where(sizes > 0), axis=0)
    return counts, shares
