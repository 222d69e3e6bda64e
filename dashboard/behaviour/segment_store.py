"""Saved segments: one JSON file per segment in the workspace, with every saved version.

``<workspace>/segments/<dataset>/<name>.json`` holds::

    {"name": "vip-coupon", "dataset": "demo",
     "versions": [{"version": 1, "saved_at": "2025-06-01T10:00:00+00:00",
                   "definition": {...definition JSON...}}, ...]}

Names follow the dataset name rule (letters, digits, ``-`` and ``_``), so a name can never point
outside the folder. Files are written to a temporary name and renamed: a reader never sees half
a file. Saving an unchanged definition adds no version.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from dashboard.behaviour.definitions import (
    Definition,
    DefinitionError,
    definition_from_dict,
    definition_to_dict,
    validate_definition,
)
from dashboard.workspace import limits, store

SEGMENTS_FOLDER = "segments"
MAX_FILE_CHARS = 2_000_000
MAX_VERSIONS = 200


@dataclass(frozen=True)
class Version:
    """One saved version of a segment."""

    version: int
    saved_at: str
    definition: Definition


def validate_segment_name(name: str) -> str:
    """Return ``name`` if it is a safe segment name, else raise DefinitionError."""
    if not store.DATASET_NAME.fullmatch(name or ""):
        raise DefinitionError(
            f"'{name}' is not a valid segment name: use 1-64 letters, digits, '-' or '_', "
            "starting with a letter or digit."
        )
    return name


def segment_path(workspace: Path, dataset: str, name: str) -> Path:
    """Return the file of saved segment ``name`` of ``dataset``."""
    folder = workspace / SEGMENTS_FOLDER / store.validate_dataset_name(dataset)
    return folder / f"{validate_segment_name(name)}.json"


def list_segments(workspace: Path, dataset: str) -> list[str]:
    """Return the names of the segments saved for ``dataset``, sorted."""
    folder = workspace / SEGMENTS_FOLDER / store.validate_dataset_name(dataset)
    return sorted(p.stem for p in folder.glob("*.json") if store.DATASET_NAME.fullmatch(p.stem))


def read_history(workspace: Path, dataset: str, name: str) -> list[Version]:
    """Return every saved version of segment ``name``, oldest first."""
    path = segment_path(workspace, dataset, name)
    if not path.is_file():
        raise DefinitionError(f"There is no saved segment called '{name}'.")
    text = path.read_text(encoding="utf-8")
    if len(text) > MAX_FILE_CHARS:
        raise DefinitionError(f"The file of segment '{name}' is too large.")
    try:
        document = limits.parse_json(
            text, f"The file of segment '{name}'", DefinitionError, MAX_FILE_CHARS
        )
        versions = [
            Version(
                int(v["version"]),
                str(v["saved_at"]),
                definition_from_dict(v["definition"]),
            )
            for v in document["versions"]
        ]
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise DefinitionError(f"The file of segment '{name}' cannot be read: {exc}") from None
    if not versions:
        raise DefinitionError(f"The segment '{name}' has no saved version.")
    return versions


def load_segment(
    workspace: Path, dataset: str, name: str, version: int | None = None
) -> Definition:
    """Return the latest definition of segment ``name`` (or the given version)."""
    history = read_history(workspace, dataset, name)
    if version is None:
        return history[-1].definition
    for entry in history:
        if entry.version == version:
            return entry.definition
    raise DefinitionError(f"Segment '{name}' has no version {version}.")


def _write(path: Path, name: str, dataset: str, versions: list[Version]) -> None:
    document = {
        "name": name,
        "dataset": dataset,
        "versions": [
            {
                "version": v.version,
                "saved_at": v.saved_at,
                "definition": definition_to_dict(v.definition),
            }
            for v in versions
        ],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump(document, out, indent=1, ensure_ascii=False)
    os.replace(temporary, path)


def save_segment(workspace: Path, dataset: str, name: str, definition: Definition) -> int:
    """Save ``definition`` as the newest version of segment ``name``; return its version number.

    The definition must hold at least one condition. An unchanged definition keeps the version.
    """
    definition = validate_definition(definition)
    path = segment_path(workspace, dataset, name)
    history = read_history(workspace, dataset, name) if path.is_file() else []
    if history and history[-1].definition == definition:
        return history[-1].version
    if len(history) >= MAX_VERSIONS:
        raise DefinitionError(
            f"Segment '{name}' already has {MAX_VERSIONS} versions; duplicate it to go on."
        )
    number = history[-1].version + 1 if history else 1
    saved_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    _write(path, name, dataset, [*history, Version(number, saved_at, definition)])
    return number


def duplicate_segment(workspace: Path, dataset: str, name: str, new_name: str) -> None:
    """Save the latest definition of ``name`` as a new segment ``new_name`` (version 1)."""
    if segment_path(workspace, dataset, new_name).exists():
        raise DefinitionError(f"A segment called '{new_name}' already exists.")
    save_segment(workspace, dataset, new_name, load_segment(workspace, dataset, name))


def delete_segment(workspace: Path, dataset: str, name: str) -> None:
    """Remove segment ``name`` and its history."""
    path = segment_path(workspace, dataset, name)
    if not path.is_file():
        raise DefinitionError(f"There is no saved segment called '{name}'.")
    path.unlink()
