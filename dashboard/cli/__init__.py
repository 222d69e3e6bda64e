"""The command line: the same engine as the app, scriptable.

Every command takes ``--workspace DIR`` (default: $SEGMENTS_WORKSPACE, else data/workspace).
Bad input ends with a one-line reason on stderr and exit status 2; the workspace is unchanged.
Each command group's module declares its commands' options beside the code that runs them.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from dashboard import errors
from dashboard.cli import data_commands, export_command, report_command, segment_commands
from dashboard.cli.options import build_common_parser
from dashboard.errors import UserError
from dashboard.workspace import store

LOG_FILE = Path(tempfile.gettempdir()) / "segments-dashboard-cli.log"


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every command and option documented.

    Each command sets ``run``, the function that runs it; they are added in the order
    ``--help`` lists them.
    """
    common = build_common_parser()
    parser = argparse.ArgumentParser(
        prog="python -m dashboard",
        description="Customer segmentation for e-commerce stores: load exports, score RFM, "
        "export segments.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    data_commands.add_demo_command(commands, common)
    data_commands.add_ingest_command(commands, common)
    segment_commands.add_segments_command(commands, common)
    data_commands.add_export_parquet_command(commands, common)
    segment_commands.add_migration_command(commands, common)
    report_command.add_report_command(commands, common)
    export_command.add_export_command(commands, common)
    data_commands.add_history_command(commands, common)
    data_commands.add_datasets_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return the exit status (0 ok, 2 bad input, 1 a bug).

    Bad input (a ``UserError``) is printed as its one sentence. Anything else is a bug: one line
    names its reference, and the traceback goes to ``LOG_FILE``, not to the terminal.
    """
    args = build_parser().parse_args(argv)
    try:
        args.run(args, store.resolve_workspace(args.workspace))
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
