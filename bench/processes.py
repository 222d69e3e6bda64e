"""Resident memory and CPU time of a running process and its descendants, from /proc (Linux)."""

from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")


def read_status_kb(pid: int, field: str, proc: Path = PROC) -> int | None:
    """Return a ``kB`` field (``VmRSS``, ``VmHWM``) of /proc/PID/status, or None if gone."""
    try:
        with (proc / str(pid) / "status").open(encoding="ascii") as status:
            for line in status:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def list_children(pid: int, proc: Path = PROC) -> list[int]:
    """Return the direct children of ``pid`` (every thread's children file)."""
    children: list[int] = []
    try:
        tasks = list((proc / str(pid) / "task").iterdir())
    except OSError:
        return children
    for task in tasks:
        try:
            text = (task / "children").read_text(encoding="ascii")
        except OSError:
            continue
        children.extend(int(part) for part in text.split())
    return children


def list_tree(pid: int, proc: Path = PROC) -> list[int]:
    """Return ``pid`` and all its descendants."""
    tree, pending = [], [pid]
    while pending:
        current = pending.pop()
        if current in tree:
            continue
        tree.append(current)
        pending.extend(list_children(current, proc))
    return tree


def read_tree_mb(pid: int, field: str = "VmRSS", proc: Path = PROC) -> float:
    """Return ``field`` summed over ``pid`` and its descendants, in MB (2**20 bytes)."""
    total_kb = sum(read_status_kb(member, field, proc) or 0 for member in list_tree(pid, proc))
    return total_kb / 1024


def read_cpu_seconds(pid: int, proc: Path = PROC) -> float:
    """Return the user + system CPU seconds of ``pid`` and its descendants (0 for the gone)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for member in list_tree(pid, proc):
        try:
            text = (proc / str(member) / "stat").read_text(encoding="ascii", errors="replace")
        except OSError:
            continue
        # Fields after the command name (which may hold spaces) start at state, field 3.
        fields = text[text.rindex(")") + 2 :].split()
        total += int(fields[11]) + int(fields[12])
    return total / ticks
