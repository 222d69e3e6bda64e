"""Scheme JSON import/export, custom schemes in the workspace and other score scales."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dashboard.rfm import scheme_io
from dashboard.rfm.schemes import PRESETS, PROSPECTS, SchemeError, all_cells

# A 3-score scheme on the R x F grid, written by hand.
SMALL = {
    "name": "Small",
    "n_scores": 3,
    "grid": "r_f",
    "segments": {
        "Active": ["33", "32", "31", "23"],
        "Cooling": ["22", "21", "13"],
        "Gone": ["12", "11"],
    },
}


@pytest.mark.parametrize("key", sorted(PRESETS))
def test_every_preset_survives_a_round_trip(key: str) -> None:
    preset = PRESETS[key]
    back = scheme_io.scheme_from_json(scheme_io.scheme_to_json(preset), key=key)
    assert back.cells == preset.cells
    assert back.segments == preset.segments
    assert back.rule == preset.rule
    assert back.fixed_recency_cuts == preset.fixed_recency_cuts


def test_presets_are_exported_on_their_grid() -> None:
    shopify = json.loads(scheme_io.scheme_to_json(PRESETS["shopify"]))
    assert shopify["grid"] == "r_fm"
    assert shopify["segments"]["Champions"] == ["55", "54"]
    assert shopify["segments"]["New"] == ["51"]
    assert shopify["segments"]["Almost lost"] == ["32", "31"]
    rf10 = json.loads(scheme_io.scheme_to_json(PRESETS["rf10"]))
    assert rf10["grid"] == "r_f"
    assert rf10["segments"]["Can't lose them"] == ["25", "15"]
    classic = json.loads(scheme_io.scheme_to_json(PRESETS["classic"]))
    assert "grid" not in classic
    assert classic["segments"]["Lost"] == ["151", "141", "131", "121", "112", "111"]
    klaviyo = json.loads(scheme_io.scheme_to_json(PRESETS["klaviyo"]))
    assert klaviyo["fixed_recency_cuts"] == [180.0, 365.0]


def test_a_grid_scheme_expands_to_every_cell() -> None:
    scheme = scheme_io.scheme_from_json(json.dumps(SMALL))
    assert scheme.n_scores == 3 and scheme.segments == ("Active", "Cooling", "Gone")
    assert len(scheme.cells) == 27
    # R x F: M never matters.
    assert {scheme.segment_of(2, 3, m) for m in (1, 2, 3)} == {"Active"}
    assert scheme.segment_of(1, 3, 1) == "Cooling"
    assert scheme.segment_of(1, 2, 3) == "Gone"


def test_an_fm_grid_rounds_half_up() -> None:
    rows = {3: "Top", 2: "Middle", 1: "Low"}
    document = {
        "name": "FM",
        "n_scores": 3,
        "grid": "r_fm",
        "segments": {seg: [f"{r}{fm}" for r in (1, 2, 3)] for fm, seg in rows.items()},
    }
    scheme = scheme_io.scheme_from_json(json.dumps(document))
    # FM = (F + M) / 2 half up: (2 + 3) / 2 = 2.5 -> 3, (1 + 2) / 2 = 1.5 -> 2.
    assert scheme.segment_of(1, 2, 3) == "Top"
    assert scheme.segment_of(1, 1, 2) == "Middle"
    assert scheme.segment_of(3, 1, 1) == "Low"


def test_gaps_and_overlaps_are_named() -> None:
    codes = {"A": [f"{r}{f}{m}" for r, f, m in all_cells(3)]}
    codes["A"].remove("111")
    codes["B"] = ["222", "333"]
    document = {"name": "Broken", "n_scores": 3, "segments": codes}
    with pytest.raises(SchemeError) as caught:
        scheme_io.scheme_from_json(json.dumps(document))
    message = str(caught.value)
    assert "Gaps: 111." in message
    assert "Overlaps: 333 (A & B), 222 (A & B)." in message


def test_grid_gaps_are_named_in_grid_codes() -> None:
    document = dict(SMALL, segments={"Active": ["33", "32"], "Gone": ["32", "11"]})
    with pytest.raises(SchemeError, match=r"Gaps: 31, 23, 22, 21, 13, 12\. Overlaps: 32"):
        scheme_io.scheme_from_json(json.dumps(document))


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "one JSON object"),
        (json.dumps(dict(SMALL, n_scores=6)), "n_scores must be 3, 4 or 5"),
        (json.dumps(dict(SMALL, grid="f_m")), "grid must be one of"),
        (json.dumps(dict(SMALL, colour="red")), "Unknown fields"),
        (json.dumps(dict(SMALL, segments={"Active": ["34"]})), "'34' is not a cell code"),
        (json.dumps(dict(SMALL, segments={PROSPECTS: ["11"]})), "reserved"),
        (json.dumps(dict(SMALL, name="")), "name must be text"),
        (json.dumps(dict(SMALL, fixed_recency_cuts=[365, 180])), "fixed_recency_cuts"),
        ("x" * (scheme_io.MAX_JSON_CHARS + 1), "at most"),
    ],
)
def test_bad_files_are_refused_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(SchemeError, match=reason):
        scheme_io.scheme_from_json(text)


@pytest.mark.parametrize(
    ("n_from", "n_to", "expected"),
    [
        (3, 5, [1, 3, 5]),
        (4, 5, [1, 2, 4, 5]),  # 2.33 -> 2, 3.67 -> 4
        (5, 3, [1, 2, 2, 3, 3]),  # 1.5 -> 2, 2.5 -> 3 (half up)
        (5, 4, [1, 2, 3, 3, 4]),  # 1.75 -> 2, 2.5 -> 3, 3.25 -> 3
        (5, 5, [1, 2, 3, 4, 5]),
    ],
)
def test_map_score(n_from: int, n_to: int, expected: list[int]) -> None:
    assert [scheme_io.map_score(s, n_from, n_to) for s in range(1, n_from + 1)] == expected


def test_rescaled_shopify_reads_the_five_score_grid() -> None:
    scheme = scheme_io.rescale_scheme(PRESETS["shopify"], 3)
    assert scheme.n_scores == 3 and scheme.key == "shopify@3"
    # (2, 2, 2) -> (3, 3, 3): R3 x FM3; (1, 3, 3) -> (1, 5, 5): R1 x FM5; (3, 1, 2) -> (5, 1, 3).
    assert scheme.segment_of(2, 2, 2) == "Needs attention"
    assert scheme.segment_of(1, 3, 3) == "Previously loyal"
    assert scheme.segment_of(3, 1, 2) == "Active"
    # R4 never occurs on 3 scores, so Promising (R4 x FM1 only) is dropped.
    assert "Promising" not in scheme.segments
    assert "1->1, 2->3, 3->5" in scheme.rule


def test_rescaled_klaviyo_loses_its_fixed_recency_cuts() -> None:
    scheme = scheme_io.rescale_scheme(PRESETS["klaviyo"], 5)
    assert scheme.fixed_recency_cuts is None
    assert scheme.segment_of(5, 5, 5) == "Champions"
    assert scheme.segment_of(1, 1, 1) == "Inactive"
    assert scheme_io.rescale_scheme(PRESETS["klaviyo"], 3) is PRESETS["klaviyo"]


def test_custom_schemes_are_saved_in_the_workspace(tmp_path: Path) -> None:
    small = scheme_io.scheme_from_json(json.dumps(SMALL))
    path = scheme_io.save_custom_scheme(tmp_path, small, "my-scheme_1")
    assert path == tmp_path / "schemes" / "my-scheme_1.json"
    assert scheme_io.list_custom_schemes(tmp_path) == ["my-scheme_1"]
    loaded = scheme_io.load_custom_scheme(tmp_path, "my-scheme_1")
    assert loaded.key == "custom:my-scheme_1" and loaded.name == "my-scheme_1"
    assert loaded.cells == small.cells
    assert list((tmp_path / "schemes").iterdir()) == [path]


@pytest.mark.parametrize("name", ["../evil", "a b", "", "-x", "x" * 65, "shopify", "a/b"])
def test_unsafe_or_taken_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(SchemeError):
        scheme_io.save_custom_scheme(tmp_path, PRESETS["rf10"], name)
    assert not (tmp_path / "schemes").exists() or not any((tmp_path / "schemes").iterdir())


def test_resolve_scheme_takes_a_preset_a_file_or_a_saved_name(tmp_path: Path) -> None:
    assert scheme_io.resolve_scheme(tmp_path, "classic") is PRESETS["classic"]
    file = tmp_path / "small.json"
    file.write_text(json.dumps(SMALL), encoding="utf-8")
    assert scheme_io.resolve_scheme(tmp_path, str(file)).segments == ("Active", "Cooling", "Gone")
    scheme_io.save_custom_scheme(tmp_path, PRESETS["rf10"], "mine")
    assert scheme_io.resolve_scheme(tmp_path, "mine").key == "custom:mine"
    assert scheme_io.resolve_scheme(tmp_path, "shopify", 4).key == "shopify@4"
    with pytest.raises(SchemeError, match="Unknown scheme 'nope'.*saved scheme \\(mine\\)"):
        scheme_io.resolve_scheme(tmp_path, "nope")
    with pytest.raises(SchemeError, match="No such scheme file"):
        scheme_io.resolve_scheme(tmp_path, str(tmp_path / "absent.json"))


def test_the_grid_table_reads_like_the_reference() -> None:
    table = scheme_io.tabulate_scheme(PRESETS["shopify"])
    assert list(table.columns) == ["FM", "R1", "R2", "R3", "R4", "R5"]
    assert table.iloc[0].tolist() == [5, *["Previously loyal"] * 2, "Loyal", "Loyal", "Champions"]
    assert table.iloc[-1].tolist() == [1, "Dormant", "Dormant", "Almost lost", "Promising", "New"]
    codes = scheme_io.tabulate_scheme(PRESETS["klaviyo"])
    assert codes.iloc[0].tolist() == ["Champions", "333 332 323"]


@pytest.mark.parametrize("key", sorted(PRESETS))
def test_an_unedited_table_gives_the_scheme_back(key: str) -> None:
    table = scheme_io.tabulate_scheme(PRESETS[key])
    assert scheme_io.scheme_from_table(table, PRESETS[key], "copy").cells == PRESETS[key].cells


def test_edits_on_the_grid_are_validated() -> None:
    table = scheme_io.tabulate_scheme(PRESETS["shopify"])
    table.loc[4, "R5"] = "Newcomers"  # FM1 x R5
    edited = scheme_io.scheme_from_table(table, PRESETS["shopify"], "edited")
    assert edited.segment_of(5, 1, 1) == "Newcomers" and "New" not in edited.segments
    assert edited.segments[-1] == "Newcomers"
    table.loc[0, "R1"] = ""
    with pytest.raises(SchemeError, match="Gaps: 15\\."):
        scheme_io.scheme_from_table(table, PRESETS["shopify"], "edited")


def test_edits_of_a_code_table_are_validated() -> None:
    table = scheme_io.tabulate_scheme(PRESETS["klaviyo"])
    table.loc[0, "codes"] = "333, 332"  # 323 left out
    with pytest.raises(SchemeError, match="Gaps: 323\\. Overlaps: none"):
        scheme_io.scheme_from_table(table, PRESETS["klaviyo"], "edited")
