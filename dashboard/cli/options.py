"""The options several commands share, and the parsers of their values."""

from __future__ import annotations

import argparse
import datetime as dt
import math
from collections.abc import Sequence
from typing import TypeAlias

from dashboard import engines, order_rules
from dashboard.errors import UserError
from dashboard.rfm import cut_points, schemes
from dashboard.workspace import limits, store

# The type of ``add_subparsers()``'s result, which argparse does not export.
Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def parse_date(text: str) -> dt.date:
    """Parse YYYY-MM-DD for argparse."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date like 2025-03-31") from exc


def parse_cuts(text: str) -> tuple[float, ...]:
    """Parse comma-separated cut points such as ``30,90,180,365`` for argparse."""
    try:
        return tuple(float(part) for part in text.split(","))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"'{text}' is not a list of numbers like 1,2,3,5") from exc


def parse_positive_number(text: str) -> float:
    """Parse a finite number above 0 (such as ``--expected-years``) for argparse."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number above 0 like 3 or 2.5")
    return value


def parse_period(text: str) -> tuple[dt.date, dt.date]:
    """Parse ``FROM:TO`` (two YYYY-MM-DD dates, both included) given to ``--exclude``."""
    start, sep, end = text.partition(":")
    first, last = parse_date(start), parse_date(end) if sep else None
    if last is None or last < first:
        raise argparse.ArgumentTypeError(f"'{text}' is not a period like 2024-11-25:2024-12-02")
    return first, last


def parse_mapping(pairs: Sequence[str]) -> dict[str, str]:
    """Parse ``canonical=Header`` pairs given to ``--map`` (fields are checked per file)."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        field, sep, header = pair.partition("=")
        if not sep or not field or not header:
            raise UserError(
                f"--map takes canonical=Header, e.g. ordered_at=\"Order Date\"; got '{pair}'."
            )
        mapping[field] = header
    return mapping


def build_common_parser() -> argparse.ArgumentParser:
    """Return the parent parser of ``--workspace`` and ``--dataset``, which every command but
    ``datasets`` takes."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--workspace",
        help="workspace directory holding one DuckDB file per dataset "
        f"(default: ${store.WORKSPACE_ENV}, else data/workspace)",
    )
    common.add_argument("--dataset", required=True, help="dataset name (letters, digits, - and _)")
    common.add_argument(
        "--memory-limit",
        metavar="SIZE",
        help="memory a query on the dataset may use, e.g. 4GB or 512MiB "
        f"(default: ${limits.MEMORY_LIMIT_ENV}, else half of this machine's memory)",
    )
    common.add_argument(
        "--query-timeout",
        metavar="SECONDS",
        help="stop a command whose queries run longer than this; 0 = no limit "
        f"(default: ${limits.QUERY_TIMEOUT_ENV}, else no limit)",
    )
    return common


def read_limit_options(args: argparse.Namespace) -> limits.Limits:
    """Return the limits of ``--memory-limit`` and ``--query-timeout`` over the environment's
    (``limits.read_limits``; the command line has no query timeout unless one is set)."""
    given = limits.read_limits(default_timeout=None)
    memory = getattr(args, "memory_limit", None)
    timeout = getattr(args, "query_timeout", None)
    try:
        memory_limit = given.memory_limit if memory is None else limits.parse_memory_limit(memory)
    except limits.LimitError as exc:
        raise limits.LimitError(f"--memory-limit: {exc}") from None
    try:
        query_timeout = (
            given.query_timeout if timeout is None else limits.parse_query_timeout(timeout)
        )
    except limits.LimitError as exc:
        raise limits.LimitError(f"--query-timeout: {exc}") from None
    return limits.Limits(memory_limit, query_timeout)


def add_scoring_options(command: argparse.ArgumentParser) -> None:
    """Add the options that say how customers are scored (scheme, scores, cuts, exclusions)."""
    command.add_argument(
        "--scheme",
        default=schemes.DEFAULT_SCHEME,
        metavar="SCHEME",
        help=f"segment scheme: a preset ({', '.join(schemes.PRESETS)}), a custom scheme saved "
        "in the workspace, or a FILE.json (format: dashboard/rfm/scheme_io.py)",
    )
    command.add_argument(
        "--scores",
        type=int,
        choices=(3, 4, 5),
        help="scores per measure (default: the scheme's own); a scheme drawn on another scale is "
        "read by s' = round half up of (s - 1) x (n' - 1)/(n - 1) + 1",
    )
    command.add_argument(
        "--exclude",
        type=parse_period,
        action="append",
        default=[],
        metavar="FROM:TO",
        help="leave the orders of this period out (e.g. a sale week); repeatable",
    )
    command.add_argument("--scoring", default="quantile", choices=cut_points.SCORING_MODES)
    command.add_argument(
        "--r-cuts", type=parse_cuts, help="recency cut points in days, rising (custom)"
    )
    command.add_argument(
        "--f-cuts", type=parse_cuts, help="frequency cut points in orders, rising (custom)"
    )
    command.add_argument("--m-cuts", type=parse_cuts, help="monetary cut points, rising (custom)")
    add_counting_options(command)


def read_custom_cuts(args: argparse.Namespace) -> cut_points.Cuts | None:
    """Return the ``--r/f/m-cuts`` of ``--scoring custom`` (None in quantile mode)."""
    if args.scoring != "custom":
        return None
    if not (args.r_cuts and args.f_cuts and args.m_cuts):
        raise UserError("--scoring custom needs --r-cuts, --f-cuts and --m-cuts.")
    return cut_points.Cuts(args.r_cuts, args.f_cuts, args.m_cuts)


def add_counting_options(command: argparse.ArgumentParser) -> None:
    """Add the option that says which orders count (the app's sidebar rule, on every command)."""
    command.add_argument(
        "--include-zero-value",
        action="store_true",
        help="count orders with a total of 0 as orders (default: they are not counted)",
    )


def read_counting_rules(args: argparse.Namespace) -> order_rules.CountingRules:
    """Return the counting rules of ``--include-zero-value``."""
    return order_rules.CountingRules(exclude_zero_value=not args.include_zero_value)


def add_engine_options(command: argparse.ArgumentParser) -> None:
    """Add the options that say where the queries run (``--engine``, ``--spark-master``,
    ``--parquet``); ``engine_tables.open_engine_tables`` reads them."""
    command.add_argument(
        "--engine",
        default="duckdb",
        choices=engines.ENGINES,
        help="where the queries run: duckdb over the workspace (default), or spark over --parquet",
    )
    command.add_argument(
        "--spark-master",
        default=engines.DEFAULT_SPARK_MASTER,
        help="Spark master URL for --engine spark (default local[2]; e.g. spark://host:7077)",
    )
    command.add_argument(
        "--parquet",
        help="the dataset's Parquet export (from export-parquet) that --engine spark reads: "
        "a directory or a URI such as s3a://bucket/store",
    )
