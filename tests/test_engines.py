"""Choosing the engine without Spark: settings from the environment, the dataset's tables on
DuckDB, and the CLI's engine options refused in one sentence before any engine starts.

The same analyses on Spark are compared with DuckDB in test_conformance_spark.py.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from dashboard import cli, engines, errors
from dashboard.behaviour.definitions import Condition, Definition, Group, definition_to_json
from dashboard.rfm import analysis
from dashboard.workspace import store

ORDERS = [
    {"order_id": "1", "customer_id": "a", "ordered_at": "2025-01-05 10:00", "order_total": 10},
    {"order_id": "2", "customer_id": "b", "ordered_at": "2025-02-01 10:00", "order_total": 20},
]
REPEAT_BUYERS = Definition((Group((Condition("orders", ">=", 2),)),))


def test_engine_settings_default_to_duckdb() -> None:
    assert engines.read_engine_settings({}) == engines.EngineSettings()
    assert engines.read_engine_settings({engines.ENGINE_ENV: " DuckDB "}).engine == "duckdb"


def test_spark_settings_name_each_dataset_s_export() -> None:
    settings = engines.read_engine_settings(
        {
            engines.ENGINE_ENV: "spark",
            engines.PARQUET_DIR_ENV: "s3a://bucket/exports/",
            engines.SPARK_MASTER_ENV: "spark://host:7077",
        }
    )
    assert settings == engines.EngineSettings("spark", "spark://host:7077", "s3a://bucket/exports/")
    assert settings.parquet_dir("shop") == "s3a://bucket/exports/shop"
    with pytest.raises(store.WorkspaceError, match="not a valid dataset name"):
        settings.parquet_dir("../etc")


@pytest.mark.parametrize(
    ("environ", "reason"),
    [
        ({engines.ENGINE_ENV: "bigquery"}, "is not an engine"),
        ({engines.ENGINE_ENV: "spark"}, engines.PARQUET_DIR_ENV),
    ],
)
def test_unusable_engine_settings_are_refused_in_one_sentence(
    environ: dict[str, str], reason: str
) -> None:
    with pytest.raises(engines.EngineError, match=reason) as raised:
        engines.read_engine_settings(environ)
    assert "\n" not in str(raised.value)


def test_duckdb_tables_are_every_table_of_the_dataset(
    workspace: Path, make_dataset: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    name = make_dataset("shop", ORDERS, customers=["a", "c"])
    monkeypatch.delenv(engines.ENGINE_ENV, raising=False)
    with engines.open_configured_tables(workspace, name) as tables:
        assert tables.engine == "duckdb"
        assert tuple(tables) == engines.TABLES == tuple(store.SCHEMA)
        assert int(tables.orders.count().execute()) == 2
        assert tables.customers is not None
        assert tables.get("no_such_table") is None
    base = analysis.load_customer_base(workspace, name)
    try:
        assert base.window.as_of.isoformat() == "2025-02-01"
        assert sorted(base.measures.customer_id.to_pandas()) == ["a", "b", "c"]
    finally:
        base.close()


@pytest.mark.parametrize(
    ("command", "reason"),
    [
        (["report", "--out", "r.json", "--engine", "spark"], "--parquet"),
        (["migration", "--out", "m.csv", "--parquet", "somewhere"], "duckdb reads the workspace"),
        (
            ["export", "--definition", "{definition}", "--format", "csv", "--out", "x.csv"]
            + ["--engine", "spark"],
            "--parquet",
        ),
    ],
)
def test_cli_engine_options_are_checked_in_one_sentence(
    workspace: Path,
    make_dataset: Callable[..., str],
    capsys: pytest.CaptureFixture[str],
    command: list[str],
    reason: str,
) -> None:
    name = make_dataset("shop", ORDERS)
    definition = workspace / "segment.json"
    definition.write_text(definition_to_json(REPEAT_BUYERS), encoding="utf-8")
    command = [part.replace("{definition}", str(definition)) for part in command]
    args = [*command, "--workspace", str(workspace), "--dataset", name]
    assert cli.main(args) == errors.EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert reason in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_cli_spark_engine_without_an_export_says_so(
    workspace: Path, make_dataset: Callable[..., str], capsys: pytest.CaptureFixture[str]
) -> None:
    """A --parquet folder that is not an export is refused before Spark starts."""
    name = make_dataset("shop", ORDERS)
    args = ["report", "--out", "r.json", "--workspace", str(workspace), "--dataset", name]
    missing = workspace / "not-an-export"
    missing.mkdir()
    assert cli.main([*args, "--engine", "spark", "--parquet", str(missing)]) == 2
    assert "no orders/ folder" in capsys.readouterr().err
