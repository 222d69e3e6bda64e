"""The limits analysis runs under: memory and time per query, and the size of JSON a user gives.

Memory: every read-only (analysis) DuckDB connection gets ``SET memory_limit`` before it is
sealed (``store._connect``): ``SEGMENTS_MEMORY_LIMIT`` (a DuckDB size such as ``4GB`` or
``512MiB``; default half of the machine's memory). Time: DuckDB has no statement timeout, so
``guard_queries`` runs a timer that interrupts the connection once the time is up:
``SEGMENTS_QUERY_TIMEOUT`` seconds (default 300 in the app; the command line waits as long as it
takes unless it is set or ``--query-timeout`` is given; 0 means no limit). Both end in a
``LimitError``, one sentence saying what to do, and the connection stays usable.

JSON: ``parse_json`` reads every JSON document a user gives (definitions, schemes, saved
segments) with bounds on its length, nesting depth and integers.
"""

from __future__ import annotations

import json
import math
import os
import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import duckdb

from dashboard.errors import UserError

MEMORY_LIMIT_ENV = "SEGMENTS_MEMORY_LIMIT"
QUERY_TIMEOUT_ENV = "SEGMENTS_QUERY_TIMEOUT"
APP_QUERY_TIMEOUT = 300.0
MEMORY_SIZE = re.compile(r"[0-9]+(\.[0-9]+)?\s*([KMGT]i?B)", re.IGNORECASE)
# After the deadline the connection is interrupted again at this interval: an interrupt reaches
# only the query running at that moment, and the block may start others.
_INTERRUPT_EVERY = 0.05

MAX_JSON_CHARS = 200_000
MAX_JSON_DEPTH = 32
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

# Raw engine errors that mean a limit was reached; ``explain_engine_error`` words them.
ENGINE_LIMIT_ERRORS: tuple[type[Exception], ...] = (duckdb.OutOfMemoryException,)


class LimitError(UserError):
    """A limit reached or set wrongly, with what to do as one sentence."""


class QueryMemoryError(LimitError):
    """A query needed more memory than the connection may use."""


class QueryTimeoutError(LimitError):
    """A query ran longer than the query timeout and was interrupted."""


@dataclass(frozen=True)
class Limits:
    """The limits of one process or command.

    ``memory_limit``: a DuckDB size such as ``4GB`` (None: DuckDB's default, 80% of memory);
    ``query_timeout``: seconds one analysis may run on an open dataset (None: no limit).
    """

    memory_limit: str | None = None
    query_timeout: float | None = None


_chosen: ContextVar[Limits | None] = ContextVar("segments_limits", default=None)


def parse_memory_limit(text: str) -> str:
    """Return ``text`` if it is a memory size DuckDB reads (``4GB``, ``512MiB``), else raise."""
    size = text.strip()
    if not MEMORY_SIZE.fullmatch(size):
        raise LimitError(
            f"'{text}' is not a memory size: write a number and a unit, e.g. 4GB or 512MiB."
        )
    return size


def parse_query_timeout(text: str) -> float | None:
    """Return the timeout in seconds of ``text`` (a number >= 0; 0 = no limit), else raise."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds < 0:
        raise LimitError(
            f"'{text}' is not a query timeout: give a number of seconds (0 for no limit)."
        )
    return seconds or None


def default_memory_limit() -> str | None:
    """Return half of the machine's physical memory as a DuckDB size (None when unknown)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None
    return f"{max(total // 2 // 2**20, 256)}MiB"


def read_limits(
    environ: Mapping[str, str] | None = None, default_timeout: float | None = APP_QUERY_TIMEOUT
) -> Limits:
    """Return the limits of the environment (``os.environ`` by default).

    ``SEGMENTS_MEMORY_LIMIT`` (default: half the machine's memory) and ``SEGMENTS_QUERY_TIMEOUT``
    in seconds (default ``default_timeout``; 0 = none). Raises LimitError for a bad value.
    """
    env = os.environ if environ is None else environ
    memory = env.get(MEMORY_LIMIT_ENV, "").strip()
    timeout = env.get(QUERY_TIMEOUT_ENV, "").strip()
    try:
        memory_limit = parse_memory_limit(memory) if memory else default_memory_limit()
    except LimitError as exc:
        raise LimitError(f"{MEMORY_LIMIT_ENV}: {exc}") from None
    try:
        query_timeout = parse_query_timeout(timeout) if timeout else default_timeout
    except LimitError as exc:
        raise LimitError(f"{QUERY_TIMEOUT_ENV}: {exc}") from None
    return Limits(memory_limit, query_timeout)


@contextmanager
def use_limits(limits: Limits) -> Iterator[None]:
    """Apply ``limits`` instead of the environment's to connections opened inside the block."""
    token = _chosen.set(limits)
    try:
        yield
    finally:
        _chosen.reset(token)


def current_limits() -> Limits:
    """Return the limits of ``use_limits``, else those of the environment (``read_limits``)."""
    return _chosen.get() or read_limits()


def apply_memory_limit(con: duckdb.DuckDBPyConnection) -> None:
    """Set the current memory limit on ``con`` (before it is sealed: sealing locks settings)."""
    limit = current_limits().memory_limit
    if limit is not None:
        con.execute("SET memory_limit = ?", [limit])


def explain_engine_error(exc: BaseException) -> LimitError:
    """Return the sentence for a raw engine error of ENGINE_LIMIT_ERRORS."""
    limit = current_limits().memory_limit
    allowed = f"the {limit} it may use" if limit else "this machine has"
    return QueryMemoryError(
        f"The analysis needed more memory than {allowed}; narrow the window (a later start "
        "date, or --since on the command line) or raise the limit with "
        f"{MEMORY_LIMIT_ENV} (--memory-limit on the command line)."
    )


@contextmanager
def guard_queries(con: duckdb.DuckDBPyConnection, timeout: float | None) -> Iterator[None]:
    """Run the block's queries on ``con`` under ``timeout`` seconds and the memory limit.

    Out of memory becomes QueryMemoryError; queries still running when the time is up are
    interrupted and end in QueryTimeoutError. The connection itself stays usable either way.
    """
    stop = threading.Event()
    fired = threading.Event()

    def interrupt_when_late() -> None:
        if stop.wait(timeout):
            return
        fired.set()
        while not stop.is_set():
            con.interrupt()
            stop.wait(_INTERRUPT_EVERY)

    timer = threading.Thread(target=interrupt_when_late, daemon=True) if timeout else None
    if timer is not None:
        timer.start()
    try:
        yield
    except duckdb.InterruptException as exc:
        if not fired.is_set():
            raise
        raise QueryTimeoutError(
            f"The analysis ran longer than its limit of {timeout:g} seconds and was stopped; "
            "narrow the window, run it from the command line (python -m dashboard), or raise "
            f"the limit with {QUERY_TIMEOUT_ENV} (--query-timeout on the command line)."
        ) from exc
    except ENGINE_LIMIT_ERRORS as exc:
        raise explain_engine_error(exc) from exc
    finally:
        stop.set()
        if timer is not None:
            timer.join()


def parse_json(
    text: str,
    what: str,
    error: type[UserError] = UserError,
    max_chars: int = MAX_JSON_CHARS,
) -> object:
    """Return the JSON document of ``text``, refusing what could exhaust memory or the stack.

    In: a user's JSON text and how to name it in a sentence ("The scheme"). Out: the parsed
    document. Raises ``error`` when the text is longer than ``max_chars``, is not JSON, nests
    deeper than MAX_JSON_DEPTH, holds an integer beyond 64 bits or NaN / Infinity.
    """
    if len(text) > max_chars:
        raise error(f"{what} holds at most {max_chars:,} characters.")

    def bounded_int(digits: str) -> int:
        # The length check first: int() of thousands of digits is slow, then refused.
        value = int(digits) if len(digits) <= 20 else None
        if value is None or not INT64_MIN <= value <= INT64_MAX:
            raise error(f"{what} holds a number too large ({digits[:20]}...): at most 64 bits.")
        return value

    def finite_float(digits: str) -> float:
        value = float(digits)
        if not math.isfinite(value):
            raise error(f"{what} holds a number too large to use ({digits[:20]}).")
        return value

    def no_constant(name: str) -> None:
        raise error(f"{what} holds {name}, which is not a number JSON allows.")

    try:
        document = json.loads(
            text, parse_int=bounded_int, parse_float=finite_float, parse_constant=no_constant
        )
    except json.JSONDecodeError as exc:
        raise error(
            f"{what} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})."
        ) from None
    except RecursionError:
        document = None
        depth = MAX_JSON_DEPTH + 1
    else:
        depth = measure_depth(document)
    if depth > MAX_JSON_DEPTH:
        raise error(f"{what} nests lists or objects deeper than {MAX_JSON_DEPTH} levels.")
    return document


def measure_depth(document: object) -> int:
    """Return how deep lists and objects nest in a parsed JSON document (a scalar is 0)."""
    deepest = 0
    pending: list[tuple[object, int]] = [(document, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict | list):
            depth += 1
            deepest = max(deepest, depth)
            if depth > MAX_JSON_DEPTH:
                break
            children = item.values() if isinstance(item, dict) else item
            pending.extend((child, depth) for child in children)
    return deepest
