"""The ``export`` command: a segment's members (saved, RFM group, behavioural preset, churn band,
or a definition file) as CSV, a Klaviyo list, Shopify customer tags or Parquet, with a stamp
beside the file."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from dashboard import playbook
from dashboard.behaviour import definitions, named_segments, segment_export
from dashboard.cli.engine_tables import open_engine_tables
from dashboard.cli.options import (
    Commands,
    add_counting_options,
    add_engine_options,
    parse_date,
    read_counting_rules,
)
from dashboard.cli.output import is_stdout, tell, write_output
from dashboard.rfm import scheme_io, schemes


def add_export_command(commands: Commands, common: argparse.ArgumentParser) -> None:
    """Declare ``export``, which writes a segment's members."""
    members = commands.add_parser(
        "export",
        parents=[common],
        help="write a segment's members (saved in the app, an RFM group, a behavioural preset, a "
        "churn band or a definition file) as CSV, a Klaviyo list, Shopify customer tags or "
        "Parquet, with a .stamp.json beside it",
    )
    chosen = members.add_mutually_exclusive_group(required=True)
    chosen.add_argument(
        "--segment",
        help="a segment saved in the app for this dataset, a group of --scheme (e.g. Champions), "
        "a behavioural preset key or a churn band (Low, Medium, High); a saved segment wins a "
        "name clash unless --kind says otherwise",
    )
    chosen.add_argument(
        "--definition",
        type=Path,
        help="segment definition JSON (format: dashboard/behaviour/definitions.py)",
    )
    members.add_argument(
        "--kind",
        choices=named_segments.KINDS,
        help="where to look for --segment (default: saved, then rfm, preset and band)",
    )
    members.add_argument(
        "--scheme",
        default=schemes.DEFAULT_SCHEME,
        metavar="SCHEME",
        help=f"RFM scheme of the rfm_segment column and of an RFM group: a preset "
        f"({', '.join(schemes.PRESETS)}), a custom scheme saved in the workspace, or a FILE.json "
        "(quantile scoring; a saved segment keeps its own)",
    )
    members.add_argument(
        "--scores", type=int, choices=(3, 4, 5), help="scores per measure of --scheme"
    )
    members.add_argument("--format", required=True, choices=segment_export.FORMATS)
    members.add_argument(
        "--out",
        required=True,
        type=Path,
        help="file to write, its stamp beside it (- for standard output, without the stamp)",
    )
    members.add_argument(
        "--columns", help="comma-separated feature columns (default: the format's own)"
    )
    members.add_argument("--tag", help="shopify-tags: the tag to add (default: the segment's name)")
    members.add_argument(
        "--include-without-consent",
        action="store_true",
        help="klaviyo: also write members who declined or never answered e-mail marketing "
        "(left out by default; the choice is recorded in the stamp and the log)",
    )
    members.add_argument(
        "--as-of", type=parse_date, help="analysis date (default: latest order date)"
    )
    members.add_argument(
        "--since", type=parse_date, help="look-back window start (default: all history)"
    )
    add_counting_options(members)
    add_engine_options(members)
    members.set_defaults(run=run_segment_export)


def run_segment_export(args: argparse.Namespace, workspace: Path) -> None:
    """Export a named segment (``named_segments``) or a definition file's members with
    ``segment_export``."""
    scheme = None
    if args.segment is not None:
        rfm_scheme = scheme_io.resolve_scheme(workspace, args.scheme, args.scores)
        found = named_segments.find_named_segment(
            workspace, args.dataset, args.segment, rfm_scheme, kind=args.kind
        )
        name, definition = found.name, found.definition
        # A saved segment keeps its own scoring; the other kinds are scored by --scheme.
        scheme = None if found.kind == "saved" else rfm_scheme
        entry = playbook.describe_named_segment(
            workspace, args.dataset, found.kind, rfm_scheme, name
        )
    else:
        name = args.definition.stem
        definition = definitions.definition_from_json(args.definition.read_text(encoding="utf-8"))
        entry = None
    columns = [c.strip() for c in args.columns.split(",")] if args.columns else None
    # Standard output has no "beside" for the stamp: the file is made in a private folder and
    # only its content is passed on.
    with tempfile.TemporaryDirectory() as private, open_engine_tables(args, workspace) as tables:
        target = Path(private, f"segment.{args.format}") if is_stdout(args.out) else args.out
        exported = segment_export.export_to_file(
            tables,
            workspace,
            args.dataset,
            definition,
            name,
            args.format,
            target,
            as_of=args.as_of,
            start=args.since,
            columns=columns,
            tag=args.tag,
            counting=read_counting_rules(args),
            include_without_consent=args.include_without_consent,
            scheme=scheme,
            playbook=entry,
        )
        if is_stdout(args.out):
            write_output(args.out, target.read_bytes())
    where = (
        "standard output (no stamp)"
        if is_stdout(args.out)
        else f"{args.out} and its stamp to {segment_export.stamp_path(args.out)}"
    )
    tell(
        f"Wrote {exported.stamp['row_count']:,} rows of segment '{name}' (analysis date "
        f"{exported.stamp['analysis_date']}) to {where}.",
        args.out,
    )
    consent = segment_export.describe_consent(exported.stamp)
    if consent:
        tell(consent, args.out)
