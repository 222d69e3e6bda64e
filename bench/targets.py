"""The speed targets of docs/ingest.md §8: their limits, the sizes they run at, and the verdicts.

Each target is a ratio against a reference measured in the same run (memory targets: against
the CSV file's size). A target can have several criteria (target 3: against DuckDB SQL and
against pandas; target 4: time and memory); it holds at a size when every criterion does.

Sizes (BENCH_SIZES) count orders for targets 3 to 6, customers for targets 1 and 2 (whose
dataset holds ORDERS_PER_CUSTOMER orders per customer) and order lines for target 8. Targets run
at the sizes the issue names and below: 1 and 2 up to 5M customers, 5 up to 1M orders, and 6
from 10M orders. Targets 3 and 4 are set on 10M orders, 8 on 10M order lines: at smaller sizes
they are measured and shown, not judged.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

SLIDER_LIMIT_1M = 1.3
SLIDER_LIMIT_5M = 2.0
MILLION = 1_000_000
CUSTOMER_TARGETS_UP_TO = 5 * MILLION
UPLOAD_UP_TO = MILLION
APP_MEMORY_FROM = 10 * MILLION
JUDGED_FROM = {3: 10 * MILLION, 4: 10 * MILLION, 8: 10 * MILLION}
# What a size counts, where it is not orders.
UNITS = {8: "order lines"}


@dataclass(frozen=True)
class Criterion:
    """One limit of a target: measured / reference <= ``limit`` (and median <= ``limit_s``)."""

    target: int
    key: str
    title: str
    limit: float
    limit_s: float | None = None


CRITERIA = {
    "slider_browser": Criterion(
        1, "slider_browser", "slider release -> table and chart redrawn (browser)", SLIDER_LIMIT_1M
    ),
    "slider_recompute": Criterion(
        2, "slider_recompute", "engine segment recompute", 0.1, limit_s=0.020
    ),
    "customer_base_sql": Criterion(
        3, "customer_base_sql", "per-customer base table vs DuckDB SQL", 1.2
    ),
    "customer_base_pandas": Criterion(
        3, "customer_base_pandas", "per-customer base table vs pandas", 0.5
    ),
    "ingest_time": Criterion(4, "ingest_time", "ingest, validation and report", 1.5),
    "ingest_memory": Criterion(4, "ingest_memory", "ingest peak RSS / file size", 1.5),
    "upload_browser": Criterion(5, "upload_browser", "upload in the browser -> first chart", 3.0),
    "app_memory": Criterion(6, "app_memory", "running app RSS / CSV size", 2.5),
    "predict_fit": Criterion(
        7, "predict_fit", "fit + score BG/NBD and Gamma-Gamma vs a plain per-customer fit", 0.2
    ),
    "affinity_sql": Criterion(
        8, "affinity_sql", "basket affinity pairs vs a hand-written DuckDB self-join", 1.2
    ),
}


@dataclass(frozen=True)
class Verdict:
    """Whether a target holds at one size, from its criteria's entries (None: not judged)."""

    target: int
    size: str
    holds: bool | None
    criteria: tuple[str, ...]


@dataclass(frozen=True)
class Skip:
    """A target not measured at a size, or (``measured``) measured but not judged, and why."""

    target: int
    size: str
    reason: str
    measured: bool = False


def find_limit(key: str, amount: int) -> float:
    """Return the ratio limit of criterion ``key`` at a size of ``amount`` (orders or customers).

    Only target 1 depends on the size: 1.3x up to 1M customers, 2x above (the issue's 5M).
    """
    if key == "slider_browser" and amount > MILLION:
        return SLIDER_LIMIT_5M
    return CRITERIA[key].limit


def find_limit_s(key: str, amount: int) -> float | None:
    """Return the limit in seconds of criterion ``key`` at a size of ``amount``, if it has one.

    Target 2's 20 ms is set for 1M customers; above that only its ratio is judged.
    """
    limit_s = CRITERIA[key].limit_s
    return limit_s if amount <= MILLION else None


def judge(
    ratio: float | None, limit: float, median: float | None = None, limit_s: float | None = None
) -> bool | None:
    """Return whether ``ratio`` <= ``limit`` (and ``median`` <= ``limit_s`` when given).

    None when there is no ratio (the reference took no measurable time).
    """
    if ratio is None:
        return None
    holds = ratio <= limit
    if limit_s is not None:
        holds = holds and median is not None and median <= limit_s
    return holds


def find_skip(target: int, label: str, amount: int) -> Skip | None:
    """Return why ``target`` does not run at size ``label`` (``amount``), or None if it runs."""
    if target in (1, 2, 7) and amount > CUSTOMER_TARGETS_UP_TO:
        return Skip(
            target,
            label,
            "the issue sets it at 1M (and 5M) customers; above 5M customers the dataset "
            "would take too long to build",
        )
    if target == 5 and amount > UPLOAD_UP_TO:
        return Skip(target, label, "the issue sets it at a 1M-order export; larger sizes skip it")
    if target == 6 and amount < APP_MEMORY_FROM:
        return Skip(target, label, "the issue sets it at 10M orders: add 10m to BENCH_SIZES")
    return None


def find_unjudged(target: int, label: str, amount: int) -> Skip | None:
    """Return why ``target``, measured at size ``label`` (``amount`` orders), is not judged
    there, or None when it is: the issue sets targets 3 and 4 on 10M orders, 8 on 10M order
    lines."""
    if amount >= JUDGED_FROM.get(target, 0):
        return None
    return Skip(
        target,
        label,
        f"the issue sets it at {JUDGED_FROM[target] // MILLION}M {UNITS.get(target, 'orders')}; "
        f"shown as ({target})",
        measured=True,
    )


def combine(holds: Iterable[bool | None]) -> bool | None:
    """Return True if every criterion holds, False if any does not, else None."""
    values = list(holds)
    if any(value is False for value in values):
        return False
    if not values or any(value is None for value in values):
        return None
    return True


def describe_holds(holds: bool | None) -> str:
    """Return ``yes``, ``NO`` or ``n/a`` for a verdict."""
    return "n/a" if holds is None else ("yes" if holds else "NO")
