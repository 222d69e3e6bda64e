"""CLI: ``migration --entered SEGMENT`` / ``--left SEGMENT`` on tests/movers_shop.py (#17.3)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from movers_shop import load_movers_shop
from studio_shop import DATASET

from dashboard import cli, errors
from dashboard.rfm import migration

DATES = ["--from", "2024-03-31", "--to", "2024-06-30"]
FIVE_SCORE_CUTS = ["--scoring", "custom", "--r-cuts", "20,45,90,180", "--f-cuts", "2,3,5,10"]
FIVE_SCORE_CUTS += ["--m-cuts", "100,200,300,400"]


@pytest.fixture
def shop(workspace: Path, make_dataset) -> Path:
    load_movers_shop(make_dataset)
    return workspace


def run_migration(workspace: Path, out: Path, *extra: str) -> int:
    argv = ["migration", "--workspace", str(workspace), "--dataset", DATASET, "--out", str(out)]
    return cli.main([*argv, *DATES, *FIVE_SCORE_CUTS, *extra])


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_entered_writes_who_entered_with_scores_at_the_second_date(
    shop: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "entered.csv"
    assert run_migration(shop, out, "--entered", "Dormant") == 0
    rows = read_rows(out)
    assert list(rows[0]) == migration.CHANGE_COLUMNS
    # gus: Active at 2024-03-31 (15 d, 2 orders, 120), Dormant at 2024-06-30: 106 d -> R2 F2 M2.
    assert rows == [
        {
            "customer_id": "gus",
            "email": "gus@example.com",
            "segment_before": "Active",
            "segment_after": "Dormant",
            "recency_days": "106",
            "frequency": "2",
            "monetary": "120.00",
            "r_score": "2",
            "f_score": "2",
            "m_score": "2",
        }
    ]
    assert "Wrote 1 customers who entered Dormant between 2024-03-31 and 2024-06-30" in (
        capsys.readouterr().out
    )


def test_left_writes_who_left(shop: Path, tmp_path: Path) -> None:
    out = tmp_path / "left.csv"
    assert run_migration(shop, out, "--left", "Active") == 0
    assert [(r["customer_id"], r["segment_after"], r["r_score"]) for r in read_rows(out)] == [
        ("ann", "Loyal", "4"),
        ("gus", "Dormant", "2"),
    ]


def test_lists_agree_with_the_matrix_file(shop: Path, tmp_path: Path) -> None:
    everyone = tmp_path / "moves.csv"
    assert run_migration(shop, everyone) == 0
    members = read_rows(everyone)
    for label in ["Active", "Dormant", "New", "Loyal", migration.NOT_YET]:
        for option, before, after in (
            ("--entered", "segment_from", "segment_to"),
            ("--left", "segment_to", "segment_from"),
        ):
            out = tmp_path / f"{label}{option}.csv"
            assert run_migration(shop, out, option, label) == 0
            expected = [
                r["customer_id"] for r in members if r[after] == label and r[before] != label
            ]
            assert [r["customer_id"] for r in read_rows(out)] == expected, (label, option)


def test_an_unknown_segment_exits_2_with_one_sentence(shop: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "none.csv"
    assert run_migration(shop, out, "--left", "Champs") == errors.EXIT_BAD_INPUT == 2
    err = capsys.readouterr().err
    assert err.startswith("error: 'Champs' is not a segment of the shopify scheme; choose one of:")
    assert err.count("\n") == 1 and "Not a customer yet." in err
    assert not out.exists()


def test_entered_and_left_are_mutually_exclusive(shop: Path, tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as caught:
        run_migration(shop, tmp_path / "x.csv", "--entered", "New", "--left", "Active")
    assert caught.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err
