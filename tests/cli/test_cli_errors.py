"""Bad input exits 2 with its one sentence; a bug exits 1 with a reference, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard import cli, errors
from dashboard.cli import segment_commands
from dashboard.errors import UserError


def test_bad_input_exits_2_with_one_sentence(workspace: Path, capsys) -> None:
    status = cli.main(
        ["segments", "--workspace", str(workspace), "--dataset", "nope", "--out", "x"]
    )
    assert status == errors.EXIT_BAD_INPUT == 2
    err = capsys.readouterr().err
    assert err == "error: There is no dataset called 'nope'; load a file into it first.\n"


def test_a_missing_input_file_is_bad_input(workspace: Path, tmp_path: Path, capsys) -> None:
    missing = tmp_path / "missing.csv"
    status = cli.main(["ingest", "--workspace", str(workspace), "--dataset", "d", str(missing)])
    assert status == 2
    assert capsys.readouterr().err == f"error: No such file: {missing}\n"


def test_a_bug_exits_1_with_a_reference_and_logs_the_traceback(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys
) -> None:
    def broken(args, workspace):
        raise ZeroDivisionError("a programming error")

    log = tmp_path / "cli.log"
    monkeypatch.setattr(cli, "LOG_FILE", log)
    monkeypatch.setattr(segment_commands, "run_segments", broken)
    status = cli.main(["segments", "--workspace", str(workspace), "--dataset", "d", "--out", "x"])
    assert status == errors.EXIT_BUG == 1
    err = capsys.readouterr().err
    assert err.startswith("error: Internal error (reference ")
    assert "Traceback" not in err and "ZeroDivisionError" not in err
    reference = err.split("reference ")[1][:8]
    logged = log.read_text(encoding="utf-8")
    assert f"Internal error {reference}" in logged
    assert "Traceback" in logged and "ZeroDivisionError: a programming error" in logged


def test_a_value_error_is_a_bug_not_bad_input(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def broken(args, workspace):
        raise ValueError("not the user's fault")

    monkeypatch.setattr(cli, "LOG_FILE", tmp_path / "cli.log")
    monkeypatch.setattr(segment_commands, "run_segments", broken)
    assert (
        cli.main(["segments", "--workspace", str(workspace), "--dataset", "d", "--out", "x"]) == 1
    )


def test_every_error_class_of_the_engine_is_a_user_error() -> None:
    from dashboard.acquisition import channels, spend
    from dashboard.behaviour import definitions
    from dashboard.ingest.report import IngestError
    from dashboard.rfm import analysis, clustering, cut_points, migration, schemes
    from dashboard.workspace import store

    for error in (
        channels.ChannelRulesError,
        spend.SpendMappingError,
        definitions.DefinitionError,
        IngestError,
        analysis.NoCustomerKeyError,
        clustering.ClusteringError,
        cut_points.CutsError,
        migration.MigrationError,
        schemes.SchemeError,
        store.WorkspaceError,
    ):
        assert issubclass(error, UserError), error
        assert not issubclass(error, ValueError), error
