"""Segment migration: the segments at two analysis dates and who moved from which to which.

Both dates are scored the same way (``cut_points.ScoringSpec``): quantile cut points computed
at each date, or the same custom cut points at both. Each date's segments are one expensive step
(a pass over the orders); the comparison is an Ibis join of the two per-customer tables in a
private database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from ibis.backends.duckdb import Backend as DuckDBBackend

from dashboard import engines, order_rules
from dashboard.errors import UserError
from dashboard.rfm import analysis, cut_points, segments
from dashboard.rfm.schemes import PROSPECTS, Scheme
from dashboard.workspace import store

DEFAULT_GAP_DAYS = 90
NOT_YET = "Not a customer yet"
OUTSIDE_WINDOW = "Outside window"
MEMBER_COLUMNS = ["customer_id", "segment_from", "segment_to", "monetary_from", "monetary_to"]
# Measures and scores at the second date, carried for the lists of who entered or left a segment.
MEASURES_TO = ["recency_days", "frequency", "r_score", "f_score", "m_score"]
CHANGE_COLUMNS = [
    "customer_id",
    "email",
    "segment_before",
    "segment_after",
    "recency_days",
    "frequency",
    "monetary",
    "r_score",
    "f_score",
    "m_score",
]
Direction = Literal["entered", "left"]


class MigrationError(UserError):
    """Dates that cannot be compared, stated as one sentence."""


class UnknownSegmentError(MigrationError):
    """A segment asked for by name that the scheme cannot give a customer."""


def order_segments(scheme: Scheme) -> list[str]:
    """Return every label a customer can get at a date, in display order."""
    return [*scheme.segments, PROSPECTS, OUTSIDE_WINDOW, NOT_YET]


def find_past_prospects(orders: ir.Table, as_of: dt.date) -> pa.Array | None:
    """Return the ids of the prospects who existed at ``as_of``, or None when all of them did.

    The customers table has no sign-up date, so a customer exists from their first order (of
    any state) on. On or after the latest order's date the customers file itself is up to date,
    so every customer in it exists (None). Before that, a prospect at ``as_of`` is a customer
    with an order by then but no valid one; the caller keeps only the prospects listed here.
    In: canonical ``orders`` (any engine). Out: customer ids (string).
    """
    latest = order_rules.latest_order_date(orders)
    if latest is None or as_of >= latest:
        return None
    placed = orders.filter(orders.customer_id.notnull() & (orders.ordered_at.date() <= as_of))
    return (
        placed.select("customer_id").distinct().to_pyarrow().column("customer_id").combine_chunks()
    )


def segments_at(
    tables: engines.EngineTables, dataset: str, as_of: dt.date, scoring: cut_points.ScoringSpec
) -> tuple[pa.Table, cut_points.Cuts]:
    """Score a dataset's tables as of ``as_of``; return every known customer's segment and cuts.

    In: the dataset's tables on any engine (``engines.open_tables``). Out: an Arrow table with
    one row per customer who existed at ``as_of`` (``find_past_prospects``): customer_id, segment
    (a scheme segment, Prospects, or Outside window for customers whose valid orders all fall
    before the look-back window), monetary (decimal, net revenue in the window) and MEASURES_TO
    (recency_days and the scores are null for prospects and customers outside the window).
    """
    base = analysis.build_customer_base(
        tables,
        dataset,
        as_of=as_of,
        start=scoring.window_start(as_of),
        rules=scoring.rules,
        excluded=scoring.excluded,
    )
    try:
        cuts = cut_points.resolve_cuts(base.measures, scoring)
        labelled = segments.assign_segments(base.measures, cuts, scoring.scheme)
        measures = base.measures
        outside = measures.filter(measures.status == cut_points.STATUS_OUTSIDE_WINDOW).select(
            "customer_id",
            segment=ibis.literal(OUTSIDE_WINDOW),
            monetary=measures.monetary,
            recency_days=ibis.null(labelled.recency_days.type()),
            frequency=measures.frequency.cast(labelled.frequency.type()),
            r_score=ibis.null(labelled.r_score.type()),
            f_score=ibis.null(labelled.f_score.type()),
            m_score=ibis.null(labelled.m_score.type()),
        )
        kept_columns = ["customer_id", "segment", "monetary", *MEASURES_TO]
        table = labelled.select(kept_columns).union(outside).to_pyarrow()
    finally:
        base.close()
    existing = find_past_prospects(tables.orders, as_of)
    if existing is not None:
        kept = pc.or_(
            pc.not_equal(table.column("segment"), PROSPECTS),
            pc.is_in(table.column("customer_id"), value_set=existing),
        )
        table = table.filter(kept)
    return table, cuts


@dataclass
class Migration:
    """The segments of every customer at two dates, held in a private in-memory database.

    ``customers`` has MEMBER_COLUMNS, MEASURES_TO (at ``date_to``) and email (null when the
    customers file has none): one row per customer known at ``date_to``; customers not yet known
    at ``date_from`` have segment_from = NOT_YET and monetary_from = 0. Money stays decimal here
    so that sums are exact whatever order the engine adds rows in.
    """

    date_from: dt.date
    date_to: dt.date
    scheme: Scheme
    cuts_from: cut_points.Cuts
    cuts_to: cut_points.Cuts
    backend: DuckDBBackend
    customers: ir.Table


def load_migration(
    workspace: Path,
    dataset: str,
    date_from: dt.date,
    date_to: dt.date,
    scoring: cut_points.ScoringSpec,
) -> Migration:
    """Return ``build_migration`` of the dataset on the configured engine."""
    with engines.open_configured_tables(workspace, dataset) as tables:
        return build_migration(tables, dataset, date_from, date_to, scoring)


def build_migration(
    tables: engines.EngineTables,
    dataset: str,
    date_from: dt.date,
    date_to: dt.date,
    scoring: cut_points.ScoringSpec,
) -> Migration:
    """Segment a dataset's tables at both dates and join the two per-customer tables.

    In: the dataset's tables on any engine. Out: a Migration (see there) whose customers table
    is joined in a private in-memory DuckDB, from the two dates' segments brought back as Arrow.
    """
    if date_from >= date_to:
        raise MigrationError(f"The first date ({date_from}) must be before the second ({date_to}).")
    before, cuts_from = segments_at(tables, dataset, date_from, scoring)
    after, cuts_to = segments_at(tables, dataset, date_to, scoring)
    emails = read_emails(tables)
    scratch = store.open_scratch()
    old = scratch.create_table("segments_from", before)
    new = scratch.create_table("segments_to", after)
    known = scratch.create_table("emails", emails)
    # Every customer known at the earlier date is still known at the later one.
    joined = new.left_join(old, new.customer_id == old.customer_id).left_join(
        known, new.customer_id == known.customer_id
    )
    customers = joined.select(
        customer_id=new.customer_id,
        segment_from=old.segment.fill_null(NOT_YET),
        segment_to=new.segment,
        monetary_from=old.monetary.fill_null(ibis.literal(0, old.monetary.type())),
        monetary_to=new.monetary,
        **{column: new[column] for column in MEASURES_TO},
        email=known.email,
    )
    return Migration(date_from, date_to, scoring.scheme, cuts_from, cuts_to, scratch, customers)


def read_emails(tables: engines.EngineTables) -> pa.Table:
    """Return customer_id and email (string) of the customers file; no rows when there is none."""
    if tables.customers is None:
        return pa.table(
            {"customer_id": pa.array([], pa.string()), "email": pa.array([], pa.string())}
        )
    customers = tables.customers
    return customers.select("customer_id", email=customers.email.cast("string")).to_pyarrow()


def summarise_transitions(migration: Migration) -> pd.DataFrame:
    """Customers and revenue per (segment_from, segment_to) pair.

    Out: one row per pair that has customers, in display order: segment_from, segment_to,
    customers, revenue_from, revenue_to (net revenue in the window at each date).
    """
    table = migration.customers
    counts = (
        table.group_by(["segment_from", "segment_to"])
        .aggregate(
            customers=table.count(),
            revenue_from=table.monetary_from.sum().cast("float64"),
            revenue_to=table.monetary_to.sum().cast("float64"),
        )
        .to_pandas()
    )
    rank = {label: i for i, label in enumerate(order_segments(migration.scheme))}
    counts = counts.sort_values(
        ["segment_from", "segment_to"], key=lambda column: column.map(rank), ignore_index=True
    )
    counts["customers"] = counts.customers.astype("int64")
    return counts


def pivot_transitions(
    transitions: pd.DataFrame, scheme: Scheme, value: str = "customers"
) -> pd.DataFrame:
    """Return the transition matrix: rows segment_from, columns segment_to, cells ``value``.

    In: the output of ``summarise_transitions``. Only labels that occur are kept, in display order.
    """
    labels = order_segments(scheme)
    matrix = transitions.pivot_table(
        index="segment_from", columns="segment_to", values=value, aggfunc="sum", fill_value=0
    )
    rows = [label for label in labels if label in matrix.index]
    columns = [label for label in labels if label in matrix.columns]
    return matrix.reindex(index=rows, columns=columns)


def count_moves(transitions: pd.DataFrame) -> dict[str, float]:
    """Return customers and revenue_to in total and of the customers who changed segment."""
    moved = transitions[transitions.segment_from != transitions.segment_to]
    return {
        "customers": int(transitions.customers.sum()),
        "customers_moved": int(moved.customers.sum()),
        "revenue": float(transitions.revenue_to.sum()),
        "revenue_moved": float(moved.revenue_to.sum()),
    }


def list_movers(
    migration: Migration, segment_from: str | None = None, segment_to: str | None = None
) -> pd.DataFrame:
    """Return the customers who moved (from and to as given; None = any), ordered by id.

    Out: MEMBER_COLUMNS. With both segments equal it lists the customers who stayed.
    """
    table = migration.customers
    if segment_from is not None:
        table = table.filter(table.segment_from == ibis.literal(segment_from))
    if segment_to is not None:
        table = table.filter(table.segment_to == ibis.literal(segment_to))
    if segment_from is None or segment_to is None or segment_from != segment_to:
        table = table.filter(table.segment_from != table.segment_to)
    return table.order_by("customer_id").select(MEMBER_COLUMNS).to_pandas()


def list_members(migration: Migration) -> pd.DataFrame:
    """Return every customer's segment and revenue at both dates (MEMBER_COLUMNS), by id."""
    return migration.customers.order_by("customer_id").select(MEMBER_COLUMNS).to_pandas()


def check_segment(scheme: Scheme, segment: str) -> None:
    """Raise UnknownSegmentError unless ``segment`` is a label a customer can get at a date."""
    labels = order_segments(scheme)
    if segment not in labels:
        raise UnknownSegmentError(
            f"'{segment}' is not a segment of the {scheme.key} scheme; "
            f"choose one of: {', '.join(labels)}."
        )


def list_segment_changes(migration: Migration, segment: str, direction: Direction) -> pd.DataFrame:
    """Return who entered or who left ``segment`` between the two dates, ordered by id.

    Entered: in ``segment`` at the second date but not at the first, customers new since the
    first date included (their segment_before is NOT_YET), so the count is the matrix column
    of ``segment`` minus its diagonal cell; left: the matrix row minus the diagonal. Both come
    from the same per-customer table as ``summarise_transitions``, so they agree by construction.
    Out: CHANGE_COLUMNS, the measures and scores as at the second date (null scores for
    prospects and customers outside the window).
    """
    check_segment(migration.scheme, segment)
    table = migration.customers
    label = ibis.literal(segment)
    if direction == "entered":
        table = table.filter((table.segment_to == label) & (table.segment_from != label))
    else:
        table = table.filter((table.segment_from == label) & (table.segment_to != label))
    changes = (
        table.order_by("customer_id")
        .select(
            "customer_id",
            "email",
            segment_before=table.segment_from,
            segment_after=table.segment_to,
            recency_days=table.recency_days,
            frequency=table.frequency,
            monetary=table.monetary_to,
            r_score=table.r_score,
            f_score=table.f_score,
            m_score=table.m_score,
        )
        .to_pandas()
    )
    return changes.astype({column: "Int64" for column in MEASURES_TO})
