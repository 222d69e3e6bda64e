"""The Behaviour page's presets: the picker, what a preset waits for, and its parameters."""

from __future__ import annotations

import ibis.expr.types as ir
import streamlit as st

from dashboard.behaviour import presets
from dashboard.behaviour.catalogue import FEATURES
from dashboard.ui import playbook_panel
from dashboard.ui.behaviour import feature_cache


def choose_preset() -> presets.Preset:
    """A selectbox of the presets; returns the chosen one."""
    key = st.selectbox(
        "Behavioural segment",
        list(presets.PRESETS),
        format_func=lambda k: presets.PRESETS[k].name,
        key="bh_preset",
    )
    preset = presets.PRESETS[key]
    st.caption(f"{preset.description} Data it needs: {preset.needs}.")
    playbook_panel.show_preset_entry(preset.key, preset.name)
    return preset


def preset_gaps(preset: presets.Preset, missing: dict[str, str], view: ir.Table) -> list[str]:
    """What the preset waits for: missing input files, and sets with no value to choose from."""
    gaps = presets.missing_for_preset(preset, missing)
    for param in preset.params:
        if param.kind == presets.SET_PARAM and not feature_cache.known_values(view, param.feature):
            label = FEATURES[param.feature].label.lower()
            gaps.append(
                f"No customer has a {label} yet: upload a customers file, or orders that carry "
                f"it, to enable '{preset.name}'."
            )
    return gaps


def preset_controls(preset: presets.Preset, view: ir.Table) -> dict[str, object]:
    """One widget per parameter of the preset; returns the chosen values."""
    values: dict[str, object] = {}
    columns = st.columns(max(len(preset.params), 1))
    for column, param in zip(columns, preset.params, strict=False):
        key = f"bh_param_{preset.key}_{param.key}"
        with column:
            if param.kind == presets.CHOICE_PARAM:
                values[param.key] = st.select_slider(
                    param.label, options=list(param.options), value=param.default, key=key
                )
            elif param.kind == presets.SET_PARAM:
                options = feature_cache.known_values(view, param.feature)
                values[param.key] = st.multiselect(
                    param.label, options, default=options[:1], key=key
                )
            elif param.maximum is None:
                values[param.key] = st.number_input(
                    param.label,
                    min_value=param.minimum,
                    value=param.default,
                    step=param.step,
                    key=key,
                )
            else:
                values[param.key] = st.slider(
                    param.label,
                    min_value=param.minimum,
                    max_value=param.maximum,
                    value=param.default,
                    step=param.step,
                    key=key,
                )
    return values
