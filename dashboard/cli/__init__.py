"""The command line: the same engine as the app, scriptable.

Every command takes ``--workspace DIR`` (default: $SEGMENTS_WORKSPACE, else data/workspace).
Bad input ends with a one-line reason on stderr and exit status 2; the workspace is unchanged.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from dashboard import engines, errors, export, ingest, order_rules
from dashboard.behaviour import builder, segment_export, segment_store
from dashboard.errors import UserError
from dashboard.ingest import history as ingest_history
from dashboard.ingest.report import NOT_RECORDED, IngestReport, render_report_csv
from dashboard.rfm import analysis, cut_points, migration, scheme_io, schemes
from dashboard.workspace import store

LOG_FILE = Path(tempfile.gettempdir()) / "segments-dashboard-cli.log"


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


def parse_period(text: str) -> tuple[dt.date, dt.date]:
    """Parse ``FROM:TO`` (two YYYY-MM-DD dates, both included) given to ``--exclude``."""
    start, sep, end = text.partition(":")
    first, last = parse_date(start), parse_date(end) if sep else None
    if last is None or last < first:
        raise argparse.ArgumentTypeError(f"'{text}' is not a period like 2024-11-25:2024-12-02")
    return first, last


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
    ``--parquet``)."""
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


def read_custom_cuts(args: argparse.Namespace) -> cut_points.Cuts | None:
    """Return the ``--r/f/m-cuts`` of ``--scoring custom`` (None in quantile mode)."""
    if args.scoring != "custom":
        return None
    if not (args.r_cuts and args.f_cuts and args.m_cuts):
        raise UserError("--scoring custom needs --r-cuts, --f-cuts and --m-cuts.")
    return cut_points.Cuts(args.r_cuts, args.f_cuts, args.m_cuts)


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


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every command and option documented."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--workspace",
        help="workspace directory holding one DuckDB file per dataset "
        f"(default: ${store.WORKSPACE_ENV}, else data/workspace)",
    )
    common.add_argument("--dataset", required=True, help="dataset name (letters, digits, - and _)")

    parser = argparse.ArgumentParser(
        prog="python -m dashboard",
        description="Customer segmentation for e-commerce stores: load exports, score RFM, "
        "export segments.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo", parents=[common], help="build the demo store dataset (what `make run` opens)"
    )
    demo.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    demo.add_argument(
        "--files-dir", help="where to write the demo export files (default: data/demo)"
    )

    load = commands.add_parser(
        "ingest", parents=[common], help="load export files into a dataset (one transaction each)"
    )
    load.add_argument(
        "files",
        nargs="+",
        type=Path,
        help="CSV/TSV (any delimiter and common encoding), Parquet or Excel .xlsx files, or one "
        "of those in a .gz or .zip; no size limit (the file is streamed)",
    )
    load.add_argument(
        "--format",
        default="auto",
        choices=ingest.FORMATS,
        help="file format (default: detected from each file's header)",
    )
    load.add_argument(
        "--map",
        nargs="+",
        default=[],
        metavar="FIELD=HEADER",
        help="mapped formats (generic orders, order-lines, customers, sessions, marketing-spend, "
        'surveys): map canonical fields to the file\'s headers, e.g. ordered_at="Order Date" '
        "customer_id=Email order_total=Total; fields not given are guessed from the header",
    )
    load.add_argument(
        "--date-order",
        default="auto",
        choices=ingest.DATE_ORDERS,
        help="how dates like 03/04/2024 read when the file does not prove it (default: auto; a "
        "file that cannot tell is refused with a message asking for this option)",
    )
    load.add_argument(
        "--decimal",
        default="auto",
        choices=ingest.DECIMAL_MARKS,
        help="the decimal mark of amounts, '.' or ',' as in 1.234,50 (default: auto, from the "
        "values)",
    )
    load.add_argument("--sheet", help="Excel workbooks: the sheet to read (default: the first)")
    load.add_argument(
        "--report-out",
        type=Path,
        metavar="FILE.csv",
        help="also write the load report as CSV (counts, the records reconciled, notes, rows per "
        "reason, the rows with an issue); several files' reports follow each other in it",
    )

    seg = commands.add_parser(
        "segments",
        parents=[common],
        help="score customers and write one row per customer with their segment",
    )
    seg.add_argument("--out", required=True, type=Path, help="CSV file to write")
    seg.add_argument("--as-of", type=parse_date, help="analysis date (default: latest order date)")
    seg.add_argument(
        "--since", type=parse_date, help="look-back window start (default: all history)"
    )
    add_scoring_options(seg)
    seg.add_argument("--segment", help="write only this segment's customers")
    seg.add_argument(
        "--summary", type=Path, help="also write the per-segment summary table to this CSV"
    )
    add_engine_options(seg)

    parquet = commands.add_parser(
        "export-parquet",
        parents=[common],
        help="write the dataset as Parquet (orders partitioned by month) for Spark or a cluster",
    )
    parquet.add_argument(
        "--out", required=True, type=Path, help="directory to create (must be absent or empty)"
    )

    moves = commands.add_parser(
        "migration",
        parents=[common],
        help="segment customers at two dates and write who moved from which segment to which",
    )
    moves.add_argument(
        "--out", required=True, type=Path, help="CSV file to write (one row per customer)"
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
    add_scoring_options(moves)
    add_engine_options(moves)

    report = commands.add_parser(
        "report",
        parents=[common],
        help="write the store's totals, the channel table, spend (CAC, CLV : CAC), cohorts, stage "
        "timeline and effort comparison as JSON (the numbers of the Channels, Cohorts and "
        "Maturity pages)",
    )
    report.add_argument("--out", required=True, type=Path, help="JSON file to write")
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
        type=float,
        default=3.0,
        help="years a customer keeps buying, for simple CLV (default 3)",
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

    members = commands.add_parser(
        "export",
        parents=[common],
        help="write a behavioural segment's members (a saved segment or a definition file) as "
        "CSV, a Klaviyo list, Shopify customer tags or Parquet, with a .stamp.json beside it",
    )
    chosen = members.add_mutually_exclusive_group(required=True)
    chosen.add_argument("--segment", help="name of a segment saved in the app for this dataset")
    chosen.add_argument(
        "--definition",
        type=Path,
        help="segment definition JSON (format: dashboard/behaviour/builder.py)",
    )
    members.add_argument("--format", required=True, choices=segment_export.FORMATS)
    members.add_argument("--out", required=True, type=Path, help="file to write")
    members.add_argument(
        "--columns", help="comma-separated feature columns (default: the format's own)"
    )
    members.add_argument("--tag", help="shopify-tags: the tag to add (default: the segment's name)")
    members.add_argument(
        "--as-of", type=parse_date, help="analysis date (default: latest order date)"
    )
    members.add_argument(
        "--since", type=parse_date, help="look-back window start (default: all history)"
    )
    add_counting_options(members)
    add_engine_options(members)

    history = commands.add_parser(
        "history",
        parents=[common],
        help="list the files loaded into a dataset, or show one load's report (--ingest)",
    )
    history.add_argument(
        "--ingest", type=int, metavar="N", help="show the report of load number N (see the list)"
    )
    history.add_argument(
        "--out", type=Path, metavar="FILE.csv", help="with --ingest: write that report as CSV"
    )

    listing = commands.add_parser("datasets", help="list the datasets in the workspace")
    listing.add_argument("--workspace", help="workspace directory")
    return parser


def print_report(report: IngestReport) -> None:
    """Print an ingest report: the summary line, the records reconciled, the notes, then the
    rows with an issue grouped by reason."""
    print(report.summary())
    print(f"  {report.reconciliation()}")
    for note in report.notes:
        print(f"  note: {note}")
    for reason, count in report.reason_counts().most_common():
        lines = [
            i.line_number
            for i in report.issues
            if i.reason == reason and i.severity == "rejected" and i.line_number
        ][:10]
        shown = ", ".join(str(n) for n in lines)
        more = f" (+{count - len(lines):,} more)" if count > len(lines) else ""
        print(f"  rejected {count:,}: {reason}" + (f" - lines {shown}{more}" if shown else ""))
    for reason, count in report.reason_counts("warning").items():
        print(f"  warning {count:,}: {reason}")


def run_demo(args: argparse.Namespace, workspace: Path) -> None:
    """Generate the demo store files and load them into a fresh dataset, replacing the old one."""
    from dashboard.demo.files import write_demo_files

    files_dir = Path(args.files_dir) if args.files_dir else store.DEFAULT_WORKSPACE.parent / "demo"
    started = time.perf_counter()
    files = write_demo_files(files_dir, seed=args.seed)
    staging = f"{args.dataset}-building"
    store.delete_dataset(workspace, staging)
    try:
        for path, fmt in (
            (files.orders, "shopify-orders"),
            (files.customers, "shopify-customers"),
            (files.sessions, "sessions"),
            (files.checkouts, "shopify-checkouts"),
            (files.spend, "marketing-spend"),
        ):
            print_report(ingest.ingest_file(workspace, staging, path, file_format=fmt))
        store.replace_dataset(workspace, staging, args.dataset)
    finally:
        store.delete_dataset(workspace, staging)
    print(f"Demo store '{args.dataset}' ready in {time.perf_counter() - started:.1f} s.")


def run_ingest(args: argparse.Namespace, workspace: Path) -> None:
    """Load each file; one failing file stops the command but earlier files stay loaded.

    Every file's format and mapping (``--map`` over the guess from its header) are checked
    before the first one is loaded.
    """
    given = parse_mapping(args.map)
    planned = []
    for path in args.files:
        if not path.is_file():
            raise UserError(f"No such file: {path}")
        headers = ingest.read_headers(path, args.sheet)
        fmt = ingest.detect_format(headers) if args.format == "auto" else args.format
        mapping = (
            {**ingest.guess_mapping(headers, fmt), **given}
            if fmt in ingest.MAPPED_FORMATS
            else given
        )
        ingest.check_mapping(headers, fmt, mapping)
        planned.append((path, fmt, mapping))
    written = []
    for path, fmt, mapping in planned:
        report = ingest.ingest_file(
            workspace,
            args.dataset,
            path,
            file_format=fmt,
            mapping=mapping,
            date_order=args.date_order,
            decimal=args.decimal,
            sheet=args.sheet,
            progress=show_progress(path.name) if sys.stderr.isatty() else None,
        )
        print_report(report)
        if args.report_out:
            # Rewritten after each file, so a file that fails leaves the earlier reports written.
            written.append(render_report_csv(report))
            write_bytes(args.report_out, b"\r\n".join(written))


def show_progress(name: str) -> Callable[[float, str], None]:
    """Return an ingest progress callback that rewrites one line on stderr (for a terminal)."""

    def show(fraction: float, message: str) -> None:
        end = "\n" if fraction >= 1 else ""
        print(f"\r{name}: {message} ({fraction:.0%})\033[K", end=end, file=sys.stderr, flush=True)

    return show


def write_bytes(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path``, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)


def run_history(args: argparse.Namespace, workspace: Path) -> None:
    """Print the dataset's loads, newest first; with --ingest, that load's report (and --out)."""
    import pandas as pd

    if args.out and args.ingest is None:
        raise UserError("--out writes the report of one load: give --ingest N too.")
    with store.open_for_read(workspace, args.dataset) as backend:
        if args.ingest is None:
            for row in store.read_ingest_history(backend).itertuples():
                records = (
                    NOT_RECORDED if pd.isna(row.records_read) else f"{int(row.records_read):,}"
                )
                print(
                    f"#{row.ingest_id}  {row.loaded_at:%Y-%m-%d %H:%M}  {row.file_name} "
                    f"({row.file_format} into {row.table_name}): {records} records, "
                    f"{row.rows_read:,} rows read, {row.rows_loaded:,} loaded, "
                    f"{row.rows_rejected:,} rejected, {row.rows_duplicate:,} already loaded, "
                    f"{row.rows_warned:,} with a warning"
                )
            return
        report = ingest_history.read_report(backend, args.ingest)
    print_report(report)
    if args.out:
        write_bytes(args.out, render_report_csv(report))
        print(f"Wrote the report of load {args.ingest} to {args.out}.")


def run_segments(args: argparse.Namespace, workspace: Path) -> None:
    """Score the dataset and write the per-customer CSV (and optionally the summary)."""
    scheme = scheme_io.resolve_scheme(workspace, args.scheme, args.scores)
    rules = read_counting_rules(args)
    with customer_base(args, workspace, rules) as base:
        write_segments(args, base, scheme)


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


@contextmanager
def customer_base(
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


def latest_date(tables: engines.EngineTables, dataset: str) -> dt.date:
    """Return the date of the dataset's latest order; raise when it has none."""
    found = order_rules.latest_order_date(tables.orders)
    if found is None:
        raise store.WorkspaceError(f"The dataset '{dataset}' has no orders yet.")
    return found


def write_segments(
    args: argparse.Namespace, base: analysis.CustomerBase, scheme: schemes.Scheme
) -> None:
    """Resolve the cut points and write the per-customer CSV (and the summary if asked)."""
    cuts = cut_points.resolve_cuts(
        base.measures, cut_points.ScoringSpec(scheme, read_custom_cuts(args))
    )
    if args.segment is not None and args.segment not in (*scheme.segments, schemes.PROSPECTS):
        raise UserError(
            f"'{args.segment}' is not a segment of this scheme; choose one of: "
            f"{', '.join((*scheme.segments, schemes.PROSPECTS))}."
        )
    members = analysis.segment_members(base, cuts, scheme, args.segment)
    export.write_csv(members, args.out)
    if args.summary:
        export.write_csv(analysis.segment_summary(base, cuts, scheme), args.summary)
    print(
        f"Wrote {len(members):,} customers to {args.out} "
        f"(analysis date {base.window.as_of}, scheme {scheme.key}, {args.scoring} scoring)."
    )


def run_migration(args: argparse.Namespace, workspace: Path) -> None:
    """Segment the dataset at --from and --to and write one row per customer (MEMBER_COLUMNS)."""
    scoring = cut_points.ScoringSpec(
        scheme=scheme_io.resolve_scheme(workspace, args.scheme, args.scores),
        custom=read_custom_cuts(args),
        rules=read_counting_rules(args),
        excluded=tuple(args.exclude),
    )
    with open_engine_tables(args, workspace) as tables:
        date_to = args.date_to or latest_date(tables, args.dataset)
        date_from = args.date_from or date_to - dt.timedelta(days=migration.DEFAULT_GAP_DAYS)
        moved = migration.build_migration(tables, args.dataset, date_from, date_to, scoring)
    try:
        members = migration.list_members(moved)
        counts = migration.count_moves(migration.summarise_transitions(moved))
    finally:
        moved.backend.disconnect()
    export.write_csv(members, args.out)
    print(
        f"Wrote {len(members):,} customers to {args.out}: {counts['customers_moved']:,} changed "
        f"segment between {date_from} and {date_to} (scheme {scoring.scheme.key}, "
        f"{args.scoring} scoring)."
    )


def run_export_parquet(args: argparse.Namespace, workspace: Path) -> None:
    """Write the dataset's tables as Parquet under --out (see dashboard.parquet_export)."""
    from dashboard.workspace import parquet_export

    counts = parquet_export.export_parquet(workspace, args.dataset, args.out)
    tables = ", ".join(f"{table} {rows:,}" for table, rows in counts.items())
    where = args.out.expanduser().resolve()
    print(f"Wrote '{args.dataset}' as Parquet to {where} ({tables} rows).")


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
    with open_engine_tables(args, workspace) as tables:
        as_of = args.as_of or latest_date(tables, args.dataset)
        report = reports.build_report(tables, args.dataset, as_of, settings)
        missing = analysis.find_missing_customer_key(tables.orders)
    args.out.write_text(json.dumps(report, indent=1), encoding="utf-8")
    totals = report["store"]
    print(
        f"Wrote the store, channel, cohort and maturity report of '{args.dataset}' (analysis "
        f"date {as_of}) to {args.out}: {totals['orders']:,} orders, net revenue "
        f"{totals['revenue']:,.2f}, {len(report['channels'])} channels, "
        f"stage now {report['current_stage']['stage']}."
    )
    if missing:
        print(f"warning: {missing}", file=sys.stderr)


def run_segment_export(args: argparse.Namespace, workspace: Path) -> None:
    """Export a saved segment or a definition file's members with ``segment_export``."""
    if args.segment is not None:
        name = args.segment
        definition = segment_store.load_segment(workspace, args.dataset, name)
    else:
        name = args.definition.stem
        definition = builder.definition_from_json(args.definition.read_text(encoding="utf-8"))
    columns = [c.strip() for c in args.columns.split(",")] if args.columns else None
    with open_engine_tables(args, workspace) as tables:
        exported = segment_export.export_to_file(
            tables,
            workspace,
            args.dataset,
            definition,
            name,
            args.format,
            args.out,
            as_of=args.as_of,
            start=args.since,
            columns=columns,
            tag=args.tag,
            counting=read_counting_rules(args),
        )
    print(
        f"Wrote {exported.stamp['row_count']:,} rows of segment '{name}' to {args.out} "
        f"(analysis date {exported.stamp['analysis_date']}) and its stamp to "
        f"{segment_export.stamp_path(args.out)}."
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return the exit status (0 ok, 2 bad input, 1 a bug).

    Bad input (a ``UserError``) is printed as its one sentence. Anything else is a bug: one line
    names its reference, and the traceback goes to ``LOG_FILE``, not to the terminal.
    """
    args = build_parser().parse_args(argv)
    try:
        run_command(args)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return errors.EXIT_BAD_INPUT
    except OSError as exc:
        # A path the user gave that cannot be read or written (missing, a folder, no right).
        print(f"error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return errors.EXIT_BAD_INPUT
    except Exception as exc:
        handler = logging.FileHandler(LOG_FILE, encoding="utf-8")
        errors.LOG.addHandler(handler)
        errors.LOG.propagate = False
        try:
            message = errors.describe_bug(exc, f"the '{args.command}' command")
        finally:
            errors.LOG.removeHandler(handler)
            handler.close()
        print(f"error: {message} Log: {LOG_FILE}", file=sys.stderr)
        return errors.EXIT_BUG
    return 0


def run_command(args: argparse.Namespace) -> None:
    """Run the command that ``args`` names."""
    workspace = store.resolve_workspace(args.workspace)
    if args.command == "datasets":
        for name in store.list_datasets(workspace):
            print(name)
    elif args.command == "demo":
        run_demo(args, workspace)
    elif args.command == "ingest":
        run_ingest(args, workspace)
    elif args.command == "history":
        run_history(args, workspace)
    elif args.command == "segments":
        run_segments(args, workspace)
    elif args.command == "export-parquet":
        run_export_parquet(args, workspace)
    elif args.command == "migration":
        run_migration(args, workspace)
    elif args.command == "report":
        run_report(args, workspace)
    elif args.command == "export":
        run_segment_export(args, workspace)
