"""Never a traceback from the command line: limits, empty datasets, bad paths and JSON, names,
``--expected-years``, and ``--out -`` (issue 14, items 6, 9, 10, 11, 12; issue 18, item 11)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from dashboard import cli
from dashboard.behaviour import segment_store
from dashboard.behaviour.definitions import Condition, Definition, DefinitionError, Group
from dashboard.rfm import scheme_io, schemes
from dashboard.workspace import limits

REPO = Path(__file__).resolve().parents[2]

# a: two orders (10.00 on 01-01, 20.00 on 01-10), b: one (5.00 on 01-05). Analysis date 01-10.
ORDERS_CSV = """\
Order No,Buyer,Placed,Amount
1,a,2025-01-01 10:00:00,10.00
2,b,2025-01-05 10:00:00,5.00
3,a,2025-01-10 10:00:00,20.00
"""
MAP = ["order_id=Order No", "customer_id=Buyer", "ordered_at=Placed", "order_total=Amount"]
# Klaviyo (3 scores) with R cuts 3/7 days, F cuts 2/3 orders, M cuts 10/20:
#  a: recency 0 -> R3, 2 orders -> F2, 30.00 -> M3: 323 Champions
#  b: recency 5 -> R2, 1 order -> F1, 5.00 -> M1
CUSTOM = ["--scheme", "klaviyo", "--scoring", "custom"]
CUSTOM += ["--r-cuts", "3,7", "--f-cuts", "2,3", "--m-cuts", "10,20"]
ORDERS_2 = {"groups": [{"conditions": [{"feature": "orders", "operator": ">=", "value": 2}]}]}


@pytest.fixture
def shop(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A workspace whose dataset ``shop`` holds ORDERS_CSV, loaded as load number 1."""
    workspace = tmp_path / "ws"
    source = tmp_path / "orders.csv"
    source.write_text(ORDERS_CSV, encoding="utf-8")
    argv = ["ingest", "--workspace", str(workspace), "--dataset", "shop", str(source)]
    assert cli.main([*argv, "--format", "generic", "--map", *MAP]) == 0
    capsys.readouterr()
    return workspace


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = cli.main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def assert_one_sentence(status: int, err: str, sentence: str) -> None:
    assert status == 2
    assert err == f"error: {sentence}\n"
    assert "Traceback" not in err


# --- 14.6: memory limit and query timeout -------------------------------------------------


def test_a_tiny_memory_limit_ends_segments_with_a_sentence_in_a_real_process(
    shop: Path, tmp_path: Path
) -> None:
    out = tmp_path / "members.csv"
    env = {**os.environ, "SEGMENTS_MEMORY_LIMIT": "1MB"}
    argv = ["segments", "--workspace", str(shop), "--dataset", "shop", "--out", str(out)]
    done = subprocess.run(
        [sys.executable, "-m", "dashboard", *argv],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(
        "error: The analysis needed more memory than the 1MB it may use; narrow the window"
    )
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "SEGMENTS_MEMORY_LIMIT" in done.stderr and "--memory-limit" in done.stderr
    assert not out.exists()


def test_the_memory_limit_option_and_then_no_limit(
    shop: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "members.csv"
    base = ["segments", "--workspace", str(shop), "--dataset", "shop", "--out", str(out)]
    status, _, err = run(capsys, *base, "--memory-limit", "1MB")
    assert status == 2 and "more memory than the 1MB it may use" in err
    assert "Traceback" not in err and err.count("\n") == 1
    status, _, err = run(capsys, *base, "--memory-limit", "500MiB")
    assert status == 0, err
    assert [row[:4] for row in csv.reader(out.open(encoding="utf-8"))][1:] == [
        ["a", "0", "2", "30.00"],
        ["b", "5", "1", "5.00"],
    ]


def test_bad_limit_options_are_one_sentence(shop: Path, capsys: pytest.CaptureFixture) -> None:
    base = ["segments", "--workspace", str(shop), "--dataset", "shop", "--out", "x.csv"]
    assert_one_sentence(
        *run(capsys, *base, "--memory-limit", "lots")[::2],
        "--memory-limit: 'lots' is not a memory size: write a number and a unit, e.g. 4GB or "
        "512MiB.",
    )
    assert_one_sentence(
        *run(capsys, *base, "--query-timeout", "-3")[::2],
        "--query-timeout: '-3' is not a query timeout: give a number of seconds (0 for no limit).",
    )


def test_a_timeout_stops_a_command_with_a_sentence(
    shop: Path, tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dashboard.cli import segment_commands
    from dashboard.cli.engine_tables import open_engine_tables

    # A query of hours on the dataset's read connection, as a runaway analysis would be.
    def run_slowly(args, workspace):
        with open_engine_tables(args, workspace) as tables:
            tables.backend.con.execute(
                "SELECT count(*) FROM range(100000000) a(x), range(100000) b(y) "
                "WHERE a.x + b.y = -1"
            ).fetchall()

    monkeypatch.setattr(segment_commands, "run_segments", run_slowly)
    argv = ["segments", "--workspace", str(shop), "--dataset", "shop", "--out", "x.csv"]
    status, _, err = run(capsys, *argv, "--query-timeout", "0.5")
    assert_one_sentence(
        status,
        err,
        "The analysis ran longer than its limit of 0.5 seconds and was stopped; narrow the "
        "window, run it from the command line (python -m dashboard), or raise the limit with "
        "SEGMENTS_QUERY_TIMEOUT (--query-timeout on the command line).",
    )


# --- 14.9: a dataset without orders -------------------------------------------------------


@pytest.mark.parametrize("command", ["segments", "migration", "export"])
def test_a_dataset_without_orders_says_so(
    command: str,
    make_dataset: Callable[..., str],
    workspace: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Only customers were loaded: the load kept 0 orders.
    make_dataset("empty", [], customers=["a", "b"])
    definition = tmp_path / "repeat.json"
    definition.write_text(json.dumps(ORDERS_2), encoding="utf-8")
    extra = ["--definition", str(definition), "--format", "csv"] if command == "export" else []
    out = tmp_path / "out.csv"
    argv = [command, "--workspace", str(workspace), "--dataset", "empty", "--out", str(out)]
    status, _, err = run(capsys, *argv, *extra)
    assert_one_sentence(status, err, "The dataset 'empty' has no orders yet.")
    assert not out.exists()


def test_a_load_whose_every_row_is_rejected_leaves_no_orders_to_segment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "bad.csv"
    source.write_text(
        "Order No,Buyer,Placed,Amount\n1,a,not a date,10.00\n2,b,2025-01-05,lots\n",
        encoding="utf-8",
    )
    workspace = str(tmp_path / "ws")
    argv = ["ingest", "--workspace", workspace, "--dataset", "bad", str(source)]
    cli.main([*argv, "--format", "generic", "--map", *MAP])
    capsys.readouterr()
    out = tmp_path / "out.csv"
    argv = ["segments", "--workspace", workspace, "--dataset", "bad", "--out", str(out)]
    status, _, err = run(capsys, *argv)
    assert status == 2 and "Traceback" not in err
    assert err in (
        "error: The dataset 'bad' has no orders yet.\n",
        "error: There is no dataset called 'bad'; load a file into it first.\n",
    )


# --- 14.10: bad JSON and paths ------------------------------------------------------------


def export_argv(workspace: Path, definition: Path, out: Path) -> list[str]:
    return [
        "export",
        "--workspace",
        str(workspace),
        "--dataset",
        "shop",
        "--definition",
        str(definition),
        "--format",
        "csv",
        "--out",
        str(out),
    ]


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        # 100,000 nested lists: exactly 200,000 characters, refused for its depth.
        (
            "[" * 100_000 + "]" * 100_000,
            "The definition nests lists or objects deeper than 32 levels.",
        ),
        ("[" * 100_001 + "]" * 100_001, "The definition holds at most 200,000 characters."),
        (
            "[" * 90_000 + "]" * 90_000,
            "The definition nests lists or objects deeper than 32 levels.",
        ),
        (
            '{"groups": [{"conditions": [{"feature": "orders", "operator": ">=", '
            f'"value": {10**30}}}]}}]}}',
            "The definition holds a number too large (10000000000000000000...): at most 64 bits.",
        ),
    ],
)
def test_a_bad_definition_file_is_one_sentence(
    shop: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, sentence: str
) -> None:
    definition = tmp_path / "bad.json"
    definition.write_text(text, encoding="utf-8")
    out = tmp_path / "out.csv"
    assert_one_sentence(*run(capsys, *export_argv(shop, definition, out))[::2], sentence)
    assert not out.exists()


def test_a_deeply_nested_scheme_file_is_one_sentence(
    shop: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scheme = tmp_path / "deep.json"
    scheme.write_text('{"name": ' + "[" * 50_000 + "]" * 50_000 + "}", encoding="utf-8")
    argv = ["segments", "--workspace", str(shop), "--dataset", "shop", "--out", "x.csv"]
    assert_one_sentence(
        *run(capsys, *argv, "--scheme", str(scheme))[::2],
        "The scheme nests lists or objects deeper than 32 levels.",
    )


def test_paths_naming_a_folder_are_refused_before_any_work(
    shop: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    definition = tmp_path / "repeat.json"
    definition.write_text(json.dumps(ORDERS_2), encoding="utf-8")
    folder = tmp_path / "folder.json"
    folder.mkdir()
    assert_one_sentence(
        *run(capsys, *export_argv(shop, folder, tmp_path / "out.csv"))[::2],
        f"--definition names the folder {folder}; give a file.",
    )
    assert_one_sentence(
        *run(capsys, *export_argv(shop, tmp_path / "missing.json", tmp_path / "out.csv"))[::2],
        f"--definition: there is no file {tmp_path / 'missing.json'}.",
    )
    assert_one_sentence(
        *run(capsys, *export_argv(shop, definition, tmp_path))[::2],
        f"--out names the folder {tmp_path}; give a file name.",
    )
    argv = ["segments", "--workspace", str(shop), "--dataset", "shop", "--out", str(tmp_path)]
    assert_one_sentence(
        *run(capsys, *argv)[::2], f"--out names the folder {tmp_path}; give a file name."
    )
    argv = ["report", "--workspace", str(shop), "--dataset", "shop", "--out", str(tmp_path)]
    assert_one_sentence(
        *run(capsys, *argv)[::2], f"--out names the folder {tmp_path}; give a file name."
    )


def test_a_workspace_that_is_a_file_or_cannot_be_written_is_one_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder", encoding="utf-8")
    argv = ["segments", "--workspace", str(a_file), "--dataset", "shop", "--out", "x.csv"]
    assert_one_sentence(
        *run(capsys, *argv)[::2],
        f"The workspace {a_file} is a file, not a folder; give --workspace a folder you can "
        "write to.",
    )
    source = tmp_path / "orders.csv"
    source.write_text(ORDERS_CSV, encoding="utf-8")
    status, _, err = run(capsys, "ingest", "--workspace", "/sys", "--dataset", "s", str(source))
    assert status == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("error: The workspace /sys cannot be written to (")
    argv = ["segments", "--workspace", "/sys/segments", "--dataset", "s", "--out", "x.csv"]
    status, _, err = run(capsys, *argv)
    assert status == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("error: The workspace /sys/segments cannot be created (")


def test_what_the_engine_logs_goes_to_the_log_file_not_the_terminal(
    shop: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from dashboard import errors
    from dashboard.cli import segment_commands

    def logs_and_refuses(args, workspace):
        try:
            raise RuntimeError("inner detail")
        except RuntimeError:
            errors.LOG.getChild("ingest").exception("load failed")
        raise limits.LimitError("Refused.")

    log = tmp_path / "cli.log"
    monkeypatch.setattr(cli, "LOG_FILE", log)
    monkeypatch.setattr(segment_commands, "run_segments", logs_and_refuses)
    argv = ["segments", "--workspace", str(shop), "--dataset", "shop", "--out", "x.csv"]
    assert_one_sentence(*run(capsys, *argv)[::2], "Refused.")
    assert "Traceback" in log.read_text(encoding="utf-8")
    assert "RuntimeError: inner detail" in log.read_text(encoding="utf-8")


# --- 14.11: names ending in a newline -----------------------------------------------------


def test_a_dataset_name_with_a_final_newline_is_refused_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "orders.csv"
    source.write_text(ORDERS_CSV, encoding="utf-8")
    workspace = tmp_path / "ws"
    argv = ["ingest", "--workspace", str(workspace), "--dataset", "nl\n", str(source)]
    status, _, err = run(capsys, *argv, "--format", "generic", "--map", *MAP)
    assert status == 2 and "not a valid dataset name" in err and "Traceback" not in err
    assert not [p for p in workspace.iterdir() if p.name.startswith("nl")]


def test_segment_and_scheme_names_with_a_final_newline_are_refused(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    definition = Definition((Group((Condition("orders", ">=", 2),)),))
    with pytest.raises(DefinitionError, match="not a valid segment name"):
        segment_store.save_segment(shop, "shop", "vip\n", definition)
    with pytest.raises(scheme_io.SchemeError, match="not a valid scheme name"):
        scheme_io.save_custom_scheme(shop, schemes.PRESETS["klaviyo"], "mine\n")
    assert not (shop / segment_store.SEGMENTS_FOLDER).exists()
    assert not (shop / scheme_io.SCHEMES_FOLDER).exists()
    argv = ["export", "--workspace", str(shop), "--dataset", "shop", "--format", "csv"]
    status, _, err = run(capsys, *argv, "--segment", "vip\n", "--out", "x.csv")
    assert status == 2 and "not a valid segment name" in err and "Traceback" not in err
    argv = ["segments", "--workspace", str(shop), "--dataset", "shop", "--out", "x.csv"]
    status, _, err = run(capsys, *argv, "--scheme", "mine\n")
    assert status == 2 and "Unknown scheme" in err and "Traceback" not in err


# --- 14.12: --expected-years --------------------------------------------------------------


@pytest.mark.parametrize("years", ["nan", "inf", "-1", "0", "three"])
def test_expected_years_must_be_a_finite_number_above_0(
    shop: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], years: str
) -> None:
    out = tmp_path / "report.json"
    argv = ["report", "--workspace", str(shop), "--dataset", "shop", "--out", str(out)]
    with pytest.raises(SystemExit) as exited:
        cli.main([*argv, "--expected-years", years])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert f"argument --expected-years: '{years}' is not a number above 0 like 3 or 2.5" in err
    assert "Traceback" not in err and not out.exists()


def test_the_report_is_strict_json(
    shop: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.json"
    argv = ["report", "--workspace", str(shop), "--dataset", "shop", "--out", str(out)]
    assert run(capsys, *argv, "--expected-years", "2.5")[0] == 0

    def refuse(name: str) -> None:
        raise AssertionError(f"{name} in the report")

    report = json.loads(out.read_text(encoding="utf-8"), parse_constant=refuse)
    assert report["store"]["orders"] == 3
    assert float(report["store"]["revenue"]) == 35.0


# --- 18.11: --out - is standard output ----------------------------------------------------


def test_segments_out_dash_writes_the_csv_to_stdout_and_the_message_to_stderr(
    shop: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    base = ["segments", "--workspace", str(shop), "--dataset", "shop", *CUSTOM]
    status, out, err = run(capsys, *base, "--out", "-")
    assert status == 0
    rows = list(csv.reader(io.StringIO(out)))
    assert rows == [
        ["customer_id", "recency_days", "frequency", "monetary"]
        + ["r_score", "f_score", "m_score", "segment"],
        ["a", "0", "2", "30.00", "3", "2", "3", "Champions"],
        ["b", "5", "1", "5.00", "2", "1", "1", rows[2][7]],
    ]
    assert err.startswith("Wrote 2 customers to standard output")
    assert not (tmp_path / "-").exists()
    assert run(capsys, *base, "--out", str(tmp_path / "file.csv"))[0] == 0
    assert (tmp_path / "file.csv").read_bytes().decode("utf-8") == out


def test_summary_dash_and_only_one_dash(
    shop: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["segments", "--workspace", str(shop), "--dataset", "shop", *CUSTOM]
    status, out, err = run(capsys, *base, "--out", str(tmp_path / "m.csv"), "--summary", "-")
    assert status == 0 and out.startswith("segment,") and err.startswith("Wrote 2 customers")
    assert_one_sentence(
        *run(capsys, *base, "--out", "-", "--summary", "-")[::2],
        "Only one of --out and --summary can be - (standard output).",
    )


def test_migration_report_export_and_history_take_out_dash(
    shop: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    common = ["--workspace", str(shop), "--dataset", "shop"]

    status, out, err = run(capsys, "migration", *common, *CUSTOM, "--out", "-")
    assert status == 0 and err.startswith("Wrote 2 customers to standard output")
    assert [row[0] for row in csv.reader(io.StringIO(out))][1:] == ["a", "b"]

    status, out, err = run(capsys, "report", *common, "--out", "-")
    assert status == 0 and "to standard output" in err
    assert json.loads(out)["store"]["orders"] == 3

    definition = tmp_path / "repeat.json"
    definition.write_text(json.dumps(ORDERS_2), encoding="utf-8")
    argv = ["export", *common, "--definition", str(definition), "--format", "csv", "--out", "-"]
    status, out, err = run(capsys, *argv)
    assert status == 0, err
    rows = list(csv.reader(io.StringIO(out)))
    assert [row[0] for row in rows[1:]] == ["a"]  # the only customer with 2 orders
    assert "to standard output (no stamp)" in err

    status, out, err = run(capsys, "history", *common, "--ingest", "1", "--out", "-")
    assert status == 0 and err == "Wrote the report of load 1 to standard output.\n"
    assert out.startswith("item,value")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("-")]


def test_export_parquet_cannot_write_to_stdout(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["export-parquet", "--workspace", str(shop), "--dataset", "shop", "--out", "-"]
    assert_one_sentence(
        *run(capsys, *argv)[::2],
        "--out - (standard output) cannot take this output; give a path.",
    )
