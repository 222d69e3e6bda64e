"""The benchmark's pure helpers: target limits and verdicts, entries, tables, /proc readers.

No benchmark runs here (``make bench`` does that); these check the arithmetic that turns
measurements into the issue's verdicts.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench import report, targets
from bench.generate import format_count
from bench.processes import list_tree, read_cpu_seconds, read_tree_mb
from bench.results import Judgement, collect_verdicts, make_entry, make_memory_entry
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
