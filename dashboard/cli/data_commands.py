"""The commands that fill and look at a workspace: ``datasets``, ``demo``, ``ingest``,
``history`` and ``export-parquet``."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

from dashboard import ingest
from dashboard.cli.options import Commands, parse_mapping
from dashboard.cli.output import is_stdout, name_output, tell, write_output
from dashboard.errors import UserError
from dashboard.ingest import history as ingest_history
from dashboard.ingest.report import NOT_RECORDED, IngestReport, render_report_csv
from dashboard.workspace import store


def add_datasets_command(commands: Commands) -> None:
    """Declare ``datasets``, which lists the workspace's datasets."""
    listing = commands.add_parser("datasets", help="list the datasets in the workspace")
    listing.add_argument("--workspace", help="workspace directory")
    listing.set_defaults(run=run_datasets)


def run_datasets(args: argparse.Namespace, workspace: Path) -> None:
    """Print the name of each dataset in the workspace."""
    for name in store.list_datasets(workspace):
        print(name)


def add_demo_command(commands: Commands, common: argparse.ArgumentParser) -> None:
    """Declare ``demo``, which builds the demo store dataset."""
    demo = commands.add_parser(
        "demo", parents=[common], help="build the demo store dataset (what `make run` opens)"
    )
    demo.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    demo.add_argument(
        "--files-dir", help="where to write the demo export files (default: data/demo)"
    )
    demo.set_defaults(run=run_demo)


def run_demo(args: argparse.Namespace, workspace: Path) -> None:
    """Generate the demo store files and load them into a fresh dataset, replacing the old one."""
    from dashboard.demo.files import write_demo_files

    files_dir = Path(args.files_dir) if args.files_dir else store.DEFAULT_WORKSPACE.parent / "demo"
    started = time.perf_counter()
    files = write_demo_files(files_dir, seed=args.seed)
    # Built in a workspace of its own inside a scratch folder: the old demo stays in use until
    # the new one replaces it, and a build that dies halfway is never listed.
    with store.create_scratch(workspace) as scratch:
        staging = store.resolve_workspace(scratch / "workspace")
        for path, fmt in (
            (files.orders, "shopify-orders"),
            (files.customers, "shopify-customers"),
            (files.sessions, "sessions"),
            (files.checkouts, "shopify-checkouts"),
            (files.spend, "marketing-spend"),
        ):
            print_report(ingest.ingest_file(staging, args.dataset, path, file_format=fmt))
        store.replace_dataset(workspace, store.dataset_path(staging, args.dataset), args.dataset)
    print(f"Demo store '{args.dataset}' ready in {time.perf_counter() - started:.1f} s.")


def add_ingest_command(commands: Commands, common: argparse.ArgumentParser) -> None:
    """Declare ``ingest``, which loads export files into a dataset."""
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
    load.set_defaults(run=run_ingest)


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
        fmt = ingest.detect_file_format(path, args.sheet) if args.format == "auto" else args.format
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
            write_output(args.report_out, b"\r\n".join(written))


def show_progress(name: str) -> Callable[[float, str], None]:
    """Return an ingest progress callback that rewrites one line on stderr (for a terminal)."""

    def show(fraction: float, message: str) -> None:
        end = "\n" if fraction >= 1 else ""
        print(f"\r{name}: {message} ({fraction:.0%})\033[K", end=end, file=sys.stderr, flush=True)

    return show


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


def add_history_command(commands: Commands, common: argparse.ArgumentParser) -> None:
    """Declare ``history``, which lists a dataset's loads or shows one load's report."""
    history = commands.add_parser(
        "history",
        parents=[common],
        help="list the files loaded into a dataset, or show one load's report (--ingest)",
    )
    history.add_argument(
        "--ingest", type=int, metavar="N", help="show the report of load number N (see the list)"
    )
    history.add_argument(
        "--out",
        type=Path,
        metavar="FILE.csv",
        help="with --ingest: write that report as CSV (- for standard output)",
    )
    history.set_defaults(run=run_history)


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
    if args.out is None or not is_stdout(args.out):
        print_report(report)
    if args.out:
        write_output(args.out, render_report_csv(report))
        tell(f"Wrote the report of load {args.ingest} to {name_output(args.out)}.", args.out)


def add_export_parquet_command(commands: Commands, common: argparse.ArgumentParser) -> None:
    """Declare ``export-parquet``, which writes the dataset as Parquet for Spark."""
    parquet = commands.add_parser(
        "export-parquet",
        parents=[common],
        help="write the dataset as Parquet (orders partitioned by month) for Spark or a cluster",
    )
    parquet.add_argument(
        "--out", required=True, type=Path, help="directory to create (must be absent or empty)"
    )
    parquet.set_defaults(run=run_export_parquet)


def run_export_parquet(args: argparse.Namespace, workspace: Path) -> None:
    """Write the dataset's tables as Parquet under --out (see dashboard.parquet_export)."""
    from dashboard.workspace import parquet_export

    counts = parquet_export.export_parquet(workspace, args.dataset, args.out)
    tables = ", ".join(f"{table} {rows:,}" for table, rows in counts.items())
    where = args.out.expanduser().resolve()
    print(f"Wrote '{args.dataset}' as Parquet to {where} ({tables} rows).")
