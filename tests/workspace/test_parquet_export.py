"""``parquet_export.export_parquet`` read back with DuckDB: folders, rows and column types.

No Spark here (tests/test_conformance_spark.py reads the same layout on Spark): the export is
checked against the workspace it came from, table by table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from dashboard.workspace import parquet_export, store

# Orders on both sides of a month's last microsecond, over three months.
ORDERS = [
    {"order_id": "o1", "customer_id": "c1", "ordered_at": "2024-01-05 10:00:00", "order_total": 10},
    {
        "order_id": "o2",
        "customer_id": "c1",
        "ordered_at": "2024-01-31 23:59:59.999999",
        "order_total": "20.50",
    },
    {"order_id": "o3", "customer_id": "c2", "ordered_at": "2024-02-01 00:00:00", "order_total": 5},
    {"order_id": "o4", "customer_id": None, "ordered_at": "2024-03-15 08:30:00", "order_total": 7},
]
OTHER_ROWS = {
    "order_lines": (
        "order_id, line_number, product, quantity, price, ingest_id",
        [("o1", 1, "Apple", 2, Decimal("5.00"), 1), ("o2", 1, None, 1, Decimal("20.50"), 1)],
    ),
    "sessions": (
        "customer_id, started_at, duration_seconds, pages_viewed, added_to_cart, purchased, "
        "ingest_id",
        [
            ("c1", dt.datetime(2024, 3, 31, 23, 59, 59), 61, 4, True, False, 1),
            (None, dt.datetime(2024, 4, 1), None, 1, None, None, 1),
            ("c2", dt.datetime(2024, 4, 20, 12), 15, 2, False, True, 1),
        ],
    ),
    "abandoned_checkouts": (
        "checkout_id, customer_id, created_at, total, currency, source_name, ingest_id",
        [
            ("k1", "c1", dt.datetime(2023, 12, 31, 18), Decimal("12.50"), "EUR", "web", 1),
            ("k2", None, dt.datetime(2024, 1, 2, 9), None, None, None, 1),
        ],
    ),
    "marketing_spend": (
        "month, channel, spend, purpose, ingest_id",
        [(dt.date(2024, 1, 1), "Google Ads", Decimal("100.10"), None, 1)],
    ),
    "survey_scores": (
        "customer_id, answered_at, score, ingest_id",
        [("c1", None, 7.5, 1), ("c2", dt.datetime(2024, 2, 3), 9.0, 1)],
    ),
}
# Written by hand, not derived the way the export derives them.
EXPECTED_FOLDERS = {
    "orders": ["order_month=2024-01", "order_month=2024-02", "order_month=2024-03"],
    "sessions": ["session_month=2024-03", "session_month=2024-04"],
    "abandoned_checkouts": ["checkout_month=2023-12", "checkout_month=2024-01"],
}


@pytest.fixture
def shop(workspace: Path, make_dataset: Callable[..., str]) -> str:
    """A dataset with rows in every table but ``ingests`` and ``ingest_issues``."""
    name = make_dataset("shop", ORDERS, customers=["c1", "c2", "p1"])
    with store.open_for_write(workspace, name) as con:
        con.begin()
        for table, (columns, rows) in OTHER_ROWS.items():
            marks = ", ".join("?" for _ in columns.split(","))
            con.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)
        con.commit()
    return name


def read_back(con: duckdb.DuckDBPyConnection, out: Path, table: str) -> duckdb.DuckDBPyRelation:
    """The table's folder as a reader sees it: every file under it, the partition column dropped."""
    files = con.read_parquet(str(out / table / "**" / "*.parquet"), hive_partitioning=True)
    partition = parquet_export.find_partition_column(table)
    return files.project(", ".join(f'"{c}"' for c in files.columns if c != partition))


def sorted_rows(relation: duckdb.DuckDBPyRelation) -> list[tuple[object, ...]]:
    return relation.order(", ".join(f'"{c}"' for c in relation.columns)).fetchall()


def test_every_table_reads_back_as_the_workspace_holds_it(
    workspace: Path, shop: str, tmp_path: Path
) -> None:
    out = tmp_path / "export"
    counts = parquet_export.export_parquet(workspace, shop, out)
    expected_counts = {table: 0 for table in store.SCHEMA}
    expected_counts.update(orders=4, customers=3, order_lines=2, sessions=3)
    expected_counts.update(abandoned_checkouts=2, marketing_spend=1, survey_scores=2)
    assert counts == expected_counts
    assert sorted(p.name for p in out.iterdir()) == sorted(store.SCHEMA)
    with store.open_for_write(workspace, shop) as con:
        for table in store.SCHEMA:
            stored, exported = con.table(table), read_back(con, out, table)
            assert exported.columns == stored.columns, table
            assert [str(t) for t in exported.types] == [str(t) for t in stored.types], table
            assert sorted_rows(exported) == sorted_rows(stored), table
            assert len(sorted_rows(exported)) == expected_counts[table]


def test_event_tables_are_partitioned_by_the_month_of_their_time_column(
    workspace: Path, shop: str, tmp_path: Path
) -> None:
    out = tmp_path / "export"
    parquet_export.export_parquet(workspace, shop, out)
    for table, folders in EXPECTED_FOLDERS.items():
        assert sorted(p.name for p in (out / table).iterdir()) == folders, table
        time_column, partition = parquet_export.PARTITIONS[table]
        for folder in folders:
            month = folder.split("=", 1)[1]
            files = sorted((out / table / folder).glob("*.parquet"))
            assert files, folder
            for file in files:
                data = pq.read_table(file)
                # The month lives in the folder's name only, never in the file.
                assert partition not in data.column_names
                stamps = data.column(time_column).to_pylist()
                assert stamps and all(s.strftime("%Y-%m") == month for s in stamps), file
    for table in set(store.SCHEMA) - set(EXPECTED_FOLDERS):
        assert [p.name for p in (out / table).iterdir()] == [parquet_export.DATA_FILE], table


def test_partition_columns_are_no_column_of_any_table() -> None:
    with duckdb.connect() as con:
        store.ensure_schema(con)
        names = {c for table in store.SCHEMA for c in con.table(table).columns}
    partitions = {partitioning.column for partitioning in parquet_export.PARTITIONS.values()}
    assert partitions == {"order_month", "session_month", "checkout_month"}
    assert not partitions & names


def test_empty_event_tables_export_as_one_readable_file_with_the_schema(
    workspace: Path, make_dataset: Callable[..., str], tmp_path: Path
) -> None:
    name = make_dataset("orders-only", ORDERS[:1])
    out = tmp_path / "export"
    counts = parquet_export.export_parquet(workspace, name, out)
    assert (counts["orders"], counts["sessions"], counts["abandoned_checkouts"]) == (1, 0, 0)
    assert [p.name for p in (out / "orders").iterdir()] == ["order_month=2024-01"]
    with store.open_for_write(workspace, name) as con:
        for table in ("sessions", "abandoned_checkouts"):
            assert [p.name for p in (out / table).iterdir()] == [parquet_export.DATA_FILE]
            exported, stored = read_back(con, out, table), con.table(table)
            assert exported.columns == stored.columns
            assert [str(t) for t in exported.types] == [str(t) for t in stored.types]
            assert exported.fetchall() == []


def test_a_dataset_without_orders_exports_nothing(
    workspace: Path, make_dataset: Callable[..., str], tmp_path: Path
) -> None:
    name = make_dataset("empty", [], customers=["c1"])
    with pytest.raises(store.WorkspaceError, match="no orders yet"):
        parquet_export.export_parquet(workspace, name, tmp_path / "export")
    assert [p.name for p in tmp_path.iterdir()] == ["workspace"]


def test_a_non_empty_output_directory_is_refused_and_left_alone(
    workspace: Path, shop: str, tmp_path: Path
) -> None:
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "keep.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(store.WorkspaceError, match="not empty"):
        parquet_export.export_parquet(workspace, shop, taken)
    assert [p.name for p in taken.iterdir()] == ["keep.txt"]
    assert (taken / "keep.txt").read_text(encoding="utf-8") == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken", "workspace"]
