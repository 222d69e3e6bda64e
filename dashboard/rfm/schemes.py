"""Segment schemes (docs/segments.md §3): presets that map every R-F-M score cell to one segment.

Every scheme is expanded to a full table ``(r, f, m) -> segment`` over its score scale, whatever
grid it is drawn on (R x FM, R x F or a code table), so assigning segments is one lookup.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from dashboard.errors import UserError

PROSPECTS = "Prospects"

Cell = tuple[int, int, int]


@dataclass(frozen=True)
class Scheme:
    """A named map from every score cell (r, f, m) to a segment, with its segments in order."""

    key: str
    name: str
    n_scores: int
    segments: tuple[str, ...]
    cells: dict[Cell, str]
    rule: str
    fixed_recency_cuts: tuple[float, ...] | None = None

    def segment_of(self, r: int, f: int, m: int) -> str:
        """Return the segment of one score cell."""
        return self.cells[(r, f, m)]


class SchemeError(UserError):
    """A scheme that does not partition the score cells, with what is wrong."""


def all_cells(n_scores: int) -> list[Cell]:
    """Return every (r, f, m) cell of an ``n_scores`` scale, R-major."""
    scale = range(1, n_scores + 1)
    return list(itertools.product(scale, scale, scale))


def round_half_up_mean(f: int, m: int) -> int:
    """Return (f + m) / 2 rounded half up: the FM score of Shopify's grid (3.5 -> 4)."""
    return (f + m + 1) // 2


def check_partition(n_scores: int, assignments: dict[str, list[Cell]]) -> dict[str, list]:
    """Return the gaps (cells with no segment) and overlaps (cells in several) of a mapping."""
    owners: dict[Cell, list[str]] = {cell: [] for cell in all_cells(n_scores)}
    for segment, cells in assignments.items():
        for cell in cells:
            if cell in owners:
                owners[cell].append(segment)
    return {
        "gaps": [cell for cell, segs in owners.items() if not segs],
        "overlaps": [(cell, segs) for cell, segs in owners.items() if len(segs) > 1],
    }


def build_scheme(
    key: str,
    name: str,
    n_scores: int,
    assignments: dict[str, list[Cell]],
    rule: str,
    fixed_recency_cuts: tuple[float, ...] | None = None,
) -> Scheme:
    """Return a Scheme from segment -> cells, or raise SchemeError naming gaps and overlaps."""
    problems = check_partition(n_scores, assignments)
    if problems["gaps"] or problems["overlaps"]:
        gaps = ", ".join("".join(map(str, c)) for c in problems["gaps"][:10])
        overlaps = ", ".join(
            "".join(map(str, c)) + " (" + " & ".join(s) + ")" for c, s in problems["overlaps"][:10]
        )
        raise SchemeError(
            f"Scheme '{name}' must put every cell in exactly one segment. "
            f"Gaps: {gaps or 'none'}. Overlaps: {overlaps or 'none'}."
        )
    cells = {cell: seg for seg, seg_cells in assignments.items() for cell in seg_cells}
    return Scheme(key, name, n_scores, tuple(assignments), cells, rule, fixed_recency_cuts)


def expand_grid(
    grid: dict[int, dict[int, str]], n_scores: int, column: str
) -> dict[str, list[Cell]]:
    """Expand a grid ``{row_score: {r: segment}}`` to segment -> (r, f, m) cells.

    ``column`` names what the grid rows are: ``"fm"`` (rounded mean of F and M) or ``"f"``.
    """
    out: dict[str, list[Cell]] = {}
    for r, f, m in all_cells(n_scores):
        row = round_half_up_mean(f, m) if column == "fm" else f
        out.setdefault(grid[row][r], []).append((r, f, m))
    return out


def parse_codes(codes: str) -> list[Cell]:
    """Return the cells of a space-separated list of 3-digit R-F-M codes, e.g. ``"555 554"``."""
    return [(int(c[0]), int(c[1]), int(c[2])) for c in codes.split()]


_SHOPIFY_ROWS = {  # FM row -> segments for R = 1..5
    5: ["Previously loyal", "Previously loyal", "Loyal", "Loyal", "Champions"],
    4: ["At risk", "At risk", "Loyal", "Loyal", "Champions"],
    3: ["At risk", "At risk", "Needs attention", "Active", "Active"],
    2: ["Dormant", "Dormant", "Almost lost", "Active", "Active"],
    1: ["Dormant", "Dormant", "Almost lost", "Promising", "New"],
}
_SHOPIFY_ORDER = [
    "Champions",
    "Loyal",
    "Active",
    "New",
    "Promising",
    "Needs attention",
    "Almost lost",
    "At risk",
    "Previously loyal",
    "Dormant",
]

_RF_ROWS = {  # F -> segments for R = 1..5
    1: ["Hibernating", "Hibernating", "About to sleep", "Promising", "New"],
    2: ["Hibernating", "Hibernating", "About to sleep", "Potential loyalist", "Potential loyalist"],
    3: ["At risk", "At risk", "Need attention", "Potential loyalist", "Potential loyalist"],
    4: ["At risk", "At risk", "Loyal", "Loyal", "Champions"],
    5: ["Can't lose them", "Can't lose them", "Loyal", "Loyal", "Champions"],
}
_RF_ORDER = [
    "Champions",
    "Loyal",
    "Potential loyalist",
    "New",
    "Promising",
    "Need attention",
    "About to sleep",
    "At risk",
    "Can't lose them",
    "Hibernating",
]

_CLASSIC = {
    "Champions": "555 554 544 545 454 455 445",
    "Loyal": "543 444 435 355 354 345 344 335",
    "Potential Loyalist": "553 551 552 541 542 533 532 531 452 451 442 441 431 453 433 432 423 "
    "353 352 351 342 341 333 323",
    "New Customers": "512 511 422 421 412 411 311",
    "Promising": "525 524 523 522 521 515 514 513 425 424 413 414 415 315 314 313",
    "Need Attention": "535 534 443 434 343 334 325 324",
    "About To Sleep": "331 321 312 221 213 231 241 251",
    "At Risk": "255 254 245 244 253 252 243 242 235 234 225 224 153 152 145 143 142 135 134 133 "
    "125 124",
    "Cannot Lose Them": "155 154 144 214 215 115 114 113",
    "Hibernating": "332 322 233 232 223 222 132 123 122 212 211",
    "Lost": "111 112 121 131 141 151",
}

_KLAVIYO = {
    "Champions": "333 332 323",
    "Loyal": "321 322 331 232 233",
    "Recent": "312 313 311 222 223",
    "Needs attention": "213 221 123 132 133",
    "At risk": "231 212 122 131 211",
    "Inactive": "111 112 113 121",
}


def _grid_rows(rows: dict[int, list[str]]) -> dict[int, dict[int, str]]:
    return {row: {r: seg for r, seg in enumerate(segs, start=1)} for row, segs in rows.items()}


def _ordered(assignments: dict[str, list[Cell]], order: list[str]) -> dict[str, list[Cell]]:
    return {seg: assignments[seg] for seg in order}


PRESETS: dict[str, Scheme] = {
    "shopify": build_scheme(
        "shopify",
        "Shopify (11 groups, R x FM)",
        5,
        _ordered(expand_grid(_grid_rows(_SHOPIFY_ROWS), 5, "fm"), _SHOPIFY_ORDER),
        "Segment from the R score and FM = (F + M) / 2 rounded half up (3.5 -> 4), "
        "on Shopify's R x FM grid; customers without valid orders are Prospects.",
    ),
    "classic": build_scheme(
        "classic",
        "Classic (11 segments, R-F-M codes)",
        5,
        {seg: parse_codes(codes) for seg, codes in _CLASSIC.items()},
        "Segment from the full R-F-M code (e.g. 545) looked up in the 125-code table.",
    ),
    "rf10": build_scheme(
        "rf10",
        "RF grid (10 segments, R x F)",
        5,
        _ordered(expand_grid(_grid_rows(_RF_ROWS), 5, "f"), _RF_ORDER),
        "Segment from the R and F scores on the R x F grid; M is shown but not used.",
    ),
    "klaviyo": build_scheme(
        "klaviyo",
        "Klaviyo (6 groups, scores 1-3)",
        3,
        {seg: parse_codes(codes) for seg, codes in _KLAVIYO.items()},
        "Scores 1-3: R 3 = ordered within 180 days, 2 = within 365, 1 = older; F and M by "
        "terciles; segment from the R-F-M code table.",
        fixed_recency_cuts=(180.0, 365.0),
    ),
}
DEFAULT_SCHEME = "shopify"


def get_scheme(key: str) -> Scheme:
    """Return the preset called ``key`` (shopify, classic, rf10, klaviyo)."""
    try:
        return PRESETS[key]
    except KeyError as exc:
        raise SchemeError(f"Unknown scheme '{key}'; choose one of: {', '.join(PRESETS)}.") from exc
