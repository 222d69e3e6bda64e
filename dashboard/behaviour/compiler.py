"""Definitions compiled to one Ibis boolean over a feature table, and the views they run on.

Values become Ibis literals; no SQL text is built from them. Each definition carries its own RFM
scoring (``RfmSpec``), so it runs on a view of the materialised base features with those RFM
columns attached (``feature_view``). Reference: docs/behaviour.md §3.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import ibis
import ibis.expr.types as ir

from dashboard.behaviour.catalogue import FEATURE_SCHEMA, FEATURES, LIST
from dashboard.behaviour.definitions import (
    SET_OPERATORS,
    Condition,
    Definition,
    DefinitionError,
    RfmSpec,
    validate_condition,
    validate_definition,
)
from dashboard.behaviour.feature_table import attach_rfm, select_measures
from dashboard.rfm import cut_points, scheme_io, schemes
from dashboard.workspace import store


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
    if key.startswith(scheme_io.CUSTOM_PREFIX) and store.DATASET_NAME.fullmatch(name):
        found = scheme_io.load_custom_scheme(workspace, name)
        return scheme_io.rescale_scheme(found, int(scale)) if scale else found
    raise DefinitionError(
        f"Unknown RFM scheme '{spec}'; use one of {', '.join(schemes.PRESETS)} or "
        f"{scheme_io.CUSTOM_PREFIX}<name> of a saved scheme."
    )


def feature_view(base: ir.Table, spec: RfmSpec, workspace: Path) -> ir.Table:
    """Return the materialised base features with the RFM columns of ``spec`` (FEATURE_SCHEMA)."""
    scoring = cut_points.ScoringSpec(resolve_rfm_scheme(workspace, spec.scheme), spec.cuts)
    cuts = cut_points.resolve_cuts(select_measures(base), scoring)
    return attach_rfm(base, scoring.scheme, cuts)


def sql_for_definition(definition: Definition, dialect: str) -> str:
    """Return SQL selecting the members' customer_id and email from a ``customer_features``
    table (FEATURE_SCHEMA), compiled by Ibis for ``dialect`` (duckdb, postgres, bigquery,
    snowflake)."""
    table = ibis.table(FEATURE_SCHEMA, name="customer_features")
    expr = (
        table.filter(compile_definition(table, definition))
        .select("customer_id", "email")
        .order_by("customer_id")
    )
    return str(ibis.to_sql(expr, dialect=dialect))


def flag_segments(
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
