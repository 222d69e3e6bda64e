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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from dashboard import errors
from dashboard.cli import (
    currency_command,
    data_commands,
    erase_command,
    export_command,
    output,
    predict_command,
    products_command,
    report_command,
    segment_commands,
)
from dashboard.cli.options import build_common_parser, read_limit_options
from dashboard.errors import UserError
from dashboard.workspace import limits, store

LOG_FILE = Path(tempfile.gettempdir()) / "segments-dashboard-cli.log"
WRITING_COMMANDS = ("demo", "ingest", "erase")


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
    predict_command.add_predict_command(commands, common)
    products_command.add_products_command(commands, common)
    export_command.add_export_command(commands, common)
    data_commands.add_history_command(commands, common)
    erase_command.add_erase_command(commands, common)
    currency_command.add_currency_command(commands, common)
    data_commands.add_datasets_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return the exit status (0 ok, 2 bad input, 1 a bug).

    Bad input (a ``UserError``) is printed as its one sentence, and so is a query that reached
    the memory limit or the query timeout. Anything else is a bug: one line names its
    reference, and the traceback goes to ``LOG_FILE``, not to the terminal; so does anything
    the engine logs while the command runs.
    """
    args = build_parser().parse_args(argv)
    with log_to_file():
        try:
            output.check_paths(args)
            workspace = resolve_workspace(args.workspace, writes=args.command in WRITING_COMMANDS)
            with limits.use_limits(read_limit_options(args)):
                try:
                    args.run(args, workspace)
                except limits.ENGINE_LIMIT_ERRORS as exc:
                    # Raised outside engines.open_tables' guard (a private in-memory database).
                    raise limits.explain_engine_error(exc) from exc
        except UserError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return errors.EXIT_BAD_INPUT
        except OSError as exc:
            # A path the user gave that cannot be read or written (missing, a folder, no right).
            print(
                f"error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr
            )
            return errors.EXIT_BAD_INPUT
        except Exception as exc:
            message = errors.describe_bug(exc, f"the '{args.command}' command")
            print(f"error: {message} Log: {LOG_FILE}", file=sys.stderr)
            return errors.EXIT_BUG
    return 0


@contextmanager
def log_to_file() -> Iterator[None]:
    """Send what the engine logs (``errors.LOG`` and its children) to LOG_FILE for the block.

    The file is opened on the first record only, so a command that logs nothing leaves no file.
    """
    handler = logging.FileHandler(LOG_FILE, encoding="utf-8", delay=True)
    propagate = errors.LOG.propagate
    errors.LOG.addHandler(handler)
    errors.LOG.propagate = False
    try:
        yield
    finally:
        errors.LOG.removeHandler(handler)
        errors.LOG.propagate = propagate
        handler.close()


def resolve_workspace(given: str | None, writes: bool) -> Path:
    """Return ``store.resolve_workspace`` of ``--workspace``; a path that cannot be the
    workspace folder (a file, a folder that cannot be created, or for a command that ``writes``
    one it cannot write in) is refused in one sentence."""
    advice = "give --workspace a folder you can write to."
    try:
        workspace = store.resolve_workspace(given)
    except FileExistsError as exc:
        raise output.PathError(
            f"The workspace {exc.filename} is a file, not a folder; {advice}"
        ) from None
    except OSError as exc:
        raise output.PathError(
            f"The workspace {exc.filename or given} cannot be created ({exc.strerror}); {advice}"
        ) from None
    if writes:
        try:
            tempfile.TemporaryFile(dir=workspace).close()
        except OSError as exc:
            raise output.PathError(
                f"The workspace {workspace} cannot be written to ({exc.strerror}); {advice}"
            ) from None
    return workspace
