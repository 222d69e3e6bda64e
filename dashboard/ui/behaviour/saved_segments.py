"""Saving the builder's segment, and the saved segments: their member counts, open, download,
duplicate, delete, history."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import access, formatting, ui
from dashboard.behaviour import segment_export, segment_store
from dashboard.behaviour.definitions import Definition, DefinitionError, describe_definition
from dashboard.behaviour.feature_base import FeatureBase
from dashboard.behaviour.membership import count_members
from dashboard.ui import auth, playbook_panel, session
from dashboard.ui.behaviour import feature_cache, notices, segment_editor

SAVED_ERROR = "bh_saved_error"


def save_controls(dataset: str, definition: Definition) -> None:
    """A name input and a Save button (a new version when the name exists)."""
    name_column, button_column = st.columns([3, 1])
    name = name_column.text_input(
        "Segment name (letters, digits, - and _)", key="bh_name", max_chars=64
    )
    if button_column.button("Save segment", key="bh_save"):
        auth.require_role(dataset, access.ANALYST)
        with notices.definition_errors():
            number = segment_store.save_segment(ui.workspace(), dataset, name, definition)
            st.success(f"Saved '{name}' (version {number}).")


def _duplicate(dataset: str, name: str, key: str) -> None:
    new_name = st.session_state.get(key, "")
    try:
        segment_store.duplicate_segment(ui.workspace(), dataset, name, new_name)
    except DefinitionError as exc:
        notices.notify(str(exc), SAVED_ERROR)
        return
    notices.notify(f"Copied '{name}' to '{new_name}'.")


def _delete(dataset: str, name: str) -> None:
    segment_store.delete_segment(ui.workspace(), dataset, name)
    notices.notify(f"Deleted '{name}' and its history.")


def manage_saved(selection: ui.Selection, base: FeatureBase) -> None:
    """The saved segments with their member counts; pick one to open in the builder, download
    its members, duplicate, delete or see its versions."""
    notices.show_error(SAVED_ERROR)
    dataset = selection.dataset
    names = segment_store.list_segments(ui.workspace(), dataset)
    if not names:
        st.info("No saved segment yet: build one in the Builder tab and save it.")
        return
    counts = show_member_counts(dataset, base, names)
    name = st.selectbox("Saved segment", names, key="bh_saved")
    playbook_panel.show_saved_segment_entry(name)
    history = segment_store.read_history(ui.workspace(), dataset, name)
    table = pd.DataFrame(
        [
            {
                "version": v.version,
                "saved_at": pd.Timestamp(v.saved_at),
                "definition": describe_definition(v.definition),
            }
            for v in reversed(history)
        ]
    )
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        key="bh_history",
        column_config={
            "version": st.column_config.NumberColumn("Version", format="%d"),
            "saved_at": st.column_config.DatetimeColumn(
                "Saved at (UTC)", format="YYYY-MM-DD HH:mm"
            ),
            "definition": st.column_config.TextColumn("Definition", width="large"),
        },
    )
    version = st.selectbox(
        "Version", [v.version for v in reversed(history)], key=f"bh_version_{name}"
    )
    chosen = next(v.definition for v in history if v.version == version)
    members = (
        counts[name]
        if version == history[-1].version
        else count_members(base.table, {name: chosen}, ui.workspace())[name]
    )
    offer_members_csv(selection, base, chosen, name, version, members)
    open_column, copy_column, delete_column = st.columns(3)
    open_column.button(
        f"Open version {version} in the builder",
        key="bh_open_saved",
        on_click=segment_editor.load_into_builder,
        args=(chosen, name),
    )
    with copy_column:
        copy_key = "bh_copy_name"
        st.text_input("Copy as", key=copy_key, max_chars=64)
        st.button(
            "Duplicate", key="bh_duplicate", on_click=_duplicate, args=(dataset, name, copy_key)
        )
    with delete_column:
        sure = st.checkbox("Yes, delete it", key=f"bh_sure_{name}")
        st.button(
            "Delete", key="bh_delete", disabled=not sure, on_click=_delete, args=(dataset, name)
        )


def show_member_counts(dataset: str, base: FeatureBase, names: list[str]) -> dict[str, int]:
    """A table of the saved segments: members now, latest version and when it was saved; return
    the member counts by name."""
    latest = {name: segment_store.read_history(ui.workspace(), dataset, name)[-1] for name in names}
    counts = count_members(
        base.table, {name: v.definition for name, v in latest.items()}, ui.workspace()
    )
    table = pd.DataFrame(
        {
            "segment": names,
            "members": [counts[name] for name in names],
            "version": [latest[name].version for name in names],
            "saved_at": [pd.Timestamp(latest[name].saved_at) for name in names],
        }
    )
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        key="bh_saved_counts",
        column_config={
            "segment": st.column_config.TextColumn("Saved segment"),
            "members": st.column_config.NumberColumn(
                "Members now", format="localized", help="Customers the latest version selects."
            ),
            "version": st.column_config.NumberColumn("Latest version", format="%d"),
            "saved_at": st.column_config.DatetimeColumn(
                "Saved at (UTC)", format="YYYY-MM-DD HH:mm"
            ),
        },
    )
    return counts


def offer_members_csv(
    selection: ui.Selection,
    base: FeatureBase,
    definition: Definition,
    name: str,
    version: int,
    members: int,
) -> None:
    """Download the ``members`` of one saved version as the plain CSV export."""
    view = feature_cache.get_view(base, definition.rfm)

    def make() -> bytes:
        return segment_export.export_segment(
            view, definition, "csv", selection.dataset, name, base.window
        ).data

    st.download_button(
        f"Download {formatting.format_count_of(members, 'member')} of version {version} (CSV)",
        session.defer_in_session(make),
        file_name=f"{selection.dataset}-{name}-v{version}.csv",
        mime="text/csv",
        on_click="ignore",
        key="bh_saved_download",
        help="The members with the default columns of the Behaviour downloads; the Builder's "
        "download offers other columns and formats.",
    )
