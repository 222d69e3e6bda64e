"""Conformance: the same engine functions give identical results on DuckDB and on Spark (issue 8).

Each dataset is built as canonical orders in a DuckDB workspace, exported with
``parquet_export.export_parquet`` and then run through the whole pipeline on both engines
(``engines.open_tables`` -> ``engines.load_customer_base`` -> ``rfm.quantile_cuts`` ->
``segments.summarise_cells`` / ``summarise_segments`` / ``assign_segments``). Results are compared
exactly: every value as text (decimals as their digits, floats by ``repr``), rows in a fixed order,
no tolerance. Datasets:

- a small generated store with the awkward cases (ties, null customers, cancelled, zero-value
  and return orders, prospects, customers outside the window, orders at midnight, unicode and
  formula-like customer ids);
- UCI Online Retail (tests/data/online_retail.parquet, CC BY 4.0, see tests/data/README.md),
  converted to invoice-level canonical orders with the SQL below;
- the demo store (conftest ``demo_dataset``), also through the CLI, whose ``--engine spark`` and
  ``--engine duckdb`` CSV files must be byte-identical.

Spark needs Java: without it this module is skipped with the reason, except in CI
(``CI=true``), where it fails.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import random
import shutil
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import ibis
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dashboard import analysis, engines, export, parquet_export, rfm, schemes, segments, store

ROOT = Path(__file__).resolve().parent.parent
# Short jobs on 2 cores: the quick JIT tier and a serial GC start Spark and its queries faster.
FAST_START_JVM = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
PARQUET = Path(__file__).parent / "data" / "online_retail.parquet"


def _spark_unavailable() -> str | None:
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return (
            "Java is not installed (apt-get install openjdk-17-jre-headless), so Spark cannot run"
        )
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (pip install -r requirements-dev.txt)"
    return None


_REASON = _spark_unavailable()
if _REASON is not None and os.environ.get("CI") != "true":
    pytest.skip(_REASON, allow_module_level=True)


@pytest.fixture(scope="session", autouse=True)
def _spark_must_run_in_ci() -> None:
    """In CI a missing Java or pyspark fails every test here (the rest of the suite still runs)."""
    if _REASON is not None:
        pytest.fail(f"Spark conformance must run in CI: {_REASON}.", pytrace=False)


# UCI Online Retail lines -> one canonical order per invoice (cancellation invoices are returns:
# order_total 0, negative net_total, so they reduce revenue but are never counted as orders).
CONVERT_UCI = """
INSERT INTO orders (order_id, customer_id, ordered_at, order_total, refunded_amount, net_total,
                    currency, is_cancelled, country, source_file, ingest_id)
SELECT order_id, customer_id, ordered_at,
       CASE WHEN order_id LIKE 'C%' THEN 0 ELSE amount END,
       CASE WHEN order_id LIKE 'C%' THEN -amount ELSE 0 END,
       amount, 'GBP', false, country, 'online_retail.parquet', 1
FROM (
    SELECT InvoiceNo AS order_id,
           CAST(max(CustomerID) AS VARCHAR) AS customer_id,
           min(InvoiceDate) AS ordered_at,
           CAST(sum(Quantity * CAST(UnitPrice AS DECIMAL(18, 3))) AS DECIMAL(18, 2)) AS amount,
           min(Country) AS country
    FROM read_parquet(?)
    GROUP BY InvoiceNo
)
"""

INSERT_ORDER = """
INSERT INTO orders (order_id, customer_id, ordered_at, order_total, refunded_amount, net_total,
                    currency, is_cancelled, source_file, ingest_id)
VALUES (?, ?, ?, ?, ?, ?, 'EUR', ?, 'generated.csv', 1)
"""


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    """One local Spark for the whole run (2 cores, no UI, 2 shuffle partitions, loopback only)."""
    from pyspark.sql import SparkSession

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # the JVM binds to loopback only
    session = (
        SparkSession.builder.master("local[2]")
        .appName("segments-conformance")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.driver.memory", "1g")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.extraJavaOptions", FAST_START_JVM)
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def _generated_orders(rng: random.Random) -> tuple[list[tuple[object, ...]], list[str]]:
    """Orders for 150 customers over two years, with the cases engines tend to disagree on."""
    ids = [f"c{i:03d}" for i in range(140)] + ["=cmd", "Zoë", "ñandú", "-12", " lead", "日本"]
    start = dt.datetime(2023, 1, 1)
    rows: list[tuple[object, ...]] = []
    amounts = [Decimal(v) for v in ("0.00", "9.99", "10.00", "19.99", "25.50", "100.00", "0.10")]
    for i in range(1200):
        customer = rng.choice(ids) if rng.random() > 0.04 else None
        minute = rng.randrange(0, 730 * 24 * 60)
        at = start + dt.timedelta(minutes=minute)
        if i % 97 == 0:  # on the stroke of midnight, and the last microsecond of a day
            at = at.replace(hour=0, minute=0, second=0, microsecond=0)
        elif i % 89 == 0:
            at = at.replace(hour=23, minute=59, second=59, microsecond=999_999)
        total = rng.choice(amounts) * rng.choice([1, 1, 1, 3, 47])
        refunded = Decimal("0.00")
        if rng.random() < 0.08:
            refunded = (total / 2).quantize(Decimal("0.01"))
        net = total - refunded
        if rng.random() < 0.03:  # a return row: never an order, reduces revenue
            total, refunded, net = Decimal("0.00"), Decimal("15.00"), Decimal("-15.00")
        cancelled = rng.random() < 0.05
        rows.append((f"o{i:05d}", customer, at, total, refunded, net, cancelled))
    # Prospects (in the customers file only) and one big spender.
    big = Decimal("98765.43")
    rows.append(("o99999", "c000", start + dt.timedelta(days=700), big, Decimal(0), big, False))
    customers = ids + [f"p{i:02d}" for i in range(12)]
    return rows, customers


@pytest.fixture(scope="module")
def datasets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str, Path]]:
    """name -> (workspace, dataset, Parquet export) for the generated store and UCI."""
    root = tmp_path_factory.mktemp("conformance")
    workspace = store.resolve_workspace(root / "workspace")
    rows, customers = _generated_orders(random.Random(8))
    with store.open_for_write(workspace, "generated") as con:
        con.begin()
        con.executemany(INSERT_ORDER, rows)
        con.executemany(
            "INSERT INTO customers (customer_id, ingest_id) VALUES (?, 1)",
            [(c,) for c in customers],
        )
        con.commit()
    with store.open_for_write(workspace, "uci") as con:
        con.begin()
        con.execute(CONVERT_UCI, [str(PARQUET)])
        con.commit()
    (root / "parquet").mkdir()
    out: dict[str, tuple[Path, str, Path]] = {}
    for name in ("generated", "uci"):
        export_dir = root / "parquet" / name
        parquet_export.export_parquet(workspace, name, export_dir)
        out[name] = (workspace, name, export_dir)
    return out


@pytest.fixture(scope="module")
def demo_export(
    tmp_path_factory: pytest.TempPathFactory, demo_dataset: tuple[Path, str]
) -> tuple[Path, str, Path]:
    """(workspace, dataset, Parquet export) of the demo store (built by the real ingest)."""
    workspace, dataset = demo_dataset
    export_dir = tmp_path_factory.mktemp("conformance-demo") / "parquet"
    parquet_export.export_parquet(workspace, dataset, export_dir)
    return workspace, dataset, export_dir


# ---------------------------------------------------------------- exact comparison


def _text(value: object) -> str | None:
    """One value as exact text: Decimal digits, float repr, ISO dates; None for any null."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float):
        return None if math.isnan(value) else repr(value)
    if isinstance(value, pd.Timestamp | dt.date):
        return value.isoformat()
    return str(value)


def rows(frame: pd.DataFrame) -> list[tuple[str | None, ...]]:
    """The frame's header and rows as exact text, in the frame's order."""
    header = tuple(str(c) for c in frame.columns)
    body = [tuple(_text(v) for v in row) for row in frame.itertuples(index=False, name=None)]
    return [header, *body]


def run_pipeline(
    engine: str,
    spec: tuple[Path, str, Path],
    scheme_keys: tuple[str, ...],
    window: dict[str, object],
    rules: rfm.CountingRules,
) -> dict[str, object]:
    """Everything the product computes for one dataset on one engine, as exact text."""
    workspace, dataset, export_dir = spec
    results: dict[str, object] = {}
    with engines.open_tables(
        engine, workspace=workspace, dataset=dataset, parquet_dir=export_dir
    ) as tables:
        results["latest_order_date"] = rfm.latest_order_date(tables.orders)
        base = engines.load_customer_base(tables, dataset, rules=rules, **window)
        try:
            measures = base.measures.order_by("customer_id").to_pandas()
            results["measures"] = rows(measures)
            results["outside_window"] = base.customers_outside_window
            results["one_time_share"] = rfm.share_one_time_buyers(base.measures)
            for key in scheme_keys:
                scheme = schemes.get_scheme(key)
                cuts = analysis.resolve_cuts(base, scheme)
                cells = segments.summarise_cells(base.measures, cuts)
                results[f"{key}/cuts"] = cuts
                results[f"{key}/collapsed"] = rfm.collapsed_scores(cuts)
                results[f"{key}/cells"] = rows(cells)
                results[f"{key}/summary"] = rows(segments.summarise_segments(cells, scheme))
                members = analysis.segment_members(base, cuts, scheme)  # assign_segments
                results[f"{key}/segments"] = rows(members)
                results[f"{key}/members.csv"] = export.to_csv_bytes(members)
        finally:
            if engine == "spark":
                base.measures.release()
    return results


def assert_identical(duck: dict[str, object], spark: dict[str, object]) -> None:
    assert duck.keys() == spark.keys()
    for key in duck:
        left, right = duck[key], spark[key]
        if isinstance(left, list):
            assert len(left) == len(right), (
                f"{key}: {len(left)} rows on DuckDB, {len(right)} on Spark"
            )
            diff = [(i, a, b) for i, (a, b) in enumerate(zip(left, right, strict=True)) if a != b]
            assert not diff, f"{key} differs at {len(diff)} rows; first: {diff[:3]}"
        else:
            assert left == right, f"{key}: DuckDB {left!r} != Spark {right!r}"


# ---------------------------------------------------------------- tests

CASES = [
    # dataset, schemes, window, counting rules
    pytest.param("generated", tuple(schemes.PRESETS), {}, rfm.CountingRules(), id="generated"),
    pytest.param(
        "generated",
        ("shopify",),
        {"as_of": dt.date(2024, 6, 30), "start": dt.date(2023, 7, 1)},
        rfm.CountingRules(exclude_zero_value=False),
        id="generated-window-zero-value",
    ),
    pytest.param("uci", ("shopify", "klaviyo"), {}, rfm.CountingRules(), id="online-retail"),
    # shopify on the demo store is compared byte for byte through the CLI below
    pytest.param("demo", ("klaviyo",), {}, rfm.CountingRules(), id="demo"),
]


@pytest.mark.parametrize(("name", "scheme_keys", "window", "rules"), CASES)
def test_pipeline_is_identical_on_duckdb_and_spark(
    request: pytest.FixtureRequest,
    spark: object,
    datasets: dict[str, tuple[Path, str, Path]],
    name: str,
    scheme_keys: tuple[str, ...],
    window: dict[str, object],
    rules: rfm.CountingRules,
) -> None:
    spec = request.getfixturevalue("demo_export") if name == "demo" else datasets[name]
    duck = run_pipeline("duckdb", spec, scheme_keys, window, rules)
    on_spark = run_pipeline("spark", spec, scheme_keys, window, rules)
    assert len(duck["measures"]) > 50  # header + customers: the comparison is not vacuous
    assert_identical(duck, on_spark)


def reference_cuts(frame: pd.DataFrame, n_scores: int) -> rfm.Cuts:
    """The documented rule in exact fractions: the interpolated quantile at (N - 1) * k / n,
    then for recency the largest value at or below it, for F and M the smallest value above it."""
    cuts: dict[str, tuple[float | None, ...]] = {}
    for name, column in (
        ("recency", "recency_days"),
        ("frequency", "frequency"),
        ("monetary", "monetary"),
    ):
        xs = sorted(Fraction(str(v)) for v in frame[column])
        found: list[float | None] = []
        for k in range(1, n_scores):
            position = Fraction((len(xs) - 1) * k, n_scores)
            lo = math.floor(position)
            hi = min(lo + 1, len(xs) - 1)
            q = xs[lo] + (xs[hi] - xs[lo]) * (position - lo)
            if name == "recency":
                found.append(float(max(x for x in xs if x <= q)))
            else:
                above = [x for x in xs if x > q]
                found.append(float(min(above)) if above else None)
        cuts[name] = tuple(found)
    return rfm.Cuts(**cuts)


def test_quantile_cut_points_follow_the_rule_exactly_on_both_engines(
    spark: object, tmp_path: Path
) -> None:
    """Cut points for 1..13 customers, ties and no ties, 3-5 scores: the exact rule, on both.

    The two "tied-at-rank" batches are where DuckDB's quantile_cont rounds the interpolation
    between two equal values just below them (7.299999999999999 for 7.30), which made an
    engine-quantile implementation pick 7.30 instead of the next larger value.
    """
    rng = random.Random(8)
    batches: list[tuple[str, int, list[tuple[int, int, Decimal]]]] = []
    for size in (1, 2, 3, 4, 7, 13):
        ties = [(rng.choice([0, 1, 30]), rng.choice([1, 2]), Decimal("9.99")) for _ in range(size)]
        distinct = [(i * 7, i + 1, Decimal(1001 + i * 333) / 100) for i in range(size)]
        batches.append((f"ties-{size}", rfm.SCORE_SCALES[size % 3], ties))
        batches.append((f"distinct-{size}", rfm.SCORE_SCALES[(size + 1) % 3], distinct))
    money = [Decimal(v) for v in ("0.00",) * 5 + ("7.30", "7.30", "5000.00")]
    batches.append(("tied-at-rank-5", 5, [(i, i + 1, m) for i, m in enumerate(money)]))
    money = [Decimal(v) for v in ("99.95", "99.95", "5000.00")]
    batches.append(("tied-at-rank-3", 3, [(i, i + 1, m) for i, m in enumerate(money)]))
    frame = pd.DataFrame(
        [(name, f"c{i:02d}", *row) for name, _, rows in batches for i, row in enumerate(rows)],
        columns=["batch", "customer_id", "recency_days", "frequency", "monetary"],
    ).assign(status=rfm.STATUS_SCORED)
    schema = pa.schema(
        [
            ("batch", pa.string()),
            ("customer_id", pa.string()),
            ("recency_days", pa.int64()),
            ("frequency", pa.int64()),
            ("monetary", pa.decimal128(38, 2)),
            ("status", pa.string()),
        ]
    )
    path = tmp_path / "measures.parquet"
    pq.write_table(pa.Table.from_pandas(frame, schema=schema, preserve_index=False), path)
    on_duck = ibis.duckdb.connect().read_parquet(path)
    on_spark = ibis.pyspark.connect(spark).read_parquet(path)
    for name, spark_scores, _ in batches:
        part = frame[frame.batch == name]
        for n_scores in rfm.SCORE_SCALES:  # every scale on DuckDB (fast), one on Spark (slow)
            expected = reference_cuts(part, n_scores)
            assert rfm.quantile_cuts(on_duck.filter(on_duck.batch == name), n_scores) == expected
        on_both = rfm.quantile_cuts(on_spark.filter(on_spark.batch == name), spark_scores)
        assert on_both == reference_cuts(part, spark_scores), (name, spark_scores)


def test_cli_segments_on_spark_are_byte_identical_to_duckdb(
    demo_dataset: tuple[Path, str], tmp_path: Path
) -> None:
    """`python -m dashboard segments --engine spark` writes the same bytes as --engine duckdb."""
    workspace, dataset = demo_dataset
    export_dir = tmp_path / "export"

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "dashboard", *args, "--workspace", str(workspace)],
            cwd=ROOT,
            env={**os.environ, "JAVA_TOOL_OPTIONS": FAST_START_JVM},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    done = cli("export-parquet", "--dataset", dataset, "--out", str(export_dir))
    assert done.returncode == 0, done.stderr
    assert (export_dir / "orders").is_dir()
    assert any(p.name.startswith("order_month=") for p in (export_dir / "orders").iterdir())
    outputs = {}
    for engine in ("duckdb", "spark"):
        extra = ["--parquet", str(export_dir)] if engine == "spark" else []
        members, summary = tmp_path / f"{engine}.csv", tmp_path / f"{engine}-summary.csv"
        done = cli(
            "segments",
            "--dataset",
            dataset,
            "--out",
            str(members),
            "--summary",
            str(summary),
            "--engine",
            engine,
            *extra,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        outputs[engine] = (members.read_bytes(), summary.read_bytes())
    assert outputs["duckdb"][0].count(b"\n") > 100
    assert outputs["spark"][0] == outputs["duckdb"][0]
    assert outputs["spark"][1] == outputs["duckdb"][1]


def test_export_parquet_refuses_a_non_empty_directory(
    datasets: dict[str, tuple[Path, str, Path]], tmp_path: Path
) -> None:
    workspace, dataset, _ = datasets["generated"]
    (tmp_path / "taken.txt").write_text("keep me")
    with pytest.raises(store.WorkspaceError, match="not empty"):
        parquet_export.export_parquet(workspace, dataset, tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["taken.txt"]


def test_spark_engine_needs_a_parquet_export(spark: object, tmp_path: Path) -> None:
    with (
        pytest.raises(engines.EngineError, match="no orders/ folder"),
        engines.open_tables("spark", parquet_dir=tmp_path),
    ):
        pass


def test_cli_engine_options_are_checked_before_spark_starts(
    datasets: dict[str, tuple[Path, str, Path]], capsys: pytest.CaptureFixture[str]
) -> None:
    from dashboard import cli

    workspace, dataset, export_dir = datasets["generated"]
    common = ["segments", "--workspace", str(workspace), "--dataset", dataset, "--out", "x.csv"]
    assert cli.main([*common, "--engine", "spark"]) == cli.EXIT_BAD_INPUT
    assert "--parquet" in capsys.readouterr().err
    assert cli.main([*common, "--parquet", str(export_dir)]) == cli.EXIT_BAD_INPUT
    assert "duckdb reads the workspace" in capsys.readouterr().err
