"""Benchmark results: entries judged against docs/ingest.md §8, machine facts, latest.json."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import statistics
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from bench.targets import CRITERIA, Skip, Verdict, combine, find_limit, find_limit_s, judge
from bench.timing import Timing

PACKAGES = ("duckdb", "ibis-framework", "pandas", "pyarrow", "numpy", "streamlit", "playwright")
TARGET = "target"
INFO = "info"
CHECK = "check"


@dataclass(frozen=True)
class Entry:
    """One measurement at one size beside one reference measured in the same run.

    ``role`` is ``target`` for a criterion of target ``target`` (docs/ingest.md §8): the
    reference is the target's, and ``limit`` (ratio; ``limit_s``: seconds, target 2 only) and
    ``holds`` are set. ``info`` entries show another reference for context (e.g. pandas beside
    a DuckDB target) and are never judged. ``check`` entries (Spark beside DuckDB) belong to no
    target and have no limit; their ``holds`` says whether both sides computed identical results.
    ``unit`` is ``s`` (medians of timed runs) or ``MB`` (resident memory; the reference is then
    the CSV file's size).
    """

    target: int | None
    role: str
    criterion: str | None
    name: str
    size: str
    scale: str
    unit: str
    median: float
    reference: str
    reference_median: float
    ratio: float | None
    limit: float | None
    limit_s: float | None
    holds: bool | None
    runs: list[float]
    reference_runs: list[float]
    cpu_median_s: float | None
    reference_cpu_median_s: float | None
    cpu_ratio: float | None
    agrees: bool | None
    note: str = ""
    details: dict[str, object] = field(default_factory=dict)


@dataclass
class Results:
    """Everything one benchmark run produced: entries, skipped targets, disagreements."""

    entries: list[Entry] = field(default_factory=list)
    skips: list[Skip] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Judgement:
    """How an entry is judged: its criterion (None: informational) and the target it informs."""

    criterion: str | None = None
    target: int | None = None
    amount: int = 0
    scale: str = ""
    note: str = ""

    def decide(self, ratio: float | None, median: float) -> dict[str, object]:
        """Return the entry fields target, role, criterion, limit, limit_s and holds."""
        if self.criterion is None:
            return {
                "target": self.target,
                "role": INFO,
                "criterion": None,
                "limit": None,
                "limit_s": None,
                "holds": None,
            }
        criterion = CRITERIA[self.criterion]
        limit = find_limit(self.criterion, self.amount)
        limit_s = find_limit_s(self.criterion, self.amount)
        return {
            "target": criterion.target,
            "role": TARGET,
            "criterion": self.criterion,
            "limit": limit,
            "limit_s": limit_s,
            "holds": judge(ratio, limit, median, limit_s),
        }


def make_entry(
    name: str,
    size: str,
    ours: Timing,
    reference: str,
    theirs: Timing,
    agrees: bool | None,
    judgement: Judgement | None = None,
    details: dict[str, object] | None = None,
) -> Entry:
    """Return the timed entry comparing ``ours`` with ``theirs`` (ratio > 1: we are slower)."""
    judgement = judgement or Judgement()
    ratio = divide(ours.median, theirs.median)
    return Entry(
        name=name,
        size=size,
        scale=judgement.scale,
        unit="s",
        median=round(ours.median, 6),
        reference=reference,
        reference_median=round(theirs.median, 6),
        ratio=ratio,
        runs=[round(s, 6) for s in ours.runs],
        reference_runs=[round(s, 6) for s in theirs.runs],
        cpu_median_s=round(ours.cpu_median, 6),
        reference_cpu_median_s=round(theirs.cpu_median, 6),
        cpu_ratio=divide(ours.cpu_median, theirs.cpu_median),
        agrees=agrees,
        note=judgement.note,
        details=details or {},
        **judgement.decide(ratio, ours.median),
    )


def make_check_entry(
    name: str,
    size: str,
    ours: Timing,
    reference: str,
    theirs: Timing,
    identical: bool,
    scale: str = "",
    note: str = "",
    details: dict[str, object] | None = None,
) -> Entry:
    """Return a timed entry outside the speed targets, judged only on identical results.

    No limit: ``holds`` and ``agrees`` are ``identical``; the ratio is shown, never judged.
    """
    judgement = Judgement(scale=scale, note=note)
    entry = make_entry(name, size, ours, reference, theirs, identical, judgement, details)
    return replace(entry, role=CHECK, holds=identical)


def make_memory_entry(
    name: str,
    size: str,
    file_bytes: int,
    samples_mb: Sequence[float],
    judgement: Judgement | None = None,
    details: dict[str, object] | None = None,
) -> Entry:
    """Return the memory entry: median resident MB of ``samples_mb`` against the file's MB."""
    judgement = judgement or Judgement()
    file_mb = file_bytes / 2**20
    median = statistics.median(samples_mb)
    ratio = divide(median, file_mb)
    return Entry(
        name=name,
        size=size,
        scale=judgement.scale,
        unit="MB",
        median=round(median, 1),
        reference="CSV file size",
        reference_median=round(file_mb, 1),
        ratio=ratio,
        runs=[round(m, 1) for m in samples_mb],
        reference_runs=[round(file_mb, 1)],
        cpu_median_s=None,
        reference_cpu_median_s=None,
        cpu_ratio=None,
        agrees=None,
        note=judgement.note,
        details=details or {},
        **judgement.decide(ratio, median),
    )


def divide(ours: float, theirs: float) -> float | None:
    """Return ours / theirs rounded, or None when the reference took no measurable time."""
    return round(ours / theirs, 3) if theirs > 0 else None


def collect_verdicts(entries: Sequence[Entry]) -> list[Verdict]:
    """Return, per target and size (in order of first appearance), whether all criteria hold."""
    grouped: dict[tuple[int, str], list[Entry]] = {}
    for entry in entries:
        if entry.role == TARGET and entry.target is not None:
            grouped.setdefault((entry.target, entry.size), []).append(entry)
    return [
        Verdict(
            target,
            size,
            combine(e.holds for e in members),
            tuple(e.criterion or e.name for e in members),
        )
        for (target, size), members in sorted(grouped.items(), key=lambda item: item[0][0])
    ]


def describe_machine(settings: dict[str, object]) -> dict[str, object]:
    """Return the facts that make timings comparable between machines, plus the run settings."""
    return {
        "cpu_model": read_cpu_model(),
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


def read_cpu_model() -> str | None:
    """Return the processor's model name from /proc/cpuinfo, or None off Linux."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        return None
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


def write_results(path: Path, results: Results, machine: dict[str, object]) -> None:
    """Write the machine facts, verdicts, entries, skips and mismatches as JSON to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "machine": machine,
        "targets": [asdict(v) for v in collect_verdicts(results.entries)],
        "skipped": [asdict(s) for s in results.skips],
        "entries": [asdict(e) for e in results.entries],
        "mismatches": results.mismatches,
    }
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
