"""Formula-safe CSV exports (docs/ingest.md §7, case 16)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd
import pytest

from dashboard import export

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NEGATIVE = re.compile(r"^-\d+(\.\d+)?$")

DANGEROUS = [
    '=HYPERLINK("http://x","y")',
    "+1",
    "-2+3",
    "@SUM(A1)",
    "\tx",
    "\rx",
]
EVIL_HEADER = "=cmd|' /C calc'!A0"


def frame() -> pd.DataFrame:
    n = len(DANGEROUS) + 2
    return pd.DataFrame(
        {
            "note": [*DANGEROUS, "-12.5", "München"],
            EVIL_HEADER: ["a"] * n,
            "amount": [-12.5, 3.0, 0.25, -1.0, 7.0, 8.0, 9.0, 10.0],
            "orders": list(range(-1, n - 1)),
        }
    )


def parsed(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


@pytest.mark.parametrize("value", DANGEROUS)
def test_dangerous_text_gets_a_quote(value: str) -> None:
    assert export.neutralise_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["-12.5", "-3", "hello", "", "a=b", "12-3"])
def test_harmless_text_untouched(value: str) -> None:
    assert export.neutralise_cell(value) == value


@pytest.mark.parametrize("value", [-12.5, 3, None])
def test_non_text_untouched(value) -> None:
    assert export.neutralise_cell(value) is value


def test_csv_cells_and_header() -> None:
    rows = parsed(export.to_csv_bytes(frame()))
    header, body = rows[0], rows[1:]
    assert header == ["note", "'" + EVIL_HEADER, "amount", "orders"]
    assert [r[0] for r in body] == [
        '\'=HYPERLINK("http://x","y")',
        "'+1",
        "'-2+3",
        "'@SUM(A1)",
        "'\tx",
        "'\rx",
        "-12.5",  # a plain negative number as text stays as it is
        "München",
    ]


def test_numbers_stay_numbers() -> None:
    data = export.to_csv_bytes(frame())
    body = parsed(data)[1:]
    # numeric columns are written as plain numbers, negative ones without a quote
    assert [r[2] for r in body] == ["-12.5", "3.0", "0.25", "-1.0", "7.0", "8.0", "9.0", "10.0"]
    assert [r[3] for r in body] == ["-1", "0", "1", "2", "3", "4", "5", "6"]
    back = pd.read_csv(io.BytesIO(data))
    assert back["amount"].dtype == "float64"
    assert back["amount"].tolist()[0] == -12.5
    assert back["orders"].dtype == "int64"


def test_utf8_round_trip() -> None:
    data = export.to_csv_bytes(frame())
    assert "München".encode() in data
    assert pd.read_csv(io.BytesIO(data), encoding="utf-8")["note"].iloc[-1] == "München"


def test_no_cell_can_start_a_formula() -> None:
    for row in parsed(export.to_csv_bytes(frame())):
        for cell in row:
            assert not cell.startswith(TRIGGERS) or PLAIN_NEGATIVE.match(cell), repr(cell)


def test_the_input_frame_is_not_changed() -> None:
    original = frame()
    export.to_csv_bytes(original)
    assert original["note"].iloc[0] == DANGEROUS[0]
    assert EVIL_HEADER in original.columns


def test_write_csv(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "members.csv"
    export.write_csv(frame(), out)
    assert out.read_bytes() == export.to_csv_bytes(frame())
    assert parsed(out.read_bytes())[1][0] == '\'=HYPERLINK("http://x","y")'


def test_missing_values_stay_empty() -> None:
    data = export.to_csv_bytes(pd.DataFrame({"name": ["=x", None], "n": [1, 2]}))
    assert parsed(data)[1:] == [["'=x", "1"], ["", "2"]]


def test_carriage_return_inside_a_cell_cannot_start_a_new_row() -> None:
    # unquoted, "a<CR>=1+1" would be read as a row "a" and a new row starting with =1+1
    data = export.to_csv_bytes(pd.DataFrame({"note": ["a\r=1+1", "b\n@x"], "n": [1, 2]}))
    assert parsed(data) == [["note", "n"], ["a\r=1+1", "1"], ["b\n@x", "2"]]
