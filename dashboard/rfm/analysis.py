"""The analysis pipeline the app and the CLI share: dataset -> customer base -> cuts -> segments.

``load_customer_base`` is the expensive step (one pass over the orders) and is run once per
dataset, analysis date, window and counting rules; its result lives in a private in-memory
database so that every slider move only re-runs scoring and the summary.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import ibis.expr.types as ir
import pandas as pd
from ibis.backends import BaseBackend

from dashboard import engines, order_rules
from dashboard.rfm import cell_index, cut_points, segments
from dashboard.rfm.schemes import Scheme
from dashboard.workspace import store


@dataclass(frozen=True)
class DatasetOverview:
    """Headline facts of one dataset, for the sidebar and the data page."""

    orders: int
    orders_without_customer: int
    customers_in_orders: int
    customers_file_rows: int
    first_order_on: dt.date | None
    last_order_on: dt.date | None
    currencies: tuple[str, ...]


@dataclass
class CustomerBase:
    """The materialised per-customer measures of one dataset for one window.

    ``measures`` has the columns of ``cut_points.build_customer_measures`` and lives in ``backend``:
    a private in-memory DuckDB owned by whoever holds this object (one per user session), or,
    when built on Spark, a table cached in that Spark session.
    ``cells`` is the in-memory index of the slider step, built on first use (see
    ``index_cells``).
    """

    dataset: str
    window: order_rules.Window
    rules: order_rules.CountingRules
    backend: BaseBackend
    measures: ir.Table
    customers_outside_window: int
    cells: cell_index.CellIndex | None = None

    def close(self) -> None:
        """Free the measures: close the private DuckDB, or uncache them (Spark keeps running)."""
        engines.release(self.backend, self.measures)


def index_cells(base: CustomerBase) -> cell_index.CellIndex | None:
    """Return the base's slider index, building it on first use; None for a base on Spark.

    Only a base held in a private in-memory DuckDB is indexed: a cluster's base stays where it
    is and is scored by Ibis queries.
    """
    if base.cells is None and engines.holds_locally(base.backend):
        base.cells = cell_index.build_cell_index(base.measures)
    return base.cells


def describe_dataset(workspace: Path, dataset: str) -> DatasetOverview:
    """Return the headline facts of ``dataset`` (counts, date range, currencies)."""
    with store.open_for_read(workspace, dataset) as backend:
        orders = backend.table("orders")
        facts = orders.aggregate(
            orders=orders.count(),
            orders_without_customer=orders.customer_id.isnull().sum(),
            customers=orders.customer_id.nunique(),
            first=orders.ordered_at.min(),
            last=orders.ordered_at.max(),
        ).to_pandas()
        currencies = (
            orders.filter(orders.currency.notnull()).select("currency").distinct().to_pandas()
        )
        customers_rows = store.count_rows(backend, "customers")
    row = facts.iloc[0]
    return DatasetOverview(
        orders=int(row.orders),
        orders_without_customer=int(row.orders_without_customer or 0),
        customers_in_orders=int(row.customers),
        customers_file_rows=customers_rows,
        first_order_on=None if pd.isna(row["first"]) else row["first"].date(),
        last_order_on=None if pd.isna(row["last"]) else row["last"].date(),
        currencies=tuple(sorted(currencies.currency)),
    )


class NoCustomerKeyError(store.WorkspaceError):
    """No order of the dataset has a customer key, so no customer figure can be computed."""


def explain_missing_customer_key(orders: int, orders_without_customer: int) -> str | None:
    """Return one sentence saying what is missing and how to fix it when none of a dataset's
    ``orders`` has a customer key (all are ``orders_without_customer``), else None."""
    if not orders or orders_without_customer < orders:
        return None
    counted = f"{orders:,} order{'' if orders == 1 else 's'}"
    return (
        f"This dataset has no customer key: its {counted} {'was' if orders == 1 else 'were'} "
        "loaded without an e-mail, phone or customer id, so no customer can be scored or "
        "segmented; to get customer figures, load the orders from a file that has one of those "
        "columns (a Shopify or WooCommerce export, or a table with its customer column mapped) "
        "into a new dataset."
    )


def find_missing_customer_key(orders: ir.Table) -> str | None:
    """Return ``explain_missing_customer_key`` of a canonical ``orders`` table on any engine.

    One order with a customer key settles it, so a dataset with customers costs a query that
    stops at its first such order; the orders are counted only when there is none.
    """
    if orders.filter(orders.customer_id.notnull()).limit(1).count().execute():
        return None
    total = int(orders.count().execute())
    return explain_missing_customer_key(total, total)


def build_customer_base(
    tables: engines.EngineTables,
    dataset: str,
    as_of: dt.date | None = None,
    start: dt.date | None = None,
    rules: order_rules.CountingRules = order_rules.DEFAULT_RULES,
    excluded: tuple[tuple[dt.date, dt.date], ...] = (),
) -> CustomerBase:
    """Build the per-customer measures once, on any engine (the expensive step).

    In: ``engines.open_tables``' tables. Out: a CustomerBase whose ``measures`` has the columns
    of ``cut_points.build_customer_measures``, held as ``engines.materialise`` says; free it with
    ``base.close()``. ``as_of`` defaults to the date of the latest order. Raises
    store.WorkspaceError when the dataset has no orders, NoCustomerKeyError when no order has a
    customer key.
    """
    if as_of is None:
        as_of = order_rules.latest_order_date(tables.orders)
    if as_of is None:
        raise store.WorkspaceError(f"The dataset '{dataset}' has no orders yet.")
    no_key = find_missing_customer_key(tables.orders)
    if no_key:
        raise NoCustomerKeyError(no_key)
    window = order_rules.Window(as_of=as_of, start=start, excluded=excluded)
    expr = cut_points.build_customer_measures(tables.orders, window, rules, tables.customers)
    backend, measures = engines.materialise(tables, expr, "customer_measures")
    outside = int((measures.status == cut_points.STATUS_OUTSIDE_WINDOW).sum().execute() or 0)
    return CustomerBase(dataset, window, rules, backend, measures, outside)


def load_customer_base(
    workspace: Path,
    dataset: str,
    as_of: dt.date | None = None,
    start: dt.date | None = None,
    rules: order_rules.CountingRules = order_rules.DEFAULT_RULES,
    excluded: tuple[tuple[dt.date, dt.date], ...] = (),
    settings: engines.EngineSettings | None = None,
) -> CustomerBase:
    """Return ``build_customer_base`` of ``dataset`` on the configured engine (the app's loader).

    The engine comes from ``settings`` or the environment (``engines.read_engine_settings``;
    DuckDB over the workspace by default). Free the result with ``base.close()``.
    """
    with engines.open_configured_tables(workspace, dataset, settings) as tables:
        return build_customer_base(tables, dataset, as_of, start, rules, excluded)


def segment_summary(
    base: CustomerBase,
    cuts: cut_points.Cuts,
    scheme: Scheme,
    predictions: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Return the per-segment table (segments.SUMMARY_COLUMNS) for these cuts and scheme; with
    ``pipeline.score_customers``' rows as ``predictions`` also segments.PREDICTED_COLUMNS."""
    cells = index_cells(base)
    if cells is None:
        counted = segments.summarise_cells(base.measures, cuts, predictions)
        return segments.summarise_segments(counted, scheme)
    return segments.summarise_segments(cell_index.count_cells(cells, cuts, predictions), scheme)


def segment_members(
    base: CustomerBase, cuts: cut_points.Cuts, scheme: Scheme, segment: str | None = None
) -> pd.DataFrame:
    """Return one row per customer (all, or those of ``segment``) with measures, scores, segment."""
    table = segments.assign_segments(base.measures, cuts, scheme)
    if segment is not None:
        table = table.filter(table.segment == segment)
    return table.to_pandas().astype(
        {"recency_days": "Int64", "r_score": "Int64", "f_score": "Int64", "m_score": "Int64"}
    )


def measure_limits(base: CustomerBase) -> dict[str, float]:
    """Return slider ranges per measure: the largest recency, and the 99th percentile of F and M.

    Percentiles keep a few wholesale customers from stretching the sliders past use. They are
    ``cut_points.interpolated_quantile`` values, the same on every engine.
    """
    scored = base.measures.filter(base.measures.status == cut_points.STATUS_SCORED)
    recency = scored.recency_days.max().execute()
    frequency = cut_points.interpolated_quantile(scored.frequency, 0.99)
    monetary = cut_points.interpolated_quantile(scored.monetary, 0.99)
    return {
        "recency": float(0 if pd.isna(recency) else recency),
        "frequency": float(frequency or 1),
        "monetary": float(monetary or 1),
    }
