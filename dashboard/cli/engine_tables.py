"""Opening the dataset's tables on the engine the command's ``--engine`` options name."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dashboard import engines, order_rules
from dashboard.errors import UserError
from dashboard.workspace import store


@contextmanager
def open_engine_tables(args: argparse.Namespace, workspace: Path) -> Iterator[engines.EngineTables]:
    """Yield the dataset's tables on ``--engine``: duckdb reads the workspace, spark ``--parquet``.

    Orders in several currencies are named on stderr first (``warn_of_mixed_currencies``). A
    Spark session started here is stopped at the end; one that was already running (a
    notebook's, a test's) is left running.
    """
    if args.engine == "duckdb":
        if args.parquet:
            raise UserError("--parquet is read by --engine spark; duckdb reads the workspace.")
        with engines.open_tables("duckdb", workspace=workspace, dataset=args.dataset) as tables:
            warn_of_mixed_currencies(tables)
            yield tables
        return
    if not args.parquet:
        raise UserError("--engine spark reads a Parquet export: give --parquet DIR.")
    started_here = not engines.has_active_spark()
    try:
        with engines.open_tables(
            "spark", parquet_dir=args.parquet, spark_master=args.spark_master
        ) as tables:
            warn_of_mixed_currencies(tables)
            yield tables
    finally:
        if started_here:
            engines.stop_spark()


def warn_of_mixed_currencies(tables: engines.EngineTables) -> None:
    """Print ``describe_currency_mix`` of the orders on stderr when they mix currencies."""
    warning = order_rules.describe_currency_mix(tables.orders)
    if warning:
        print(f"warning: {warning}", file=sys.stderr)


def find_latest_date(tables: engines.EngineTables, dataset: str) -> dt.date:
    """Return the date of the dataset's latest order; raise when it has none."""
    found = order_rules.latest_order_date(tables.orders)
    if found is None:
        raise store.WorkspaceError(f"The dataset '{dataset}' has no orders yet.")
    return found
