"""Edited playbook entries (issue 17 #1): saved in the workspace per dataset and scheme, read back
by ``find_saved_entry``, reset to the shipped entry; a custom scheme's JSON carries its playbook;
invalid edits are refused with one sentence; exports and the report carry the edited entry."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from behaviour_cases import DATASET, write_tiny_store

from dashboard import cli, playbook, report_html
from dashboard.behaviour import compiler, definitions, feature_base, presets, segment_export
from dashboard.rfm import scheme_io, schemes
from dashboard.workspace import store

SHOP = "shop"
NEW_GOAL = "Keep them buying every month."


def edited_champions(goal: str = NEW_GOAL) -> playbook.PlaybookEntry:
    return playbook.build_entry(
        "Champions",
        goal,
        "Send early access.\n\n  Ship for free.  \nCall the top ten.",
        "E-mail",
        "No discount",
        "Champions kept next quarter",
    )


def test_an_edited_entry_is_saved_read_back_and_reset(tmp_path: Path) -> None:
    shipped = playbook.load_playbook("shopify")["Champions"]
    assert playbook.find_saved_entry(tmp_path, SHOP, "rfm", "shopify", "Champions") == shipped

    path = playbook.save_entry(tmp_path, SHOP, "rfm", "shopify", edited_champions())

    assert path == tmp_path / "playbooks" / SHOP / "shopify.json"
    found = playbook.find_saved_entry(tmp_path, SHOP, "rfm", "shopify", "Champions")
    assert found is not None
    assert found.goal == NEW_GOAL
    # Blank lines and surrounding spaces of the form's actions are dropped.
    assert found.actions == ("Send early access.", "Ship for free.", "Call the top ten.")
    assert found.caution is None
    # Only this dataset and this segment change; a rescaled scheme shares the preset's edits.
    assert playbook.find_saved_entry(tmp_path, "other", "rfm", "shopify", "Champions") == shipped
    assert (
        playbook.find_saved_entry(tmp_path, SHOP, "rfm", "shopify", "Loyal")
        == (playbook.load_playbook("shopify")["Loyal"])
    )
    assert playbook.find_saved_entry(tmp_path, SHOP, "rfm", "shopify@3", "Champions") == found
    stored = json.loads(path.read_text(encoding="utf-8"))
    assert stored["entries"]["Champions"]["kpi"] == "Champions kept next quarter"

    playbook.reset_entry(tmp_path, SHOP, "rfm", "shopify", "Champions")

    assert playbook.find_saved_entry(tmp_path, SHOP, "rfm", "shopify", "Champions") == shipped
    assert not path.exists()


def test_a_second_edit_replaces_the_first_and_keeps_other_segments(tmp_path: Path) -> None:
    playbook.save_entry(tmp_path, SHOP, "rfm", "classic", edited_champions("First."))
    loyal = playbook.build_entry("Loyal", "Keep them.", "One.\nTwo.", "SMS", "None", "Churn")
    playbook.save_entry(tmp_path, SHOP, "rfm", "classic", loyal)
    playbook.save_entry(tmp_path, SHOP, "rfm", "classic", edited_champions("Second."))

    saved = playbook.read_saved_entries(tmp_path, SHOP, "rfm", "classic")

    assert list(saved) == ["Champions", "Loyal"]
    assert saved["Champions"].goal == "Second."
    assert saved["Loyal"] == loyal


@pytest.mark.parametrize(
    ("goal", "actions", "message"),
    [
        (
            "Keep them.",
            "Only one action.",
            "The edited playbook entry ('Champions'): 'actions' must list 2 to 5 actions.",
        ),
        (
            "Keep them.",
            "1\n2\n3\n4\n5\n6",
            "The edited playbook entry ('Champions'): 'actions' must list 2 to 5 actions.",
        ),
        (
            "   ",
            "One.\nTwo.",
            "The edited playbook entry ('Champions'): 'goal' must be a non-empty text.",
        ),
    ],
)
def test_invalid_edits_are_refused_with_the_sentence(
    goal: str, actions: str, message: str, tmp_path: Path
) -> None:
    with pytest.raises(playbook.PlaybookError) as refused:
        playbook.build_entry("Champions", goal, actions, "E-mail", "No discount", "KPI")
    assert str(refused.value) == message
    assert not (tmp_path / "playbooks").exists()


def test_an_unsaved_scheme_cannot_keep_edits(tmp_path: Path) -> None:
    with pytest.raises(playbook.PlaybookError) as refused:
        playbook.save_entry(tmp_path, SHOP, "rfm", "imported", edited_champions())
    assert str(refused.value) == "Save the scheme as a custom scheme before editing its playbook."


def custom_scheme() -> schemes.Scheme:
    """Shopify's grid with Champions and Loyal merged into 'Best', plus the other groups."""
    text = scheme_io.scheme_to_json(schemes.PRESETS["shopify"])
    document = json.loads(text)
    segments = document["segments"]
    segments["Best"] = segments.pop("Champions") + segments.pop("Loyal")
    document["name"] = "Merged"
    return scheme_io.scheme_from_document(document)


def test_a_custom_scheme_starts_from_the_closest_presets_entries(tmp_path: Path) -> None:
    scheme = custom_scheme()
    playbook.save_custom_scheme(tmp_path, scheme, "merged")
    saved = scheme_io.load_custom_scheme(tmp_path, "merged")

    own = scheme_io.load_custom_playbook(tmp_path, "merged")

    shopify = playbook.load_playbook("shopify")
    # Every group Shopify has, plus Prospects; 'Best' has no preset entry and starts blank.
    assert set(own) == {*saved.segments, schemes.PROSPECTS} - {"Best"}
    assert own["At risk"]["goal"] == shopify["At risk"].goal
    assert (
        playbook.find_saved_entry(tmp_path, SHOP, "rfm", saved.key, "Best", saved.segments) is None
    )
    # Editing the custom scheme's entry is kept per dataset, and reset goes back to the file's.
    best = playbook.build_entry("Best", "Reward them.", "Thank.\nInvite.", "E-mail", "Gift", "Rev")
    playbook.save_entry(tmp_path, SHOP, "rfm", saved.key, best)
    assert (tmp_path / "playbooks" / SHOP / "custom-merged.json").is_file()
    assert playbook.find_saved_entry(tmp_path, SHOP, "rfm", saved.key, "Best") == best
    playbook.reset_entry(tmp_path, SHOP, "rfm", saved.key, "Best")
    assert playbook.find_saved_entry(tmp_path, SHOP, "rfm", saved.key, "Best") is None


def test_a_custom_schemes_json_round_trips_its_playbook(tmp_path: Path) -> None:
    playbook.save_custom_scheme(tmp_path, custom_scheme(), "merged")
    saved = scheme_io.load_custom_scheme(tmp_path, "merged")
    best = playbook.build_entry("Best", "Reward them.", "Thank.\nInvite.", "E-mail", "Gift", "Rev")
    playbook.save_entry(tmp_path, SHOP, "rfm", saved.key, best)

    text = playbook.export_scheme_json(tmp_path, SHOP, saved)
    imported, entries = playbook.import_scheme_json(text)

    assert imported.cells == saved.cells
    assert entries["Best"] == best
    assert entries["At risk"] == playbook.load_playbook("shopify")["At risk"]
    assert len(entries) == len(saved.segments) + 1
    # Saved under another name, the imported playbook is the new scheme's own.
    playbook.save_custom_scheme(tmp_path, imported, "copy", entries)
    copy = scheme_io.load_custom_scheme(tmp_path, "copy")
    assert playbook.find_saved_entry(tmp_path, "other", "rfm", copy.key, "Best") == best
    # The plain scheme reader accepts the file with its playbook.
    assert scheme_io.scheme_from_json(text).cells == saved.cells


def test_a_scheme_json_with_a_bad_playbook_is_refused() -> None:
    document = json.loads(scheme_io.scheme_to_json(schemes.PRESETS["klaviyo"]))
    document["playbook"] = {"Nobody": {"goal": "x"}}
    with pytest.raises(schemes.SchemeError) as stranger:
        scheme_io.scheme_from_json(json.dumps(document))
    assert str(stranger.value) == ("The playbook names segments the scheme does not have: Nobody.")
    segment = schemes.PRESETS["klaviyo"].segments[0]
    document["playbook"] = {
        segment: {"goal": "x", "actions": ["one"], "channel": "c", "offer": "o", "kpi": "k"}
    }
    with pytest.raises(playbook.PlaybookError) as short:
        playbook.import_scheme_json(json.dumps(document))
    assert "'actions' must list 2 to 5 actions." in str(short.value)


def test_a_saved_segment_starts_blank_and_keeps_its_own_entry(tmp_path: Path) -> None:
    assert playbook.find_saved_entry(tmp_path, SHOP, "segment", None, "vip") is None
    vip = playbook.build_entry("vip", "Thank them.", "Call.\nGift.", "Phone", "Gift", "Repeat")
    playbook.save_entry(tmp_path, SHOP, "segment", None, vip)
    assert playbook.find_saved_entry(tmp_path, SHOP, "segment", None, "vip") == vip
    assert (tmp_path / "playbooks" / SHOP / "segments.json").is_file()


def test_the_export_stamp_carries_the_edited_entry(tmp_path: Path) -> None:
    workspace = store.resolve_workspace(tmp_path / "workspace")
    write_tiny_store(workspace)
    one_time = presets.PRESETS["one_time"]
    edited = playbook.build_entry(
        "one_time", "Bring them back.", "Write.\nCall.", "E-mail", "No discount", "2nd orders"
    )
    playbook.save_entry(workspace, DATASET, "preset", None, edited)
    base = feature_base.load_feature_base(workspace, DATASET)
    try:
        view = compiler.feature_view(base.table, definitions.RfmSpec(), workspace)
        stamp = playbook.describe_named_segment(
            workspace, DATASET, "preset", schemes.PRESETS["shopify"], one_time.name
        )
        exported = segment_export.export_segment(
            view,
            presets.preset_definition(one_time),
            "csv",
            DATASET,
            one_time.name,
            base.window,
            playbook=stamp,
        )
    finally:
        base.backend.disconnect()
    # The tiny store's one-time buyer is C alone (tests/behaviour_cases.py).
    assert exported.stamp["row_count"] == 1
    assert exported.stamp["playbook"] == {
        "segment": "one_time",
        "goal": "Bring them back.",
        "kpi": "2nd orders",
        "channel": "E-mail",
        "offer": "No discount",
    }


def test_the_cli_export_stamp_carries_the_rfm_groups_entry(tmp_path: Path) -> None:
    workspace = store.resolve_workspace(tmp_path / "workspace")
    write_tiny_store(workspace)
    playbook.save_entry(workspace, DATASET, "rfm", "shopify", edited_champions())
    out = tmp_path / "champions.csv"

    code = cli.main(
        [
            "export",
            "--workspace",
            str(workspace),
            "--dataset",
            DATASET,
            "--segment",
            "Champions",
            "--kind",
            "rfm",
            "--format",
            "csv",
            "--out",
            str(out),
        ]
    )

    assert code == 0
    stamp = json.loads(segment_export.stamp_path(out).read_text(encoding="utf-8"))
    assert stamp["playbook"]["goal"] == NEW_GOAL
    assert stamp["playbook"]["kpi"] == "Champions kept next quarter"


def test_the_report_shows_the_edited_entry(tmp_path: Path) -> None:
    playbook.save_entry(tmp_path, SHOP, "rfm", "shopify", edited_champions())
    summary = pd.DataFrame(
        {
            "segment": ["Champions", "Loyal", schemes.PROSPECTS],
            "customers": [2, 3, 4],
            "share_customers": [2 / 9, 3 / 9, 4 / 9],
            "share_revenue": [0.6, 0.4, 0.0],
            "aov": [100.0, 50.0, float("nan")],
            "revenue_per_customer": [300.0, 133.33, float("nan")],
        }
    )
    # The report's SCALE ranking: Champions first.
    letters = ("size", "currency", "access", "love", "early")
    ranked = pd.DataFrame(
        {"segment": ["Champions", "Loyal"], "size": [2, 3], "scale_score": [0.9, 0.5]}
        | {f"{letter}_score": [1.0, 0.5] for letter in letters}
    )
    content = report_html.ReportContent(
        SHOP, schemes.PRESETS["shopify"], None, {}, summary, None, workspace=tmp_path, ranked=ranked
    )

    text = report_html._render_playbook(content)

    assert NEW_GOAL in text
    assert playbook.load_playbook("shopify")["Loyal"].goal in text
    assert playbook.load_playbook("shopify")["Champions"].goal not in text
