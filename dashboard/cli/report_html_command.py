"""``report --format html``: the store report as one self-contained HTML file (docs/report.md)."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from dashboard.acquisition import reports
from dashboard.cli.engine_tables import find_latest_date, open_engine_tables
from dashboard.cli.output import name_output, tell, write_output
from dashboard.rfm import scheme_io


def write_html_report(
    args: argparse.Namespace, workspace: Path, settings: reports.Settings
) -> None:
    """Write ``report_html.build_store_report`` of --dataset (on --engine, scheme --scheme) to
    --out and say what it holds."""
    from dashboard import report_html

    scheme = scheme_io.resolve_scheme(workspace, args.scheme, None)
    generated_at = dt.datetime.now(dt.UTC)
    with open_engine_tables(args, workspace) as tables:
        as_of = args.as_of or find_latest_date(tables, args.dataset)
        text = report_html.build_store_report(
            tables, args.dataset, as_of, scheme, settings, generated_at, workspace=workspace
        )
    write_output(args.out, text.encode("utf-8"))
    tell(
        f"Wrote the HTML report of '{args.dataset}' (analysis date {as_of}, scheme {scheme.key}) "
        f"to {name_output(args.out)}: one file, opens in a browser with no server or network.",
        args.out,
    )
