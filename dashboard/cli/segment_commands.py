"""The RFM commands: ``segments`` (who is in which segment) and ``migration`` (who moved)."""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dashboard import export, order_rules, playbook
from dashboard.behaviour import named_segments, segment_export
from dashboard.behaviour.definitions import RfmSpec
from dashboard.cli.engine_tables import find_latest_date, open_engine_tables
from dashboard.cli.options import (
    Commands,
    add_engine_options,
    add_scoring_options,
    parse_date,
    read_counting_rules,
    read_custom_cuts,
)
from dashboard.cli.output import is_stdout, name_output, tell, write_output
from dashboard.errors import UserError
from dashboard.rfm import analysis, cut_points, migration, scheme_io, schemes


def add_segments_command(commands: Commands, common: argparse.ArgumentParser) -> None:
    """Declare ``segments``, which writes one row per customer with their segment."""
    seg = commands.add_parser(
        "segments",
        parents=[common],
        help="score customers and write one row per customer with their segment",
    )
    seg.add_argument(
        "--out", required=True, type=Path, help="CSV file to write (- for standard output)"
    )
    seg.add_argument("--as-of", type=parse_date, help="analysis date (default: latest order date)")
    seg.add_argument(
        "--since", type=parse_date, help="look-back window start (default: all history)"
    )
    add_scoring_options(seg)
    seg.add_argument("--segment", help="write only this segment's customers")
    seg.add_argument(
        "--format",
        choices=segment_export.FORMATS,
        help="with --segment: csv (the default table), or the segment's members as a Klaviyo "
        "list, Shopify customer tags or Parquet (export's files, with a .stamp.json beside)",
    )
    seg.add_argument(
        "--tag", help="--format shopify-tags: the tag to add (default: the segment's name)"
    )
    seg.add_argument(
        "--include-without-consent",
        action="store_true",
        help="--format klaviyo: also write members who declined or never answered e-mail "
        "marketing (left out by default; recorded in the stamp and the log)",
    )
    seg.add_argument(
        "--summary",
        type=Path,
        help="also write the per-segment summary table to this CSV (- for standard output)",
    )
    add_engine_options(seg)
    seg.set_defaults(run=run_segments)


def run_segments(args: argparse.Namespace, workspace: Path) -> None:
    """Score the dataset and write the per-customer CSV (and optionally the summary), or with
    ``--format`` other than csv the segment's members as ``export`` writes them."""
    scheme = scheme_io.resolve_scheme(workspace, args.scheme, args.scores)
    rules = read_counting_rules(args)
    if args.format not in (None, "csv"):
        export_rfm_segment(args, workspace, scheme, rules)
        return
    with open_customer_base(args, workspace, rules) as base:
        write_segments(args, base, scheme)


@contextmanager
def open_customer_base(
    args: argparse.Namespace, workspace: Path, rules: order_rules.CountingRules
) -> Iterator[analysis.CustomerBase]:
    """Yield the customer base of the dataset on ``--engine`` (see ``open_engine_tables``)."""
    with open_engine_tables(args, workspace) as tables:
        base = analysis.build_customer_base(
            tables,
            args.dataset,
            as_of=args.as_of,
            start=args.since,
            rules=rules,
            excluded=tuple(args.exclude),
        )
        try:
            yield base
        finally:
            base.close()


def export_rfm_segment(
    args: argparse.Namespace,
    workspace: Path,
    scheme: schemes.Scheme,
    rules: order_rules.CountingRules,
) -> None:
    """Write the members of RFM group ``--segment`` in ``--format`` with their stamp
    (``segment_export.export_to_file``: the same members as the per-customer CSV)."""
    if args.segment is None:
        raise UserError(f"--format {args.format} needs --segment, the segment to write.")
    if args.summary or args.exclude:
        raise UserError(f"--format {args.format} cannot be used with --summary or --exclude.")
    check_segment(scheme, args.segment)
    rfm = RfmSpec(scheme.key, read_custom_cuts(args))
    definition = named_segments.define_rfm_segment(scheme, args.segment, rfm)
    # Standard output has no "beside" for the stamp: the file is made in a private folder.
    with tempfile.TemporaryDirectory() as private, open_engine_tables(args, workspace) as tables:
        target = Path(private, f"segment.{args.format}") if is_stdout(args.out) else args.out
        exported = segment_export.export_to_file(
            tables,
            workspace,
            args.dataset,
            definition,
            args.segment,
            args.format,
            target,
            as_of=args.as_of,
            start=args.since,
            tag=args.tag,
            counting=rules,
            include_without_consent=args.include_without_consent,
            scheme=scheme,
            playbook=playbook.describe_named_segment(
                workspace, args.dataset, "rfm", scheme, args.segment
            ),
        )
        if is_stdout(args.out):
            write_output(args.out, target.read_bytes())
    tell(
        f"Wrote {exported.stamp['row_count']:,} rows of segment '{args.segment}' "
        f"({args.format}, analysis date {exported.stamp['analysis_date']}, scheme {scheme.key}) "
        f"to {name_output(args.out)}.",
        args.out,
    )
    consent = segment_export.describe_consent(exported.stamp)
    if consent:
        tell(consent, args.out)


def check_segment(scheme: schemes.Scheme, segment: str) -> None:
    """Raise UserError unless ``segment`` is a group of ``scheme`` or Prospects."""
    if segment not in (*scheme.segments, schemes.PROSPECTS):
        raise UserError(
            f"'{segment}' is not a segment of this scheme; choose one of: "
            f"{', '.join((*scheme.segments, schemes.PROSPECTS))}."
        )


def write_segments(
    args: argparse.Namespace, base: analysis.CustomerBase, scheme: schemes.Scheme
) -> None:
    """Resolve the cut points and write the per-customer CSV (and the summary if asked)."""
    cuts = cut_points.resolve_cuts(
        base.measures, cut_points.ScoringSpec(scheme, read_custom_cuts(args))
    )
    if args.segment is not None:
        check_segment(scheme, args.segment)
    members = analysis.segment_members(base, cuts, scheme, args.segment)
    write_output(args.out, export.to_csv_bytes(members))
    if args.summary:
        summary = analysis.segment_summary(base, cuts, scheme)
        write_output(args.summary, export.to_csv_bytes(summary))
    tell(
        f"Wrote {len(members):,} customers to {name_output(args.out)} "
        f"(analysis date {base.window.as_of}, scheme {scheme.key}, {args.scoring} scoring).",
        args.out,
        args.summary,
    )


def add_migration_command(commands: Commands, common: argparse.ArgumentParser) -> None:
    """Declare ``migration``, which writes who moved between segments from one date to another."""
    moves = commands.add_parser(
        "migration",
        parents=[common],
        help="segment customers at two dates and write who moved from which segment to which",
    )
    moves.add_argument(
        "--out",
        required=True,
        type=Path,
        help="CSV file to write, one row per customer (- for standard output)",
    )
    moves.add_argument(
        "--to", dest="date_to", type=parse_date, help="second date (default: latest order date)"
    )
    moves.add_argument(
        "--from",
        dest="date_from",
        type=parse_date,
        help=f"first date (default: {migration.DEFAULT_GAP_DAYS} days before the second)",
    )
    movers = moves.add_mutually_exclusive_group()
    movers.add_argument(
        "--entered",
        metavar="SEGMENT",
        help="write only the customers who entered SEGMENT between the dates (new ones included)",
    )
    movers.add_argument(
        "--left", metavar="SEGMENT", help="write only the customers who left SEGMENT"
    )
    add_scoring_options(moves)
    add_engine_options(moves)
    moves.set_defaults(run=run_migration)


def run_migration(args: argparse.Namespace, workspace: Path) -> None:
    """Segment the dataset at --from and --to and write one row per customer (MEMBER_COLUMNS),
    or with --entered/--left only who entered/left that segment (migration.CHANGE_COLUMNS)."""
    scoring = cut_points.ScoringSpec(
        scheme=scheme_io.resolve_scheme(workspace, args.scheme, args.scores),
        custom=read_custom_cuts(args),
        rules=read_counting_rules(args),
        excluded=tuple(args.exclude),
    )
    segment = args.entered if args.entered is not None else args.left
    if segment is not None:
        migration.check_segment(scoring.scheme, segment)
    with open_engine_tables(args, workspace) as tables:
        date_to = args.date_to or find_latest_date(tables, args.dataset)
        date_from = args.date_from or date_to - dt.timedelta(days=migration.DEFAULT_GAP_DAYS)
        moved = migration.build_migration(tables, args.dataset, date_from, date_to, scoring)
    if segment is not None:
        direction: migration.Direction = "entered" if args.entered is not None else "left"
        try:
            changes = migration.list_segment_changes(moved, segment, direction)
        finally:
            moved.backend.disconnect()
        write_output(args.out, export.to_csv_bytes(changes))
        tell(
            f"Wrote {len(changes):,} customers who {direction} {segment} between {date_from} and "
            f"{date_to} to {name_output(args.out)} "
            f"(scheme {scoring.scheme.key}, {args.scoring} scoring).",
            args.out,
        )
        return
    try:
        members = migration.list_members(moved)
        counts = migration.count_moves(migration.summarise_transitions(moved))
    finally:
        moved.backend.disconnect()
    write_output(args.out, export.to_csv_bytes(members))
    tell(
        f"Wrote {len(members):,} customers to {name_output(args.out)}: "
        f"{counts['customers_moved']:,} changed segment between {date_from} and {date_to} "
        f"(scheme {scoring.scheme.key}, {args.scoring} scoring).",
        args.out,
    )
