"""Behaviour: behavioural segments from presets or the builder, saved, compared and exported."""

import streamlit as st

from dashboard import ui
from dashboard.behaviour import presets
from dashboard.behaviour.definitions import describe_definition
from dashboard.ui.behaviour import (
    feature_cache,
    live_result,
    notices,
    preset_picker,
    saved_segments,
    segment_comparison,
    segment_downloads,
    segment_editor,
)
from dashboard.ui.text import escape_markdown

ui.require_entry_point("pages/behaviour.py")
st.title("Behaviour")
st.caption(
    "Segments by what customers do (spend, rhythm, coupons, refunds, visits, carts, launches, "
    "consent): start from a preset or build your own, save it, compare segments and send the "
    "members to your email or ads tool."
)

selection = ui.require_selection()

with ui.friendly_errors(), notices.definition_errors():
    base = feature_cache.get_feature_base(selection)
    spec = feature_cache.current_rfm(selection)
    view = feature_cache.get_view(base, spec)
    currency = selection.currency
    notices.show_notice()
    feature_cache.show_missing_inputs(base.missing)
    # Only the open tab is drawn: each tab queries the features, and every widget reruns the page.
    presets_tab, builder_tab, saved_tab, compare_tab = st.tabs(
        ["Presets", "Builder", "Saved segments", "Compare and prioritise"],
        key=segment_editor.TAB,
        on_change="rerun",
    )

    if presets_tab.open:
        with presets_tab, notices.definition_errors():
            preset = preset_picker.choose_preset()
            needed = preset_picker.preset_gaps(preset, base.missing, view)
            for message in needed:
                st.info(message)
            if not needed:
                values = preset_picker.preset_controls(preset, view)
                definition = presets.preset_definition(preset, values, spec)
                st.markdown(f"**Rule:** {escape_markdown(describe_definition(definition))}")
                live_result.show_live_result(view, definition, currency, key="preset")
                st.button(
                    "Open in the builder",
                    key="bh_open_preset",
                    on_click=segment_editor.load_into_builder,
                    args=(definition, preset.key.replace("_", "-")),
                )
                segment_downloads.offer_downloads(
                    selection, base, view, definition, preset.name, key="preset"
                )

    if builder_tab.open:
        with builder_tab, notices.definition_errors():
            definition = segment_editor.edit_definition(view, spec)
            st.divider()
            st.markdown(f"**Segment:** {escape_markdown(describe_definition(definition))}")
            live_result.show_live_result(view, definition, currency, key="builder")
            if definition.conditions():
                saved_segments.save_controls(selection.dataset, definition)
                name = st.session_state.get("bh_name") or "segment"
                segment_downloads.offer_downloads(
                    selection, base, view, definition, name, key="builder"
                )

    if saved_tab.open:
        with saved_tab, notices.definition_errors():
            saved_segments.manage_saved(selection, base)

    if compare_tab.open:
        with compare_tab, notices.definition_errors():
            segment_comparison.compare_segments(selection, base, view, spec)
