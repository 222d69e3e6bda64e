"""The benchmark's pure helpers: target limits and verdicts, entries, tables, /proc readers.

No benchmark runs here (``make bench`` does that); these check the arithmetic that turns
measurements into the issue's verdicts.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

import pytest

from bench import report, spark_compare, targets
from bench.generate import format_count
from bench.processes import list_tree, read_cpu_seconds, read_tree_mb
from bench.results import (
    Judgement,
    Results,
    collect_verdicts,
    make_entry,
    make_memory_entry,
    write_results,
)
from bench.step_upload import choose_server_limit_mb, read_upload_limit_mb
from bench.timing import Timing


def timing(*seconds: float) -> Timing:
    return Timing(tuple(seconds), tuple(seconds))


@pytest.mark.parametrize(
    ("ratio", "limit", "median", "limit_s", "expected"),
    [
        (1.3, 1.3, None, None, True),
        (1.31, 1.3, None, None, False),
        (None, 1.3, None, None, None),
        (0.05, 0.1, 0.019, 0.020, True),
        (0.05, 0.1, 0.021, 0.020, False),
        (0.2, 0.1, 0.001, 0.020, False),
    ],
)
def test_judge_needs_the_ratio_and_the_absolute_limit(ratio, limit, median, limit_s, expected):
    assert targets.judge(ratio, limit, median, limit_s) is expected


def test_the_slider_limit_is_looser_above_one_million_customers() -> None:
    assert targets.find_limit("slider_browser", 100_000) == 1.3
    assert targets.find_limit("slider_browser", 1_000_000) == 1.3
    assert targets.find_limit("slider_browser", 5_000_000) == 2.0
    assert targets.find_limit("customer_base_sql", 10_000_000) == 1.2
    assert targets.find_limit("ingest_memory", 10_000_000) == 1.5


def test_the_20_ms_limit_is_set_for_one_million_customers_only() -> None:
    assert targets.find_limit_s("slider_recompute", 1_000_000) == 0.020
    assert targets.find_limit_s("slider_recompute", 5_000_000) is None
    assert targets.find_limit_s("customer_base_sql", 1_000_000) is None
    at_5m = Judgement("slider_recompute", amount=5_000_000).decide(0.08, 0.060)
    assert (at_5m["limit_s"], at_5m["holds"]) == (None, True)
    at_1m = Judgement("slider_recompute", amount=1_000_000).decide(0.08, 0.021)
    assert (at_1m["limit_s"], at_1m["holds"]) == (0.020, False)


def test_targets_run_at_the_sizes_the_issue_names() -> None:
    assert targets.find_skip(1, "5m", 5_000_000) is None
    assert targets.find_skip(2, "10m", 10_000_000) is not None
    assert targets.find_skip(5, "1m", 1_000_000) is None
    assert targets.find_skip(5, "10m", 10_000_000) is not None
    assert targets.find_skip(6, "1m", 1_000_000).reason.endswith("add 10m to BENCH_SIZES")
    assert targets.find_skip(6, "10m", 10_000_000) is None
    assert all(targets.find_skip(t, "10m", 10_000_000) is None for t in (3, 4))


def test_targets_3_and_4_are_judged_at_ten_million_orders_only() -> None:
    assert targets.find_unjudged(3, "10m", 10_000_000) is None
    assert targets.find_unjudged(4, "20m", 20_000_000) is None
    assert all(targets.find_unjudged(t, "1m", 1_000_000) is None for t in (1, 2, 5, 6))
    unjudged = targets.find_unjudged(4, "5m", 5_000_000)
    assert (unjudged.target, unjudged.measured) == (4, True)
    assert unjudged.reason == "the issue sets it at 10M orders; shown as (4)"
    document = {"skipped": [asdict(unjudged)], "targets": [], "entries": []}
    assert report.format_verdicts(document) == (
        "target 4 at 5m: measured, not judged, the issue sets it at 10M orders; shown as (4)"
    )


def test_target_8_is_judged_at_ten_million_order_lines_only() -> None:
    assert targets.find_skip(8, "1m", 1_000_000) is None
    assert targets.find_unjudged(8, "10m", 10_000_000) is None
    unjudged = targets.find_unjudged(8, "1m", 1_000_000)
    assert unjudged.reason == "the issue sets it at 10M order lines; shown as (8)"
    assert unjudged.measured
    at_10m = Judgement("affinity_sql", amount=10_000_000).decide(1.19, 30.0)
    assert (at_10m["target"], at_10m["limit"], at_10m["holds"]) == (8, 1.2, True)
    assert Judgement("affinity_sql", amount=10_000_000).decide(1.21, 30.0)["holds"] is False


def test_a_target_holds_only_when_every_criterion_holds() -> None:
    assert targets.combine([True, True]) is True
    assert targets.combine([True, False]) is False
    assert targets.combine([True, None]) is None
    assert targets.combine([None, False]) is False
    assert targets.combine([]) is None


def test_entries_carry_their_target_limit_and_verdict() -> None:
    judgement = Judgement("customer_base_sql", amount=1_000_000, scale="1M orders")
    judged = make_entry(
        "customer_base", "1m", timing(1.0), "duckdb SQL", timing(0.9), True, judgement
    )
    assert (judged.target, judged.role, judged.limit, judged.ratio) == (3, "target", 1.2, 1.111)
    assert judged.holds is True
    info = make_entry("ingest", "1m", timing(2.0), "pandas", timing(1.0), True, Judgement(None, 4))
    assert (info.target, info.role, info.limit, info.holds) == (4, "info", None, None)
    # Without a judgement (e.g. a later comparison), an entry is informational.
    plain = make_entry("spark", "1m", timing(2.0), "duckdb", timing(1.0), True)
    assert (plain.target, plain.role, plain.holds) == (None, "info", None)


def test_the_recompute_must_also_stay_under_twenty_milliseconds() -> None:
    judgement = Judgement("slider_recompute", amount=1_000_000)
    fast_ratio_slow_clock = make_entry(
        "slider_recompute", "1m", timing(0.025), "pandas", timing(0.5), True, judgement
    )
    assert fast_ratio_slow_clock.ratio == 0.05
    assert (fast_ratio_slow_clock.limit, fast_ratio_slow_clock.limit_s) == (0.1, 0.02)
    assert fast_ratio_slow_clock.holds is False


def test_memory_entries_compare_the_median_with_the_file_size() -> None:
    entry = make_memory_entry(
        "app RSS", "10m", 100 * 2**20, [240.0, 260.0, 250.0], Judgement("app_memory")
    )
    assert (entry.unit, entry.median, entry.reference_median, entry.ratio) == (
        "MB",
        250.0,
        100.0,
        2.5,
    )
    assert (entry.target, entry.limit, entry.holds) == (6, 2.5, True)


def test_verdicts_group_criteria_per_target_and_size() -> None:
    sql = make_entry(
        "base", "1m", timing(1.0), "sql", timing(1.0), True, Judgement("customer_base_sql")
    )
    pandas = make_entry(
        "base", "1m", timing(1.0), "pandas", timing(1.0), True, Judgement("customer_base_pandas")
    )
    info = make_entry("base", "1m", timing(1.0), "other", timing(9.0), True, Judgement(None, 3))
    [verdict] = collect_verdicts([sql, pandas, info])
    assert (verdict.target, verdict.size, verdict.holds) == (3, "1m", False)
    assert verdict.criteria == ("customer_base_sql", "customer_base_pandas")


def test_the_table_shows_units_limits_and_verdicts() -> None:
    assert report.format_value(0.0123, "s") == "12.3 ms"
    assert report.format_value(4.021, "s") == "4.02 s"
    assert report.format_value(1234.4, "MB") == "1,234 MB"
    entry = {"limit": 0.1, "limit_s": 0.02}
    assert report.format_limit(entry) == "<= 0.10x and <= 20.0 ms"
    assert report.format_limit({"limit": None}) == "-"
    assert report.format_target({"target": 4, "role": "info"}) == "(4)"
    assert report.is_number("12.3 ms") and report.is_number("1,234 MB")
    assert not report.is_number("duckdb SQL")


def test_sizes_are_written_as_typed() -> None:
    assert [format_count(n) for n in (100_000, 1_000_000, 3_000_000, 1_500_000, 12_345)] == [
        "100k",
        "1M",
        "3M",
        "1.5M",
        "12,345",
    ]


def test_the_upload_limit_is_raised_only_when_the_file_does_not_fit(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[server]\nmaxUploadSize = 200\n", encoding="utf-8")
    assert read_upload_limit_mb(config) == 200
    assert read_upload_limit_mb(tmp_path / "absent.toml") == 200
    assert choose_server_limit_mb(150 * 10**6, 200) is None
    assert choose_server_limit_mb(492_597_002, 200) == 494


def fake_process(proc: Path, pid: int, rss_kb: int, children: list[int], ticks: int) -> None:
    task = proc / str(pid) / "task" / str(pid)
    task.mkdir(parents=True)
    (task / "children").write_text(" ".join(map(str, children)), encoding="ascii")
    (proc / str(pid) / "status").write_text(
        f"Name:\tpython\nVmHWM:\t{rss_kb * 2} kB\nVmRSS:\t{rss_kb} kB\n", encoding="ascii"
    )
    fields = ["S"] + ["0"] * 10 + [str(ticks), str(ticks)] + ["0"] * 30
    (proc / str(pid) / "stat").write_text(f"{pid} (my (app)) {' '.join(fields)}", "ascii")


def test_process_memory_and_cpu_add_up_over_the_tree(tmp_path: Path) -> None:
    fake_process(tmp_path, 10, 2048, [11], 100)
    fake_process(tmp_path, 11, 1024, [12], 50)
    fake_process(tmp_path, 12, 1024, [], 50)
    assert sorted(list_tree(10, tmp_path)) == [10, 11, 12]
    assert read_tree_mb(10, proc=tmp_path) == 4.0
    assert read_tree_mb(10, "VmHWM", tmp_path) == 8.0
    assert read_tree_mb(99, proc=tmp_path) == 0.0
    assert read_cpu_seconds(10, tmp_path) == pytest.approx(400 / os.sysconf("SC_CLK_TCK"))


def test_the_readme_section_between_the_markers_is_replaced() -> None:
    text = f"intro\n{report.START}\nold table\n{report.END}\nrest\n"
    assert report.splice_section(text, "new table\n") == (
        f"intro\n{report.START}\n\nnew table\n\n{report.END}\nrest\n"
    )
    with pytest.raises(ValueError):
        report.splice_section("no markers", "table")


# What spark_compare.run_comparison returns (the figures of bench/results/spark-20m.json).
SPARK_RESULT = {
    "size": "20m",
    "orders": 20_000_000,
    "customers": 962_499,
    "spark_master": "local[2]",
    "cores": 2,
    "scheme": "shopify",
    "identical": True,
    "duckdb": {"seconds": {"customer_base": 2.86, "total": 13.07}, "cpu_seconds": 16.56},
    "spark": {
        "seconds": {"customer_base": 65.54, "total": 154.07, "session_start": 8.25},
        "cpu_seconds": 192.67,
    },
}


def test_the_spark_comparison_runs_unless_bench_spark_is_0() -> None:
    assert spark_compare.is_selected({}) is True
    assert spark_compare.is_selected({"BENCH_SPARK": "1"}) is True
    assert spark_compare.is_selected({"BENCH_SPARK": ""}) is True
    assert spark_compare.is_selected({"BENCH_SPARK": "0"}) is False
    assert spark_compare.is_selected({"BENCH_SPARK": " 0\n"}) is False


def test_the_spark_comparison_says_what_it_lacks_before_it_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_java = {"PATH": str(tmp_path)}
    assert spark_compare.find_missing_requirement(no_java).startswith("Java is not installed")
    assert spark_compare.find_missing_requirement({**no_java, "JAVA_HOME": "/opt/jdk"}) is None
    java = tmp_path / "java"
    java.write_text("#!/bin/sh\n", encoding="ascii")
    java.chmod(0o755)
    assert spark_compare.find_missing_requirement(no_java) is None
    monkeypatch.setattr(spark_compare.importlib.util, "find_spec", lambda name: None)
    assert spark_compare.find_missing_requirement(no_java).startswith("pyspark is not installed")


def test_a_spark_comparison_is_an_entry_judged_on_identical_results() -> None:
    entry = spark_compare.make_comparison_entry(SPARK_RESULT)
    assert (entry.name, entry.size, entry.target, entry.role) == (
        "segments_spark_local",
        "20m",
        None,
        "check",
    )
    assert (entry.median, entry.reference_median, entry.ratio) == (154.07, 13.07, 11.788)
    assert (entry.cpu_median_s, entry.reference_cpu_median_s) == (192.67, 16.56)
    assert (entry.limit, entry.limit_s, entry.holds, entry.agrees) == (None, None, True, True)
    assert entry.details["spark_session_start_s"] == 8.25
    assert entry.details["steps_s"]["spark"]["customer_base"] == 65.54
    assert entry.note.endswith("leaves out starting its session (8 s)")
    assert report.build_rows([asdict(entry)]) == [
        (
            "-",
            "segments_spark_local",
            "20m: 20M orders (962,499 customers)",
            "154 s",
            "duckdb, same pipeline",
            "13.07 s",
            "11.79x",
            "-",
            "yes, identical results",
        )
    ]
    differ = spark_compare.make_comparison_entry({**SPARK_RESULT, "identical": False})
    assert (differ.holds, differ.agrees, differ.ratio) == (False, False, 11.788)
    assert report.build_rows([asdict(differ)])[0][-1] == "NO (MISMATCH)"


def test_the_spark_comparison_is_written_and_reported_beside_the_targets(tmp_path: Path) -> None:
    base = make_entry(
        "customer_base", "1m", timing(1.0), "sql", timing(1.0), True, Judgement("customer_base_sql")
    )
    spark = spark_compare.make_comparison_entry(SPARK_RESULT)
    path = tmp_path / "latest.json"
    write_results(path, Results(entries=[spark, base]), {"settings": {}})
    document = json.loads(path.read_text(encoding="utf-8"))
    assert [t["target"] for t in document["targets"]] == [3]
    assert [(e["name"], e["role"], e["holds"]) for e in document["entries"]] == [
        ("segments_spark_local", "check", True),
        ("customer_base", "target", True),
    ]
    assert report.format_verdicts(document).splitlines() == [
        "target 3 at 1m: holds (customer_base_sql yes)",
        "segments_spark_local at 20m: identical results (154 s against duckdb, same pipeline "
        "13.07 s)",
    ]
    rows = report.format_markdown_table(document["entries"]).splitlines()
    assert rows[-1].startswith("| - | segments_spark_local | 20m: 20M orders")
    assert rows[-1].endswith("| 11.79x | - | yes, identical results |")
