"""Where a command's results go and which paths it reads: checked before any work starts.

``--out -`` (and ``--summary -``) means standard output; the command's own message then goes
to stderr, so the data can be piped on unmixed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dashboard.errors import UserError

STDOUT = Path("-")
# Options naming a file a command writes, and those naming a file it reads.
OUTPUT_OPTIONS = ("out", "summary", "report_out", "model_out")
INPUT_OPTIONS = ("definition", "rules", "spend_mapping")


class PathError(UserError):
    """A path option that cannot be used as given, with the reason as one sentence."""


def is_stdout(path: Path) -> bool:
    """Whether ``path`` is ``-``, standard output."""
    return path == STDOUT


def name_output(path: Path) -> str:
    """Return how a message names where the output went."""
    return "standard output" if is_stdout(path) else str(path)


def check_paths(args: argparse.Namespace) -> None:
    """Refuse path options that cannot work, before the command reads or computes anything.

    Outputs (``--out``, ``--summary``, ``--report-out``) must not name a folder, and at most
    one of them may be ``-``; inputs (``--definition``, ``--rules``, ``--spend-mapping``) must be
    files. ``export-parquet`` writes a folder, so its ``--out`` must not be ``-``.
    """
    to_stdout = []
    for option in OUTPUT_OPTIONS:
        path = getattr(args, option, None)
        flag = "--" + option.replace("_", "-")
        if path is None:
            continue
        if is_stdout(path):
            if args.command == "export-parquet" or option == "report_out":
                raise PathError(f"{flag} - (standard output) cannot take this output; give a path.")
            to_stdout.append(flag)
        elif path.is_dir() and args.command != "export-parquet":
            raise PathError(f"{flag} names the folder {path}; give a file name.")
    if len(to_stdout) > 1:
        raise PathError(f"Only one of {' and '.join(to_stdout)} can be - (standard output).")
    for option in INPUT_OPTIONS:
        path = getattr(args, option, None)
        flag = "--" + option.replace("_", "-")
        if path is None:
            continue
        if path.is_dir():
            raise PathError(f"{flag} names the folder {path}; give a file.")
        if not path.is_file():
            raise PathError(f"{flag}: there is no file {path}.")


def write_output(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path`` (creating its folder), or to standard output for ``-``."""
    if is_stdout(path):
        sys.stdout.flush()
        sys.stdout.buffer.write(content)
        sys.stdout.buffer.flush()
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)


def tell(message: str, *outputs: Path | None) -> None:
    """Print a command's closing message: on stderr when one of its outputs is standard output."""
    piped = any(path is not None and is_stdout(path) for path in outputs)
    print(message, file=sys.stderr if piped else sys.stdout)
