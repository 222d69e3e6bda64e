"""CLI: --scheme FILE.json or saved name, --scores, --exclude and the migration command."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from studio_shop import DATASET, load_shop

from dashboard import cli, errors
from dashboard.rfm import scheme_io
from dashboard.rfm.schemes import PRESETS

THREE_SCORE_CUTS = ["--scoring", "custom", "--r-cuts", "30,90", "--f-cuts", "2,5"]
THREE_SCORE_CUTS += ["--m-cuts", "100,400"]
FIVE_SCORE_CUTS = ["--scoring", "custom", "--r-cuts", "20,45,90,180", "--f-cuts", "2,3,5,10"]
FIVE_SCORE_CUTS += ["--m-cuts", "100,200,300,400"]
SMALL = {
    "name": "Small",
    "n_scores": 3,
    "grid": "r_f",
    "segments": {
        "Active": ["33", "32", "31", "23"],
        "Cooling": ["22", "21", "13"],
        "Gone": ["12", "11"],
    },
}


@pytest.fixture
def shop(workspace: Path, make_dataset) -> Path:
    load_shop(make_dataset)
    return workspace


def run(workspace: Path, command: str, out: Path, *extra: str) -> int:
    argv = [command, "--workspace", str(workspace), "--dataset", DATASET, "--out", str(out)]
    return cli.main([*argv, *extra])


def segments_by_customer(path: Path) -> dict[str, str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return {row["customer_id"]: row["segment"] for row in csv.DictReader(handle)}


def test_scheme_from_a_json_file(shop: Path, tmp_path: Path) -> None:
    # 3 scores: ann 37 d R2, 3 orders F2 -> 22; bob R3 F1 -> 31; dee 100 d R1, 6 orders F3 -> 13;
    # eve 200 d R1, 2 orders F2 -> 12.
    scheme_file = tmp_path / "small.json"
    scheme_file.write_text(json.dumps(SMALL), encoding="utf-8")
    out = tmp_path / "small.csv"
    assert run(shop, "segments", out, "--scheme", str(scheme_file), *THREE_SCORE_CUTS) == 0
    assert segments_by_customer(out) == {
        "ann": "Cooling",
        "bob": "Active",
        "cy": "Prospects",
        "dee": "Cooling",
        "eve": "Gone",
    }


def test_a_saved_scheme_by_name(shop: Path, tmp_path: Path) -> None:
    scheme_io.save_custom_scheme(shop, scheme_io.scheme_from_json(json.dumps(SMALL)), "small")
    out = tmp_path / "saved.csv"
    assert run(shop, "segments", out, "--scheme", "small", *THREE_SCORE_CUTS) == 0
    assert segments_by_customer(out)["eve"] == "Gone"


def test_a_five_score_preset_on_three_scores(shop: Path, tmp_path: Path, capsys) -> None:
    # Scores map 1, 2, 3 -> 1, 3, 5 on Shopify's grid: ann (2, 2, 2) -> R3 x FM3;
    # bob (3, 1, 1) -> R5 x FM1; dee (1, 3, 3) -> R1 x FM5; eve (1, 2, 2) -> R1 x FM3.
    out = tmp_path / "three.csv"
    assert (
        run(shop, "segments", out, "--scheme", "shopify", "--scores", "3", *THREE_SCORE_CUTS) == 0
    )
    assert segments_by_customer(out) == {
        "ann": "Needs attention",
        "bob": "New",
        "cy": "Prospects",
        "dee": "Previously loyal",
        "eve": "At risk",
    }
    assert "scheme shopify@3" in capsys.readouterr().out


def test_excluded_periods_leave_orders_out(shop: Path, tmp_path: Path) -> None:
    # Without ann's 2024-05-24 order: 121 days since 03-01 (R2), 2 orders (F2), 220 (M3):
    # FM 2.5 -> 3, R2 x FM3 = At risk.
    out = tmp_path / "excluded.csv"
    exclude = ["--exclude", "2024-05-20:2024-05-26", "--exclude", "2023-01-01:2023-01-02"]
    assert run(shop, "segments", out, "--scheme", "shopify", *FIVE_SCORE_CUTS, *exclude) == 0
    with out.open(encoding="utf-8", newline="") as handle:
        ann = next(row for row in csv.DictReader(handle) if row["customer_id"] == "ann")
    assert (ann["recency_days"], ann["frequency"], ann["monetary"]) == ("121", "2", "220.00")
    assert ann["segment"] == "At risk"


def test_migration_writes_one_row_per_customer(shop: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "moves.csv"
    dates = ["--from", "2024-03-31", "--to", "2024-06-30"]
    assert run(shop, "migration", out, *dates, *FIVE_SCORE_CUTS) == 0
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows == [
        ["customer_id", "segment_from", "segment_to", "monetary_from", "monetary_to"],
        ["ann", "Active", "Loyal", "220.00", "350.00"],
        ["bob", "Not a customer yet", "New", "0.00", "10.00"],
        # cy is only in the customers file, which has no sign-up date: a customer from the
        # data's last order date on, so not one yet on 2024-03-31.
        ["cy", "Not a customer yet", "Prospects", "0.00", "0.00"],
        ["dee", "Champions", "Previously loyal", "500.00", "500.00"],
        ["eve", "Dormant", "Dormant", "150.00", "150.00"],
    ]
    assert "4 changed segment between 2024-03-31 and 2024-06-30" in capsys.readouterr().out


def test_migration_defaults_to_90_days_before_the_latest_order(shop: Path, tmp_path: Path, capsys):
    out = tmp_path / "default.csv"
    assert run(shop, "migration", out, "--scheme", "rf10") == 0
    assert "between 2024-04-01 and 2024-06-30" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--scheme", "nope"], "Unknown scheme 'nope'"),
        (["--scheme", "missing.json"], "No such scheme file"),
        (["--from", "2024-06-30", "--to", "2024-03-31"], "must be before"),
    ],
)
def test_migration_bad_input(shop: Path, tmp_path: Path, capsys, extra, message) -> None:
    assert run(shop, "migration", tmp_path / "x.csv", *extra) == errors.EXIT_BAD_INPUT
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()


@pytest.mark.parametrize("period", ["2024-05-01", "2024-05-09:2024-05-01", "may:june"])
def test_a_bad_exclude_period_stops_argparse(shop: Path, tmp_path: Path, period: str) -> None:
    with pytest.raises(SystemExit) as stopped:
        run(shop, "segments", tmp_path / "x.csv", "--exclude", period)
    assert stopped.value.code == errors.EXIT_BAD_INPUT


def test_presets_are_still_accepted_by_key(shop: Path, tmp_path: Path) -> None:
    for key in PRESETS:
        assert run(shop, "segments", tmp_path / f"{key}.csv", "--scheme", key) == 0
