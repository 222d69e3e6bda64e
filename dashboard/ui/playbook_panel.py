"""The playbook panel shown beside a segment (docs/playbook.md §3): goal, actions, channel,
offer, KPI and caution of the segment's entry."""

from __future__ import annotations

import streamlit as st

from dashboard import playbook
from dashboard.rfm import schemes
from dashboard.ui import text


def show_entry(entry: playbook.PlaybookEntry | None, label: str) -> None:
    """Draw ``entry`` in an expander titled with ``label``, or say there is no entry yet."""
    with st.expander(f"Playbook: {text.escape_markdown(label)}", expanded=True):
        if entry is None:
            st.caption("No playbook entry for this segment yet.")
            return
        st.markdown(f"**Goal.** {text.escape_markdown(entry.goal)}")
        st.markdown("\n".join(f"1. {text.escape_markdown(action)}" for action in entry.actions))
        facts = [("Channel", entry.channel), ("Offer", entry.offer), ("Watch", entry.kpi)]
        if entry.caution is not None:
            facts.append(("Caution", entry.caution))
        st.markdown("  \n".join(f"**{name}:** {text.escape_markdown(v)}" for name, v in facts))


def show_rfm_entry(scheme: schemes.Scheme, segment: str) -> None:
    """Draw the playbook of ``segment`` of ``scheme`` (custom schemes: the closest preset's)."""
    entry = playbook.find_entry("rfm", scheme.key, segment, scheme.segments)
    show_entry(entry, segment)


def show_preset_entry(preset_key: str, label: str) -> None:
    """Draw the playbook of the behavioural preset ``preset_key``, titled ``label``."""
    show_entry(playbook.find_entry("preset", None, preset_key), label)
