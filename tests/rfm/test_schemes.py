"""Segment scheme presets against the tables of docs/segments.md §3, typed out again here."""

from __future__ import annotations

import itertools
from decimal import ROUND_HALF_UP, Decimal

import pytest

from dashboard.rfm import schemes

# ---------------------------------------------------------------- the tables of docs/segments.md §3

# Shopify: FM row -> segment for R = 1, 2, 3, 4, 5
SHOPIFY_GRID = """
5 | Previously loyal | Previously loyal | Loyal           | Loyal     | Champions
4 | At risk          | At risk          | Loyal           | Loyal     | Champions
3 | At risk          | At risk          | Needs attention | Active    | Active
2 | Dormant          | Dormant          | Almost lost     | Active    | Active
1 | Dormant          | Dormant          | Almost lost     | Promising | New
"""

# RF grid: R row -> segment for F = 1, 2, 3, 4, 5
RF_GRID = """
5 | New            | Potential loyalist | Potential loyalist | Champions | Champions
4 | Promising      | Potential loyalist | Potential loyalist | Loyal     | Loyal
3 | About to sleep | About to sleep     | Need attention     | Loyal     | Loyal
2 | Hibernating    | Hibernating        | At risk            | At risk   | Can't lose them
1 | Hibernating    | Hibernating        | At risk            | At risk   | Can't lose them
"""

CLASSIC_CODES = {
    "Champions": "555 554 544 545 454 455 445",
    "Loyal": "543 444 435 355 354 345 344 335",
    "Potential Loyalist": "553 551 552 541 542 533 532 531 452 451 442 441 431 453 433 432 "
    "423 353 352 351 342 341 333 323",
    "New Customers": "512 511 422 421 412 411 311",
    "Promising": "525 524 523 522 521 515 514 513 425 424 413 414 415 315 314 313",
    "Need Attention": "535 534 443 434 343 334 325 324",
    "About To Sleep": "331 321 312 221 213 231 241 251",
    "At Risk": "255 254 245 244 253 252 243 242 235 234 225 224 153 152 145 143 142 135 134 "
    "133 125 124",
    "Cannot Lose Them": "155 154 144 214 215 115 114 113",
    "Hibernating": "332 322 233 232 223 222 132 123 122 212 211",
    "Lost": "111 112 121 131 141 151",
}

KLAVIYO_CODES = {
    "Champions": "333 332 323",
    "Loyal": "321 322 331 232 233",
    "Recent": "312 313 311 222 223",
    "Needs attention": "213 221 123 132 133",
    "At risk": "231 212 122 131 211",
    "Inactive": "111 112 113 121",
}


def parse_grid(text: str) -> dict[int, list[str]]:
    rows = {}
    for line in text.strip().splitlines():
        head, *cells = (part.strip() for part in line.split("|"))
        rows[int(head)] = cells
    return rows


def code_owners(table: dict[str, str]) -> dict[str, list[str]]:
    owners: dict[str, list[str]] = {}
    for segment, codes in table.items():
        for code in codes.split():
            owners.setdefault(code, []).append(segment)
    return owners


def every_code(n: int) -> list[str]:
    scale = "".join(str(s) for s in range(1, n + 1))
    return ["".join(c) for c in itertools.product(scale, repeat=3)]


def fm_half_up(f: int, m: int) -> int:
    """(F + M) / 2 rounded half up, computed with Decimal (independent of the engine)."""
    return int((Decimal(f + m) / 2).quantize(Decimal(1), rounding=ROUND_HALF_UP))


# ---------------------------------------------------------------- partitions


@pytest.mark.parametrize(
    ("key", "n", "names"),
    [
        (
            "shopify",
            5,
            {
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
            },
        ),
        ("classic", 5, set(CLASSIC_CODES)),
        (
            "rf10",
            5,
            {
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
            },
        ),
        ("klaviyo", 3, set(KLAVIYO_CODES)),
    ],
)
def test_preset_partitions_its_scale(key: str, n: int, names: set[str]) -> None:
    scheme = schemes.get_scheme(key)
    assert scheme.key == key
    assert scheme.n_scores == n
    # names exactly as in docs/segments.md §3, each listed once
    assert set(scheme.segments) == names
    assert len(scheme.segments) == len(names)
    assert schemes.PROSPECTS not in scheme.segments
    # enumerate every cell of the scale and count the segments that own it
    scale = range(1, n + 1)
    owners = {cell: 0 for cell in itertools.product(scale, scale, scale)}
    for segment in scheme.segments:
        for cell, owner in scheme.cells.items():
            if owner == segment:
                owners[cell] += 1
    assert len(owners) == n**3
    assert set(scheme.cells) == set(owners)  # no cell outside the scale
    assert all(count == 1 for count in owners.values())
    # every segment can be reached
    assert {scheme.cells[c] for c in owners} == names


def test_segment_counts_match_the_groups_named_in_segments_md() -> None:
    # "Shopify, 11 groups" = 10 score groups + Prospects; Classic 11; RF 10; Klaviyo 6
    assert len(schemes.get_scheme("shopify").segments) + 1 == 11
    assert len(schemes.get_scheme("classic").segments) == 11
    assert len(schemes.get_scheme("rf10").segments) == 10
    assert len(schemes.get_scheme("klaviyo").segments) == 6
    assert schemes.PROSPECTS == "Prospects"


def test_typed_code_tables_are_partitions() -> None:
    # the tables of docs/segments.md §3 themselves (as typed here) cover every code exactly once
    for table, n in ((CLASSIC_CODES, 5), (KLAVIYO_CODES, 3)):
        owners = code_owners(table)
        assert sorted(owners) == sorted(every_code(n))
        assert [c for c, segs in owners.items() if len(segs) != 1] == []


# ---------------------------------------------------------------- Shopify, every cell


def test_shopify_every_cell_against_the_grid() -> None:
    scheme = schemes.get_scheme("shopify")
    grid = parse_grid(SHOPIFY_GRID)
    assert sorted(grid) == [1, 2, 3, 4, 5] and all(len(row) == 5 for row in grid.values())
    checked = 0
    for r, f, m in itertools.product(range(1, 6), repeat=3):
        expected = grid[fm_half_up(f, m)][r - 1]
        assert scheme.segment_of(r, f, m) == expected, (r, f, m)
        checked += 1
    assert checked == 125


@pytest.mark.parametrize(
    ("f", "m", "fm"),
    [
        (1, 1, 1),
        (1, 2, 2),  # 1.5 -> 2
        (2, 3, 3),  # 2.5 -> 3
        (3, 4, 4),  # 3.5 -> 4
        (4, 5, 5),  # 4.5 -> 5
        (1, 3, 2),
        (1, 4, 3),  # 2.5 -> 3
        (1, 5, 3),
        (2, 5, 4),  # 3.5 -> 4
        (5, 5, 5),
    ],
)
def test_shopify_fm_rounds_half_up(f: int, m: int, fm: int) -> None:
    assert schemes.round_half_up_mean(f, m) == fm
    assert schemes.round_half_up_mean(m, f) == fm


@pytest.mark.parametrize(
    ("cell", "segment"),
    [
        # cells where rounding half up and rounding down give different segments
        ((4, 1, 2), "Active"),  # FM 1.5 -> 2 (down would be 1: Promising)
        ((5, 1, 2), "Active"),  # (down: New)
        ((2, 4, 5), "Previously loyal"),  # FM 4.5 -> 5 (down: At risk)
        ((1, 2, 3), "At risk"),  # FM 2.5 -> 3 (down: Dormant)
        ((3, 2, 3), "Needs attention"),  # FM 2.5 -> 3 (down: Almost lost)
        ((3, 3, 4), "Loyal"),  # FM 3.5 -> 4 (down: Needs attention)
        ((5, 4, 5), "Champions"),
        ((3, 1, 1), "Almost lost"),
    ],
)
def test_shopify_cells_that_depend_on_rounding(cell, segment: str) -> None:
    assert schemes.get_scheme("shopify").segment_of(*cell) == segment


# ---------------------------------------------------------------- Classic, RF, Klaviyo


def test_classic_every_code_against_the_table() -> None:
    scheme = schemes.get_scheme("classic")
    for code, (segment,) in code_owners(CLASSIC_CODES).items():
        r, f, m = (int(d) for d in code)
        assert scheme.segment_of(r, f, m) == segment, code


@pytest.mark.parametrize(
    ("code", "segment"),
    [
        ("455", "Champions"),  # the range form puts it in Champions and Loyal at once
        ("355", "Loyal"),  # R=3 with the best F and M: Loyal, not Champions
        ("444", "Loyal"),  # range form "Champions R 4-5, F&M 4-5" would say Champions
        ("543", "Loyal"),
        ("553", "Potential Loyalist"),
        ("535", "Need Attention"),
        ("311", "New Customers"),
        ("155", "Cannot Lose Them"),
        ("111", "Lost"),
        ("251", "About To Sleep"),
    ],
)
def test_classic_codes(code: str, segment: str) -> None:
    r, f, m = (int(d) for d in code)
    assert schemes.get_scheme("classic").segment_of(r, f, m) == segment


def test_rf_grid_every_cell_ignores_m() -> None:
    scheme = schemes.get_scheme("rf10")
    grid = parse_grid(RF_GRID)
    for r, f, m in itertools.product(range(1, 6), repeat=3):
        assert scheme.segment_of(r, f, m) == grid[r][f - 1], (r, f, m)
    # spot checks read straight off the table
    assert scheme.segment_of(5, 1, 3) == "New"
    assert scheme.segment_of(2, 5, 1) == "Can't lose them"
    assert scheme.segment_of(3, 3, 5) == "Need attention"
    assert scheme.segment_of(4, 1, 5) == "Promising"


def test_klaviyo_every_code_and_recency_cuts() -> None:
    scheme = schemes.get_scheme("klaviyo")
    for code, (segment,) in code_owners(KLAVIYO_CODES).items():
        r, f, m = (int(d) for d in code)
        assert scheme.segment_of(r, f, m) == segment, code
    assert scheme.segment_of(3, 3, 3) == "Champions"
    assert scheme.segment_of(1, 2, 1) == "Inactive"
    assert scheme.segment_of(2, 3, 1) == "At risk"
    # R: 3 = within 180 days, 2 = within 365, 1 = older
    assert scheme.fixed_recency_cuts == (180.0, 365.0)
    assert schemes.get_scheme("shopify").fixed_recency_cuts is None


# ---------------------------------------------------------------- validation of edited schemes


def _klaviyo_assignments() -> dict[str, list[schemes.Cell]]:
    return {seg: schemes.parse_codes(codes) for seg, codes in KLAVIYO_CODES.items()}


def test_build_scheme_accepts_a_partition() -> None:
    scheme = schemes.build_scheme("mine", "Mine", 3, _klaviyo_assignments(), "rule")
    assert scheme.segment_of(2, 2, 2) == "Recent"
    assert scheme.segments == tuple(KLAVIYO_CODES)


def test_build_scheme_names_gaps() -> None:
    assignments = _klaviyo_assignments()
    assignments["Inactive"] = schemes.parse_codes("111 112")  # 113 and 121 now have no segment
    assert schemes.check_partition(3, assignments) == {
        "gaps": [(1, 1, 3), (1, 2, 1)],
        "overlaps": [],
    }
    with pytest.raises(schemes.SchemeError) as err:
        schemes.build_scheme("mine", "Mine", 3, assignments, "rule")
    assert "Gaps: 113, 121." in str(err.value)
    assert "Overlaps: none." in str(err.value)


def test_build_scheme_names_overlaps() -> None:
    assignments = _klaviyo_assignments()
    assignments["Loyal"] = [*assignments["Loyal"], (3, 3, 3)]  # 333 is also Champions
    problems = schemes.check_partition(3, assignments)
    assert problems == {"gaps": [], "overlaps": [((3, 3, 3), ["Champions", "Loyal"])]}
    with pytest.raises(schemes.SchemeError) as err:
        schemes.build_scheme("mine", "Mine", 3, assignments, "rule")
    assert "333 (Champions & Loyal)" in str(err.value)
    assert "Gaps: none." in str(err.value)


def test_range_form_of_the_classic_table_is_rejected() -> None:
    # "Champions R 4-5, F&M 4-5" and "Loyal R 2-5, F&M 3-5" as ranges overlap on e.g. 444
    def cells(r_range, fm_range):
        return [
            (r, f, m)
            for r, f, m in itertools.product(range(1, 6), repeat=3)
            if r in r_range and f in fm_range and m in fm_range
        ]

    assignments = {
        "Champions": cells(range(4, 6), range(4, 6)),
        "Loyal": cells(range(2, 6), range(3, 6)),
    }
    problems = schemes.check_partition(5, assignments)
    # Champions: 2 x 2 x 2 = 8 cells, all inside Loyal's 4 x 3 x 3 = 36 -> 8 overlaps, 125 - 36 gaps
    assert len(problems["overlaps"]) == 8
    assert len(problems["gaps"]) == 89
    with pytest.raises(schemes.SchemeError):
        schemes.build_scheme("range", "Range form", 5, assignments, "rule")


def test_unknown_scheme() -> None:
    with pytest.raises(schemes.SchemeError, match="Unknown scheme 'nope'"):
        schemes.get_scheme("nope")
