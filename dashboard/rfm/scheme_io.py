"""Schemes in and out: JSON import and export, custom schemes saved in the workspace, other scales.

JSON format (UTF-8, one object; the app's download and upload, the CLI's ``--scheme FILE.json``)::

    {
      "name": "My scheme",                      # 1-100 characters, shown in the app
      "n_scores": 5,                            # 3, 4 or 5
      "grid": "r_fm",                           # optional: "r_fm" or "r_f"
      "segments": {"Champions": ["55", "54"],   # segment -> cell codes, segments in display order
                   "Loyal": ["45", "44"], ...},
      "rule": "How the segment is chosen.",     # optional: the sentence shown under the table
      "fixed_recency_cuts": [180, 365],         # optional: recency cut points kept in quantile mode
      "playbook": {"Champions": {"goal": "...", "actions": ["...", "..."], "channel": "...",
                                 "offer": "...", "kpi": "...", "caution": "..."}, ...}
    }

``playbook`` is optional: segment (a segment of the scheme, or Prospects) -> its playbook entry.
This module checks only its shape; ``dashboard.playbook`` (a layer above) checks each entry's
fields (docs/playbook.md §5).

Cell codes depend on ``grid``: absent, a code is three digits R, F, M (``"545"``); ``"r_fm"``, two
digits R and FM, where FM = (F + M) / 2 rounded half up (Shopify's grid); ``"r_f"``, two digits R
and F (M is not used). Every cell of the grid or code table must be in exactly one segment; an
error names the gaps (cells in no segment) and the overlaps (cells in several).

Custom schemes are saved as ``<workspace>/schemes/<name>.json`` with names that follow the dataset
name rule (letters, digits, ``-`` and ``_``), so a name can never point outside that folder; the
file carries the scheme's own playbook when it was saved with one.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

import pandas as pd

from dashboard.rfm.schemes import (
    PRESETS,
    PROSPECTS,
    Cell,
    Scheme,
    SchemeError,
    all_cells,
    build_scheme,
    round_half_up_mean,
)
from dashboard.workspace import limits, store

GRIDS: dict[str, tuple[str, Callable[[int, int], int]]] = {
    "r_fm": ("FM", round_half_up_mean),
    "r_f": ("F", lambda f, m: f),
}
SCHEMES_FOLDER = "schemes"
CUSTOM_PREFIX = "custom:"
MAX_JSON_CHARS = limits.MAX_JSON_CHARS
MAX_NAME_CHARS = 100
SHOWN_PROBLEMS = 20


def detect_grid(scheme: Scheme) -> str | None:
    """Return ``"r_fm"`` or ``"r_f"`` if segments depend only on R and that row score, else None."""
    for grid, (_, row_of) in GRIDS.items():
        seen: dict[tuple[int, int], str] = {}
        if all(
            seen.setdefault((r, row_of(f, m)), segment) == segment
            for (r, f, m), segment in scheme.cells.items()
        ):
            return grid
    return None


def _codes_by_segment(scheme: Scheme, grid: str | None) -> dict[str, list[str]]:
    codes: dict[str, set[str]] = {segment: set() for segment in scheme.segments}
    for (r, f, m), segment in scheme.cells.items():
        code = f"{r}{f}{m}" if grid is None else f"{r}{GRIDS[grid][1](f, m)}"
        codes[segment].add(code)
    return {segment: sorted(found, reverse=True) for segment, found in codes.items()}


def scheme_to_json(
    scheme: Scheme, playbook: Mapping[str, Mapping[str, object]] | None = None
) -> str:
    """Return ``scheme`` in the JSON format above, on its grid when it has one (pretty-printed),
    with ``playbook`` (segment -> entry fields) when given and not empty."""
    grid = detect_grid(scheme)
    fields: dict[str, object] = {"name": scheme.name, "n_scores": scheme.n_scores}
    if grid is not None:
        fields["grid"] = grid
    fields["rule"] = scheme.rule
    if scheme.fixed_recency_cuts is not None:
        fields["fixed_recency_cuts"] = list(scheme.fixed_recency_cuts)
    # One line per segment keeps a hand-edited file readable; json.dumps(indent=) would not.
    segments = ",\n".join(
        f"    {json.dumps(segment, ensure_ascii=False)}: {json.dumps(codes)}"
        for segment, codes in _codes_by_segment(scheme, grid).items()
    )
    lines = [f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}," for k, v in fields.items()]
    text = "{\n" + "\n".join(lines) + '\n  "segments": {\n' + segments + "\n  }"
    if playbook:
        entries = ",\n".join(
            f"    {json.dumps(segment, ensure_ascii=False)}: "
            + json.dumps(dict(entry), ensure_ascii=False)
            for segment, entry in playbook.items()
        )
        text += ',\n  "playbook": {\n' + entries + "\n  }"
    return text + "\n}\n"


def _require_text(value: object, what: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_NAME_CHARS:
        raise SchemeError(f"{what} must be text of 1-{MAX_NAME_CHARS} characters, got {value!r}.")
    return value.strip()


def _parse_code(code: object, digits: int, n_scores: int) -> tuple[int, ...]:
    text = code if isinstance(code, str) else None
    if text is None or len(text) != digits or not all("1" <= c <= str(n_scores) for c in text):
        raise SchemeError(
            f"'{code}' is not a cell code: use {digits} digits from 1 to {n_scores} "
            f"(e.g. '{str(n_scores) * digits}')."
        )
    return tuple(int(c) for c in text)


def _describe_problems(
    name: str, gaps: list[tuple[int, ...]], overlaps: list[tuple[tuple[int, ...], list[str]]]
) -> str:
    def listing(items: list[str]) -> str:
        extra = len(items) - SHOWN_PROBLEMS
        return ", ".join(items[:SHOWN_PROBLEMS]) + (f" (+{extra} more)" if extra > 0 else "")

    gap_text = listing(["".join(map(str, cell)) for cell in gaps])
    overlap_text = listing(
        ["".join(map(str, cell)) + " (" + " & ".join(owners) + ")" for cell, owners in overlaps]
    )
    return (
        f"Scheme '{name}' must put every cell in exactly one segment. "
        f"Gaps: {gap_text or 'none'}. Overlaps: {overlap_text or 'none'}."
    )


def find_problems(
    n_scores: int, digits: int, assignments: dict[str, list[tuple[int, ...]]]
) -> tuple[list[tuple[int, ...]], list[tuple[tuple[int, ...], list[str]]]]:
    """Return (gaps, overlaps) of segment -> cells over every ``digits``-digit cell of the scale."""
    scale = range(n_scores, 0, -1)
    owners: dict[tuple[int, ...], list[str]] = {cell: [] for cell in _product(scale, digits)}
    for segment, cells in assignments.items():
        for cell in dict.fromkeys(cells):
            owners[cell].append(segment)
    gaps = [cell for cell, names in owners.items() if not names]
    overlaps = [(cell, names) for cell, names in owners.items() if len(names) > 1]
    return gaps, overlaps


def _product(scale: range, digits: int) -> list[tuple[int, ...]]:
    cells: list[tuple[int, ...]] = [()]
    for _ in range(digits):
        cells = [cell + (s,) for cell in cells for s in scale]
    return cells


def _parse_recency_cuts(value: object, n_scores: int) -> tuple[float, ...] | None:
    if value is None:
        return None
    if (
        not isinstance(value, list)
        or len(value) != n_scores - 1
        or not all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and v >= 0
            for v in value
        )
        or any(b <= a for a, b in zip(value, value[1:], strict=False))
    ):
        raise SchemeError(
            f"fixed_recency_cuts must be {n_scores - 1} rising numbers of days >= 0, got {value!r}."
        )
    return tuple(float(v) for v in value)


def scheme_from_json(text: str, key: str = "imported") -> Scheme:
    """Return the scheme described by ``text`` (format above) or raise SchemeError saying why.

    The error of a mapping that is not a partition names every gap and overlap in the file's own
    cell codes (two digits on a grid, three in a code table).
    """
    document = limits.parse_json(text, "The scheme", SchemeError, MAX_JSON_CHARS)
    if not isinstance(document, dict):
        raise SchemeError("A scheme file holds one JSON object with name, n_scores and segments.")
    return scheme_from_document(document, key)


def scheme_from_document(document: dict[str, object], key: str = "imported") -> Scheme:
    """Return the scheme of a parsed JSON document (format above) or raise SchemeError."""
    unknown = set(document) - {
        "name",
        "n_scores",
        "grid",
        "segments",
        "rule",
        "fixed_recency_cuts",
        "playbook",
    }
    if unknown:
        raise SchemeError(f"Unknown fields in the scheme: {', '.join(sorted(unknown))}.")
    name = _require_text(document.get("name"), "name")
    n_scores = document.get("n_scores")
    if not isinstance(n_scores, int) or isinstance(n_scores, bool) or n_scores not in (3, 4, 5):
        raise SchemeError(f"n_scores must be 3, 4 or 5, got {n_scores!r}.")
    grid = document.get("grid")
    if grid is not None and grid not in GRIDS:
        raise SchemeError(f"grid must be one of {', '.join(GRIDS)} (or left out), got {grid!r}.")
    raw = document.get("segments")
    if not isinstance(raw, dict) or not raw:
        raise SchemeError("segments must be an object: segment name -> list of cell codes.")
    digits = 3 if grid is None else 2
    assignments: dict[str, list[tuple[int, ...]]] = {}
    for segment, codes in raw.items():
        segment_name = _require_text(segment, "A segment name")
        if segment_name == PROSPECTS:
            raise SchemeError(f"'{PROSPECTS}' is reserved for customers without a valid order.")
        if not isinstance(codes, list):
            raise SchemeError(f"Segment '{segment_name}' must list its cell codes, e.g. [\"55\"].")
        assignments[segment_name] = [_parse_code(code, digits, n_scores) for code in codes]
    gaps, overlaps = find_problems(n_scores, digits, assignments)
    if gaps or overlaps:
        raise SchemeError(_describe_problems(name, gaps, overlaps))
    read_playbook_fields(document, list(assignments))
    rule = document.get("rule")
    if rule is not None and (not isinstance(rule, str) or len(rule) > 2_000):
        raise SchemeError("rule must be a sentence of at most 2,000 characters.")
    if grid is None:
        cells: dict[str, list[Cell]] = {
            s: [(r, f, m) for r, f, m in c] for s, c in assignments.items()
        }
        default_rule = "Segment from the full R-F-M code looked up in the scheme's code table."
    else:
        label, row_of = GRIDS[grid]
        owner = {cell: segment for segment, found in assignments.items() for cell in found}
        cells = {segment: [] for segment in assignments}
        for r, f, m in all_cells(n_scores):
            cells[owner[(r, row_of(f, m))]].append((r, f, m))
        default_rule = (
            f"Segment from the R score and the {label} score on the scheme's R x {label} grid"
            + (" (FM = (F + M) / 2 rounded half up)." if grid == "r_fm" else "; M is not used.")
        )
    return build_scheme(
        key,
        name,
        n_scores,
        cells,
        rule or default_rule,
        _parse_recency_cuts(document.get("fixed_recency_cuts"), n_scores),
    )


def read_playbook_fields(
    document: Mapping[str, object], segments: list[str]
) -> dict[str, dict[str, object]]:
    """Return the ``playbook`` object of a parsed scheme document (segment -> entry fields, not
    yet checked field by field), empty when absent; raise SchemeError when it is not an object of
    objects keyed by the scheme's ``segments`` or Prospects."""
    raw = document.get("playbook")
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not all(isinstance(v, dict) for v in raw.values()):
        raise SchemeError("playbook must be an object: segment name -> playbook entry object.")
    strangers = [segment for segment in raw if segment not in [*segments, PROSPECTS]]
    if strangers:
        raise SchemeError(
            f"The playbook names segments the scheme does not have: {', '.join(strangers)}."
        )
    return raw


def tabulate_scheme(scheme: Scheme) -> pd.DataFrame:
    """Return the scheme as a table to read.

    On a grid: one row per row score (n .. 1, column ``FM`` or ``F``) and one column per R score
    (``R1`` .. ``Rn``) holding the segment. As a code table: one row per segment with its
    three-digit codes (columns segment, codes).
    """
    grid = detect_grid(scheme)
    if grid is None:
        codes = _codes_by_segment(scheme, None)
        return pd.DataFrame(
            {"segment": list(codes), "codes": [" ".join(found) for found in codes.values()]}
        )
    label, row_of = GRIDS[grid]
    n = scheme.n_scores
    lookup = {(r, row_of(f, m)): segment for (r, f, m), segment in scheme.cells.items()}
    rows = [
        {label: row, **{f"R{r}": lookup[(r, row)] for r in range(1, n + 1)}}
        for row in range(n, 0, -1)
    ]
    return pd.DataFrame(rows)


def scheme_from_table(table: pd.DataFrame, base: Scheme, name: str, key: str = "edited") -> Scheme:
    """Return the scheme of an edited ``tabulate_scheme`` table, or raise SchemeError.

    In: a grid table (row-score column and R1..Rn, one segment per cell) or a code table
    (segment, codes separated by spaces or commas), shaped like ``tabulate_scheme(base)``.
    Segments keep ``base``'s order; new names follow in order of appearance. A blank cell is a gap.
    """
    grid = detect_grid(base)
    n = base.n_scores
    codes: dict[str, list[str]] = {segment: [] for segment in base.segments}
    if grid is None:
        for segment, listed in zip(table["segment"], table["codes"], strict=True):
            if isinstance(segment, str) and segment.strip():
                text = listed if isinstance(listed, str) else ""
                codes.setdefault(segment.strip(), []).extend(text.replace(",", " ").split())
    else:
        label = GRIDS[grid][0]
        for _, row in table.iterrows():
            for r in range(1, n + 1):
                segment = row[f"R{r}"]
                if isinstance(segment, str) and segment.strip():
                    codes.setdefault(segment.strip(), []).append(f"{r}{int(row[label])}")
    document: dict[str, object] = {
        "name": name,
        "n_scores": n,
        "segments": {segment: found for segment, found in codes.items() if found},
        "rule": base.rule,
    }
    if grid is not None:
        document["grid"] = grid
    if base.fixed_recency_cuts is not None:
        document["fixed_recency_cuts"] = list(base.fixed_recency_cuts)
    return scheme_from_document(document, key)


def map_score(score: int, n_from: int, n_to: int) -> int:
    """Map score ``s`` of 1..n_from to 1..n_to: round half up of (s-1) (n_to-1) / (n_from-1) + 1.

    Integer arithmetic, so 3 scores -> 5 gives 1, 3, 5 and 4 scores -> 5 gives 1, 2, 4, 5.
    """
    numerator = 2 * (score - 1) * (n_to - 1) + (n_from - 1)
    return numerator // (2 * (n_from - 1)) + 1


def rescale_scheme(scheme: Scheme, n_scores: int) -> Scheme:
    """Return ``scheme`` on ``n_scores`` scores: each cell takes the segment of its mapped cell.

    A cell (r, f, m) of the new scale gets the segment of (map_score(r), map_score(f),
    map_score(m)) on the scheme's own scale; segments no cell reaches are dropped. Fixed recency
    cut points belong to the original scale, so the rescaled scheme scores recency by quantiles.
    """
    if n_scores == scheme.n_scores:
        return scheme
    if n_scores not in (3, 4, 5):
        raise SchemeError(f"Use 3, 4 or 5 scores, not {n_scores}.")
    source = scheme.n_scores
    cells: dict[str, list[Cell]] = {}
    for r, f, m in all_cells(n_scores):
        mapped = tuple(map_score(s, n_scores, source) for s in (r, f, m))
        cells.setdefault(scheme.segment_of(*mapped), []).append((r, f, m))
    ordered = {segment: cells[segment] for segment in scheme.segments if segment in cells}
    mapping = ", ".join(f"{s}->{map_score(s, n_scores, source)}" for s in range(1, n_scores + 1))
    rule = (
        f"{scheme.rule} Scores 1-{n_scores} are read on the scheme's {source}-score table by "
        f"s' = round half up of (s - 1) x {source - 1}/{n_scores - 1} + 1 ({mapping})."
    )
    if scheme.fixed_recency_cuts is not None:
        rule += (
            " Recency is scored by quantiles: the fixed recency cuts belong to the original scale."
        )
    return build_scheme(
        f"{scheme.key}@{n_scores}", f"{scheme.name}, {n_scores} scores", n_scores, ordered, rule
    )


def validate_scheme_name(name: str) -> str:
    """Return ``name`` if it can name a saved custom scheme (dataset name rule, not a preset)."""
    if not store.DATASET_NAME.fullmatch(name or ""):
        raise SchemeError(
            f"'{name}' is not a valid scheme name: use 1-64 letters, digits, '-' or '_', "
            "starting with a letter or digit."
        )
    if name in PRESETS:
        raise SchemeError(f"'{name}' is a preset; give the custom scheme another name.")
    return name


def custom_scheme_path(workspace: Path, name: str) -> Path:
    """Return the file of custom scheme ``name``: ``<workspace>/schemes/<name>.json``."""
    return workspace / SCHEMES_FOLDER / f"{validate_scheme_name(name)}.json"


def save_custom_scheme(
    workspace: Path,
    scheme: Scheme,
    name: str,
    playbook: Mapping[str, Mapping[str, object]] | None = None,
) -> Path:
    """Save ``scheme`` as custom scheme ``name`` (also its display name), replacing any old one,
    with its own ``playbook`` (segment -> entry fields) when given.

    The file is written to a temporary name and renamed, so a reader never sees half a file.
    """
    path = custom_scheme_path(workspace, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = scheme_to_json(replace(scheme, name=name), playbook)
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(temporary, path)
    return path


def list_custom_schemes(workspace: Path) -> list[str]:
    """Return the names of the custom schemes saved in ``workspace``, sorted."""
    folder = workspace / SCHEMES_FOLDER
    return sorted(
        p.stem
        for p in folder.glob("*.json")
        if store.DATASET_NAME.fullmatch(p.stem) and p.stem not in PRESETS
    )


def load_custom_scheme(workspace: Path, name: str) -> Scheme:
    """Return saved custom scheme ``name``, keyed ``custom:<name>``."""
    path = custom_scheme_path(workspace, name)
    if not path.is_file():
        raise SchemeError(f"There is no saved scheme called '{name}'.")
    return scheme_from_json(path.read_text(encoding="utf-8"), key=CUSTOM_PREFIX + name)


def load_custom_playbook(workspace: Path, name: str) -> dict[str, dict[str, object]]:
    """Return the playbook saved in custom scheme ``name``'s file (segment -> entry fields, not
    yet checked field by field), empty when the file has none."""
    path = custom_scheme_path(workspace, name)
    if not path.is_file():
        raise SchemeError(f"There is no saved scheme called '{name}'.")
    document = limits.parse_json(
        path.read_text(encoding="utf-8"), "The scheme", SchemeError, MAX_JSON_CHARS
    )
    if not isinstance(document, dict):
        raise SchemeError("A scheme file holds one JSON object with name, n_scores and segments.")
    scheme = scheme_from_document(document, CUSTOM_PREFIX + name)
    return read_playbook_fields(document, list(scheme.segments))


def resolve_scheme(workspace: Path, spec: str, n_scores: int | None = None) -> Scheme:
    """Return the scheme named by ``spec``, on ``n_scores`` scores when given.

    ``spec`` is a preset key (shopify, classic, rf10, klaviyo), a path to a ``.json`` file, or the
    name of a custom scheme saved in ``workspace``.
    """
    if spec in PRESETS:
        scheme = PRESETS[spec]
    elif spec.lower().endswith(".json"):
        path = Path(spec)
        if not path.is_file():
            raise SchemeError(f"No such scheme file: {spec}")
        scheme = scheme_from_json(path.read_text(encoding="utf-8"), key=path.stem)
    elif store.DATASET_NAME.fullmatch(spec) and custom_scheme_path(workspace, spec).is_file():
        scheme = load_custom_scheme(workspace, spec)
    else:
        saved = list_custom_schemes(workspace)
        raise SchemeError(
            f"Unknown scheme '{spec}'; use one of {', '.join(PRESETS)}"
            + (f", a saved scheme ({', '.join(saved)})" if saved else "")
            + " or a FILE.json."
        )
    return scheme if n_scores is None else rescale_scheme(scheme, n_scores)
