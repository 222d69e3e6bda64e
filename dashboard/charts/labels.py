"""Text from data shown literally in plotly charts.

Plotly reads a subset of HTML in every label (legend, ticks, hover, node names): a segment,
channel or campaign name such as ``<a href="http://evil.example">Offer</a>`` would become a live
link. Escaping ``&``, ``<`` and ``>`` as entities makes plotly show the characters themselves.
"""

from __future__ import annotations

import pandas as pd

_ENTITIES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def escape_label(text: object) -> str:
    """Return ``text`` as a string plotly shows literally."""
    return str(text).translate(_ENTITIES)


def escape_labels(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """Return a copy of ``frame`` whose text ``columns`` plotly shows literally (others as they
    were; missing values stay missing)."""
    return frame.assign(
        **{c: frame[c].map(lambda v: v if pd.isna(v) else escape_label(v)) for c in columns}
    )
