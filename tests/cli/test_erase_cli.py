"""``python -m dashboard erase`` end to end on the two-customer shop of tests/erase_shop.py."""

from __future__ import annotations

import csv
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
from erase_shop import ANA_EMAIL, ANA_ROWS, BOB_EMAIL, write_shop

from dashboard import cli
from dashboard.workspace import audit

REPO = Path(__file__).resolve().parents[2]


def run_dashboard(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "dashboard", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        check=False,
        timeout=300,
    )


def test_erase_removes_the_customer_from_the_file_and_the_exports(
    workspace: Path, tmp_path: Path
) -> None:
    path = write_shop(workspace)
    done = run_dashboard(
        "erase", "--workspace", str(workspace), "--dataset", "shop", "--customer", "ANA@example.com"
    )
    assert done.returncode == 0, done.stderr
    assert "Erased 1 customer record(s) from dataset 'shop': 14 rows." in done.stdout
    assert "  orders: 2\n" in done.stdout and "  order_lines: 3\n" in done.stdout
    data = path.read_bytes()
    assert ANA_EMAIL.encode() not in data.lower()
    assert BOB_EMAIL.encode() in data

    out = tmp_path / "segments.csv"
    assert (
        cli.main(
            ["segments", "--workspace", str(workspace), "--dataset", "shop", "--out", str(out)]
        )
        == 0
    )
    with out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["customer_id"] for r in rows] == ["c2"]
    assert "ana" not in out.read_text(encoding="utf-8").lower()

    members = tmp_path / "members.parquet"
    segment = rows[0]["segment"]
    status = cli.main(
        [
            "segments",
            "--workspace",
            str(workspace),
            "--dataset",
            "shop",
            "--segment",
            segment,
            "--format",
            "parquet",
            "--out",
            str(members),
        ]
    )
    assert status == 0
    assert pd.read_parquet(members)["customer_id"].tolist() == ["c2"]

    erased, exported = audit.read_events(workspace)
    assert erased["action"] == "erase"
    assert erased["details"]["rows"] == ANA_ROWS
    assert erased["details"]["customer_sha256"] == hashlib.sha256(ANA_EMAIL.encode()).hexdigest()
    assert exported["action"] == "export"
    assert exported["details"] == {"segment": segment, "rows": 1, "format": "parquet"}
    assert "ana" not in audit.audit_path(workspace).read_text(encoding="utf-8").lower()


def test_an_unknown_customer_exits_2_with_one_sentence(workspace: Path, capsys) -> None:
    path = write_shop(workspace)
    before = path.read_bytes()
    status = cli.main(
        ["erase", "--workspace", str(workspace), "--dataset", "shop", "--customer", "zoe@x.org"]
    )
    assert status == 2
    assert capsys.readouterr().err == (
        "error: No customer with the id or e-mail 'zoe@x.org' is in the dataset 'shop'; "
        "check the spelling (ids are matched exactly).\n"
    )
    assert path.read_bytes() == before
    assert audit.read_events(workspace) == []


def test_an_unknown_dataset_exits_2(workspace: Path, capsys) -> None:
    status = cli.main(
        ["erase", "--workspace", str(workspace), "--dataset", "nope", "--customer", "c1"]
    )
    assert status == 2
    assert capsys.readouterr().err == (
        "error: There is no dataset called 'nope'; load a file into it first.\n"
    )
