"""Behaviour: behavioural segments from presets or the builder, saved, compared and exported."""

import streamlit as st

from dashboard import ui
from dashboard.behaviour import builder, presets
from dashboard.ui import behaviour as ub

ui.require_entry_point("pages/behaviour.py")
st.title("Behaviour")
st.caption(
    "Segments by what customers do (spend, rhythm, coupons, refunds, visits, carts, launches, "
    "consent): start from a preset or build your own, save it, compare segments and send the "
    "members to your email or ads tool."
)

selection = st.session_state.get("selection")
if selection is None:
    st.info("Choose a dataset in the sidebar, or load your store's exports on the Data page.")
    st.stop()

with ui.friendly_errors(), ub.definition_errors():
    base = ub.get_feature_base(selection)
    spec = ub.current_rfm(selection)
    view = ub.get_view(base, spec)
    currency = selection.currency
    ub.show_notice()
    ub.show_missing_inputs(base.missing)
    # Only the open tab is drawn: each tab queries the features, and every widget reruns the page.
    presets_tab, builder_tab, saved_tab, compare_tab = st.tabs(
        ["Presets", "Builder", "Saved segments", "Compare and prioritise"],
        key=ub.TAB,
        on_change="rerun",
    )

    if presets_tab.open:
        with presets_tab, ub.definition_errors():
            preset = ub.choose_preset()
            needed = ub.preset_gaps(preset, base.missing, view)
            for message in needed:
                st.info(message)
            if not needed:
                values = ub.preset_controls(preset, view)
                definition = presets.preset_definition(preset, values, spec)
                st.markdown(f"**Rule:** {builder.describe_definition(definition)}")
                ub.show_live_result(view, definition, currency, key="preset")
                st.button(
                    "Open in the builder",
                    key="bh_open_preset",
                    on_click=ub.load_into_builder,
                    args=(definition, preset.key.replace("_", "-")),
                )
                ub.offer_downloads(selection, base, view, definition, preset.name, key="preset")

    if builder_tab.open:
        with builder_tab, ub.definition_errors():
            definition = ub.edit_definition(view, spec)
            st.divider()
            st.markdown(f"**Segment:** {builder.describe_definition(definition)}")
            ub.show_live_result(view, definition, currency, key="builder")
            if definition.conditions():
                ub.save_controls(selection.dataset, definition)
                name = st.session_state.get("bh_name") or "segment"
                ub.offer_downloads(selection, base, view, definition, name, key="builder")

    if saved_tab.open:
        with saved_tab, ub.definition_errors():
            ub.manage_saved(selection.dataset)

    if compare_tab.open:
        with compare_tab, ub.definition_errors():
            ub.compare_segments(selection, base, view, spec)
