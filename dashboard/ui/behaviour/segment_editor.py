"""The segment builder: groups of conditions, the add-condition controls and the callbacks that
change the definition held in the session."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import ibis.expr.types as ir
import streamlit as st

from dashboard.behaviour.catalogue import DATE, FEATURES, FLAG, LIST, NUMBER, Feature
from dashboard.behaviour.definitions import (
    NULL_OPERATORS,
    OPERATORS_BY_KIND,
    SET_OPERATORS,
    Condition,
    Definition,
    DefinitionError,
    Group,
    RfmSpec,
    describe_condition,
    validate_condition,
)
from dashboard.ui.behaviour import feature_cache, notices

DEFINITION = "bh_definition"
TAB = "bh_tab"
EDITOR_VERSION = "bh_editor_version"
BUILDER_ERROR = "bh_builder_error"
NEW_GROUP = "New group"
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


def current_definition(spec: RfmSpec) -> Definition:
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
    notices.notify(f"'{name}' is in the builder: edit it, then save.")


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
    kind = FEATURES[feature].kind
    if kind == NUMBER and operator in SET_OPERATORS:
        try:
            return tuple(
                _whole(float(part)) for part in str(value or "").split(",") if part.strip()
            )
        except ValueError:
            raise DefinitionError("Give numbers separated by commas, e.g. 1, 2, 5.") from None
    if kind == NUMBER and isinstance(value, float):
        return _whole(value)
    if kind == FLAG:
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
        condition = validate_condition(Condition(feature, operator, value))
    except DefinitionError as exc:
        notices.notify(str(exc), BUILDER_ERROR)
        return
    groups = list(held.groups) or [Group(())]
    if target == NEW_GROUP:
        groups.append(Group((condition,)))
    else:
        index = int(target.split()[-1]) - 1
        groups[index] = replace(groups[index], conditions=(*groups[index].conditions, condition))
    _set_definition(replace(held, groups=tuple(groups)))


def edit_definition(view: ir.Table, spec: RfmSpec) -> Definition:
    """Draw the builder: the groups with their conditions, then the add-condition controls."""
    definition = current_definition(spec)
    version = st.session_state.get(EDITOR_VERSION, 0)
    notices.show_error(BUILDER_ERROR)
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
                text.markdown(describe_condition(condition))
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
    names = [name for name in FEATURES if name != "customer_id"]
    feature = columns[0].selectbox(
        "Feature",
        names,
        index=names.index("orders"),
        format_func=lambda n: FEATURES[n].label,
        key="bh_add_feature",
        help="Every column of the customer feature table. The predicted ones (probability "
        "active to days to next order) use fixed settings: the next 365 days, churn = no order "
        "in 90 days, no discounting, model auto.",
    )
    spec = FEATURES[feature]
    wording = LIST_OPERATOR_LABELS if spec.kind == LIST else {}
    operator = columns[1].selectbox(
        "Condition",
        list(OPERATORS_BY_KIND[spec.kind]),
        format_func=lambda o: wording.get(o, OPERATOR_LABELS[o]),
        key=f"bh_add_operator_{feature}",
    )
    value_key = None
    if operator not in NULL_OPERATORS:
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


def value_widget(view: ir.Table, spec: Feature, operator: str, key: str) -> None:
    """The value input that fits the feature's kind and the operator."""
    if spec.kind == NUMBER:
        if operator in SET_OPERATORS:
            st.text_input("Values (comma-separated)", key=key, placeholder="1, 2, 5")
        else:
            # Whole-number features take whole numbers, so 120 orders is not shown as 120.00.
            one = 1 if spec.dtype.startswith("int") else 1.0
            st.number_input("Value", value=one * 0, step=one, key=key, help=spec.description)
    elif spec.kind == DATE:
        st.date_input("Date", key=key)
    elif spec.kind == FLAG:
        st.radio("Value", ["yes", "no"], horizontal=True, key=key)
    elif operator in SET_OPERATORS:
        st.multiselect("Values", feature_cache.known_values(view, spec.name), key=key)
    else:
        st.selectbox(
            "Value", feature_cache.known_values(view, spec.name), key=key, accept_new_options=True
        )
