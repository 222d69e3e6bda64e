"""The feature table of one dataset and window, built once and held where it was computed.

``load_feature_base`` is the app's loader: it builds the table (``feature_table``) on the
configured engine and keeps it in the session's private in-memory DuckDB, or cached in the
Spark session. Presets, the builder, overlap and SCALE only filter and aggregate it
(docs/behaviour.md §1).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import ibis
import ibis.expr.types as ir
from ibis.backends import BaseBackend

from dashboard import engines, order_rules
from dashboard.behaviour.catalogue import FEATURES, LIST, TEXT
from dashboard.behaviour.feature_inputs import available_sources, missing_inputs
from dashboard.behaviour.feature_table import (
    DEFAULT_PARAMS,
    FeatureParams,
    build_behaviour_features,
)
from dashboard.rfm import analysis
from dashboard.workspace import store


@dataclass
class FeatureBase:
    """The materialised feature table (BASE_COLUMNS) of one dataset for one window.

    ``table`` lives in ``backend``: a private in-memory DuckDB owned by whoever holds this object,
    or a table cached in the Spark session (see ``engines.materialise``). ``missing`` is
    ``missing_inputs`` of the dataset.
    """

    dataset: str
    window: order_rules.Window
    params: FeatureParams
    backend: BaseBackend
    table: ir.Table
    missing: dict[str, str]

    def close(self) -> None:
        """Free the table: close the private DuckDB, or uncache it (Spark keeps running)."""
        engines.release(self.backend, self.table)


def build_feature_base(
    tables: engines.EngineTables,
    dataset: str,
    as_of: dt.date | None = None,
    start: dt.date | None = None,
    params: FeatureParams = DEFAULT_PARAMS,
) -> FeatureBase:
    """Build the feature table of a dataset's tables once and hold it where it was computed.

    In: the dataset's tables on any engine (``engines.open_tables``). Out: a FeatureBase whose
    table has BASE_COLUMNS (``build_behaviour_features``), held as ``engines.materialise`` says;
    free it with ``close()``. ``as_of`` defaults to the date of the latest order. Raises
    store.WorkspaceError when the dataset has no orders, analysis.NoCustomerKeyError when no
    order has a customer key.
    """
    if as_of is None:
        as_of = order_rules.latest_order_date(tables["orders"])
    if as_of is None:
        raise store.WorkspaceError(f"The dataset '{dataset}' has no orders yet.")
    no_key = analysis.find_missing_customer_key(tables["orders"])
    if no_key:
        raise analysis.NoCustomerKeyError(no_key)
    window = order_rules.Window(as_of=as_of, start=start)
    available = available_sources(tables)
    missing = missing_inputs(tables, available)
    expr = build_behaviour_features(tables, window, params, available)
    backend, table = engines.materialise(tables, expr, "customer_features")
    return FeatureBase(dataset, window, params, backend, table, missing)


def load_feature_base(
    workspace: Path,
    dataset: str,
    as_of: dt.date | None = None,
    start: dt.date | None = None,
    params: FeatureParams = DEFAULT_PARAMS,
) -> FeatureBase:
    """Return ``build_feature_base`` of ``dataset`` on the configured engine (the app's loader).

    DuckDB reads the workspace unless the environment chooses Spark
    (``engines.read_engine_settings``). Free the result with ``close()``.
    """
    with engines.open_configured_tables(workspace, dataset) as tables:
        return build_feature_base(tables, dataset, as_of, start, params)


def list_values(table: ir.Table, feature: str, limit: int = 200) -> list[object]:
    """Return the distinct non-null values of a text or list feature, most customers first.

    Ties are ordered by value; at most ``limit`` values. ``feature`` must be in FEATURES.
    """
    if FEATURES[feature].kind not in (TEXT, LIST):
        raise ValueError(f"'{feature}' is not a text or list feature.")
    column = table[feature]
    values = table.select(value=column.unnest() if FEATURES[feature].kind == LIST else column)
    values = values.filter(values.value.notnull())
    counted = values.group_by("value").aggregate(customers=values.count())
    ordered = counted.order_by([ibis.desc("customers"), "value"]).limit(limit)
    return list(ordered.to_pandas().value)
