"""Edited playbook entries saved in the workspace, per dataset and scheme (docs/playbook.md §5).

``<workspace>/playbooks/<dataset>/<file>.json`` holds::

    {"dataset": "demo", "playbook": "shopify",
     "entries": {"Champions": {"goal": "...", "actions": ["...", "..."], "channel": "...",
                               "offer": "...", "kpi": "...", "caution": "..."}}}

``<file>`` names what the entries belong to: a preset scheme's key (a rescaled ``classic@3``
shares ``classic``), ``custom-<name>`` for the custom scheme ``custom:<name>``, ``behaviour``
(behavioural presets, keyed by preset key), ``churn_bands``, and ``segments`` (saved behavioural
segments, keyed by segment name). Every entry is checked with the shipped files' rules, and the
file is written to a temporary name and renamed, so a reader never sees half a file.

An entry that was never edited comes from the scheme's own playbook (a custom scheme's JSON
carries one, started from the closest preset's entries when it is saved), else from the shipped
files (``find_entry``); a saved segment starts from a blank entry.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

from dashboard.behaviour import presets
from dashboard.playbook.entries import (
    BEHAVIOUR,
    CHURN_BANDS,
    PlaybookEntry,
    PlaybookError,
    check_entry,
    entry_to_fields,
    find_entry,
)
from dashboard.rfm import scheme_io, schemes
from dashboard.workspace import limits, store

PLAYBOOKS_FOLDER = "playbooks"
SAVED_SEGMENTS = "segments"
MAX_FILE_CHARS = limits.MAX_JSON_CHARS

StoredKind = Literal["rfm", "preset", "band", "segment"]


def name_playbook_file(kind: StoredKind, scheme_key: str | None) -> str:
    """Return the file name (without ``.json``) holding the edited entries of ``kind`` and
    ``scheme_key``; raise PlaybookError for a scheme that is not saved in the workspace."""
    if kind == "preset":
        return BEHAVIOUR
    if kind == "band":
        return CHURN_BANDS
    if kind == "segment":
        return SAVED_SEGMENTS
    if kind != "rfm":
        raise PlaybookError(f"Unknown playbook kind '{kind}'; choose rfm, preset, band or segment.")
    base = (scheme_key or "").partition("@")[0]
    if base in schemes.PRESETS:
        return base
    name = base.removeprefix(scheme_io.CUSTOM_PREFIX)
    if base.startswith(scheme_io.CUSTOM_PREFIX) and store.DATASET_NAME.fullmatch(name):
        return f"custom-{name}"
    raise PlaybookError("Save the scheme as a custom scheme before editing its playbook.")


def find_playbook_path(
    workspace: Path, dataset: str, kind: StoredKind, scheme_key: str | None
) -> Path:
    """Return the file of the edited entries of ``kind``/``scheme_key`` for ``dataset``."""
    folder = workspace / PLAYBOOKS_FOLDER / store.validate_dataset_name(dataset)
    return folder / f"{name_playbook_file(kind, scheme_key)}.json"


def parse_entries(fields: Mapping[str, object], source: str) -> dict[str, PlaybookEntry]:
    """Return segment -> entry of a JSON playbook object (segment -> entry fields), each checked
    like a shipped entry; PlaybookError names ``source``, the segment and the field."""
    entries: dict[str, PlaybookEntry] = {}
    for segment, table in fields.items():
        if not isinstance(table, dict):
            raise PlaybookError(f"{source}: the entry of '{segment}' must be an object of fields.")
        entries[segment] = check_entry({**table, "segment": segment}, source)
    return entries


def read_saved_entries(
    workspace: Path, dataset: str, kind: StoredKind, scheme_key: str | None
) -> dict[str, PlaybookEntry]:
    """Return segment -> edited entry saved for ``dataset`` and ``kind``/``scheme_key`` (empty
    when nothing was edited, or the scheme is not saved in the workspace)."""
    try:
        path = find_playbook_path(workspace, dataset, kind, scheme_key)
    except PlaybookError:
        return {}
    if not path.is_file():
        return {}
    source = f"The saved playbook '{path.stem}' of dataset '{dataset}'"
    document = limits.parse_json(
        path.read_text(encoding="utf-8"), source, PlaybookError, MAX_FILE_CHARS
    )
    if not isinstance(document, dict) or not isinstance(document.get("entries"), dict):
        raise PlaybookError(f"{source} must be a JSON object with an 'entries' object.")
    return parse_entries(document["entries"], source)


def _write_entries(path: Path, dataset: str, entries: Mapping[str, PlaybookEntry]) -> None:
    if not entries:
        path.unlink(missing_ok=True)
        return
    document = {
        "dataset": dataset,
        "playbook": path.stem,
        "entries": {segment: entry_to_fields(entry) for segment, entry in entries.items()},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump(document, out, indent=1, ensure_ascii=False)
    os.replace(temporary, path)


def build_entry(
    segment: str,
    goal: str,
    actions: str,
    channel: str,
    offer: str,
    kpi: str,
    caution: str = "",
) -> PlaybookEntry:
    """Return the entry of an edit form: ``actions`` holds one action per line (blank lines
    ignored), a blank ``caution`` means none; PlaybookError says which field is wrong."""
    fields: dict[str, object] = {
        "segment": segment,
        "goal": goal,
        "actions": [line.strip() for line in actions.splitlines() if line.strip()],
        "channel": channel,
        "offer": offer,
        "kpi": kpi,
    }
    if caution.strip():
        fields["caution"] = caution
    return check_entry(fields, "The edited playbook entry")


def save_entry(
    workspace: Path, dataset: str, kind: StoredKind, scheme_key: str | None, entry: PlaybookEntry
) -> Path:
    """Save ``entry`` as the edited entry of its segment for ``dataset`` and ``kind``/
    ``scheme_key``, replacing an earlier edit; return the file written."""
    entry = check_entry(
        {"segment": entry.segment, **entry_to_fields(entry)}, "The edited playbook entry"
    )
    path = find_playbook_path(workspace, dataset, kind, scheme_key)
    entries = read_saved_entries(workspace, dataset, kind, scheme_key)
    _write_entries(path, dataset, {**entries, entry.segment: entry})
    return path


def reset_entry(
    workspace: Path, dataset: str, kind: StoredKind, scheme_key: str | None, segment: str
) -> None:
    """Forget the edited entry of ``segment``: it reads as the scheme's own or shipped one again."""
    path = find_playbook_path(workspace, dataset, kind, scheme_key)
    entries = read_saved_entries(workspace, dataset, kind, scheme_key)
    if entries.pop(segment, None) is not None:
        _write_entries(path, dataset, entries)


def _read_custom_playbook(workspace: Path, scheme_key: str | None) -> dict[str, PlaybookEntry]:
    base = (scheme_key or "").partition("@")[0]
    name = base.removeprefix(scheme_io.CUSTOM_PREFIX)
    if not base.startswith(scheme_io.CUSTOM_PREFIX) or name not in scheme_io.list_custom_schemes(
        workspace
    ):
        return {}
    return parse_entries(
        scheme_io.load_custom_playbook(workspace, name), f"The playbook of scheme '{name}'"
    )


def find_base_entry(
    workspace: Path,
    kind: StoredKind,
    scheme_key: str | None,
    segment: str,
    segments: Sequence[str] = (),
) -> PlaybookEntry | None:
    """Return the entry ``segment`` has when nobody edited it (what Reset goes back to): a
    custom scheme's own playbook entry, else the shipped one (``find_entry``, closest preset for
    custom schemes); a saved behavioural segment has none (None: a blank entry to fill)."""
    if kind == "segment":
        return None
    if kind == "rfm":
        own = _read_custom_playbook(workspace, scheme_key)
        if segment in own:
            return own[segment]
    return find_entry(kind, scheme_key, segment, segments)


def find_saved_entry(
    workspace: Path,
    dataset: str,
    kind: StoredKind,
    scheme_key: str | None,
    segment: str,
    segments: Sequence[str] = (),
) -> PlaybookEntry | None:
    """Return the entry of ``segment`` as the analyst sees it for ``dataset``: the edited one
    saved in the workspace, else ``find_base_entry``. Arguments as ``find_entry``'s, plus
    ``kind`` ``"segment"`` (a saved behavioural segment's name in ``segment``)."""
    edited = read_saved_entries(workspace, dataset, kind, scheme_key)
    if segment in edited:
        return edited[segment]
    return find_base_entry(workspace, kind, scheme_key, segment, segments)


def build_starting_playbook(scheme: schemes.Scheme) -> dict[str, PlaybookEntry]:
    """Return segment -> entry a new custom scheme starts from: for each of its segments (and
    Prospects) the closest preset's entry of the same name; segments no preset has are left out."""
    entries = {
        segment: find_entry("rfm", scheme.key, segment, scheme.segments)
        for segment in [*scheme.segments, schemes.PROSPECTS]
    }
    return {segment: entry for segment, entry in entries.items() if entry is not None}


def save_custom_scheme(
    workspace: Path,
    scheme: schemes.Scheme,
    name: str,
    entries: Mapping[str, PlaybookEntry] | None = None,
) -> Path:
    """Save ``scheme`` as custom scheme ``name`` with its own playbook: ``entries``, or when
    None the closest preset's (``build_starting_playbook``)."""
    chosen = build_starting_playbook(scheme) if entries is None else entries
    fields = {segment: entry_to_fields(entry) for segment, entry in chosen.items()}
    return scheme_io.save_custom_scheme(workspace, scheme, name, fields)


def export_scheme_json(workspace: Path, dataset: str, scheme: schemes.Scheme) -> str:
    """Return ``scheme``'s JSON with the playbook the analyst sees for ``dataset``: each segment's
    (and Prospects') ``find_saved_entry``, segments without an entry left out."""
    entries = {
        segment: find_saved_entry(workspace, dataset, "rfm", scheme.key, segment, scheme.segments)
        for segment in [*scheme.segments, schemes.PROSPECTS]
    }
    fields = {segment: entry_to_fields(e) for segment, e in entries.items() if e is not None}
    return scheme_io.scheme_to_json(scheme, fields)


def import_scheme_json(
    text: str, key: str = "imported"
) -> tuple[schemes.Scheme, dict[str, PlaybookEntry]]:
    """Return the scheme of a JSON text and its playbook (segment -> entry, empty when the file
    has none), every entry checked; SchemeError or PlaybookError says what is wrong."""
    document = limits.parse_json(text, "The scheme", schemes.SchemeError, scheme_io.MAX_JSON_CHARS)
    if not isinstance(document, dict):
        raise schemes.SchemeError(
            "A scheme file holds one JSON object with name, n_scores and segments."
        )
    scheme = scheme_io.scheme_from_document(document, key)
    fields = scheme_io.read_playbook_fields(document, list(scheme.segments))
    return scheme, parse_entries(fields, f"The playbook of scheme '{scheme.name}'")


def describe_for_stamp(entry: PlaybookEntry | None) -> dict[str, object] | None:
    """Return the playbook fields an export's stamp carries (segment, goal, KPI, channel, offer),
    or None when the segment has no entry."""
    if entry is None:
        return None
    return {
        "segment": entry.segment,
        "goal": entry.goal,
        "kpi": entry.kpi,
        "channel": entry.channel,
        "offer": entry.offer,
    }


def describe_named_segment(
    workspace: Path, dataset: str, kind: str, scheme: schemes.Scheme, name: str
) -> dict[str, object] | None:
    """Return the stamp fields (``describe_for_stamp``) of the entry the analyst sees for an
    exported segment: ``kind`` is a ``named_segments.KINDS`` kind (saved, rfm, preset, band),
    ``name`` the segment's name (a preset's key or display name), ``scheme`` the RFM scheme."""
    if kind == "preset":
        key = next((k for k, p in presets.PRESETS.items() if name in (k, p.name)), name)
        entry = find_saved_entry(workspace, dataset, "preset", None, key)
    elif kind == "rfm":
        entry = find_saved_entry(workspace, dataset, "rfm", scheme.key, name, scheme.segments)
    elif kind == "band":
        entry = find_saved_entry(workspace, dataset, "band", None, name)
    else:
        entry = find_saved_entry(workspace, dataset, "segment", None, name)
    return describe_for_stamp(entry)
