"""Conformance: the same engine functions give identical results on DuckDB and on Spark (issue 8).

Each dataset is built in a DuckDB workspace, exported with ``parquet_export.export_parquet`` and
then run through the whole pipeline on both engines: the RFM pipeline (``engines.open_tables`` ->
``engines.load_customer_base`` -> ``cut_points.quantile_cuts`` -> ``segments.summarise_cells`` /
``summarise_segments`` / ``assign_segments``, slider ranges) and every other analysis (the
behavioural feature table, a saved two-condition segment's members, channel attribution and the
channel table, spend, cohort cells, maturity stages and effort, and the GA4 traffic by channel,
periods covered, Direct share and the report's traffic section). Results are compared exactly:
every value as text (decimals as their digits, floats by ``repr``), rows in a fixed order, no
tolerance. Datasets:

- a small generated store with the awkward cases (ties, null customers, cancelled, zero-value
  and return orders, prospects, customers outside the window, orders at midnight, unicode and
  formula-like customer ids; blanks, case and tab/\x0b/\x0c whitespace in every evidence column;
  order lines, sessions, abandoned checkouts, spend and tied survey answers; and a GA4 traffic
  acquisition report loaded through the real loader, with GA4's odd channel names);
- UCI Online Retail (tests/data/online_retail.parquet, CC BY 4.0, see tests/data/README.md),
  converted to invoice-level canonical orders and order lines with the SQL below;
- the demo store: orders and customers (conftest ``demo_dataset``), and every file ``make run``
  loads (``demo_full``); also through the CLI, whose ``segments``, ``report``, ``export`` and
  ``migration`` files must be byte-identical on ``--engine spark`` and ``--engine duckdb``.

The app's loaders are also run with ``SEGMENTS_ENGINE=spark`` against DuckDB's results.

Spark needs Java: without it this module is skipped with the reason, except in CI
(``CI=true``), where it fails.
"""

from __future__ import annotations

import datetime as dt
import json
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
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dashboard import cli, engines, errors, export, ingest, order_rules
from dashboard.acquisition import reports, traffic
from dashboard.behaviour import segment_store
from dashboard.behaviour.catalogue import FEATURES
from dashboard.behaviour.compiler import compile_definition, feature_view
from dashboard.behaviour.definitions import Condition, Definition, Group, definition_to_json
from dashboard.behaviour.feature_base import build_feature_base, list_values, load_feature_base
from dashboard.behaviour.membership import list_members, measure_segment
from dashboard.rfm import analysis, cut_points, schemes, segments
from dashboard.workspace import parquet_export, store

ROOT = Path(__file__).resolve().parent.parent
# Short jobs on 2 cores: the quick JIT tier and a serial GC start Spark and its queries faster.
# The quick tier alone reserves 48 MB for compiled code, which this module's many generated
# query classes fill ("Out of space in CodeCache", and the JVM exits): reserve the usual 240 MB.
FAST_START_JVM = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:ReservedCodeCacheSize=240m"
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
                    currency, is_cancelled, country, ingest_id)
SELECT order_id, customer_id, ordered_at,
       CASE WHEN order_id LIKE 'C%' THEN 0 ELSE amount END,
       CASE WHEN order_id LIKE 'C%' THEN -amount ELSE 0 END,
       amount, 'GBP', false, country, 1
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

# UCI invoice lines -> order lines (no categories in this dataset), numbered in a fixed order.
CONVERT_UCI_LINES = """
INSERT INTO order_lines (order_id, line_number, product, sku, quantity, price, ingest_id)
SELECT InvoiceNo,
       row_number() OVER (PARTITION BY InvoiceNo
                          ORDER BY StockCode, Description, Quantity, UnitPrice),
       Description, StockCode, CAST(Quantity AS INTEGER), CAST(UnitPrice AS DECIMAL(18, 2)), 1
FROM read_parquet(?)
"""

INSERT_ORDER = """
INSERT INTO orders (order_id, customer_id, ordered_at, order_total, refunded_amount, net_total,
                    currency, is_cancelled, utm_source, utm_medium, referrer, discount_code, tags,
                    country, source_name, channel, ingest_id)
VALUES (?, ?, ?, ?, ?, ?, 'EUR', ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
"""
# Rows of the generated store's other tables: column names, then one "?" per column.
INSERT_EXTRAS = {
    "customers": "customer_id, email, first_name, accepts_marketing, accepts_sms, country, city, "
    "tags, ingest_id",
    "order_lines": "order_id, line_number, product, sku, quantity, price, category, ingest_id",
    "sessions": "customer_id, started_at, duration_seconds, pages_viewed, added_to_cart, "
    "purchased, ingest_id",
    "abandoned_checkouts": "checkout_id, customer_id, created_at, total, currency, source_name, "
    "ingest_id",
    "marketing_spend": "month, channel, spend, purpose, ingest_id",
    "survey_scores": "customer_id, answered_at, score, ingest_id",
}


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """One local Spark for the whole run (2 cores, no UI, 2 shuffle partitions, loopback only;
    its warehouse folder in a temporary directory, not the current one)."""
    from pyspark.sql import SparkSession

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # the JVM binds to loopback only
    session = (
        SparkSession.builder.master("local[2]")
        .appName("segments-conformance")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        # The demo, UCI and generated stores keep up to ~650 MB live: 1g left the old generation
        # nearly full, and a task that runs out of heap makes local Spark exit its JVM.
        .config("spark.driver.memory", "2g")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", str(tmp_path_factory.mktemp("spark-warehouse")))
        .config("spark.driver.extraJavaOptions", FAST_START_JVM)
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    jvm = session.sparkContext._gateway.proc
    if jvm.poll() is not None:
        pytest.fail(f"Spark's JVM exited during the run: {_explain_jvm_exit(jvm.returncode)}")
    session.stop()


def _explain_jvm_exit(code: int) -> str:
    """Name the usual causes of a local Spark JVM's exit code (SparkExitCode, signals)."""
    known = {
        52: "it ran out of Java heap (Spark exits on OutOfMemoryError; raise spark.driver.memory)",
        -9: "it was killed (SIGKILL), e.g. by the kernel's out-of-memory killer",
        -6: "it aborted (SIGABRT): a crash of the JVM, see its hs_err_pid file",
    }
    return f"exit code {code}: {known.get(code, 'see the JVM output captured above')}"


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


# Evidence values with the whitespace Spark once read differently (\t, \x0b, \x0c at the ends),
# cases, blanks and every kind of channel rule.
EVIDENCE = {
    "utm_source": [None, "google", " Facebook\t", "fb", "klaviyo", "\x0cinstagram", "vivid", ""],
    "utm_medium": [None, "cpc", "paid_social", " email ", "organic", "referral\x0b", "cpm"],
    "referrer": [
        None,
        "https://www.google.com/search",
        "/landing",
        "https://l.facebook.com/x",
        "http://example.org/a",
        " HTTPS://WWW.BING.COM ",
    ],
    "discount_code": [None, "", "  ", "AFFILIATE10", "summer", "partner-5"],
    "tags": [None, "vip, affiliate", "newsletter ,pos", "fancy", " Influencer "],
    "country": [None, "DE", " FR ", "", "ES", "fr"],
    "source_name": [None, "web", "pos", "tiktok", "580111", " Shopify_Draft_Order "],
    "channel": [None, "email", "Affiliate", " klaviyo"],
}


def _generated_extras(
    rng: random.Random, orders: list[tuple[object, ...]], customers: list[str]
) -> tuple[list[tuple[object, ...]], dict[str, list[tuple[object, ...]]]]:
    """Evidence columns per order, and rows of every other table, with ties and blanks."""
    evidence = [tuple(rng.choice(values) for values in EVIDENCE.values()) for _ in orders]
    start = dt.datetime(2023, 1, 1)
    people = [*customers, None]

    def moment() -> dt.datetime:
        return start + dt.timedelta(minutes=rng.randrange(0, 760 * 24 * 60))

    tables: dict[str, list[tuple[object, ...]]] = {
        "customers": [
            (
                c,
                rng.choice([None, f" {c}@Example.com ", f"{c}@example.com", ""]),
                rng.choice([None, "Ann", "Zoë"]),
                rng.choice([None, True, False]),
                rng.choice([None, True, False]),
                rng.choice([None, "DE", " ES ", ""]),
                rng.choice([None, "Köln", "Paris"]),
                rng.choice([None, "vip", "wholesale, vip"]),
                1,
            )
            for c in customers
        ],
        "order_lines": [
            (
                order[0],
                line,
                rng.choice(["Apple", "Banana", " ", None, "Cherry"]),
                rng.choice(["A1", " A1 ", "B2", None, "", "C3"]),
                rng.choice([1, 2, 5]),
                rng.choice([Decimal("1.99"), Decimal("10.00"), None]),
                rng.choice([None, "fruit", " veg ", "Zoë", "", "Fruit"]),
                1,
            )
            for order in orders
            for line in range(1, rng.choice([1, 1, 2, 3]) + 1)
        ],
        "sessions": [
            (
                rng.choice(people),
                moment(),
                rng.choice([None, 0, 15, 61, 3600]),
                rng.choice([None, 1, 4]),
                rng.choice([None, True, False]),
                rng.choice([None, True, False]),
                1,
            )
            for _ in range(900)
        ],
        "abandoned_checkouts": [
            (f"k{i:04d}", rng.choice(people), moment(), Decimal("12.50"), "EUR", "web", 1)
            for i in range(300)
        ],
        "marketing_spend": [
            (dt.date(2023, month, 1), name, Decimal(amount), purpose, 1)
            for month in range(1, 13)
            for name, amount, purpose in (
                ("Google Ads", "100.10", None),
                (" google ads", "0.20", "Retention "),
                ("Meta Ads", "33.33", "acquisition"),
                ("Mystery", "7.77", ""),
                ("Klaviyo", "12.00", "retention"),
            )
        ],
        "survey_scores": [
            # Same customer and time with two scores: the higher one is the latest answer.
            *(
                (c, dt.datetime(2024, 5, 1, 12), score, 1)
                for c in ("c001", "c002")
                for score in (3.25, 9.0)
            ),
            ("c003", None, 7.5, 1),
            ("c003", None, 8.5, 1),
            *(
                (
                    rng.choice(customers),
                    rng.choice([None, moment()]),
                    rng.choice([1.0, 6.5, 10.0]),
                    1,
                )
                for _ in range(200)
            ),
        ],
    }
    return evidence, tables


# GA4 channel groups as a report can name them: cases, Unassigned / (not set), groups this tool
# renames, a custom group starting with "f" (Spark's strip() once cut it off) and one ending in "v".
GA4_CHANNELS = [
    "Direct",
    "direct",
    "Organic Search",
    "paid social",
    "Unassigned",
    "(not set)",
    "Cross-network",
    "facebook",
    "Email",
    "Mobile Push Notifications",
    "Organic Video",
    "Dev",
]


def _ga4_report(rng: random.Random) -> str:
    """A GA4 traffic acquisition download: 60 weeks from 2024-01-01 (past the last order), some
    channels missing some weeks, a repeated row, a channel without sessions and a total row.

    Key events are whole or half numbers, so their float sums are exact in any order."""
    lines = [
        "# ----------------------------------------",
        "# Traffic acquisition: Session primary channel group (Default Channel Group)",
        "# Start date: 20240101",
        "# End date: 20250223",
        "Session primary channel group (Default Channel Group),Week,Sessions,Engaged sessions,"
        "Key events,Total revenue",
    ]
    for week in range(60):
        for channel in GA4_CHANNELS:
            if rng.random() < 0.25:
                continue
            sessions = rng.choice([0, 1, 7, 40, 333, 1200])
            engaged = rng.randrange(0, sessions + 1)
            events = rng.choice(["0", "1", "2.5", "12", "0.5"])
            revenue = rng.choice(["", "0.00", "19.99", "1234.56", "0.01"])
            repeats = 2 if rng.random() < 0.03 else 1
            lines += [f'"{channel}",{week:04d},{sessions},{engaged},{events},{revenue}'] * repeats
    lines.append("Total,0001,1,1,1,1.00")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def datasets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str, Path]]:
    """name -> (workspace, dataset, Parquet export) for the generated store and UCI."""
    root = tmp_path_factory.mktemp("conformance")
    workspace = store.resolve_workspace(root / "workspace")
    rows, customers = _generated_orders(random.Random(8))
    evidence, extras = _generated_extras(random.Random(80), rows, customers)
    with store.open_for_write(workspace, "generated") as con:
        con.begin()
        con.executemany(INSERT_ORDER, [o + e for o, e in zip(rows, evidence, strict=True)])
        for table, columns in INSERT_EXTRAS.items():
            marks = ", ".join("?" for _ in columns.split(","))
            con.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", extras[table])
        con.commit()
    ga4 = root / "Traffic_acquisition_Session_primary_channel_group.csv"
    ga4.write_text(_ga4_report(random.Random(18)), encoding="utf-8")
    loaded = ingest.ingest_file(workspace, "generated", ga4)
    assert loaded.file_format == "ga4-acquisition" and loaded.rows_loaded > 400
    with store.open_for_write(workspace, "uci") as con:
        con.begin()
        con.execute(CONVERT_UCI, [str(PARQUET)])
        con.execute(CONVERT_UCI_LINES, [str(PARQUET)])
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


@pytest.fixture(scope="module")
def demo_full(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, Path]:
    """(workspace, dataset, Parquet export) of the whole demo store, as ``make run`` loads it:
    orders, customers, sessions, abandoned checkouts and marketing spend."""
    root = tmp_path_factory.mktemp("conformance-demo-full")
    workspace = store.resolve_workspace(root / "workspace")
    done = cli.main(
        ["demo", "--dataset", "demo", "--workspace", str(workspace), "--files-dir", str(root)]
    )
    assert done == 0
    export_dir = root / "parquet" / "demo"
    export_dir.parent.mkdir()
    parquet_export.export_parquet(workspace, "demo", export_dir)
    return workspace, "demo", export_dir


# ---------------------------------------------------------------- exact comparison


def _text(value: object) -> str | None:
    """One value as exact text: Decimal digits, float repr, ISO dates, lists of those; None for
    any null."""
    if isinstance(value, list | tuple | np.ndarray):
        return "[" + ", ".join(str(_text(v)) for v in value) + "]"
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
    rules: order_rules.CountingRules,
) -> dict[str, object]:
    """Everything the product computes for one dataset on one engine, as exact text."""
    workspace, dataset, export_dir = spec
    results: dict[str, object] = {}
    with engines.open_tables(
        engine, workspace=workspace, dataset=dataset, parquet_dir=export_dir
    ) as tables:
        results["latest_order_date"] = order_rules.latest_order_date(tables.orders)
        base = analysis.build_customer_base(tables, dataset, rules=rules, **window)
        try:
            measures = base.measures.order_by("customer_id").to_pandas()
            results["measures"] = rows(measures)
            results["outside_window"] = base.customers_outside_window
            results["one_time_share"] = cut_points.share_one_time_buyers(base.measures)
            results["slider_limits"] = analysis.measure_limits(base)
            for key in scheme_keys:
                scheme = schemes.get_scheme(key)
                cuts = cut_points.resolve_cuts(base.measures, cut_points.ScoringSpec(scheme))
                cells = segments.summarise_cells(base.measures, cuts)
                results[f"{key}/cuts"] = cuts
                results[f"{key}/collapsed"] = cut_points.collapsed_scores(cuts)
                results[f"{key}/cells"] = rows(cells)
                results[f"{key}/summary"] = rows(segments.summarise_segments(cells, scheme))
                members = analysis.segment_members(base, cuts, scheme)  # assign_segments
                results[f"{key}/segments"] = rows(members)
                results[f"{key}/members.csv"] = export.to_csv_bytes(members)
        finally:
            base.close()
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
    pytest.param(
        "generated", tuple(schemes.PRESETS), {}, order_rules.CountingRules(), id="generated"
    ),
    pytest.param(
        "generated",
        ("shopify",),
        {"as_of": dt.date(2024, 6, 30), "start": dt.date(2023, 7, 1)},
        order_rules.CountingRules(exclude_zero_value=False),
        id="generated-window-zero-value",
    ),
    pytest.param(
        "uci", ("shopify", "klaviyo"), {}, order_rules.CountingRules(), id="online-retail"
    ),
    # shopify on the demo store is compared byte for byte through the CLI below
    pytest.param("demo", ("klaviyo",), {}, order_rules.CountingRules(), id="demo"),
]


@pytest.mark.parametrize(("name", "scheme_keys", "window", "rules"), CASES)
def test_pipeline_is_identical_on_duckdb_and_spark(
    request: pytest.FixtureRequest,
    spark: object,
    datasets: dict[str, tuple[Path, str, Path]],
    name: str,
    scheme_keys: tuple[str, ...],
    window: dict[str, object],
    rules: order_rules.CountingRules,
) -> None:
    spec = request.getfixturevalue("demo_export") if name == "demo" else datasets[name]
    duck = run_pipeline("duckdb", spec, scheme_keys, window, rules)
    on_spark = run_pipeline("spark", spec, scheme_keys, window, rules)
    assert len(duck["measures"]) > 50  # header + customers: the comparison is not vacuous
    assert_identical(duck, on_spark)


# ---------------------------------------------------------------- the other analyses

# A saved segment of two conditions, one on an order count and one on a float feature, scored
# with quantile cut points (so the RFM columns of the members are compared too).
SEGMENT = Definition(
    groups=(
        Group(
            (
                Condition("orders", ">=", 2),
                Condition("aov", ">=", 20.0),
            ),
            "all",
        ),
    ),
    description="Repeat buyers with a fair basket",
)


def run_analyses(
    engine: str, spec: tuple[Path, str, Path], segments_workspace: Path, start: dt.date | None
) -> dict[str, object]:
    """Features, a saved segment, channels, cohorts and maturity on one engine, as exact text.

    Migration is compared through the CLI (``migration --engine``) below."""
    workspace, dataset, export_dir = spec
    results: dict[str, object] = {}
    with engines.open_tables(
        engine, workspace=workspace, dataset=dataset, parquet_dir=export_dir
    ) as tables:
        as_of = order_rules.latest_order_date(tables.orders)
        base = build_feature_base(tables, dataset, start=start)
        try:
            results["features"] = rows(base.table.order_by("customer_id").to_pandas())
            results["missing_inputs"] = base.missing
            definition = segment_store.load_segment(segments_workspace, dataset, "fair-repeat")
            view = feature_view(base.table, definition.rfm, segments_workspace)
            condition = compile_definition(view, definition)
            members = list_members(view, condition, list(FEATURES))
            results["segment_members"] = rows(members)
            results["segment_size"] = measure_segment(view, condition)
            results["channel_values"] = list_values(view, "first_order_channel")
        finally:
            base.close()
        settings = reports.DEFAULT_SETTINGS
        attribution = reports.build_attribution(tables, as_of, settings.rules_frame())
        cells = reports.build_cohort_table(tables, as_of, attribution)
        report = reports.build_channel_report(tables, as_of, settings, attribution, cells)
        matured = reports.build_maturity(tables, dataset, as_of, settings, report.economics)
        results["attribution"] = rows(attribution)
        results["cohort_cells"] = rows(cells)
        results["channels"] = rows(report.table)
        results["cac"] = rows(report.cac)
        results["economics"] = rows(report.economics)
        results["unmapped_spend"] = report.unmapped
        results["stages"] = rows(matured.stages)
        results["effort"] = rows(matured.effort)
        results["maturity_text"] = (matured.paragraph, matured.health_level, matured.health_text)
        results["report_traffic"] = reports.build_traffic_section(tables, as_of, settings)
        if traffic.has_traffic(tables):
            sessions = tables[traffic.TABLE]
            in_2024 = (dt.date(2024, 2, 1), dt.date(2024, 11, 30))
            results["traffic"] = rows(traffic.build_traffic_by_channel(sessions).to_pandas())
            results["traffic_2024"] = rows(
                traffic.build_traffic_by_channel(sessions, *in_2024).to_pandas()
            )
            results["traffic_periods"] = rows(
                traffic.build_periods_covered(sessions, *in_2024).to_pandas()
            )
            months = traffic.build_direct_share_by_month(sessions)
            results["direct_share"] = rows(months.to_pandas())
            period = reports.Settings(first_from=in_2024[0], first_to=in_2024[1])
            results["report_traffic_2024"] = reports.build_traffic_section(tables, as_of, period)
    return results


ANALYSIS_CASES = [
    # a look-back window, so some customers bought only before it (outside_window)
    pytest.param("generated", dt.date(2023, 7, 1), id="generated-window"),
    pytest.param("uci", None, id="online-retail"),
    pytest.param("demo", None, id="demo"),
]


@pytest.mark.parametrize(("name", "start"), ANALYSIS_CASES)
def test_analyses_are_identical_on_duckdb_and_spark(
    request: pytest.FixtureRequest,
    spark: object,
    datasets: dict[str, tuple[Path, str, Path]],
    tmp_path: Path,
    name: str,
    start: dt.date | None,
) -> None:
    """Every other analysis gives the same values on both engines, compared as exact text."""
    spec = request.getfixturevalue("demo_full") if name == "demo" else datasets[name]
    segment_store.save_segment(tmp_path, spec[1], "fair-repeat", SEGMENT)
    duck = run_analyses("duckdb", spec, tmp_path, start)
    on_spark = run_analyses("spark", spec, tmp_path, start)
    # Not vacuous: members, channels, cohorts and stages were found.
    assert len(duck["segment_members"]) > 5
    assert len(duck["channels"]) > 1 and len(duck["cohort_cells"]) > 10
    assert len(duck["stages"]) > 10
    if name == "generated":  # GA4 traffic: every channel name, months of Direct share
        assert len(duck["traffic"]) > 10 and len(duck["direct_share"]) > 12
        assert duck["report_traffic"]["direct_share"] is not None
    else:
        assert duck["report_traffic"]["note"] == reports.NO_TRAFFIC_NOTE
    assert_identical(duck, on_spark)


def run_cli(engine: str, spec: tuple[Path, str, Path], command: list[str]) -> int:
    """Run one CLI command in this process on ``engine`` (Spark: the running test session)."""
    workspace, dataset, export_dir = spec
    extra = ["--parquet", str(export_dir)] if engine == "spark" else []
    return cli.main(
        [*command, "--workspace", str(workspace), "--dataset", dataset, "--engine", engine, *extra]
    )


def test_cli_report_export_and_migration_write_the_same_files_on_both_engines(
    spark: object, demo_full: tuple[Path, str, Path], tmp_path: Path
) -> None:
    """`report`, `export` and `migration --engine spark` write what `--engine duckdb` writes.

    The export holds every feature column of the segment's members; its stamp differs only in
    its creation time."""
    definition = tmp_path / "fair-repeat.json"
    definition.write_text(definition_to_json(SEGMENT), encoding="utf-8")
    every_feature = ",".join(FEATURES)
    commands = {
        "report.json": ["report", "--as-of", "2026-06-30"],
        "members.csv": ["export", "--definition", str(definition), "--format", "csv"],
        "moves.csv": ["migration", "--from", "2026-01-31", "--to", "2026-06-30"],
    }
    commands["members.csv"] += ["--columns", every_feature]
    written: dict[str, dict[str, bytes]] = {}
    stamps: dict[str, dict[str, object]] = {}
    for engine in ("duckdb", "spark"):
        (tmp_path / engine).mkdir()
        for file_name, command in commands.items():
            out = tmp_path / engine / file_name
            assert run_cli(engine, demo_full, [*command, "--out", str(out)]) == 0
        written[engine] = {name: (tmp_path / engine / name).read_bytes() for name in commands}
        stamps[engine] = json.loads((tmp_path / engine / "members.csv.stamp.json").read_text())
        assert stamps[engine].pop("created_at")
    for file_name, data in written["duckdb"].items():
        assert data.count(b"\n") > 5, file_name
        assert written["spark"][file_name] == data, f"{file_name} differs between the engines"
    assert stamps["spark"] == stamps["duckdb"]


def test_the_app_loaders_run_on_spark_when_configured(
    spark: object,
    datasets: dict[str, tuple[Path, str, Path]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SEGMENTS_ENGINE=spark makes the loaders the app uses read <SEGMENTS_PARQUET_DIR>/<dataset>
    on Spark, with the same results as the workspace on DuckDB."""
    workspace, dataset, export_dir = datasets["generated"]
    as_of = dt.date(2024, 12, 31)

    def load() -> dict[str, object]:
        base = analysis.load_customer_base(workspace, dataset, as_of=as_of)
        feature_base = load_feature_base(workspace, dataset, as_of=as_of)
        try:
            with engines.open_configured_tables(workspace, dataset) as tables:
                report = reports.build_report(tables, dataset, as_of)
            return {
                "engine": base.backend.name,
                "measures": rows(base.measures.order_by("customer_id").to_pandas()),
                "features": rows(feature_base.table.order_by("customer_id").to_pandas()),
                "report": report,
                "traffic": rows(traffic.load_traffic_by_channel(workspace, dataset, None, as_of)),
                "direct_share": traffic.load_direct_share(workspace, dataset, as_of),
            }
        finally:
            base.close()
            feature_base.close()

    on_duck = load()
    monkeypatch.setenv(engines.ENGINE_ENV, "spark")
    monkeypatch.setenv(engines.PARQUET_DIR_ENV, str(export_dir.parent))
    on_spark = load()
    assert (on_duck.pop("engine"), on_spark.pop("engine")) == ("duckdb", "pyspark")
    assert_identical(on_duck, on_spark)


def reference_cuts(frame: pd.DataFrame, n_scores: int) -> cut_points.Cuts:
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
    return cut_points.Cuts(**cuts)


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
        batches.append((f"ties-{size}", cut_points.SCORE_SCALES[size % 3], ties))
        batches.append((f"distinct-{size}", cut_points.SCORE_SCALES[(size + 1) % 3], distinct))
    money = [Decimal(v) for v in ("0.00",) * 5 + ("7.30", "7.30", "5000.00")]
    batches.append(("tied-at-rank-5", 5, [(i, i + 1, m) for i, m in enumerate(money)]))
    money = [Decimal(v) for v in ("99.95", "99.95", "5000.00")]
    batches.append(("tied-at-rank-3", 3, [(i, i + 1, m) for i, m in enumerate(money)]))
    frame = pd.DataFrame(
        [(name, f"c{i:02d}", *row) for name, _, rows in batches for i, row in enumerate(rows)],
        columns=["batch", "customer_id", "recency_days", "frequency", "monetary"],
    ).assign(status=cut_points.STATUS_SCORED)
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
        for (
            n_scores
        ) in cut_points.SCORE_SCALES:  # every scale on DuckDB (fast), one on Spark (slow)
            expected = reference_cuts(part, n_scores)
            assert (
                cut_points.quantile_cuts(on_duck.filter(on_duck.batch == name), n_scores)
                == expected
            )
        on_both = cut_points.quantile_cuts(on_spark.filter(on_spark.batch == name), spark_scores)
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
    assert cli.main([*common, "--engine", "spark"]) == errors.EXIT_BAD_INPUT
    assert "--parquet" in capsys.readouterr().err
    assert cli.main([*common, "--parquet", str(export_dir)]) == errors.EXIT_BAD_INPUT
    assert "duckdb reads the workspace" in capsys.readouterr().err


def test_predict_gives_the_same_fit_and_customers_on_both_engines(
    spark: object,
    datasets: dict[str, tuple[Path, str, Path]],
    demo_full: tuple[Path, str, Path],
    tmp_path: Path,
) -> None:
    """`predict` on Spark writes DuckDB's customers.csv and model.json (issue 15).

    The demo store with --model auto and a holdout; the generated store (formula-like and
    unicode ids, prospects, guests, cancelled, zero-value and return orders; a degenerate fit)
    with Pareto/NBD. Text columns, dates, counts and money (cents) must be identical; floats
    (probabilities, expected orders, parameters, log-likelihoods, holdout figures) equal to a
    relative 1e-9, since the engines may round a division or a sum of floats in the last bit."""
    runs = {
        "demo": (demo_full, ["--as-of", "2026-04-30", "--holdout-until", "2026-10-31"]),
        "generated": (datasets["generated"], ["--as-of", "2024-03-31", "--model", "pareto-nbd"]),
    }
    floats = ["p_alive", "expected_orders", "churn_risk"]

    def assert_close(left: object, right: object, where: str) -> None:
        if isinstance(left, dict) and isinstance(right, dict):
            assert left.keys() == right.keys(), where
            for key in left:
                assert_close(left[key], right[key], f"{where}.{key}")
        elif isinstance(left, list) and isinstance(right, list):
            assert len(left) == len(right), where
            for i, (a, b) in enumerate(zip(left, right, strict=True)):
                assert_close(a, b, f"{where}[{i}]")
        elif isinstance(left, float) and isinstance(right, float):
            assert math.isclose(left, right, rel_tol=1e-9, abs_tol=1e-12), where
        else:
            assert left == right, where

    for name, (spec, options) in runs.items():
        written: dict[str, tuple[pd.DataFrame, dict[str, object]]] = {}
        for engine in ("duckdb", "spark"):
            out = tmp_path / name / engine
            command = ["predict", *options, "--out", str(out / "customers.csv")]
            assert run_cli(engine, spec, [*command, "--model-out", str(out / "model.json")]) == 0
            frame = pd.read_csv(out / "customers.csv", dtype=str, keep_default_na=False)
            written[engine] = frame, json.loads((out / "model.json").read_text(encoding="utf-8"))
        (duck, duck_model), (on_spark, spark_model) = written["duckdb"], written["spark"]
        assert (duck.prediction_note == "").sum() > 100, name
        assert duck.drop(columns=floats).equals(on_spark.drop(columns=floats)), name
        for column in floats:
            given = duck[column] != ""
            assert (given == (on_spark[column] != "")).all(), (name, column)
            np.testing.assert_allclose(
                on_spark[column][given].astype(float), duck[column][given].astype(float), rtol=1e-9
            )
        assert_close(duck_model, spark_model, f"{name}/model.json")
    assert duck_model["purchase_model"]["name"] == "pareto-nbd"


def test_products_writes_the_same_files_on_both_engines(
    spark: object,
    datasets: dict[str, tuple[Path, str, Path]],
    demo_full: tuple[Path, str, Path],
    tmp_path: Path,
) -> None:
    """`products` on Spark writes DuckDB's files byte for byte (issue 16): basket pairs,
    gateway products (by product, category and channel), replenishment cycles, every segment's
    bright spots, monthly retention and (demo store) abandoned checkouts by product, category
    and channel, on UCI Online Retail and on the demo store. Ratios are
    taken in pandas from integer counts and decimal sums, so nothing differs in the last bit."""
    runs = {
        "uci": (datasets["uci"], ["--min-orders", "20", "--horizon-days", "180"]),
        "demo": (demo_full, ["--min-orders", "10"]),
    }
    for name, (spec, options) in runs.items():
        written: dict[str, dict[str, bytes]] = {}
        for engine in ("duckdb", "spark"):
            out = tmp_path / name / engine
            assert run_cli(engine, spec, ["products", *options, "--out-dir", str(out)]) == 0
            written[engine] = {path.name: path.read_bytes() for path in out.iterdir()}
        # the demo store's abandoned checkouts carry their lines: abandoned.csv as well
        assert len(written["duckdb"]) == (6 if name == "demo" else 5), name
        for file_name, data in written["duckdb"].items():
            assert data.count(b"\n") > 3, (name, file_name)
            assert written["spark"][file_name] == data, f"{name}/{file_name} differs"
