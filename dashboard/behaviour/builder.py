"""The segment builder: definitions as data, compiled to one Ibis boolean over the feature table.

A definition is groups of conditions. Conditions inside a group are combined by the group's
``match`` ("all" = AND, "any" = OR); the groups are combined by the definition's ``match``. So
both an OR of AND-groups and an AND of OR-groups can be written, with one level of nesting.

A condition is ``feature operator value``. The feature must be a column of the feature table
(features.FEATURES) and the operator one its kind allows:

- number: > >= < <= == != (a number), in / not in (numbers), is null / is not null;
- date: > >= < <= == != (an ISO date such as "2025-01-31"), is null / is not null;
- text: == != (text), in / not in (texts), is null / is not null;
- flag: == != (true or false), is null / is not null;
- list (categories bought): in = bought any of the values, not in = bought none of them,
  is null / is not null.

A condition on a missing value is false (only "is null" matches it). Values become Ibis literals;
no SQL text is built from them.

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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import ibis
import ibis.expr.types as ir
import pandas as pd

from dashboard.behaviour import features
from dashboard.behaviour.features import DATE, FEATURES, FLAG, LIST, NUMBER, TEXT
from dashboard.errors import UserError
from dashboard.rfm import cut_points, scheme_io, schemes
from dashboard.workspace import store

MATCHES = ("all", "any")
COMPARISONS = (">", ">=", "<", "<=")
OPERATORS = (*COMPARISONS, "==", "!=", "in", "not in", "is null", "is not null")
NULL_OPERATORS = ("is null", "is not null")
SET_OPERATORS = ("in", "not in")
OPERATORS_BY_KIND = {
    NUMBER: OPERATORS,
    DATE: (*COMPARISONS, "==", "!=", *NULL_OPERATORS),
    TEXT: ("==", "!=", *SET_OPERATORS, *NULL_OPERATORS),
    FLAG: ("==", "!=", *NULL_OPERATORS),
    LIST: (*SET_OPERATORS, *NULL_OPERATORS),
}
MAX_GROUPS = 20
MAX_CONDITIONS = 50
MAX_VALUES = 1000
MAX_TEXT = 200
MAX_DESCRIPTION = 1000
PREVIEW_ROWS = 50


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
    key, resolved in the workspace by ``resolve_rfm_scheme``, and cut points (None = quantiles).
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


# ---------------------------------------------------------------- validation and JSON


def _check_value(feature: features.Feature, operator: str, value: object) -> object:
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
    return Definition(tuple(groups), definition.match, definition.rfm, definition.description)


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
    """Return the validated definition of a JSON text (at most 200,000 characters)."""
    if len(text) > scheme_io.MAX_JSON_CHARS:
        raise DefinitionError("The definition file is too large.")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DefinitionError(f"The definition is not valid JSON: {exc.msg}.") from None
    return definition_from_dict(document, require_conditions)


# ---------------------------------------------------------------- compiling


def compile_condition(table: ir.Table, condition: Condition) -> ir.BooleanValue:
    """Return one validated condition as a boolean over ``table`` (never null)."""
    condition = validate_condition(condition)
    column = table[condition.feature]
    operator, value = condition.operator, condition.value
    if operator == "is null":
        return column.isnull()
    if operator == "is not null":
        return column.notnull()
    if FEATURES[condition.feature].kind == LIST:
        any_of = ibis.or_(*(column.contains(ibis.literal(v)) for v in value))
        test = any_of if operator == "in" else ~any_of
        return column.notnull() & test.fill_null(False)
    if operator in SET_OPERATORS:
        literals = [ibis.literal(v) for v in value]
        test = column.isin(literals) if operator == "in" else column.notin(literals)
    else:
        literal = ibis.literal(value)
        test = {
            ">": column > literal,
            ">=": column >= literal,
            "<": column < literal,
            "<=": column <= literal,
            "==": column == literal,
            "!=": column != literal,
        }[operator]
    return test.fill_null(False)


def compile_definition(table: ir.Table, definition: Definition) -> ir.BooleanValue:
    """Return the definition as one boolean over a feature table (FEATURE_SCHEMA columns).

    A group without conditions, and a definition without groups, match everyone.
    """
    definition = validate_definition(definition, require_conditions=False)

    def combine(parts: list[ir.BooleanValue], match: str) -> ir.BooleanValue:
        if not parts:
            return ibis.literal(True)
        return ibis.and_(*parts) if match == "all" else ibis.or_(*parts)

    groups = [
        combine([compile_condition(table, c) for c in g.conditions], g.match)
        for g in definition.groups
    ]
    return combine(groups, definition.match)


def resolve_rfm_scheme(workspace: Path, spec: str) -> schemes.Scheme:
    """Return the scheme of an RfmSpec: a preset key or ``custom:<saved name>`` (no file paths),
    optionally read on another scale with ``@3``, ``@4`` or ``@5`` (see scheme_io.rescale_scheme).
    """
    key, _, scale = spec.partition("@")
    if scale and scale not in ("3", "4", "5"):
        raise DefinitionError(f"Unknown score scale in '{spec}'; use @3, @4 or @5.")
    if key in schemes.PRESETS:
        found = schemes.PRESETS[key]
        return scheme_io.rescale_scheme(found, int(scale)) if scale else found
    name = key.removeprefix(scheme_io.CUSTOM_PREFIX)
    if key.startswith(scheme_io.CUSTOM_PREFIX) and store.DATASET_NAME.match(name):
        found = scheme_io.load_custom_scheme(workspace, name)
        return scheme_io.rescale_scheme(found, int(scale)) if scale else found
    raise DefinitionError(
        f"Unknown RFM scheme '{spec}'; use one of {', '.join(schemes.PRESETS)} or "
        f"{scheme_io.CUSTOM_PREFIX}<name> of a saved scheme."
    )


def feature_view(base: ir.Table, spec: RfmSpec, workspace: Path) -> ir.Table:
    """Return the materialised base features with the RFM columns of ``spec`` (FEATURE_SCHEMA)."""
    scoring = cut_points.ScoringSpec(resolve_rfm_scheme(workspace, spec.scheme), spec.cuts)
    cuts = cut_points.resolve_cuts(features.select_measures(base), scoring)
    return features.attach_rfm(base, scoring.scheme, cuts)


def sql_for_definition(definition: Definition, dialect: str) -> str:
    """Return SQL selecting the members' customer_id and email from a ``customer_features``
    table (FEATURE_SCHEMA), compiled by Ibis for ``dialect`` (duckdb, postgres, bigquery,
    snowflake)."""
    table = ibis.table(features.FEATURE_SCHEMA, name="customer_features")
    expr = (
        table.filter(compile_definition(table, definition))
        .select("customer_id", "email")
        .order_by("customer_id")
    )
    return str(ibis.to_sql(expr, dialect=dialect))


# ---------------------------------------------------------------- measuring


def measure_segment(table: ir.Table, condition: ir.BooleanValue) -> dict[str, float]:
    """Return customers, share_customers, revenue and share_revenue of a segment.

    In: a feature table and a boolean over it. Shares are fractions of all rows of the table and
    of their net revenue (0 when there is none).
    """
    # Decimal sums, cast once: exact, whatever order an engine adds the rows in.
    revenue = table.net_revenue
    row = (
        table.aggregate(
            customers=table.count(where=condition),
            total_customers=table.count(),
            revenue=revenue.sum(where=condition).cast("float64"),
            total_revenue=revenue.sum().cast("float64"),
        )
        .to_pandas()
        .iloc[0]
    )
    customers, total = int(row.customers or 0), int(row.total_customers or 0)
    revenue_sum = 0.0 if pd.isna(row.revenue) else float(row.revenue)
    total_revenue = 0.0 if pd.isna(row.total_revenue) else float(row.total_revenue)
    return {
        "customers": customers,
        "share_customers": customers / total if total else 0.0,
        "revenue": revenue_sum,
        "share_revenue": revenue_sum / total_revenue if total_revenue else 0.0,
    }


def list_members(
    table: ir.Table,
    condition: ir.BooleanValue,
    columns: Sequence[str] = ("customer_id", "email", "orders", "net_revenue", "rfm_segment"),
    limit: int | None = None,
) -> pd.DataFrame:
    """Return the members (``columns`` of the feature table), ordered by customer_id.

    Columns must be features; customer_id is always first. ``limit`` keeps the first rows only.
    """
    unknown = [c for c in columns if c not in FEATURES]
    if unknown:
        raise DefinitionError(f"Unknown columns: {', '.join(unknown)}.")
    chosen = ["customer_id", *(c for c in dict.fromkeys(columns) if c != "customer_id")]
    members = table.filter(condition).select(*chosen).order_by("customer_id")
    if limit is not None:
        members = members.limit(limit)
    return members.to_pandas()


def segment_flags(
    base: ir.Table, definitions: Mapping[str, Definition], workspace: Path
) -> tuple[ir.Table, dict[str, str]]:
    """Return the features with one boolean column per segment, and segment -> column name.

    In: the materialised base features (BASE_COLUMNS); segments may use different RFM scorings,
    each is evaluated over its own view and joined back by customer_id.
    """
    names = {name: f"_segment_{i}" for i, name in enumerate(definitions)}
    views = {d.rfm: feature_view(base, d.rfm, workspace) for d in definitions.values()}
    table = base
    for name, definition in definitions.items():
        view = views[definition.rfm]
        flags = view.select("customer_id", **{names[name]: compile_definition(view, definition)})
        joined = table.join(flags, "customer_id")
        table = joined.drop(*(c for c in joined.columns if c == "customer_id_right"))
    return table, names


def overlap_matrix(
    base: ir.Table, definitions: Mapping[str, Definition], workspace: Path
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """How chosen segments overlap: (counts, shares), segments x segments.

    counts[a][b] = customers in both a and b (the diagonal is each segment's size);
    shares[a][b] = counts[a][b] / size of a (the row's segment), NaN for an empty segment.
    """
    table, columns = segment_flags(base, definitions, workspace)
    order = list(definitions)
    row = (
        table.aggregate(
            **{
                f"c_{i}_{j}": (table[columns[a]] & table[columns[b]]).cast("int64").sum()
                for i, a in enumerate(order)
                for j, b in enumerate(order)
                if j >= i
            }
        )
        .to_pandas()
        .iloc[0]
    )
    counts = pd.DataFrame(0, index=order, columns=order, dtype="int64")
    for i, a in enumerate(order):
        for j, b in enumerate(order):
            value = row[f"c_{min(i, j)}_{max(i, j)}"]
            counts.loc[a, b] = 0 if pd.isna(value) else int(value)
    sizes = pd.Series([counts.loc[s, s] for s in order], index=order)
    shares = counts.div(sizes.where(sizes > 0), axis=0)
    return counts, shares


SCALE_COLUMNS = [
    "segment",
    "size",
    "share_customers",
    "currency",
    "access",
    "love_repeat_rate",
    "love_satisfaction",
    "early_adoption",
    "revenue_at_stake",
    "share_revenue",
    "scale_score",
]


def scale_table(
    base: ir.Table,
    definitions: Mapping[str, Definition],
    workspace: Path,
    launch_days: int = 30,
) -> pd.DataFrame:
    """SCALE prioritisation of segments (docs/behaviour.md §6), one row per segment (SCALE_COLUMNS).

    Size = customers; Currency = average net revenue per customer; Access = share of customers
    who accept email or SMS marketing; Love = repeat rate (share with 2+ orders among buyers) and
    the average latest survey score; Early adoption = average share of orders bought within
    ``launch_days`` of a product's launch; revenue at stake = the segment's net revenue.
    scale_score = mean over Size, Currency, Access, repeat rate and Early adoption of each
    segment's rank among the segments, scaled to 0..1 (1 = best), ties sharing the higher rank.
    """
    if launch_days not in features.TREND_WINDOWS_DAYS:
        raise DefinitionError(
            f"launch_days must be one of {', '.join(map(str, features.TREND_WINDOWS_DAYS))}."
        )
    table, columns = segment_flags(base, definitions, workspace)
    revenue = table.net_revenue  # decimal sums, cast once (exact on every engine)
    reachable = table.accepts_marketing.fill_null(False) | table.accepts_sms.fill_null(False)
    trend = table[f"trend_share_{launch_days}d"]
    measures: dict[str, ir.Value] = {
        "_total": table.count(),
        "_total_revenue": revenue.sum().cast("float64"),
    }
    for i, name in enumerate(definitions):
        member = table[columns[name]]
        measures |= {
            f"size_{i}": member.cast("int64").sum(),
            f"revenue_{i}": revenue.sum(where=member).cast("float64"),
            f"reachable_{i}": (member & reachable).cast("int64").sum(),
            f"buyers_{i}": (member & (table.orders >= 1)).cast("int64").sum(),
            f"repeat_{i}": (member & (table.orders >= 2)).cast("int64").sum(),
            f"survey_{i}": table.survey_score.mean(where=member),
            f"trend_{i}": trend.mean(where=member),
        }
    row = table.aggregate(**measures).to_pandas().iloc[0]

    def number(key: str) -> float:
        return float("nan") if pd.isna(row[key]) else float(row[key])

    rows = []
    for i, name in enumerate(definitions):
        size = int(number(f"size_{i}") or 0)
        buyers = number(f"buyers_{i}")
        revenue_sum = number(f"revenue_{i}") if size else 0.0
        rows.append(
            {
                "segment": name,
                "size": size,
                "share_customers": size / number("_total") if number("_total") else 0.0,
                "currency": revenue_sum / size if size else float("nan"),
                "access": number(f"reachable_{i}") / size if size else float("nan"),
                "love_repeat_rate": number(f"repeat_{i}") / buyers if buyers else float("nan"),
                "love_satisfaction": number(f"survey_{i}"),
                "early_adoption": number(f"trend_{i}"),
                "revenue_at_stake": revenue_sum,
                "share_revenue": revenue_sum / number("_total_revenue")
                if number("_total_revenue")
                else 0.0,
            }
        )
    result = pd.DataFrame(rows, columns=SCALE_COLUMNS[:-1])
    ranked = result[["size", "currency", "access", "love_repeat_rate", "early_adoption"]]
    ranks = ranked.rank(method="max", pct=True, na_option="keep")
    result["scale_score"] = ranks.mean(axis=1, skipna=True)
    return result[SCALE_COLUMNS]


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
