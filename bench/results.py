"""Benchmark results: entries, machine facts, the printed table and bench/results/latest.json."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import sys
from dataclasses import asdict, dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from bench.timing import PeakMemory, Timing

PACKAGES = ("duckdb", "ibis-framework", "pandas", "pyarrow", "numpy")


@dataclass(frozen=True)
class Entry:
    """One step at one size, ours beside one reference measured in the same run.

    ``limit`` and ``holds`` are placeholders for the targets that will be set later.
    """

    name: str
    size: str
    median_s: float
    reference: str
    reference_median_s: float
    ratio: float
    runs_s: list[float]
    reference_runs_s: list[float]
    cpu_median_s: float
    reference_cpu_median_s: float
    cpu_ratio: float
    agrees: bool
    limit: float | None = None
    holds: bool | None = None


@dataclass(frozen=True)
class MemoryEntry:
    """Peak resident memory of one load of the orders file, in a fresh process."""

    name: str
    size: str
    file_mb: float
    baseline_mb: float
    peak_mb: float
    added_mb: float
    added_over_file: float
    limit: float | None = None
    holds: bool | None = None


@dataclass
class Results:
    """Everything one benchmark run produced, including the disagreements it found."""

    entries: list[Entry] = field(default_factory=list)
    memory: list[MemoryEntry] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)


def make_entry(
    name: str, size: str, ours: Timing, reference: str, theirs: Timing, agrees: bool
) -> Entry:
    """Return the entry comparing ``ours`` with ``theirs`` (ratio > 1: we are slower)."""
    return Entry(
        name=name,
        size=size,
        median_s=round(ours.median, 6),
        reference=reference,
        reference_median_s=round(theirs.median, 6),
        ratio=divide(ours.median, theirs.median),
        runs_s=[round(s, 6) for s in ours.runs],
        reference_runs_s=[round(s, 6) for s in theirs.runs],
        cpu_median_s=round(ours.cpu_median, 6),
        reference_cpu_median_s=round(theirs.cpu_median, 6),
        cpu_ratio=divide(ours.cpu_median, theirs.cpu_median),
        agrees=agrees,
    )


def divide(ours: float, theirs: float) -> float | None:
    """Return ours / theirs rounded, or None when the reference took no measurable time."""
    return round(ours / theirs, 3) if theirs > 0 else None


def make_memory_entry(name: str, size: str, file_bytes: int, memory: PeakMemory) -> MemoryEntry:
    """Return the memory entry of one child-process load of a ``file_bytes`` file."""
    file_mb = file_bytes / 2**20
    return MemoryEntry(
        name=name,
        size=size,
        file_mb=round(file_mb, 1),
        baseline_mb=round(memory.baseline_mb, 1),
        peak_mb=round(memory.peak_mb, 1),
        added_mb=round(memory.added_mb, 1),
        added_over_file=round(memory.added_mb / file_mb, 2),
    )


def describe_machine(settings: dict[str, object]) -> dict[str, object]:
    """Return the facts that make timings comparable between machines, plus the run settings."""
    return {
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_total_mb": read_total_memory_mb(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "versions": {name: read_version(name) for name in PACKAGES},
        "timestamp": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        # Other processes on a shared machine make timings noisy; this says how busy it was.
        "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        "cpu_pressure_at_end": read_cpu_pressure(),
        "settings": settings,
    }


def read_version(package: str) -> str | None:
    """Return the installed version of ``package``, or None."""
    try:
        return version(package)
    except PackageNotFoundError:
        return None


def read_cpu_pressure() -> str | None:
    """Return the 'some' line of /proc/pressure/cpu (share of time tasks waited for a CPU)."""
    try:
        with open("/proc/pressure/cpu", encoding="ascii") as pressure:
            return pressure.readline().strip()
    except OSError:
        return None


def read_total_memory_mb() -> int | None:
    """Return the machine's memory from /proc/meminfo, or None off Linux."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        return None
    return None


def format_table(entries: list[Entry]) -> str:
    """Return the timing table as aligned text."""
    header = ("step", "size", "ours (s)", "reference", "ref (s)", "ratio", "cpu ratio", "agree")
    rows = [
        (
            e.name,
            e.size,
            f"{e.median_s:.4f}",
            e.reference,
            f"{e.reference_median_s:.4f}",
            format_ratio(e.ratio),
            format_ratio(e.cpu_ratio),
            "yes" if e.agrees else "NO",
        )
        for e in entries
    ]
    return align([header, *rows])


def format_ratio(ratio: float | None) -> str:
    """Return a ratio as ``2.50x`` (``n/a`` when the reference took no measurable time)."""
    return "n/a" if ratio is None else f"{ratio:.2f}x"


def format_memory_table(memory: list[MemoryEntry]) -> str:
    """Return the peak-memory table as aligned text."""
    header = ("load", "size", "file MB", "base MB", "peak MB", "added MB", "added/file")
    rows = [
        (
            m.name,
            m.size,
            f"{m.file_mb:.1f}",
            f"{m.baseline_mb:.0f}",
            f"{m.peak_mb:.0f}",
            f"{m.added_mb:.0f}",
            f"{m.added_over_file:.2f}",
        )
        for m in memory
    ]
    return align([header, *rows])


def align(rows: list[tuple[str, ...]]) -> str:
    """Return rows as columns padded to their widest cell (text left, numbers right)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    numeric = [all(is_number(row[i]) for row in rows[1:]) for i in range(len(widths))]
    lines = []
    for row in rows:
        cells = [
            cell.rjust(width) if right else cell.ljust(width)
            for cell, width, right in zip(row, widths, numeric, strict=True)
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def is_number(text: str) -> bool:
    """Return whether a table cell holds a number (possibly with an ``x`` suffix)."""
    if text == "n/a":
        return True
    try:
        float(text.rstrip("x"))
    except ValueError:
        return False
    return True


def write_results(path: Path, results: Results, machine: dict[str, object]) -> None:
    """Write the machine facts, entries, memory and mismatches as JSON to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "machine": machine,
        "entries": [asdict(e) for e in results.entries],
        "memory": [asdict(m) for m in results.memory],
        "mismatches": results.mismatches,
    }
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
