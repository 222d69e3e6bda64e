"""The RFM studio's Schemes tab: the scheme's segment map, edited or uploaded, then saved."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from dashboard import access, formatting, playbook, ui
from dashboard.rfm import scheme_io, schemes
from dashboard.ui import auth, customer_base
from dashboard.ui.text import escape_markdown


def edit_scheme(scheme: schemes.Scheme) -> None:
    """Show the scheme's rule and segment map (editable), its JSON download and an upload; offer
    to save an edited or uploaded scheme that is a partition."""
    st.markdown(f"**{escape_markdown(scheme.name)}.** {escape_markdown(scheme.rule)}")
    table = scheme_io.tabulate_scheme(scheme)
    edited = st.data_editor(
        table,
        hide_index=True,
        width="stretch",
        key=f"scheme_map_{scheme.key}",
        disabled=[table.columns[0]] if "codes" not in table else False,
        num_rows="fixed" if "codes" not in table else "dynamic",
    )
    st.download_button(
        "Download this scheme (JSON)",
        playbook.export_scheme_json(ui.workspace(), ui.require_selection().dataset, scheme),
        file_name=f"{scheme.key.replace(':', '-')}.json",
        mime="application/json",
        on_click="ignore",
    )
    uploaded = st.file_uploader("Upload a scheme (JSON)", type="json")
    candidate = (
        read_scheme_upload(uploaded)
        if uploaded is not None
        else read_scheme_edits(edited, table, scheme)
    )
    if candidate is not None:
        offer_to_save(candidate)


def read_scheme_upload(uploaded: UploadedFile | None) -> schemes.Scheme | None:
    """Return the scheme of an uploaded JSON file, or show why it cannot be used and return None."""
    if uploaded is None:
        return None
    try:
        return scheme_io.scheme_from_json(uploaded.getvalue().decode("utf-8"))
    except UnicodeDecodeError:
        st.error("The scheme file is not UTF-8 text.")
    except schemes.SchemeError as exc:
        st.error(str(exc))
    return None


def read_scheme_edits(
    edited: pd.DataFrame, shown: pd.DataFrame, scheme: schemes.Scheme
) -> schemes.Scheme | None:
    """Return the edited scheme if the table was changed and is valid; else show why, or None."""
    if edited.equals(shown):
        return None
    try:
        return scheme_io.scheme_from_table(edited, scheme, f"{scheme.name} (edited)")
    except schemes.SchemeError as exc:
        st.error(str(exc))
    return None


def offer_to_save(candidate: schemes.Scheme) -> None:
    """Confirm that a checked scheme is a partition and offer to save it under a name."""
    st.success(
        f"'{escape_markdown(candidate.name)}' puts every cell in exactly one of "
        f"{formatting.format_count_of(len(candidate.segments), 'segment')}."
    )
    name = st.text_input("Save as (letters, digits, - and _)", key="scheme_name")
    if st.button("Save as custom scheme", disabled=not name):
        save_scheme(candidate, name)
    saved = st.session_state.pop("saved_scheme", None)
    if saved is not None:
        st.success(f"Saved '{saved}': pick '{saved} (custom)' under Segment scheme in the sidebar.")


def save_scheme(scheme: schemes.Scheme, name: str) -> None:
    """Save ``scheme`` as custom scheme ``name`` and rerun so that the sidebar lists it (an
    analyst of the sidebar's dataset or above only)."""
    auth.require_role(ui.require_selection().dataset, access.ANALYST)
    playbook.save_custom_scheme(ui.workspace(), scheme, name)
    # A scheme saved under an old name may have another scale: drop its cached quantile cuts.
    customer_base.forget_quantile_cuts()
    st.session_state["saved_scheme"] = name
    st.rerun()
