"""The audit log: who loaded, deleted, exported and erased what, and when.

``<workspace>/audit.jsonl`` holds one JSON object per line, appended and never rewritten::

    {"at": "2025-06-01T10:00:00+00:00", "user": "ana", "action": "erase", "dataset": "demo",
     "details": {"customer_sha256": "...", "rows": {"orders": 2, ...}}}

``action`` is one of ACTIONS. ``user`` is the name the caller gives (the signed-in user of the
app), else the operating-system account running the process (``getpass.getuser()``): the CLI is
a local tool, so its user is whoever runs it. Each event is written with one ``write`` of a whole
line to a file opened for appending, then flushed and fsynced, so an event that was recorded
survives a crash and concurrent writers never interleave inside a line. Details never hold a
customer's contact data in clear (an erased e-mail is logged as its sha256).
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
from pathlib import Path
from typing import Any

AUDIT_FILE = "audit.jsonl"
ACTIONS = ("load", "delete", "export", "erase")


def audit_path(workspace: Path) -> Path:
    """Return the audit log file of ``workspace``."""
    return workspace / AUDIT_FILE


def name_current_user(user: str | None = None) -> str:
    """Return ``user`` when given, else the operating-system account running this process."""
    if user:
        return user
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        # No login name in the environment and no passwd entry (some containers).
        return f"uid:{os.getuid()}" if hasattr(os, "getuid") else "unknown"


def record_event(
    workspace: Path, action: str, dataset: str, user: str | None = None, **details: Any
) -> dict[str, Any]:
    """Append one event to the audit log of ``workspace`` and return it.

    In: one of ACTIONS, the dataset it concerns, the user (None: the OS user) and JSON-able
    details. Out: the event as written: at (UTC, ISO 8601), user, action, dataset, details.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    event = {
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "user": name_current_user(user),
        "action": action,
        "dataset": dataset,
        "details": details,
    }
    line = (json.dumps(event, ensure_ascii=False, default=str) + "\n").encode("utf-8")
    descriptor = os.open(audit_path(workspace), os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        size = os.fstat(descriptor).st_size
        # A line torn by a crash would swallow this event: start on a line of its own.
        if size and os.pread(descriptor, 1, size - 1) != b"\n":
            line = b"\n" + line
        os.write(descriptor, line)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    return event


def read_events(workspace: Path) -> list[dict[str, Any]]:
    """Return every event of the audit log of ``workspace``, oldest first ([] without a log).

    A line cut short by a crash mid-write is left out.
    """
    path = audit_path(workspace)
    if not path.is_file():
        return []
    events = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return events
