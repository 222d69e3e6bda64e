"""The feature table of one dataset and window, built once and held where it was computed.

``load_feature_base`` is the app's loader: it builds the table (``feature_table``) on the
configured engine and keeps it in the session's private in-memory DuckDB, or cached in the
Spark session. Presets, the builder, overlap and SCALE only filter and aggregate it
(docs/behaviour.md §1). Building it fits the purchase and spend models once
(``pipeline.fit_predictions``, model ``auto``) and joins every customer's predictions with the
catalogue's fixed settings; a model that cannot be fitted leaves the predicted features empty,
with its reason, as a missing file does.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import ibis
import ibis.expr.types as ir
from ibis.backends import BaseBackend

from dashboard import engines, order_rules
from dashboard.behaviour.catalogue import (
    FEATURES,
    LIST,
    PREDICTED_COLUMNS,
    PREDICTION_CHURN_DAYS,
    PREDICTION_HORIZON_DAYS,
    PREDICTION_MODEL,
    TEXT,
)
from dashboard.behaviour.feature_inputs import available_sources, missing_inputs
from dashboard.behaviour.feature_table import (
    DEFAULT_PARAMS,
    FeatureParams,
    build_behaviour_features,
)
from dashboard.predict import pipeline
from dashboard.predict.model_errors import ModelFitError
from dashboard.rfm import analysis
from dashboard.workspace import store

# The settings of every predicted feature: never the Predictions page's, so that a saved
# definition picks the same members in the app and the CLI.
PREDICTION_SETTINGS = pipeline.PredictionSettings(
    horizon_days=PREDICTION_HORIZON_DAYS, churn_days=PREDICTION_CHURN_DAYS, discount_rate=0.0
)


@dataclass
class FeatureBase:
    """The materialised feature table (BASE_COLUMNS) of one dataset for one window.

    ``table`` lives in ``backend``: a private in-memory DuckDB owned by whoever holds this object,
    or a table cached in the Spark session (see ``engines.materialise``). ``missing`` is
    ``missing_inputs`` of the dataset, plus each predicted feature with the reason the models
    could not be fitted, when they could not.
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
    prediction_fit: pipeline.PredictionFit | None = None,
) -> FeatureBase:
    """Build the feature table of a dataset's tables once and hold it where it was computed.

    In: the dataset's tables on any engine (``engines.open_tables``). Out: a FeatureBase whose
    table has BASE_COLUMNS (``build_behaviour_features``), held as ``engines.materialise`` says;
    free it with ``close()``. ``as_of`` defaults to the date of the latest order. The predicted
    features come from ``prediction_fit`` when it is an ``auto`` fit of this dataset, date and
    counting rules, else from a fit made here (``score_predictions``). Raises
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
    predictions = None
    if "predictions" in available:
        predictions, reason = score_predictions(
            tables, dataset, as_of, params.counting, prediction_fit
        )
        if reason is not None:
            missing |= dict.fromkeys(PREDICTED_COLUMNS, reason)
    expr = build_behaviour_features(tables, window, params, available, predictions)
    backend, table = engines.materialise(tables, expr, "customer_features")
    return FeatureBase(dataset, window, params, backend, table, missing)


def score_predictions(
    tables: engines.EngineTables,
    dataset: str,
    as_of: dt.date,
    rules: order_rules.CountingRules,
    fit: pipeline.PredictionFit | None = None,
) -> tuple[ir.Table | None, str | None]:
    """Return every customer's predictions with PREDICTION_SETTINGS, or why there are none.

    In: the dataset's tables; ``fit`` is reused only when it is an ``auto`` fit (its
    ``model_choice`` is set) of ``dataset``, ``as_of`` and ``rules``, else the models are fitted
    here. Out: (``pipeline.score_customers`` table: customer_id and the predicted columns, None),
    or (None, the ModelFitError's sentence) when the models cannot be fitted.
    """
    reusable = (
        fit is not None
        and fit.model_choice is not None
        and (fit.dataset, fit.as_of, fit.rules) == (dataset, as_of, rules)
    )
    if not reusable:
        try:
            fit = pipeline.fit_predictions(
                tables, as_of, rules, model=PREDICTION_MODEL, dataset=dataset
            )
        except ModelFitError as exc:
            return None, str(exc)
    return pipeline.score_customers(tables, fit, PREDICTION_SETTINGS), None


def load_feature_base(
    workspace: Path,
    dataset: str,
    as_of: dt.date | None = None,
    start: dt.date | None = None,
    params: FeatureParams = DEFAULT_PARAMS,
    prediction_fit: pipeline.PredictionFit | None = None,
) -> FeatureBase:
    """Return ``build_feature_base`` of ``dataset`` on the configured engine (the app's loader).

    DuckDB reads the workspace unless the environment chooses Spark
    (``engines.read_engine_settings``). Free the result with ``close()``.
    """
    with engines.open_configured_tables(workspace, dataset) as tables:
        return build_feature_base(tables, dataset, as_of, start, params, prediction_fit)


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
