"""The exports of analytics and ad platforms read by their column names: GA4, Meta, Google Ads.

GA4's BigQuery events (``ga4``) and its acquisition report downloads (``ga4_reports``).

``FORMATS`` registers each one's builder, the columns it reads and its header check, so the
load path treats them like the store exports (``ingest._FIXED``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import duckdb

from dashboard.ingest import ga4, ga4_reports, marketing_exports, values
from dashboard.ingest.load_orders import OrderSource
from dashboard.ingest.tables import TableSource


@dataclass(frozen=True)
class PlatformFormat:
    """One platform export: ``stage(con, headers, options)`` builds the staged rows from
    ``raw_rows``; ``needed_columns(headers)`` lists the positions it reads; ``check_headers``
    raises IngestError naming a missing required column."""

    stage: Callable[
        [duckdb.DuckDBPyConnection, list[str], values.ReadOptions], OrderSource | TableSource
    ]
    needed_columns: Callable[[list[str]], list[int]]
    check_headers: Callable[[list[str]], None]


FORMATS: dict[str, PlatformFormat] = {
    "ga4-events": PlatformFormat(
        ga4.stage_events, ga4.needed_columns, partial(ga4.check_headers, "ga4-events")
    ),
    "ga4-purchases": PlatformFormat(
        ga4.stage_purchases, ga4.needed_columns, partial(ga4.check_headers, "ga4-purchases")
    ),
    "ga4-acquisition": PlatformFormat(
        ga4_reports.stage_acquisition, ga4_reports.needed_columns, ga4_reports.check_headers
    ),
    **{
        name: PlatformFormat(
            stage,
            partial(marketing_exports.needed_columns, name),
            partial(marketing_exports.check_headers, name),
        )
        for name, stage in (
            ("meta-ads", marketing_exports.stage_meta_ads),
            ("google-ads", marketing_exports.stage_google_ads),
        )
    },
}
