"""Playbook entries: load one scheme's file, check every entry, find the entry of a segment.

A file holds ``[[entry]]`` tables with the fields of ``PlaybookEntry`` (docs/playbook.md §2).
Files are named after what they cover: a preset scheme's key (``shopify``, ``classic``, ``rf10``,
``klaviyo``), ``behaviour`` (keyed by behavioural preset key), ``prospects`` and ``churn_bands``.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from dashboard.errors import UserError
from dashboard.rfm import schemes

DATA = Path(__file__).parent / "data"
BEHAVIOUR, PROSPECTS, CHURN_BANDS = "behaviour", "prospects", "churn_bands"
REQUIRED = ("segment", "goal", "actions", "channel", "offer", "kpi")
OPTIONAL = ("caution",)
MIN_ACTIONS, MAX_ACTIONS = 2, 5

Kind = Literal["rfm", "preset", "band"]


class PlaybookError(UserError):
    """A playbook file that cannot be read or has an incomplete entry, with what is wrong."""


@dataclass(frozen=True)
class PlaybookEntry:
    """What to do with one segment: a goal, 2 to 5 actions, channel, offer, KPI, caution."""

    segment: str
    goal: str
    actions: tuple[str, ...]
    channel: str
    offer: str
    kpi: str
    caution: str | None = None


def _require_text(value: object, field: str, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise PlaybookError(f"{where}: '{field}' must be a non-empty text.")
    return value.strip()


def check_entry(table: object, where: str) -> PlaybookEntry:
    """Return the entry of ``table`` (its fields: REQUIRED and OPTIONAL, ``segment`` included),
    or raise PlaybookError naming ``where`` and the field that is wrong."""
    if not isinstance(table, dict):
        raise PlaybookError(f"{where} must be a table of fields.")
    unknown = sorted(set(table) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise PlaybookError(f"{where} has unknown fields: {', '.join(unknown)}.")
    missing = [field for field in REQUIRED if field not in table]
    if missing:
        raise PlaybookError(f"{where} lacks the fields: {', '.join(missing)}.")
    segment = _require_text(table["segment"], "segment", where)
    where = f"{where} ('{segment}')"
    actions = table["actions"]
    if not isinstance(actions, list) or not MIN_ACTIONS <= len(actions) <= MAX_ACTIONS:
        raise PlaybookError(f"{where}: 'actions' must list {MIN_ACTIONS} to {MAX_ACTIONS} actions.")
    caution = table.get("caution")
    return PlaybookEntry(
        segment=segment,
        goal=_require_text(table["goal"], "goal", where),
        actions=tuple(_require_text(action, "actions", where) for action in actions),
        channel=_require_text(table["channel"], "channel", where),
        offer=_require_text(table["offer"], "offer", where),
        kpi=_require_text(table["kpi"], "kpi", where),
        caution=None if caution is None else _require_text(caution, "caution", where),
    )


def entry_to_fields(entry: PlaybookEntry) -> dict[str, object]:
    """Return ``entry``'s fields without ``segment`` (as JSON keeps them under the segment's
    name), ``caution`` only when there is one."""
    fields: dict[str, object] = {
        "goal": entry.goal,
        "actions": list(entry.actions),
        "channel": entry.channel,
        "offer": entry.offer,
        "kpi": entry.kpi,
    }
    if entry.caution is not None:
        fields["caution"] = entry.caution
    return fields


def parse_playbook(text: str, source: str) -> dict[str, PlaybookEntry]:
    """Return segment -> entry of a playbook file's ``text`` (in file order), or raise
    PlaybookError naming ``source``, the entry and the field when anything is wrong."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PlaybookError(f"Playbook '{source}' is not valid TOML: {exc}.") from exc
    tables = document.get("entry")
    if set(document) != {"entry"} or not isinstance(tables, list) or not tables:
        raise PlaybookError(f"Playbook '{source}' must hold only [[entry]] tables, at least one.")
    entries: dict[str, PlaybookEntry] = {}
    for number, table in enumerate(tables, start=1):
        entry = check_entry(table, f"Playbook '{source}', entry {number}")
        if entry.segment in entries:
            raise PlaybookError(f"Playbook '{source}' has two entries for '{entry.segment}'.")
        entries[entry.segment] = entry
    return entries


def list_playbooks() -> list[str]:
    """Return the keys of the playbook files shipped with the product, sorted."""
    return sorted(path.stem for path in DATA.glob("*.toml"))


@functools.cache
def load_playbook(scheme_key: str) -> dict[str, PlaybookEntry]:
    """Return segment -> entry of the playbook ``scheme_key`` (a preset scheme's key,
    ``behaviour``, ``prospects`` or ``churn_bands``), checked entry by entry."""
    if scheme_key not in list_playbooks():
        raise PlaybookError(
            f"No playbook '{scheme_key}'; choose one of: {', '.join(list_playbooks())}."
        )
    path = DATA / f"{scheme_key}.toml"
    return parse_playbook(path.read_text(encoding="utf-8"), path.name)


def _preset_key(scheme_key: str) -> str:
    """The preset a scheme key names, without the ``@n`` suffix of a rescaled scheme."""
    return scheme_key.partition("@")[0]


def rank_presets(segments: Sequence[str]) -> list[str]:
    """Return the preset scheme keys, closest first: most segment names shared with ``segments``
    (case-insensitive), ties in ``schemes.PRESETS`` order."""
    wanted = {name.casefold() for name in segments}
    shared = {
        key: len(wanted & {name.casefold() for name in scheme.segments})
        for key, scheme in schemes.PRESETS.items()
    }
    return sorted(schemes.PRESETS, key=lambda key: -shared[key])


def _find_rfm_entry(
    scheme_key: str | None, segment: str, segments: Sequence[str]
) -> PlaybookEntry | None:
    if segment == schemes.PROSPECTS:
        return load_playbook(PROSPECTS).get(segment)
    own = _preset_key(scheme_key or "")
    if own in schemes.PRESETS and segment in load_playbook(own):
        return load_playbook(own)[segment]
    wanted = segment.casefold()
    for key in rank_presets([*segments, segment]):
        for name, entry in load_playbook(key).items():
            if name.casefold() == wanted:
                return entry
    return None


def find_entry(
    kind: Kind, scheme_key: str | None, segment: str, segments: Sequence[str] = ()
) -> PlaybookEntry | None:
    """Return the playbook entry of ``segment``, or None when there is none.

    ``kind`` is ``"rfm"`` (a group of the scheme ``scheme_key``; a custom or imported scheme's
    group takes the entry of the same name, case-insensitive, in the closest preset: the one
    sharing most of ``segments``, the custom scheme's segment names), ``"preset"`` (a behavioural
    preset's key; ``scheme_key`` unused) or ``"band"`` (a predicted churn band: Low, Medium, High).
    """
    if kind == "rfm":
        return _find_rfm_entry(scheme_key, segment, segments)
    if kind == "preset":
        return load_playbook(BEHAVIOUR).get(segment)
    if kind == "band":
        return load_playbook(CHURN_BANDS).get(segment)
    raise PlaybookError(f"Unknown playbook kind '{kind}'; choose rfm, preset or band.")
