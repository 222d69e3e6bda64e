"""The playbook panel shown beside a segment (docs/playbook.md §4): goal, actions, channel,
offer, KPI and caution of the segment's entry, and an Edit mode that saves the analyst's own
entry in the workspace for the dataset (docs/playbook.md §5)."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from dashboard import playbook, ui
from dashboard.playbook.store import StoredKind
from dashboard.rfm import schemes
from dashboard.ui import text

SAVED_NOTE = "playbook_saved_note"
FIELDS = ("goal", "actions", "channel", "offer", "kpi", "caution")


def show_entry(entry: playbook.PlaybookEntry | None) -> None:
    """Draw ``entry``'s goal, actions and facts, or say there is no entry yet."""
    if entry is None:
        st.caption("No playbook entry for this segment yet.")
        return
    st.markdown(f"**Goal.** {text.escape_markdown(entry.goal)}")
    st.markdown("\n".join(f"1. {text.escape_markdown(action)}" for action in entry.actions))
    facts = [("Channel", entry.channel), ("Offer", entry.offer), ("Watch", entry.kpi)]
    if entry.caution is not None:
        facts.append(("Caution", entry.caution))
    st.markdown("  \n".join(f"**{name}:** {text.escape_markdown(v)}" for name, v in facts))


def show_editable_entry(
    kind: StoredKind,
    scheme_key: str | None,
    segment: str,
    label: str,
    segments: Sequence[str] = (),
) -> None:
    """Draw the entry the analyst sees for ``segment`` of the chosen dataset in an expander
    titled with ``label``, with an Edit toggle that opens the form to change and save it."""
    workspace, dataset = ui.workspace(), ui.require_selection().dataset
    entry = playbook.find_saved_entry(workspace, dataset, kind, scheme_key, segment, segments)
    edited = segment in playbook.read_saved_entries(workspace, dataset, kind, scheme_key)
    prefix = f"pb_{kind}_{scheme_key}_{segment}"
    with st.expander(f"Playbook: {text.escape_markdown(label)}", expanded=True):
        note = st.session_state.pop(SAVED_NOTE, None)
        if note is not None:
            st.success(note)
        show_entry(entry)
        if edited:
            st.caption("Edited for this dataset; Reset goes back to the shipped entry.")
        if st.toggle("Edit", key=f"{prefix}_edit"):
            edit_entry(kind, scheme_key, segment, entry, prefix, edited)


def edit_entry(
    kind: StoredKind,
    scheme_key: str | None,
    segment: str,
    entry: playbook.PlaybookEntry | None,
    prefix: str,
    edited: bool,
) -> None:
    """The edit form of ``segment``'s entry, filled from ``entry`` (blank when None): Save checks
    and stores it for the dataset; Reset forgets the edit. Refusals show their sentence."""
    workspace, dataset = ui.workspace(), ui.require_selection().dataset
    with st.form(f"{prefix}_form"):
        goal = st.text_input("Goal", entry.goal if entry else "", key=f"{prefix}_goal")
        actions = st.text_area(
            "Actions (one per line, 2 to 5)",
            "\n".join(entry.actions) if entry else "",
            key=f"{prefix}_actions",
        )
        channel = st.text_input("Channel", entry.channel if entry else "", key=f"{prefix}_channel")
        offer = st.text_input(
            "Offer (or 'No discount')", entry.offer if entry else "", key=f"{prefix}_offer"
        )
        kpi = st.text_input("KPI to watch", entry.kpi if entry else "", key=f"{prefix}_kpi")
        caution = st.text_input(
            "Caution (optional)",
            (entry.caution or "") if entry else "",
            key=f"{prefix}_caution",
        )
        submitted = st.form_submit_button("Save")
    if submitted:
        try:
            changed = playbook.build_entry(segment, goal, actions, channel, offer, kpi, caution)
            playbook.save_entry(workspace, dataset, kind, scheme_key, changed)
        except playbook.PlaybookError as exc:
            st.error(text.escape_markdown(exc))
            return
        st.session_state[SAVED_NOTE] = f"Saved the playbook entry of '{segment}' for '{dataset}'."
        st.rerun()
    if edited and st.button("Reset to the shipped entry", key=f"{prefix}_reset"):
        playbook.reset_entry(workspace, dataset, kind, scheme_key, segment)
        # The form's widgets keep what was typed; drop it so they show the shipped entry.
        for field in FIELDS:
            st.session_state.pop(f"{prefix}_{field}", None)
        st.session_state[SAVED_NOTE] = f"Reset the playbook entry of '{segment}'."
        st.rerun()


def show_rfm_entry(scheme: schemes.Scheme, segment: str) -> None:
    """Draw the editable playbook of ``segment`` of ``scheme`` (custom schemes: their own entry,
    started from the closest preset's)."""
    show_editable_entry("rfm", scheme.key, segment, segment, scheme.segments)


def show_preset_entry(preset_key: str, label: str) -> None:
    """Draw the editable playbook of the behavioural preset ``preset_key``, titled ``label``."""
    show_editable_entry("preset", None, preset_key, label)


def show_saved_segment_entry(name: str) -> None:
    """Draw the editable playbook of the saved behavioural segment ``name`` (blank at first)."""
    show_editable_entry("segment", None, name, name)
