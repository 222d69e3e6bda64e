"""File types and value styles: Excel workbooks, .gz and .zip archives (and bombs), UTF-16
without a BOM, every date style, decimal commas, and the format fixed after one look.

Each file is built in the test from a small table whose expected rows are written next to it.
"""

from __future__ import annotations

import datetime as dt
import gzip
import zipfile
from decimal import Decimal
from pathlib import Path

import duckdb
import openpyxl
import pytest

from dashboard import ingest
from dashboard.ingest import IngestError, unpack
from dashboard.workspace import store

SIMPLE = {"customer_id": "customer", "ordered_at": "date", "order_total": "amount"}
TABLE = "customer,date,amount\nM\u00fcnchen,2024-01-05 10:30,12.50\nb,2024-02-01,3\n"
ROWS = [
    ("M\u00fcnchen", dt.datetime(2024, 1, 5, 10, 30), Decimal("12.50")),
    ("b", dt.datetime(2024, 2, 1), Decimal("3.00")),
]


def query(workspace: Path, dataset: str, sql: str, params: list | None = None) -> list[tuple]:
    """Run ``sql`` on the stored dataset (read-only) and return all rows."""
    con = duckdb.connect(str(store.dataset_path(workspace, dataset)), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def stored_orders(workspace: Path) -> list[tuple]:
    return query(
        workspace, "shop", "SELECT customer_id, ordered_at, order_total FROM orders ORDER BY 1"
    )


def workbook(path: Path) -> Path:
    """A workbook whose second sheet 'Orders' holds TABLE from B3, with a blank row inside."""
    book = openpyxl.Workbook()
    book.active.title = "Read me"
    book.active.append(["This sheet explains the export."])
    sheet = book.create_sheet("Orders")
    for column, name in zip("BCD", ("customer", "date", "amount"), strict=True):
        sheet[f"{column}3"] = name
    sheet.append([None, "M\u00fcnchen", dt.datetime(2024, 1, 5, 10, 30), 12.5])  # row 4
    sheet.append([])  # row 5, blank
    sheet.append([None, "b", dt.date(2024, 2, 1), 3])  # row 6
    sheet.append([None, "c", "not a date", 1, "a stray note"])  # row 7
    book.save(path)
    return path


def test_excel_sheet_is_read_by_name_with_sheet_row_numbers(
    workspace: Path, tmp_path: Path
) -> None:
    path = workbook(tmp_path / "orders.xlsx")
    assert ingest.read_headers(path) == ["This sheet explains the export."]
    assert ingest.read_headers(path, "Orders") == ["customer", "date", "amount"]
    report = ingest.ingest_file(workspace, "shop", path, mapping=SIMPLE, sheet="Orders")
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (3, 2, 1)
    assert stored_orders(workspace) == ROWS
    # lines are the sheet's row numbers
    assert [(i.line_number, i.raw_value) for i in report.issues] == [(7, "not a date")]
    assert report.notes[:2] == [
        "The sheet 'Orders' of the workbook was read.",
        "1 rows of the sheet 'Orders' have values outside the columns under the header row; "
        "those values were not read.",
    ]


def test_a_workbook_lists_its_sheets_in_order(tmp_path: Path) -> None:
    assert ingest.list_sheets(workbook(tmp_path / "orders.xlsx")) == ["Read me", "Orders"]
    damaged = tmp_path / "damaged.xlsx"
    damaged.write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(IngestError):
        ingest.list_sheets(damaged)


def test_an_unknown_sheet_is_named_with_the_ones_there(workspace: Path, tmp_path: Path) -> None:
    path = workbook(tmp_path / "orders.xlsx")
    with pytest.raises(IngestError) as caught:
        ingest.ingest_file(workspace, "shop", path, mapping=SIMPLE, sheet="Sales")
    assert str(caught.value) == (
        "The workbook has no sheet called 'Sales'; its sheets are: Read me, Orders."
    )
    assert not store.dataset_exists(workspace, "shop")


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (lambda p: p.write_bytes(gzip.compress(TABLE.encode())), "orders.csv.gz"),
        (lambda p: p.write_bytes(gzip.compress(TABLE.encode("cp1252"))), "latin.csv.gz"),
        (lambda p: zipfile.ZipFile(p, "w").writestr("export/orders.csv", TABLE), "orders.zip"),
        (
            lambda p: zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED).writestr(
                "orders.tsv", TABLE.replace(",", "\t")
            ),
            "tabs.zip",
        ),
    ],
)
def test_archives_holding_one_table(workspace: Path, tmp_path: Path, make, name: str) -> None:
    path = tmp_path / name
    make(path)
    assert ingest.read_headers(path) == ["customer", "date", "amount"]
    report = ingest.ingest_file(workspace, "shop", path, mapping=SIMPLE)
    assert (report.rows_loaded, report.rows_rejected) == (2, 0)
    assert stored_orders(workspace) == ROWS


def test_archives_holding_a_workbook_or_parquet(workspace: Path, tmp_path: Path) -> None:
    book = workbook(tmp_path / "orders.xlsx")
    with zipfile.ZipFile(tmp_path / "book.zip", "w") as archive:
        archive.write(book, "orders.xlsx")
    report = ingest.ingest_file(
        workspace, "shop", tmp_path / "book.zip", mapping=SIMPLE, sheet="Orders"
    )
    assert report.rows_loaded == 2
    parquet = tmp_path / "orders.parquet"
    duckdb.sql(
        "SELECT * FROM (VALUES ('d', '2024-03-01', '1.00')) t(customer, date, amount)"
    ).write_parquet(str(parquet))
    (tmp_path / "orders.parquet.gz").write_bytes(gzip.compress(parquet.read_bytes()))
    report = ingest.ingest_file(workspace, "shop", tmp_path / "orders.parquet.gz", mapping=SIMPLE)
    assert report.rows_loaded == 1
    assert len(stored_orders(workspace)) == 3


def test_archives_that_cannot_be_read_are_refused(workspace: Path, tmp_path: Path) -> None:
    two = tmp_path / "two.zip"
    with zipfile.ZipFile(two, "w") as archive:
        archive.writestr("a.csv", TABLE)
        archive.writestr("b.csv", TABLE)
    truncated = tmp_path / "cut.csv.gz"
    truncated.write_bytes(gzip.compress(TABLE.encode() * 100)[:-30])
    nested = tmp_path / "nested.zip"
    with zipfile.ZipFile(nested, "w") as archive:
        archive.writestr("inner.zip", two.read_bytes())
    expected = {
        two: "This zip archive holds 2 files; put exactly one table (CSV, Parquet or .xlsx) in it, "
        "or upload the file itself.",
        truncated: "This gzip file is damaged or truncated and could not be unpacked.",
        nested: "This archive holds another archive; upload the table file itself.",
    }
    for path, message in expected.items():
        with pytest.raises(IngestError) as caught:
            ingest.ingest_file(workspace, "shop", path, mapping=SIMPLE)
        assert str(caught.value) == message
    assert not store.dataset_exists(workspace, "shop")
    assert list(workspace.iterdir()) == []  # no scratch left behind


def test_zip_bombs_are_refused_clearly(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A real bomb is gigabytes; the limits are lowered so that 4 MB of zeros is one.
    monkeypatch.setattr(unpack, "MIN_BOMB_BYTES", 1 << 20)
    zeros = b"customer,date,amount\n" + b"0" * (4 << 20)
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("orders.csv", zeros)
    gz_bomb = tmp_path / "bomb.csv.gz"
    gz_bomb.write_bytes(gzip.compress(zeros))
    for path in (bomb, gz_bomb):
        with pytest.raises(IngestError) as caught:
            ingest.ingest_file(workspace, "shop", path, mapping=SIMPLE)
        assert "it looks like a zip bomb, so it was not loaded" in str(caught.value)
    sheet_bomb = tmp_path / "bomb.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["customer", "date", "amount"])
    book.save(sheet_bomb)
    with zipfile.ZipFile(sheet_bomb, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/padding.xml", b" " * (4 << 20))
    with pytest.raises(IngestError) as caught:
        ingest.ingest_file(workspace, "shop", sheet_bomb, mapping=SIMPLE)
    assert "looks like a zip bomb or a sheet far larger than Excel allows" in str(caught.value)
    assert not store.dataset_exists(workspace, "shop")


def test_a_sheet_larger_than_excel_allows_is_refused(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(unpack, "MAX_SHEET_ROWS", 3)
    path = workbook(tmp_path / "orders.xlsx")
    with pytest.raises(IngestError) as caught:
        ingest.ingest_file(workspace, "shop", path, mapping=SIMPLE, sheet="Orders")
    assert str(caught.value) == (
        "This sheet has more than 3 rows or 16,384 columns, more than Excel allows, so it was "
        "not loaded; save it as 'CSV UTF-8' and load that."
    )


def test_utf16_without_a_bom(workspace: Path, tmp_path: Path) -> None:
    path = tmp_path / "orders.txt"
    path.write_bytes(TABLE.replace(",", "\t").encode("utf-16-le"))
    report = ingest.ingest_file(workspace, "shop", path, mapping=SIMPLE)
    assert report.rows_loaded == 2 and "The file is UTF-16 text; it was read as such." in (
        report.notes
    )
    assert stored_orders(workspace) == ROWS


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-03-20", dt.datetime(2024, 3, 20)),
        ("2024-03-20 21:41", dt.datetime(2024, 3, 20, 21, 41)),
        ("2024-03-20T21:41:05", dt.datetime(2024, 3, 20, 21, 41, 5)),
        ("2024-03-20T21:41:05Z", dt.datetime(2024, 3, 20, 21, 41, 5)),
        ("2024-03-20T21:41:05.250+01:00", dt.datetime(2024, 3, 20, 21, 41, 5, 250000)),
        ("2024-03-20 21:41:00 -0700", dt.datetime(2024, 3, 20, 21, 41)),
        ("2024/03/20 21:41", dt.datetime(2024, 3, 20, 21, 41)),
        ("1710970860", dt.datetime(2024, 3, 20, 21, 41)),  # epoch seconds, UTC
        ("1710970860000", dt.datetime(2024, 3, 20, 21, 41)),  # epoch milliseconds
        ("20.03.2024", dt.datetime(2024, 3, 20)),  # day above 12: day-first proven
        ("3/20/2024 9:41 PM", dt.datetime(2024, 3, 20, 21, 41)),  # month-first proven
        ("20-03-2024 21:41:05", dt.datetime(2024, 3, 20, 21, 41, 5)),
    ],
)
def test_date_styles(workspace: Path, tmp_path: Path, raw: str, expected: dt.datetime) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(f"customer,date,amount\na,{raw},1\n", encoding="utf-8")
    report = ingest.ingest_file(workspace, "shop", path, mapping=SIMPLE)
    assert report.rows_loaded == 1, report.issues
    assert query(workspace, "shop", "SELECT ordered_at FROM orders") == [(expected,)]


def test_dotted_dates_that_prove_nothing_are_read_day_first_and_said_so(
    workspace: Path, tmp_path: Path
) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("customer,date,amount\na,01.02.2024,1\nb,03.04.2024,2\n", encoding="utf-8")
    report = ingest.ingest_file(workspace, "shop", path, mapping=SIMPLE)
    assert query(workspace, "shop", "SELECT ordered_at FROM orders ORDER BY 1") == [
        (dt.datetime(2024, 2, 1),),
        (dt.datetime(2024, 4, 3),),
    ]
    assert (
        "Dates in 'date' like '01.02.2024' (line 2) were read day-first (the European style of "
        "dotted dates; choose month-first if that is wrong)." in report.notes
    )


@pytest.mark.parametrize(
    ("values", "decimal", "expected", "note"),
    [
        (["1.234,50", "12,5"], "auto", ["1234.50", "12.50"], "decimal comma"),
        (["1 234,50", "2.000.000"], "auto", ["1234.50", "2000000.00"], "decimal comma"),
        (["1,234.50", "12.5"], "auto", ["1234.50", "12.50"], None),
        (["1.234", "12"], ",", ["1234.00", "12.00"], None),
        (["1.234", "12"], "auto", ["1.23", "12.00"], None),
    ],
)
def test_decimal_marks(
    workspace: Path,
    tmp_path: Path,
    values: list[str],
    decimal: str,
    expected: list[str],
    note: str | None,
) -> None:
    path = tmp_path / "orders.csv"
    rows = "".join(f"c{i};2024-01-0{i + 1};{v}\n" for i, v in enumerate(values))
    path.write_text("customer;date;amount\n" + rows, encoding="utf-8")
    report = ingest.ingest_file(workspace, "shop", path, mapping=SIMPLE, decimal=decimal)
    assert report.rows_loaded == len(values)
    assert [
        r[0]
        for r in query(workspace, "shop", "SELECT order_total FROM orders ORDER BY customer_id")
    ] == [Decimal(e) for e in expected]
    assert (
        any(note in n for n in report.notes)
        if note
        else not any("decimal" in n for n in report.notes)
    )


def test_mixed_decimal_marks_read_with_a_point_and_say_so(workspace: Path, tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("customer;date;amount\na;2024-01-01;12.50\nb;2024-01-02;7,25\n", "utf-8")
    report = ingest.ingest_file(workspace, "shop", path, mapping=SIMPLE)
    assert (report.rows_loaded, report.rows_rejected) == (1, 1)
    assert [(i.line_number, i.reason) for i in report.issues] == [(3, "amount is not a number")]
    assert any(
        n.startswith("Amounts mix decimal points ('amount', line 2: '12.50')") for n in report.notes
    )


def test_unknown_choices_are_refused(workspace: Path, tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(TABLE, encoding="utf-8")
    with pytest.raises(IngestError, match="Unknown date order 'yes'; use one of auto, "):
        ingest.ingest_file(workspace, "shop", path, mapping=SIMPLE, date_order="yes")
    with pytest.raises(IngestError, match="Unknown decimal mark ';'"):
        ingest.ingest_file(workspace, "shop", path, mapping=SIMPLE, decimal=";")


def test_the_sniffed_format_is_kept_for_the_whole_file(workspace: Path, tmp_path: Path) -> None:
    # 3,000 good ';' rows, then a line that looks like ',' CSV: it is one bad row, not a new
    # delimiter for the rest of the file.
    before = "".join(f"c{i};2024-01-01;1,50\n" for i in range(3000))
    after = "".join(f"d{i};2024-01-01;1,50\n" for i in range(3000))
    path = tmp_path / "orders.csv"
    path.write_text("customer;date;amount\n" + before + "x,2024-01-01,1.50\n" + after, "utf-8")
    report = ingest.ingest_file(workspace, "shop", path, mapping=SIMPLE)
    assert (report.rows_loaded, report.rows_rejected) == (6000, 1)
    assert [(i.line_number, i.reason) for i in report.issues] == [
        (3002, "row has fewer columns than the header")
    ]
    assert query(workspace, "shop", "SELECT sum(order_total) FROM orders") == [
        (Decimal("9000.00"),)
    ]
