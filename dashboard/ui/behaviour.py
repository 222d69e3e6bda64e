"""Streamlit widgets of the Behaviour page: presets, the segment builder, saved segments,
overlap and SCALE, downloads.

Like ui.py, this module may import streamlit; everything is kept in ``st.session_state``. The
builder's definition lives in the session as a builder.Definition and is changed only by
button callbacks, so a rerun never loses or doubles an edit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import ibis.expr.types as ir
import pandas as pd
import streamlit as st

from dashboard import formatting, ui
from dashboard.behaviour import builder, features, presets, segment_export, segment_store
from dashboard.behaviour.builder import Condition, Definition, DefinitionError, Group
from dashboard.ui import acquisition as ui_acquisition
from dashboard.ui import studio as ui_studio

DEFINITION = "bh_definition"
TAB = "bh_tab"
EDITOR_VERSION = "bh_editor_version"
NOTICE = "bh_notice"
BUILDER_ERROR = "bh_builder_error"
SAVED_ERROR = "bh_saved_error"
NEW_GROUP = "New group"
PREVIEW_COLUMNS = ("customer_id", "email", "orders", "net_revenue", "last_order_on", "rfm_segment")
OPERATOR_LABELS = {
    ">": "more than",
    ">=": "at least",
    "<": "less than",
    "<=": "at most",
    "==": "equals",
    "!=": "is not",
    "in": "is one of",
    "not in": "is none of",
    "is null": "is missing",
    "is not null": "is known",
}
# Widget keys become CSS classes (st-key-...), so they hold no operator symbols.
OPERATOR_KEYS = {
    ">": "gt",
    ">=": "ge",
    "<": "lt",
    "<=": "le",
    "==": "eq",
    "!=": "ne",
    "in": "in",
    "not in": "not_in",
}
LIST_OPERATOR_LABELS = {"in": "includes any of", "not in": "includes none of"}
DEFAULT_COMPARED = ("top_spenders", "one_time", "coupon", "newsletter")


@contextmanager
def definition_errors() -> Iterator[None]:
    """Show a DefinitionError as a sentence instead of failing the page."""
    try:
        yield
    except DefinitionError as exc:
        st.error(str(exc))


def _notify(text: str) -> None:
    st.session_state[NOTICE] = text


def show_notice() -> None:
    """Show (once) what the last button did."""
    text = st.session_state.pop(NOTICE, None)
    if text:
        st.success(text)


# ---------------------------------------------------------------- data held in the session


def get_feature_base(selection: ui.Selection) -> features.FeatureBase:
    """Return the feature table of the selection, built once per dataset, date, counting rules
    and channel rules."""
    rules = ui_acquisition.acquisition_settings(selection).rules
    key = (
        selection.dataset,
        ui.dataset_version(selection.dataset),
        selection.as_of,
        selection.start,
        selection.rules,
        rules,
    )
    held = st.session_state.get("bh_base")
    if held is None or held[0] != key:
        with st.spinner("Computing customer features (once per dataset and date)…"):
            if held is not None:
                held[1].close()
            base = features.load_feature_base(
                ui.workspace(),
                selection.dataset,
                as_of=selection.as_of,
                start=selection.start,
                params=features.FeatureParams(counting=selection.rules, channel_rules=rules),
            )
        held = (key, base)
        st.session_state["bh_base"] = held
        st.session_state.pop("bh_views", None)
        st.session_state.pop("bh_values", None)
    return held[1]


def current_rfm(selection: ui.Selection) -> builder.RfmSpec:
    """Return the RFM scoring of the Segments page (its scheme; custom cut points if moved)."""
    scoring, cuts = ui_studio.studio_scoring(selection, ui.get_customer_base(selection))
    return builder.RfmSpec(selection.scheme.key, cuts if scoring.mode == "custom" else None)


def get_view(base: features.FeatureBase, spec: builder.RfmSpec) -> ir.Table:
    """Return the feature table with the RFM columns of ``spec`` (cut points kept per spec)."""
    views = st.session_state.setdefault("bh_views", {})
    if spec not in views:
        views[spec] = builder.feature_view(base.table, spec, ui.workspace())
    return views[spec]


def known_values(view: ir.Table, feature: str) -> list[object]:
    """Return the values of a text or list feature, most common first (kept per session)."""
    cache = st.session_state.setdefault("bh_values", {})
    # Views live in the session until the base changes, which clears this cache too.
    key = (id(view), feature)
    if key not in cache:
        cache[key] = features.list_values(view, feature)
    return cache[key]


def show_missing_inputs(missing: dict[str, str]) -> None:
    """Say which features are empty and which file would fill them."""
    if not missing:
        return
    by_file: dict[str, list[str]] = {}
    for name in missing:
        feature = features.FEATURES[name]
        by_file.setdefault(features.SOURCES[feature.source][2], []).append(feature.label.lower())
    with st.expander(f"{len(missing)} features are empty until more files are loaded"):
        for file, labels in by_file.items():
            st.markdown(f"- Upload {file} to enable: {', '.join(labels)}.")


# ---------------------------------------------------------------- presets


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
    return preset


def preset_gaps(preset: presets.Preset, missing: dict[str, str], view: ir.Table) -> list[str]:
    """What the preset waits for: missing input files, and sets with no value to choose from."""
    gaps = presets.missing_for_preset(preset, missing)
    for param in preset.params:
        if param.kind == presets.SET_PARAM and not known_values(view, param.feature):
            label = features.FEATURES[param.feature].label.lower()
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
                options = known_values(view, param.feature)
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


# ---------------------------------------------------------------- live result


def show_live_result(
    view: ir.Table, definition: Definition, currency: str | None, key: str
) -> None:
    """Customers, share of customers and revenue, and a preview of the first members."""
    condition = builder.compile_definition(view, definition)
    size = builder.measure_segment(view, condition)
    columns = st.columns(3)
    columns[0].metric("Customers", formatting.format_count(size["customers"]))
    columns[1].metric("Share of customers", formatting.format_percent(size["share_customers"]))
    columns[2].metric(
        "Revenue (share)",
        formatting.format_money(size["revenue"], currency),
        formatting.format_percent(size["share_revenue"]) + " of revenue",
        delta_color="off",
        delta_arrow="off",
    )
    preview = builder.list_members(view, condition, PREVIEW_COLUMNS, builder.PREVIEW_ROWS)
    st.dataframe(
        preview,
        hide_index=True,
        width="stretch",
        column_config=feature_column_config(preview.columns, currency),
        key=f"bh_preview_{key}",
    )
    if size["customers"] > len(preview):
        st.caption(f"The first {len(preview)} members by customer id.")


def feature_column_config(columns: object, currency: str | None) -> dict[str, object]:
    """Column labels and number formats for a table of feature columns."""
    money = formatting.table_money_format(currency)
    config: dict[str, object] = {}
    for name in columns:
        label = features.FEATURES[name].label if name in features.FEATURES else str(name)
        if name in ("net_revenue", "aov"):
            config[name] = st.column_config.NumberColumn(label, format=money)
        elif name in ("last_order_on", "first_order_on", "last_visit_on"):
            config[name] = st.column_config.DateColumn(label)
        else:
            config[name] = label
    return config


# ---------------------------------------------------------------- the builder


def current_definition(spec: builder.RfmSpec) -> Definition:
    """Return the builder's definition, scored with ``spec`` (the Segments page's scoring)."""
    held = replace(st.session_state.get(DEFINITION) or Definition((Group(()),)), rfm=spec)
    st.session_state[DEFINITION] = held
    return held


def _set_definition(definition: Definition) -> None:
    st.session_state[DEFINITION] = definition
    st.session_state[EDITOR_VERSION] = st.session_state.get(EDITOR_VERSION, 0) + 1


def load_into_builder(definition: Definition, name: str) -> None:
    """Button callback: replace the builder's definition and name, and open the builder."""
    _set_definition(definition)
    st.session_state["bh_name"] = name
    st.session_state[TAB] = "Builder"
    _notify(f"'{name}' is in the builder: edit it, then save.")


def _remove_condition(group: int, index: int) -> None:
    held: Definition = st.session_state[DEFINITION]
    groups = list(held.groups)
    conditions = list(groups[group].conditions)
    del conditions[index]
    groups[group] = replace(groups[group], conditions=tuple(conditions))
    if not conditions and len(groups) > 1:
        del groups[group]
    _set_definition(replace(held, groups=tuple(groups)))


def _set_match(group: int | None, key: str) -> None:
    held: Definition = st.session_state[DEFINITION]
    match = st.session_state[key]
    if group is None:
        _set_definition(replace(held, match=match))
        return
    groups = list(held.groups)
    groups[group] = replace(groups[group], match=match)
    _set_definition(replace(held, groups=tuple(groups)))


def _read_value(feature: str, operator: str, value: object) -> object:
    kind = features.FEATURES[feature].kind
    if kind == features.NUMBER and operator in builder.SET_OPERATORS:
        try:
            return tuple(
                _whole(float(part)) for part in str(value or "").split(",") if part.strip()
            )
        except ValueError:
            raise DefinitionError("Give numbers separated by commas, e.g. 1, 2, 5.") from None
    if kind == features.NUMBER and isinstance(value, float):
        return _whole(value)
    if kind == features.FLAG:
        return value == "yes"
    if isinstance(value, list):
        return tuple(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _whole(value: float) -> float | int:
    return int(value) if value.is_integer() else value


def _add_condition(feature: str, operator: str, value_key: str | None, target: str) -> None:
    held: Definition = st.session_state[DEFINITION]
    value = st.session_state.get(value_key) if value_key else None
    try:
        value = _read_value(feature, operator, value)
        condition = builder.validate_condition(Condition(feature, operator, value))
    except DefinitionError as exc:
        _notify_error(BUILDER_ERROR, str(exc))
        return
    groups = list(held.groups) or [Group(())]
    if target == NEW_GROUP:
        groups.append(Group((condition,)))
    else:
        index = int(target.split()[-1]) - 1
        groups[index] = replace(groups[index], conditions=(*groups[index].conditions, condition))
    _set_definition(replace(held, groups=tuple(groups)))


def _notify_error(slot: str, text: str) -> None:
    st.session_state[slot] = text


def edit_definition(view: ir.Table, spec: builder.RfmSpec) -> Definition:
    """Draw the builder: the groups with their conditions, then the add-condition controls."""
    definition = current_definition(spec)
    version = st.session_state.get(EDITOR_VERSION, 0)
    error = st.session_state.pop(BUILDER_ERROR, None)
    if error:
        st.error(error)
    labels = {"all": "all of", "any": "any of"}
    if len(definition.groups) > 1:
        key = f"bh_match_{version}"
        st.radio(
            "Customers who match",
            list(labels),
            index=list(labels).index(definition.match),
            format_func=lambda m: f"{labels[m]} the groups",
            horizontal=True,
            key=key,
            on_change=_set_match,
            args=(None, key),
        )
    for g, group in enumerate(definition.groups):
        with st.container(border=True):
            key = f"bh_group_match_{g}_{version}"
            st.radio(
                f"Group {g + 1}: customers matching",
                list(labels),
                index=list(labels).index(group.match),
                format_func=lambda m: f"{labels[m]} these conditions",
                horizontal=True,
                key=key,
                on_change=_set_match,
                args=(g, key),
            )
            if not group.conditions:
                st.caption("No condition yet: everyone matches.")
            for i, condition in enumerate(group.conditions):
                text, remove = st.columns([5, 1])
                text.markdown(builder.describe_condition(condition))
                remove.button(
                    "Remove",
                    key=f"bh_remove_{g}_{i}_{version}",
                    on_click=_remove_condition,
                    args=(g, i),
                )
    add_condition_controls(view, definition)
    return definition


def add_condition_controls(view: ir.Table, definition: Definition) -> None:
    """Feature, operator and value pickers and an "Add condition" button."""
    st.markdown("**Add a condition**")
    columns = st.columns([3, 2, 3, 2])
    names = [name for name in features.FEATURES if name != "customer_id"]
    feature = columns[0].selectbox(
        "Feature",
        names,
        index=names.index("orders"),
        format_func=lambda n: features.FEATURES[n].label,
        key="bh_add_feature",
        help="Every column of the customer feature table.",
    )
    spec = features.FEATURES[feature]
    wording = LIST_OPERATOR_LABELS if spec.kind == features.LIST else {}
    operator = columns[1].selectbox(
        "Condition",
        list(builder.OPERATORS_BY_KIND[spec.kind]),
        format_func=lambda o: wording.get(o, OPERATOR_LABELS[o]),
        key=f"bh_add_operator_{feature}",
    )
    value_key = None
    if operator not in builder.NULL_OPERATORS:
        value_key = f"bh_add_value_{feature}_{OPERATOR_KEYS[operator]}"
    with columns[2]:
        if value_key is not None:
            value_widget(view, spec, operator, value_key)
    targets = [f"Group {i + 1}" for i in range(len(definition.groups))] + [NEW_GROUP]
    target = columns[3].selectbox("Into", targets, key="bh_add_target")
    st.button(
        "Add condition",
        key="bh_add_condition",
        on_click=_add_condition,
        args=(feature, operator, value_key, target),
    )


def value_widget(view: ir.Table, spec: features.Feature, operator: str, key: str) -> None:
    """The value input that fits the feature's kind and the operator."""
    if spec.kind == features.NUMBER:
        if operator in builder.SET_OPERATORS:
            st.text_input("Values (comma-separated)", key=key, placeholder="1, 2, 5")
        else:
            st.number_input("Value", value=0.0, step=1.0, key=key, help=spec.description)
    elif spec.kind == features.DATE:
        st.date_input("Date", key=key)
    elif spec.kind == features.FLAG:
        st.radio("Value", ["yes", "no"], horizontal=True, key=key)
    elif operator in builder.SET_OPERATORS:
        st.multiselect("Values", known_values(view, spec.name), key=key)
    else:
        st.selectbox("Value", known_values(view, spec.name), key=key, accept_new_options=True)


# ---------------------------------------------------------------- saving and saved segments


def save_controls(dataset: str, definition: Definition) -> None:
    """A name input and a Save button (a new version when the name exists)."""
    name_column, button_column = st.columns([3, 1])
    name = name_column.text_input(
        "Segment name (letters, digits, - and _)", key="bh_name", max_chars=64
    )
    if button_column.button("Save segment", key="bh_save"):
        with definition_errors():
            number = segment_store.save_segment(ui.workspace(), dataset, name, definition)
            st.success(f"Saved '{name}' (version {number}).")


def _duplicate(dataset: str, name: str, key: str) -> None:
    new_name = st.session_state.get(key, "")
    try:
        segment_store.duplicate_segment(ui.workspace(), dataset, name, new_name)
    except DefinitionError as exc:
        _notify_error(SAVED_ERROR, str(exc))
        return
    _notify(f"Copied '{name}' to '{new_name}'.")


def _delete(dataset: str, name: str) -> None:
    segment_store.delete_segment(ui.workspace(), dataset, name)
    _notify(f"Deleted '{name}' and its history.")


def manage_saved(dataset: str) -> None:
    """Pick a saved segment: open it in the builder, duplicate, delete, see its versions."""
    error = st.session_state.pop(SAVED_ERROR, None)
    if error:
        st.error(error)
    names = segment_store.list_segments(ui.workspace(), dataset)
    if not names:
        st.info("No saved segment yet: build one in the Builder tab and save it.")
        return
    name = st.selectbox("Saved segment", names, key="bh_saved")
    history = segment_store.read_history(ui.workspace(), dataset, name)
    table = pd.DataFrame(
        [
            {
                "version": v.version,
                "saved_at": pd.Timestamp(v.saved_at),
                "definition": builder.describe_definition(v.definition),
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
    open_column, copy_column, delete_column = st.columns(3)
    open_column.button(
        f"Open version {version} in the builder",
        key="bh_open_saved",
        on_click=load_into_builder,
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


# ---------------------------------------------------------------- downloads


def offer_downloads(
    selection: ui.Selection,
    base: features.FeatureBase,
    view: ir.Table,
    definition: Definition,
    name: str,
    key: str,
) -> None:
    """Download the members (CSV, Klaviyo, Shopify tags, Parquet) with their stamp, and the
    definition as JSON and SQL."""
    columns = st.columns([2, 4, 2])
    fmt = columns[0].selectbox("File", segment_export.FORMATS, key=f"bh_format_{key}")
    chosen: list[str] | None = None
    tag = None
    if fmt == "shopify-tags":
        tag = columns[1].text_input("Tag to add", value=name, key=f"bh_tag_{key}")
    else:
        default = (
            segment_export.KLAVIYO_DEFAULT_COLUMNS
            if fmt == "klaviyo"
            else segment_export.DEFAULT_COLUMNS
        )
        chosen = columns[1].multiselect(
            "Columns",
            list(features.FEATURES),
            default=list(default),
            format_func=lambda n: features.FEATURES[n].label,
            key=f"bh_columns_{key}_{fmt}",
        )
    dialect = columns[2].selectbox("SQL for", segment_export.DIALECTS, key=f"bh_dialect_{key}")
    exported = segment_export.export_segment(
        view, definition, fmt, selection.dataset, name, base.window, chosen, tag
    )
    buttons = st.columns(4)
    buttons[0].download_button(
        f"Download {exported.stamp['row_count']:,} rows ({fmt})",
        exported.data,
        file_name=exported.file_name,
        mime=exported.mime,
        on_click="ignore",
        key=f"bh_download_{key}",
    )
    buttons[1].download_button(
        "Stamp (JSON)",
        exported.stamp_json(),
        file_name=exported.file_name + ".stamp.json",
        mime="application/json",
        on_click="ignore",
        key=f"bh_stamp_{key}",
    )
    buttons[2].download_button(
        "Definition (JSON)",
        builder.definition_to_json(definition),
        file_name=f"{exported.file_name.rsplit('-', 1)[0]}-definition.json",
        mime="application/json",
        on_click="ignore",
        key=f"bh_definition_{key}",
    )
    buttons[3].download_button(
        f"Definition (SQL, {dialect})",
        builder.sql_for_definition(definition, dialect),
        file_name=f"{exported.file_name.rsplit('-', 1)[0]}-{dialect}.sql",
        mime="application/sql",
        help="Selects the members' customer_id and email from a table customer_features with "
        "the columns of the feature table (the Parquet download with every column).",
        on_click="ignore",
        key=f"bh_sql_{key}",
    )


# ---------------------------------------------------------------- overlap and SCALE


def comparable_segments(
    dataset: str, view: ir.Table, missing: dict[str, str], spec: builder.RfmSpec
) -> dict[str, Definition]:
    """Saved segments ("<name> (saved)") and the presets whose data is there (by name), with
    their default values and the most common value of a set (none: the preset is left out)."""
    found: dict[str, Definition] = {}
    for name in segment_store.list_segments(ui.workspace(), dataset):
        found[f"{name} (saved)"] = segment_store.load_segment(ui.workspace(), dataset, name)
    for preset in presets.PRESETS.values():
        if presets.missing_for_preset(preset, missing):
            continue
        values = {
            p.key: known_values(view, p.feature)[:1]
            for p in preset.params
            if p.kind == presets.SET_PARAM
        }
        if all(values.values()):
            found[preset.name] = presets.preset_definition(preset, values, spec)
    return found


def compare_segments(
    selection: ui.Selection, base: features.FeatureBase, view: ir.Table, spec: builder.RfmSpec
) -> None:
    """Overlap matrix (counts and %) and the SCALE table of the chosen segments."""
    found = comparable_segments(selection.dataset, view, base.missing, spec)
    defaults = [
        presets.PRESETS[k].name for k in DEFAULT_COMPARED if presets.PRESETS[k].name in found
    ]
    chosen = st.multiselect("Segments to compare", list(found), default=defaults, key="bh_compare")
    if len(chosen) < 2:
        st.info("Choose at least two segments.")
        return
    definitions = {name: found[name] for name in chosen}
    counts, shares = builder.overlap_matrix(base.table, definitions, ui.workspace())
    st.markdown("**Overlap**: customers in both the row's and the column's segment")
    st.dataframe(
        counts,
        width="stretch",
        column_config={c: st.column_config.NumberColumn(c, format="localized") for c in chosen},
        key="bh_overlap_counts",
    )
    st.markdown("**Overlap in %** of the row's segment")
    st.dataframe(
        shares,
        width="stretch",
        column_config={c: st.column_config.NumberColumn(c, format="percent") for c in chosen},
        key="bh_overlap_shares",
    )
    days = st.select_slider(
        "Early adoption: bought within (days of a product's launch)",
        options=list(features.TREND_WINDOWS_DAYS),
        value=30,
        key="bh_scale_days",
    )
    scale = builder.scale_table(base.table, definitions, ui.workspace(), days)
    st.markdown("**SCALE**: which segment to work on first")
    st.dataframe(
        scale,
        hide_index=True,
        width="stretch",
        column_config=scale_column_config(selection.currency),
        key="bh_scale",
    )


def scale_column_config(currency: str | None) -> dict[str, object]:
    """Column labels and number formats of the SCALE table."""
    money = formatting.table_money_format(currency)
    unit = f" ({currency})" if currency else ""
    return {
        "segment": st.column_config.TextColumn("Segment"),
        "size": st.column_config.NumberColumn("Size (customers)", format="localized"),
        "share_customers": st.column_config.NumberColumn("% of customers", format="percent"),
        "currency": st.column_config.NumberColumn(f"Currency: average spend{unit}", format=money),
        "access": st.column_config.NumberColumn("Access: reachable with consent", format="percent"),
        "love_repeat_rate": st.column_config.NumberColumn("Love: repeat rate", format="percent"),
        "love_satisfaction": st.column_config.NumberColumn(
            "Love: average survey score", format="%.1f"
        ),
        "early_adoption": st.column_config.NumberColumn(
            "Early adoption: trend-follower share", format="percent"
        ),
        "revenue_at_stake": st.column_config.NumberColumn(f"Revenue at stake{unit}", format=money),
        "share_revenue": st.column_config.NumberColumn("% of revenue", format="percent"),
        "scale_score": st.column_config.NumberColumn(
            "SCALE score",
            format="%.2f",
            help="Mean of the segment's rank on Size, Currency, Access, repeat rate and Early "
            "adoption among the compared segments (1 = best on all).",
        ),
    }
