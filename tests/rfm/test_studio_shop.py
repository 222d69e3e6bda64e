"""The studio tests' hand-computed shop (tests/studio_shop.py): its RFM measures at both dates."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from studio_shop import AS_OF, DATASET, DATE_FROM, load_shop

from dashboard.rfm import analysis


def measures_of(workspace: Path, as_of: dt.date) -> dict[str, tuple]:
    base = analysis.load_customer_base(workspace, DATASET, as_of=as_of)
    frame = base.measures.to_pandas().set_index("customer_id")
    return {
        c: (
            row.status,
            None if row.status != "scored" else int(row.recency_days),
            int(row.frequency),
            float(row.monetary),
        )
        for c, row in frame.iterrows()
    }


def test_measures_match_the_table(workspace: Path, make_dataset) -> None:
    load_shop(make_dataset)
    assert measures_of(workspace, AS_OF) == {
        "ann": ("scored", 37, 3, 350.0),
        "bob": ("scored", 0, 1, 10.0),
        "cy": ("prospect", None, 0, 0.0),
        "dee": ("scored", 100, 6, 500.0),
        "eve": ("scored", 200, 2, 150.0),
    }
    assert measures_of(workspace, DATE_FROM) == {
        "ann": ("scored", 30, 2, 220.0),
        "cy": ("prospect", None, 0, 0.0),
        "dee": ("scored", 9, 6, 500.0),
        "eve": ("scored", 109, 2, 150.0),
    }
