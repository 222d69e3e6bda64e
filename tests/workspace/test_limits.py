"""Memory limit, query timeout and bounded JSON (workspace/limits.py): issue 14, items 6 and 10."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from dashboard import engines
from dashboard.errors import UserError
from dashboard.workspace import limits, store

# 100 million x 100 thousand rows: hours of work, so only the timeout can end it in a test.
SLOW_QUERY = "SELECT count(*) FROM range(100000000) a(x), range(100000) b(y) WHERE a.x + b.y = -1"


def test_a_slow_query_is_interrupted_and_the_connection_runs_the_next_one() -> None:
    con = duckdb.connect(":memory:")
    started = time.monotonic()
    with (
        pytest.raises(limits.QueryTimeoutError, match=r"longer than its limit of 0\.3 seconds"),
        limits.guard_queries(con, 0.3),
    ):
        con.execute(SLOW_QUERY).fetchall()
    assert time.monotonic() - started < 10
    assert con.execute("SELECT 6 * 7").fetchall() == [(42,)]
    with limits.guard_queries(con, 5):
        assert con.execute("SELECT 40 + 2").fetchall() == [(42,)]


def test_a_query_after_the_deadline_is_interrupted_too() -> None:
    con = duckdb.connect(":memory:")
    with pytest.raises(limits.QueryTimeoutError), limits.guard_queries(con, 0.2):
        time.sleep(0.4)  # the deadline passes between two queries
        con.execute(SLOW_QUERY).fetchall()


def test_an_interrupt_that_is_not_the_timeout_is_not_reworded() -> None:
    con = duckdb.connect(":memory:")
    with pytest.raises(duckdb.InterruptException), limits.guard_queries(con, None):
        raise duckdb.InterruptException("INTERRUPT Error: Interrupted!")


def test_out_of_memory_becomes_a_sentence_and_the_connection_stays_usable() -> None:
    con = duckdb.connect(":memory:")
    con.execute("SET memory_limit = '1MB'")
    with (
        pytest.raises(limits.QueryMemoryError, match="needed more memory than") as raised,
        limits.use_limits(limits.Limits("1MB", None)),
        limits.guard_queries(con, None),
    ):
        con.execute(
            "SELECT count(*) FROM (SELECT i::VARCHAR || 'x' AS s FROM range(10000000) t(i) "
            "ORDER BY s)"
        ).fetchall()
    assert "the 1MB it may use" in str(raised.value)
    assert isinstance(raised.value, UserError)
    assert con.execute("SELECT 1 + 1").fetchall() == [(2,)]


def test_the_timeout_holds_on_the_dataset_tables_and_the_dataset_opens_again(
    make_dataset: Callable[..., str], workspace: Path
) -> None:
    make_dataset(
        "shop",
        [
            {"order_id": "1", "customer_id": "a", "ordered_at": "2025-01-01", "order_total": 10},
            {"order_id": "2", "customer_id": "b", "ordered_at": "2025-01-02", "order_total": 5},
        ],
    )
    with limits.use_limits(limits.Limits(None, 0.3)):
        with (
            pytest.raises(limits.QueryTimeoutError),
            engines.open_tables("duckdb", workspace=workspace, dataset="shop") as tables,
        ):
            tables.backend.con.execute(SLOW_QUERY).fetchall()
        with engines.open_tables("duckdb", workspace=workspace, dataset="shop") as tables:
            assert tables.orders.count().execute() == 2
            assert float(tables.orders.order_total.sum().execute()) == 15.0


def test_read_connections_get_the_memory_limit(
    make_dataset: Callable[..., str], workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_dataset("shop", [])
    monkeypatch.setenv(limits.MEMORY_LIMIT_ENV, "300MiB")
    with store.open_for_read(workspace, "shop") as backend:
        shown = backend.con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    assert shown == "300.0 MiB"
    with (
        limits.use_limits(limits.Limits("200MiB", None)),
        store.open_for_read(workspace, "shop") as backend,
    ):
        shown = backend.con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    assert shown == "200.0 MiB"


def test_limits_from_the_environment() -> None:
    assert limits.read_limits(
        {"SEGMENTS_MEMORY_LIMIT": "4GB", "SEGMENTS_QUERY_TIMEOUT": "12.5"}
    ) == (limits.Limits("4GB", 12.5))
    assert limits.read_limits({"SEGMENTS_MEMORY_LIMIT": "1GB"}).query_timeout == 300.0
    assert limits.read_limits({"SEGMENTS_QUERY_TIMEOUT": "0"}).query_timeout is None
    assert limits.read_limits({}, default_timeout=None).query_timeout is None
    # Half of the machine's memory by default, in MiB.
    assert limits.read_limits({}).memory_limit.endswith("MiB")
    for bad in ("lots", "4 GB extra", "-1GB", "50%"):
        with pytest.raises(limits.LimitError, match="^SEGMENTS_MEMORY_LIMIT: .* memory size"):
            limits.read_limits({"SEGMENTS_MEMORY_LIMIT": bad})
    for bad in ("soon", "-5", "nan", "inf"):
        with pytest.raises(limits.LimitError, match="^SEGMENTS_QUERY_TIMEOUT: .* seconds"):
            limits.read_limits({"SEGMENTS_QUERY_TIMEOUT": bad})


class BadJson(UserError):
    """The error parse_json raises in these tests."""


def test_json_nested_32_deep_is_read_and_33_refused() -> None:
    assert limits.parse_json("[" * 32 + "]" * 32, "The file", BadJson) == json.loads(
        "[" * 32 + "]" * 32
    )
    assert limits.measure_depth({"a": [1, {"b": []}]}) == 4  # object, list, object, list
    assert limits.measure_depth(7) == 0
    with pytest.raises(BadJson, match="^The file nests lists or objects deeper than 32 levels.$"):
        limits.parse_json("[" * 33 + "]" * 33, "The file", BadJson)


def test_json_nested_past_the_stack_is_refused_not_a_recursion_error() -> None:
    text = "[" * 100_000 + "]" * 100_000
    with pytest.raises(BadJson, match="deeper than 32 levels"):
        limits.parse_json(text, "The file", BadJson)


def test_json_integers_beyond_64_bits_and_non_numbers_are_refused() -> None:
    assert limits.parse_json(f"[{2**63 - 1}, {-(2**63)}]", "The file", BadJson) == [
        9223372036854775807,
        -9223372036854775808,
    ]
    for text in (str(2**63), str(-(2**63) - 1), "1" * 5000):
        with pytest.raises(BadJson, match="too large.*64 bits"):
            limits.parse_json(text, "The file", BadJson)
    for text in ("NaN", "[Infinity]", "-Infinity"):
        with pytest.raises(BadJson, match="not a number JSON allows"):
            limits.parse_json(text, "The file", BadJson)
    with pytest.raises(BadJson, match="too large to use"):
        limits.parse_json("1e400", "The file", BadJson)


def test_json_longer_than_the_limit_or_broken_is_refused() -> None:
    with pytest.raises(BadJson, match="^The file holds at most 10 characters.$"):
        limits.parse_json("[" + "1," * 5 + "1]", "The file", BadJson, max_chars=10)
    with pytest.raises(BadJson, match=r"not valid JSON \(line 1, column 2"):
        limits.parse_json("{", "The file", BadJson)
