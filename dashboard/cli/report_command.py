"""The ``report`` command: the numbers of the Channels, Cohorts and Maturity pages as JSON."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

from dashboard.cli.engine_tables import find_latest_date, open_engine_tables
from dashboard.cli.options import (
    Commands,
    add_counting_options,
    add_engine_options,
    parse_date,
    parse_positive_number,
    read_counting_rules,
)
from dashboard.cli.output import name_output, tell, write_output
from dashboard.cli.report_html_command import write_html_report
from dashboard.rfm import analysis, schemes


def add_report_command(commands: Commands, common: argparse.ArgumentParser) -> None:
    """Declare ``report``, which writes the store's acquisition figures as JSON."""
    report = commands.add_parser(
        "report",
        parents=[common],
        help="write the store's totals, the channel table, spend (CAC, CLV : CAC), cohorts, stage "
        "timeline and effort comparison as JSON (the numbers of the Channels, Cohorts and "
        "Maturity pages); --format html writes one self-contained report to share instead",
    )
    report.add_argument(
        "--out", required=True, type=Path, help="file to write (- for standard output)"
    )
    report.add_argument(
        "--format",
        choices=("json", "html"),
        default="json",
        help="json: the figures (default); html: one self-contained report to share, with the "
        "segments of --scheme, charts, playbook and predictions (docs/report.md)",
    )
    report.add_argument(
        "--scheme",
        default=schemes.DEFAULT_SCHEME,
        help="segment scheme of --format html: a preset, a saved custom scheme or a FILE.json",
    )
    report.add_argument(
        "--as-of", type=parse_date, help="analysis date (default: latest order date)"
    )
    report.add_argument(
        "--first-from", type=parse_date, help="count customers whose first order is on or after"
    )
    report.add_argument(
        "--first-to", type=parse_date, help="count customers whose first order is on or before"
    )
    report.add_argument(
        "--expected-years",
        type=parse_positive_number,
        default=3.0,
        help="years a customer keeps buying, for simple CLV: a number above 0 (default 3)",
    )
    report.add_argument(
        "--rules",
        type=Path,
        help="channel rules CSV (priority,field,match,pattern,channel) instead of the defaults",
    )
    report.add_argument(
        "--spend-mapping",
        type=Path,
        help="spend name mapping CSV (spend_channel,channel) instead of the defaults",
    )
    add_counting_options(report)
    add_engine_options(report)
    report.set_defaults(run=run_report)


def run_report(args: argparse.Namespace, workspace: Path) -> None:
    """Write ``reports.build_report`` of the dataset (on --engine) to --out as JSON.

    A dataset whose orders have no customer key still gets its store-level figures; stderr then
    says why the customer figures (channels, cohorts, returning shares) are empty.
    """
    import pandas as pd

    from dashboard.acquisition import channels, reports, spend

    settings = reports.Settings(
        first_from=args.first_from,
        first_to=args.first_to,
        expected_years=args.expected_years,
        counting=read_counting_rules(args),
    )
    if args.rules:
        rules = channels.validate_rules(pd.read_csv(args.rules, dtype=str, keep_default_na=False))
        settings = replace(settings, rules=reports.rows_of(rules))
    if args.spend_mapping:
        mapping = spend.validate_mapping(pd.read_csv(args.spend_mapping, dtype=str))
        settings = replace(settings, spend_mapping=reports.rows_of(mapping))
    if args.format == "html":
        write_html_report(args, workspace, settings)
        return
    with open_engine_tables(args, workspace) as tables:
        as_of = args.as_of or find_latest_date(tables, args.dataset)
        report = reports.build_report(tables, args.dataset, as_of, settings)
        missing = analysis.find_missing_customer_key(tables.orders)
    # allow_nan=False: NaN or Infinity would make the file invalid JSON; a bug, not a file.
    text = json.dumps(report, indent=1, allow_nan=False)
    write_output(args.out, text.encode("utf-8"))
    totals = report["store"]
    tell(
        f"Wrote the store, channel, cohort and maturity report of '{args.dataset}' (analysis "
        f"date {as_of}) to {name_output(args.out)}: {totals['orders']:,} orders, net revenue "
        f"{totals['revenue']:,.2f}, {len(report['channels'])} channels, "
        f"stage now {report['current_stage']['stage']}.",
        args.out,
    )
    if report["spend"]["economics"]:
        shown = {k: report["spend"][f"{k}_cac"] for k in ("blended", "paid")}
        shown = {k: "none" if v is None else f"{v:,.2f}" for k, v in shown.items()}
        tell(
            f"CAC blended (all spend / all new customers) {shown['blended']}; paid (paid "
            f"channels' spend / their new customers) {shown['paid']}.",
            args.out,
        )
    tell(describe_traffic(report["traffic"]), args.out)
    if missing:
        print(f"warning: {missing}", file=sys.stderr)


def describe_traffic(section: dict[str, object]) -> str:
    """One sentence on the report's traffic section: its sessions and periods, or its note."""
    periods = section["periods"]
    if not periods:
        return f"Traffic: {section['note']}"
    sessions = sum(row["sessions"] or 0 for row in section["channels"])
    return (
        f"Traffic from GA4 reports: {sessions:,} sessions in {periods['count']} periods "
        f"starting {periods['first_start']} to {periods['last_start']}, "
        f"{len(section['channels'])} channels."
    )
