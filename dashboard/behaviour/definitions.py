"""Segment definitions as data: conditions and groups, the operators of each kind, validation, JSON.

A definition is groups of conditions. Conditions inside a group are combined by the group's
``match`` ("all" = AND, "any" = OR); the groups are combined by the definition's ``match``. So
both an OR of AND-groups and an AND of OR-groups can be written, with one level of nesting.

A condition is ``feature operator value``. The feature must be a column of the feature table
(catalogue.FEATURES) and the operator one its kind allows:

- number: > >= < <= == != (a number), in / not in (numbers), is null / is not null;
- date: > >= < <= == != (an ISO date such as "2025-01-31"), is null / is not null;
- text: == != (text), in / not in (texts), is null / is not null;
- flag: == != (true or false), is null / is not null;
- list (categories bought): in = bought any of the values, not in = bought none of them,
  is null / is not null.

A condition on a missing value is false (only "is null" matches it). ``compiler`` turns a
definition into one Ibis boolean over the feature table.

JSON format of a definition (what the app saves and ``python -m dashboard export --definition``
reads)::

    {"match": "all",
     "groups": [{"match": "all",
                 "conditions": [{"feature": "orders", "operator": ">=", "value": 2},
                                {"feature": "country", "operator": "in", "value": ["US", "CA"]}]}],
     "rfm": {"scheme": "shopify", "cuts": null},
     "description": "Repeat buyers in North America"}

``rfm`` says how the r_score, f_score, m_score and rfm_segment columns are computed: a preset
scheme key or ``custom:<name>`` of a scheme saved in the workspace, and ``cuts`` null for the
quantile cut points or ``{"recency": [...], "frequency": [...], "monetary": [...]}``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from dashboard.behaviour.catalogue import DATE, FEATURES, FLAG, LIST, NUMBER, TEXT, Feature
from dashboard.errors import UserError
from dashboard.rfm import cut_points, schemes
from dashboard.workspace import limits

# kind -> the operators a condition on a feature of that kind may use, in the order offered
OPERATORS_BY_KIND = {
    NUMBER: (">", ">=", "<", "<=", "==", "!=", "in", "not in", "is null", "is not null"),
    DATE: (">", ">=", "<", "<=", "==", "!=", "is null", "is not null"),
    TEXT: ("==", "!=", "in", "not in", "is null", "is not null"),
    FLAG: ("==", "!=", "is null", "is not null"),
    LIST: ("in", "not in", "is null", "is not null"),
}
NULL_OPERATORS = ("is null", "is not null")
SET_OPERATORS = ("in", "not in")
MATCHES = ("all", "any")
MAX_GROUPS = 20
MAX_CONDITIONS = 50
MAX_VALUES = 1000
MAX_TEXT = 200
MAX_DESCRIPTION = 1000


class DefinitionError(UserError):
    """A definition that cannot be used, with the reason as one sentence."""


@dataclass(frozen=True)
class Condition:
    """``feature operator value``; value is None for the null tests, a tuple for in / not in."""

    feature: str
    operator: str
    value: object = None


@dataclass(frozen=True)
class Group:
    """Conditions combined by ``match`` ("all" or "any")."""

    conditions: tuple[Condition, ...] = ()
    match: str = "all"


@dataclass(frozen=True)
class RfmSpec:
    """The stored form of a ``cut_points.ScoringSpec`` (the definition JSON's ``rfm``): a scheme
    key, resolved in the workspace by ``compiler.resolve_rfm_scheme``, and cut points (None =
    quantiles).
    """

    scheme: str = schemes.DEFAULT_SCHEME
    cuts: cut_points.Cuts | None = None


@dataclass(frozen=True)
class Definition:
    """Groups combined by ``match``; see the module docstring."""

    groups: tuple[Group, ...] = ()
    match: str = "all"
    rfm: RfmSpec = field(default_factory=RfmSpec)
    description: str = ""

    def conditions(self) -> list[Condition]:
        """Return every condition of every group, in order."""
        return [c for g in self.groups for c in g.conditions]


def _check_value(feature: Feature, operator: str, value: object) -> object:
    """Return ``value`` normalised for the feature's kind, or raise DefinitionError."""
    if operator in NULL_OPERATORS:
        return None
    what = f"'{feature.label}' {operator}"
    if operator in SET_OPERATORS:
        if isinstance(value, str | bytes) or not isinstance(value, Sequence):
            raise DefinitionError(f"{what} needs a list of values.")
        if not 1 <= len(value) <= MAX_VALUES:
            raise DefinitionError(f"{what} needs 1 to {MAX_VALUES} values.")
        kind = TEXT if feature.kind == LIST else feature.kind
        return tuple(_check_scalar(kind, what, v) for v in value)
    return _check_scalar(feature.kind, what, value)


def _check_scalar(kind: str, what: str, value: object) -> object:
    if kind == NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise DefinitionError(f"{what} needs a number, got {value!r}.")
        if not math.isfinite(value):
            raise DefinitionError(f"{what} needs a finite number.")
        return value
    if kind == FLAG:
        if not isinstance(value, bool):
            raise DefinitionError(f"{what} needs true or false, got {value!r}.")
        return value
    if kind == DATE:
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            raise DefinitionError(f"{what} needs a date like 2025-01-31, got {value!r}.") from None
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise DefinitionError(f"{what} needs text of at most {MAX_TEXT} characters.")
    return value


def validate_condition(condition: Condition) -> Condition:
    """Return the condition with its value normalised, or raise DefinitionError."""
    feature = FEATURES.get(condition.feature)
    if feature is None or condition.feature == "customer_id":
        raise DefinitionError(f"'{condition.feature}' is not a feature of the feature table.")
    if condition.operator not in OPERATORS_BY_KIND[feature.kind]:
        allowed = ", ".join(OPERATORS_BY_KIND[feature.kind])
        raise DefinitionError(
            f"'{feature.label}' cannot use '{condition.operator}'; use one of: {allowed}."
        )
    value = _check_value(feature, condition.operator, condition.value)
    return Condition(condition.feature, condition.operator, value)


def validate_definition(definition: Definition, require_conditions: bool = True) -> Definition:
    """Return the definition with every condition validated, or raise DefinitionError.

    ``require_conditions`` refuses a definition without any condition (it would be everyone).
    """
    if definition.match not in MATCHES:
        raise DefinitionError(f"match must be 'all' or 'any', not {definition.match!r}.")
    if len(definition.groups) > MAX_GROUPS:
        raise DefinitionError(f"A definition holds at most {MAX_GROUPS} groups.")
    groups = []
    for group in definition.groups:
        if group.match not in MATCHES:
            raise DefinitionError(f"A group's match must be 'all' or 'any', not {group.match!r}.")
        if len(group.conditions) > MAX_CONDITIONS:
            raise DefinitionError(f"A group holds at most {MAX_CONDITIONS} conditions.")
        groups.append(Group(tuple(validate_condition(c) for c in group.conditions), group.match))
    if require_conditions and not any(g.conditions for g in groups):
        raise DefinitionError("Add at least one condition.")
    if len(definition.description) > MAX_DESCRIPTION:
        raise DefinitionError(f"The description holds at most {MAX_DESCRIPTION} characters.")
    if definition.rfm.cuts is not None:
        cut_points.validate_cuts(definition.rfm.cuts)
        scale = find_scheme_scale(definition.rfm.scheme)
        if scale is not None and definition.rfm.cuts.n_scores != scale:
            raise DefinitionError(
                f"The scheme '{definition.rfm.scheme}' uses {scale} scores; give {scale - 1} "
                "cut points per measure."
            )
    return Definition(tuple(groups), definition.match, definition.rfm, definition.description)


def find_scheme_scale(scheme: str) -> int | None:
    """Return the scores per measure of an RfmSpec's scheme key when the key alone tells.

    A key read on another scale (``shopify@3``, ``custom:mine@4``) is on that scale, a preset on
    its own; a saved scheme on its own scale is known only in the workspace, where
    ``compiler.feature_view`` refuses cut points of another scale (``cut_points.resolve_cuts``).
    """
    key, _, scale = scheme.partition("@")
    if scale in ("3", "4", "5"):
        return int(scale)
    preset = schemes.PRESETS.get(key)
    return preset.n_scores if preset is not None and not scale else None


def _json_value(value: object) -> object:
    if isinstance(value, tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def definition_to_dict(definition: Definition) -> dict[str, object]:
    """Return the definition as a JSON-ready dict (the format of the module docstring)."""
    cuts = definition.rfm.cuts
    return {
        "match": definition.match,
        "groups": [
            {
                "match": g.match,
                "conditions": [
                    {"feature": c.feature, "operator": c.operator, "value": _json_value(c.value)}
                    for c in g.conditions
                ],
            }
            for g in definition.groups
        ],
        "rfm": {
            "scheme": definition.rfm.scheme,
            "cuts": None
            if cuts is None
            else {
                "recency": list(cuts.recency),
                "frequency": list(cuts.frequency),
                "monetary": list(cuts.monetary),
            },
        },
        "description": definition.description,
    }


def definition_to_json(definition: Definition) -> str:
    """Return the definition as indented JSON text."""
    return json.dumps(definition_to_dict(definition), indent=2, ensure_ascii=False) + "\n"


def _require(document: object, what: str, kind: type) -> object:
    if not isinstance(document, kind):
        raise DefinitionError(f"{what} must be a JSON {kind.__name__}.")
    return document


def _parse_cuts(value: object) -> cut_points.Cuts | None:
    if value is None:
        return None
    cuts = _require(value, "rfm.cuts", dict)
    try:
        parsed = cut_points.Cuts(
            *(tuple(float(v) for v in cuts[k]) for k in ("recency", "frequency", "monetary"))
        )
    except (KeyError, TypeError, ValueError):
        raise DefinitionError(
            "rfm.cuts needs recency, frequency and monetary lists of numbers."
        ) from None
    return cut_points.validate_cuts(parsed)


def definition_from_dict(document: object, require_conditions: bool = True) -> Definition:
    """Return the validated definition of a parsed JSON document, or raise DefinitionError."""
    doc = _require(document, "A definition", dict)
    groups = []
    for raw_group in _require(doc.get("groups", []), "groups", list):
        group = _require(raw_group, "A group", dict)
        conditions = []
        for raw in _require(group.get("conditions", []), "conditions", list):
            item = _require(raw, "A condition", dict)
            value = item.get("value")
            conditions.append(
                Condition(
                    str(item.get("feature")),
                    str(item.get("operator")),
                    tuple(value) if isinstance(value, list) else value,
                )
            )
        groups.append(Group(tuple(conditions), str(group.get("match", "all"))))
    spec = _require(doc.get("rfm", {}), "rfm", dict)
    scheme = spec.get("scheme", schemes.DEFAULT_SCHEME)
    if not isinstance(scheme, str):
        raise DefinitionError("rfm.scheme must be a scheme key.")
    definition = Definition(
        tuple(groups),
        str(doc.get("match", "all")),
        RfmSpec(scheme, _parse_cuts(spec.get("cuts"))),
        str(doc.get("description", "")),
    )
    return validate_definition(definition, require_conditions)


def definition_from_json(text: str, require_conditions: bool = True) -> Definition:
    """Return the validated definition of a JSON text (bounded by ``limits.parse_json``)."""
    document = limits.parse_json(text, "The definition", DefinitionError)
    return definition_from_dict(document, require_conditions)


def describe_condition(condition: Condition) -> str:
    """Return a condition in words, e.g. ``Orders ≥ 2`` or ``Country in US, CA``."""
    feature = FEATURES.get(condition.feature)
    label = feature.label if feature is not None else condition.feature
    value = condition.value
    if condition.operator in NULL_OPERATORS:
        return f"{label} {'is missing' if condition.operator == 'is null' else 'is known'}"
    if isinstance(value, tuple):
        shown = ", ".join(str(v) for v in value)
    elif isinstance(value, bool):
        shown = "yes" if value else "no"
    else:
        shown = _json_value(value)
    words = {"==": "=", "!=": "≠", ">=": "≥", "<=": "≤"}
    if feature is not None and feature.kind == LIST:
        words = {"in": "include any of", "not in": "include none of"}
    operator = words.get(condition.operator, condition.operator)
    return f"{label} {operator} {shown}"


def describe_definition(definition: Definition) -> str:
    """Return the whole definition in words, groups in brackets."""
    joiner = {"all": " and ", "any": " or "}
    groups = [
        joiner[g.match].join(describe_condition(c) for c in g.conditions)
        for g in definition.groups
        if g.conditions
    ]
    if not groups:
        return "everyone"
    if len(groups) == 1:
        return groups[0]
    return joiner[definition.match].join(f"({g})" for g in groups)
