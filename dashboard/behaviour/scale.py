"""SCALE prioritisation: chosen segments ranked on Size, Currency, Access, Love and Early adoption.

Reference: docs/behaviour.md §6.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import ibis.expr.types as ir
import pandas as pd

from dashboard.behaviour.catalogue import TREND_WINDOWS_DAYS
from dashboard.behaviour.compiler import flag_segments
from dashboard.behaviour.definitions import Definition, DefinitionError

# The score first, so it stays on screen however narrow the table is.
SCALE_COLUMNS = [
    "scale_score",
    "segment",
    "size",
    "share_customers",
    "currency",
    "access",
    "love_repeat_rate",
    "love_satisfaction",
    "early_adoption",
    "revenue_at_stake",
    "share_revenue",
]


def scale_table(
    base: ir.Table,
    definitions: Mapping[str, Definition],
    workspace: Path,
    launch_days: int = 30,
) -> pd.DataFrame:
    """SCALE prioritisation of segments (docs/behaviour.md §6), one row per segment (SCALE_COLUMNS),
    highest scale_score first (ties in the order of ``definitions``).

    Size = customers; Currency = average net revenue per customer; Access = share of customers
    who accept email or SMS marketing; Love = repeat rate (share with 2+ orders among buyers) and
    the average latest survey score; Early adoption = average share of orders bought within
    ``launch_days`` of a product's launch; revenue at stake = the segment's net revenue.
    scale_score = mean over Size, Currency, Access, repeat rate and Early adoption of each
    segment's rank among the segments, scaled to 0..1 (1 = best), ties sharing the higher rank.
    """
    if launch_days not in TREND_WINDOWS_DAYS:
        raise DefinitionError(
            f"launch_days must be one of {', '.join(map(str, TREND_WINDOWS_DAYS))}."
        )
    table, columns = flag_segments(base, definitions, workspace)
    revenue = table.net_revenue  # decimal sums, cast once (exact on every engine)
    reachable = table.accepts_marketing.fill_null(False) | table.accepts_sms.fill_null(False)
    trend = table[f"trend_share_{launch_days}d"]
    measures: dict[str, ir.Value] = {
        "_total": table.count(),
        "_total_revenue": revenue.sum().cast("float64"),
    }
    for i, name in enumerate(definitions):
        member = table[columns[name]]
        measures |= {
            f"size_{i}": member.cast("int64").sum(),
            f"revenue_{i}": revenue.sum(where=member).cast("float64"),
            f"reachable_{i}": (member & reachable).cast("int64").sum(),
            f"buyers_{i}": (member & (table.orders >= 1)).cast("int64").sum(),
            f"repeat_{i}": (member & (table.orders >= 2)).cast("int64").sum(),
            f"survey_{i}": table.survey_score.mean(where=member),
            f"trend_{i}": trend.mean(where=member),
        }
    row = table.aggregate(**measures).to_pandas().iloc[0]

    def number(key: str) -> float:
        return float("nan") if pd.isna(row[key]) else float(row[key])

    rows = []
    for i, name in enumerate(definitions):
        size = int(number(f"size_{i}") or 0)
        buyers = number(f"buyers_{i}")
        revenue_sum = number(f"revenue_{i}") if size else 0.0
        rows.append(
            {
                "segment": name,
                "size": size,
                "share_customers": size / number("_total") if number("_total") else 0.0,
                "currency": revenue_sum / size if size else float("nan"),
                "access": number(f"reachable_{i}") / size if size else float("nan"),
                "love_repeat_rate": number(f"repeat_{i}") / buyers if buyers else float("nan"),
                "love_satisfaction": number(f"survey_{i}"),
                "early_adoption": number(f"trend_{i}"),
                "revenue_at_stake": revenue_sum,
                "share_revenue": revenue_sum / number("_total_revenue")
                if number("_total_revenue")
                else 0.0,
            }
        )
    result = pd.DataFrame(rows, columns=SCALE_COLUMNS[1:])
    ranked = result[["size", "currency", "access", "love_repeat_rate", "early_adoption"]]
    ranks = ranked.rank(method="max", pct=True, na_option="keep")
    result["scale_score"] = ranks.mean(axis=1, skipna=True)
    ordered = result.sort_values("scale_score", ascending=False, kind="stable", na_position="last")
    return ordered[SCALE_COLUMNS].reset_index(drop=True)
