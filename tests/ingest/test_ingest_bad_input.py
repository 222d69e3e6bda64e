"""Bad input from docs/ingest.md §7 (cases 1-13, 17, 18) and the transaction.

Each file is written inline so its bytes, and so its line numbers, are visible in the test.
Line numbers are physical lines with the header as line 1.
"""

from __future__ import annotations

import datetime as dt
import inspect
import shutil
import tomllib
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from dashboard import ingest
from dashboard.cli import data_commands
from dashboard.ingest import IngestError, ledger, lines, load_orders, one_pass
from dashboard.rfm import analysis
from dashboard.workspace import store

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
REPO = Path(__file__).resolve().parents[2]
MAPPING = {
    "order_id": "order_id",
    "customer_id": "customer",
    "ordered_at": "date",
    "order_total": "amount",
}
GOOD = "order_id,customer,date,amount\nk1,keep@x.com,2024-01-01,1.00\n"


def query(workspace: Path, dataset: str, sql: str, params: list | None = None) -> list[tuple]:
    """Run ``sql`` on the stored dataset (read-only) and return all rows."""
    con = duckdb.connect(str(store.dataset_path(workspace, dataset)), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def snapshot(workspace: Path, dataset: str) -> dict[str, list[tuple]]:
    """Every canonical table's rows, sorted: equal snapshots mean an unchanged dataset."""
    return {
        table: sorted(query(workspace, dataset, f"SELECT * FROM {table}"), key=repr)
        for table in store.SCHEMA
    }


def write(tmp_path: Path, text: str, name: str = "orders.csv") -> Path:
    """Write ``text`` as a UTF-8 file (line ends kept as written) and return its path."""
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def issues(report: ingest.IngestReport) -> list[tuple]:
    """The report's issues as (line, column, severity, reason, value)."""
    return [(i.line_number, i.column, i.severity, i.reason, i.raw_value) for i in report.issues]


@pytest.fixture
def existing(workspace: Path, tmp_path: Path) -> str:
    """A dataset holding one good order, loaded from a file."""
    ingest.ingest_file(workspace, "shop", write(tmp_path, GOOD, "first.csv"), mapping=MAPPING)
    return "shop"


def test_ragged_rows_bad_numbers_and_dates_are_listed_by_line(
    workspace: Path, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "order_id,customer,date,amount,note\n"  # 1
        '1,a@x.com,2024-01-01,10.00,"two\n'  # 2: a quoted cell on two lines
        'lines"\n'  # 3
        "2,b@x.com,2024-01-02,20.00\n"  # 4: a column short
        "3,c@x.com,2024-01-03,30.00,ok,extra\n"  # 5: a column too many
        "4,d@x.com,2024-13-45,40.00,\n"  # 6: no month 13
        "5,e@x.com,2024-01-05,forty,\n"  # 7
        "\n"  # 8: blank
        "6,f@x.com,2024-01-06,60.00,\n"  # 9
        "7,g@x.com,2024-01-07,,\n",  # 10: no amount
    )
    report = ingest.ingest_file(workspace, "shop", path, mapping=MAPPING)
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (7, 2, 5)
    assert issues(report) == [
        (
            4,
            "note",
            "rejected",
            "row has fewer columns than the header",
            "2,b@x.com,2024-01-02,20.00",
        ),
        (
            5,
            None,
            "rejected",
            "row has more columns than the header",
            "3,c@x.com,2024-01-03,30.00,ok,extra",
        ),
        (
            6,
            "date",
            "rejected",
            "date not recognised (use YYYY-MM-DD or YYYY-MM-DD HH:MM:SS)",
            "2024-13-45",
        ),
        (7, "amount", "rejected", "amount is not a number", "forty"),
        (10, "amount", "rejected", "missing amount", None),
    ]
    assert report.reason_counts()["row has fewer columns than the header"] == 1
    assert query(workspace, "shop", "SELECT order_id FROM orders ORDER BY 1") == [("1",), ("6",)]
    assert query(
        workspace, "shop", "SELECT line_number, column_name, reason FROM ingest_issues ORDER BY 1"
    ) == [(i[0], i[1], i[3]) for i in issues(report)]
    assert query(
        workspace, "shop", "SELECT rows_read, rows_loaded, rows_rejected FROM ingests"
    ) == [(7, 2, 5)]


def test_unterminated_quote_is_named_with_the_lines_it_swallowed(
    workspace: Path, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "order_id,customer,date,amount\n"
        "1,a@x.com,2024-01-01,10.00\n"
        '2,"b@x.com,2024-01-02,20.00\n'  # 3: the quote never closes
        "3,c@x.com,2024-01-03,30.00\n"
        "4,d@x.com,2024-01-04,40.00\n",
    )
    report = ingest.ingest_file(workspace, "shop", path, mapping=MAPPING)
    assert (report.rows_loaded, report.rows_rejected) == (1, 1)
    [(line, column, _, reason, _)] = issues(report)
    assert (line, column, reason) == (
        3,
        None,
        "broken quoting: a quote is opened but not closed properly",
    )
    assert (
        "An unterminated quote near line 3 swallowed the 2 line(s) after it (up to line 5); "
        "those rows were not loaded: fix the quote and load the file again." in report.notes
    )


def test_one_broken_line_among_quoted_names_does_not_stop_the_good_rows(
    workspace: Path, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "name,customer,date,amount\n"
        '"Smith, John",a@x.com,2024-01-01,10.00\n'
        '"Doe, Jane",b@x.com,2024-01-02,20.00\n'
        '"Broken, Bob,c@x.com,2024-01-03,30.00\n'  # 4: its quote closes at the start of line 5
        '"Roe, Rick",d@x.com,2024-01-04,40.00\n'
        '"Poe, Edgar",e@x.com,2024-01-05,50.00\n',
    )
    assert ingest.read_headers(path) == ["name", "customer", "date", "amount"]
    report = ingest.ingest_file(
        workspace,
        "shop",
        path,
        mapping={"customer_id": "customer", "ordered_at": "date", "order_total": "amount"},
    )
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (4, 3, 1)
    assert [(i.line_number, i.reason) for i in report.issues] == [
        (4, "broken quoting: a quote is opened but not closed properly")
    ]
    assert any("near line 4 swallowed the 1 line(s) after it" in n for n in report.notes)
    assert query(workspace, "shop", "SELECT customer_id FROM orders ORDER BY 1") == [
        ("a@x.com",),
        ("b@x.com",),
        ("e@x.com",),
    ]


@pytest.mark.parametrize("build", ["quotes", "csv module"])
def test_line_index_of_multiline_cells_blank_lines_and_crlf(tmp_path: Path, build: str) -> None:
    path = tmp_path / "lines.csv"
    # lines: 1 header, 2-3 one record, 4 blank, 5, 6-7 (doubled quotes inside), 8 (no line end)
    path.write_bytes(b'x,y\r\n"a\r\nb",1\r\n\r\n"",2\r\n"c ""q""\nd",3\r\nlast,4')
    if build == "quotes":
        index = lines.index_by_quotes(path)
    else:
        index = lines.index_by_csv_module(path, ",")
    # DuckDB numbers records and blank lines: header 1, record 2, blank 3, then 4, 5, 6
    assert index.duck_lines.tolist() == [2, 4, 5, 6]
    assert index.start_lines.tolist() == [2, 5, 6, 8]
    assert index.end_lines.tolist() == [3, 5, 7, 8]
    assert index.physical_lines == 8


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 1 << 24])
@pytest.mark.parametrize(
    ("text", "one_line_each"),
    [
        (b'x,y\r\n"a ""b""",1\r\nc,2\r\n"d",3', True),  # quotes closed on each line, CRLF
        (b"x,y\na,1\nb,2\n", True),
        (b'x,y\n"a\nb",1\nc,2\n', False),  # a line end inside quotes
        (b"x,y\na,1\n\nb,2\n", False),  # a blank line
        (b"x,y\na,1\n\r\nb,2\n", False),  # a line holding only a CR is blank too
        (b'x,y\na,1\n"b,2\n', False),  # a quote never closed
    ],
)
def test_line_index_counts_one_line_records_without_arrays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: bytes, one_line_each: bool, chunk: int
) -> None:
    # Read in chunks this small, quotes, CRs and line ends fall on every chunk boundary.
    monkeypatch.setattr(lines, "_CHUNK_BYTES", chunk)
    path = tmp_path / "lines.csv"
    path.write_bytes(text)
    index = lines.index_by_quotes(path)
    assert (index.lines is None) == one_line_each
    reference = lines.index_by_csv_module(path, ",")
    if one_line_each:
        assert len(index) == len(reference)
        assert index.physical_lines == reference.physical_lines
        assert index.start_lines.tolist() == reference.start_lines.tolist()
        assert index.duck_lines.tolist() == list(range(2, len(index) + 2))


def test_a_stray_quote_inside_a_cell_keeps_later_line_numbers_exact(
    workspace: Path, tmp_path: Path
) -> None:
    # The quote of 12" is text (it does not open the cell); quote parity alone would think
    # lines 2-5 were one record, so the line index falls back to a full CSV reading.
    path = write(
        tmp_path,
        "order_id,customer,date,amount,product\n"
        '1,a,2024-01-01,1.00,12" pizza\n'
        '2,b,2024-01-02,2.00,"two\n'
        'lines"\n'
        "3,c,2024-01-03,bad,x\n",
    )
    report = ingest.ingest_file(workspace, "shop", path, mapping=MAPPING)
    assert (report.rows_loaded, report.notes) == (2, [])
    assert [(i.line_number, i.reason) for i in report.issues] == [(5, "amount is not a number")]


def test_rows_the_two_readers_split_differently_are_flagged(
    workspace: Path, tmp_path: Path
) -> None:
    # After two leading spaces DuckDB reads a quote as text; Python's csv module (the second
    # reading, which numbers lines) opens a quoted cell there. The disagreement is said.
    path = write(tmp_path, 'order_id,customer,date,amount\n  "\n1,a,2024-01-01,1.00\n')
    report = ingest.ingest_file(workspace, "shop", path, mapping=MAPPING)
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (2, 1, 1)
    assert (
        "Broken quoting makes the rows of this file ambiguous: 2 rows were read, but a second "
        "reading of its 3 lines finds 1; check the rejected rows, and take line numbers after "
        "the first of them as approximate." in report.notes
    )


def test_mixed_line_ends_are_read_with_a_note(workspace: Path, tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_bytes(
        b"order_id,customer,date,amount\r\n1,a,2024-01-01,1.00\n"
        b'2,"b\r\nsecond line",2024-01-02,2.00\r\n3,c,2024-01-03,x\n'
    )
    report = ingest.ingest_file(workspace, "shop", path, mapping=MAPPING)
    assert (report.rows_loaded, report.rows_rejected) == (2, 1)
    assert [(i.line_number, i.reason) for i in report.issues] == [(5, "amount is not a number")]
    assert (
        "The file mixes Windows (CRLF) and Unix (LF) line ends; it was read with them made "
        "uniform." in report.notes
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (b"\n", "The file is empty."),
        (b"x", "The file has a header row but no data rows."),
        (b"order_id,customer,date,amount\n", "The file has a header row but no data rows."),
        (
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4,
            "This file is not a CSV, Parquet or Excel table (it looks binary).",
        ),
        (
            bytes(range(1, 32)) * 50,
            "This file is not a CSV, Parquet or Excel table (it looks binary).",
        ),
        (
            b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 64,
            "This zip archive is damaged or truncated and could not be unpacked.",
        ),
        (
            "customer,date,amount\nM\u00fcnchen,2024-01-01,1\n".encode() + b"\xe9t\xe9\n",
            "This file mixes UTF-8 text with another encoding (line 3); save it as 'CSV UTF-8' "
            "and upload it again.",
        ),
        (
            b"PAR1 not really parquet",
            "This Parquet file could not be read (it may be damaged or truncated).",
        ),
    ],
    ids=[
        "empty",
        "newline",
        "one-byte",
        "header-only",
        "png",
        "controls",
        "zip",
        "mixed-encodings",
        "broken-parquet",
    ],
)
def test_unloadable_files_raise_a_sentence_and_change_nothing(
    workspace: Path, tmp_path: Path, existing: str, content: bytes, message: str
) -> None:
    path = tmp_path / "upload.csv"
    path.write_bytes(content)
    before = snapshot(workspace, existing)
    for dataset in (existing, "fresh"):
        with pytest.raises(IngestError) as caught:
            ingest.ingest_file(workspace, dataset, path, mapping=MAPPING)
        assert str(caught.value) == message
    assert snapshot(workspace, existing) == before
    assert not store.dataset_exists(workspace, "fresh")


@pytest.mark.parametrize(
    ("encoding", "note"),
    [
        ("utf-8", None),
        ("utf-8-sig", None),
        ("utf-16", "The file is UTF-16 text; it was read as such."),
        ("latin-1", "The file is not UTF-8 text; it was read as Windows-1252"),
        ("cp1252", "The file is not UTF-8 text; it was read as Windows-1252"),
    ],
)
def test_encodings_round_trip(
    workspace: Path, tmp_path: Path, encoding: str, note: str | None
) -> None:
    """Row 4: latin-1 / cp1252, UTF-16 with BOM, UTF-8 with BOM: München round-trips."""
    text = (
        "order_id,customer,date,amount\nm1,M\u00fcnchen,2024-01-01,1\nm2,Z\u00fcrich,2024-01-02,2\n"
    )
    path = tmp_path / "orders.csv"
    path.write_bytes(text.encode(encoding))
    assert ingest.read_headers(path) == ["order_id", "customer", "date", "amount"]
    report = ingest.ingest_file(workspace, "shop", path, mapping=MAPPING)
    assert (report.rows_loaded, report.rows_rejected) == (2, 0)
    assert query(workspace, "shop", "SELECT customer_id FROM orders ORDER BY order_id") == [
        ("M\u00fcnchen",),
        ("Z\u00fcrich",),
    ]
    if note is None:
        assert not any("UTF" in n for n in report.notes)
    else:
        assert report.notes[0].startswith(note)


def test_an_eu_export_reads_decimal_commas_and_dotted_dates(
    workspace: Path, tmp_path: Path
) -> None:
    """Row 5: ';' delimiter, 1.234,50 and 01.02.2024 -> 1234.50 on 1 February, said in notes."""
    path = write(
        tmp_path,
        "Bestellnummer;Kunde;Datum;Betrag\nB-1;anna@example.de;01.02.2024;1.234,50\n"
        "B-2;jonas@example.de;03.02.2024;99,90\n",
    )
    mapping = {"order_id": "Bestellnummer", "customer_id": "Kunde", "ordered_at": "Datum"}
    report = ingest.ingest_file(
        workspace, "shop", path, mapping={**mapping, "order_total": "Betrag"}
    )
    assert query(
        workspace, "shop", "SELECT order_id, ordered_at, order_total FROM orders ORDER BY 1"
    ) == [
        ("B-1", dt.datetime(2024, 2, 1), Decimal("1234.50")),
        ("B-2", dt.datetime(2024, 2, 3), Decimal("99.90")),
    ]
    assert report.notes[:2] == [
        "Dates in 'Datum' like '01.02.2024' (line 2) were read day-first (the European style of "
        "dotted dates; choose month-first if that is wrong).",
        "Amounts were read with a decimal comma ('Betrag', line 2: '1.234,50'), points and "
        "spaces being thousands separators.",
    ]


def test_an_ambiguous_date_asks_for_the_order_and_shows_the_choice(
    workspace: Path, tmp_path: Path, existing: str
) -> None:
    """Row 6: 03/04/2024 alone cannot say; the error names the choice, the choice is shown."""
    path = write(tmp_path, "order_id,customer,date,amount\nq1,a,03/04/2024,1.00\n")
    before = snapshot(workspace, existing)
    with pytest.raises(IngestError) as caught:
        ingest.ingest_file(workspace, existing, path, mapping=MAPPING)
    assert str(caught.value) == (
        "Dates in 'date' such as '03/04/2024' (line 2) could be day-first or month-first, and no "
        "date in the file tells which: choose the date order and load the file again ('Date "
        "order' in the app; --date-order day-first or --date-order month-first on the command "
        "line)."
    )
    assert snapshot(workspace, existing) == before
    report = ingest.ingest_file(workspace, existing, path, mapping=MAPPING, date_order="day-first")
    assert query(workspace, existing, "SELECT ordered_at FROM orders WHERE order_id = 'q1'") == [
        (dt.datetime(2024, 4, 3),)
    ]
    assert "Dates in 'date' like '03/04/2024' (line 2) were read day-first (as chosen)." in (
        report.notes
    )


def test_the_upload_limit_is_the_apps_and_ingest_has_none() -> None:
    """Row 8: the browser refuses big uploads (configured); ingest_file and the CLI stream any."""
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["maxUploadSize"] == 200
    parameters = inspect.signature(ingest.ingest_file).parameters
    assert not [name for name in parameters if "size" in name or "limit" in name]
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "load larger files with `python -m dashboard ingest`" in readme


def test_a_latin1_byte_far_down_the_file_is_read_as_windows_1252(
    workspace: Path, tmp_path: Path
) -> None:
    good = "".join(f"{i},c{i},2024-01-01,1.00\n" for i in range(5000))
    path = tmp_path / "late.csv"
    path.write_bytes(
        ("order_id,customer,date,amount\n" + good).encode() + b"x,M\xfcnchen,2024-01-01,1\n"
    )
    report = ingest.ingest_file(workspace, "fresh", path, mapping=MAPPING)
    assert (report.rows_loaded, report.rows_rejected) == (5001, 0)
    assert report.notes[0].startswith("The file is not UTF-8 text; it was read as Windows-1252")
    assert query(workspace, "fresh", "SELECT customer_id FROM orders WHERE order_id = 'x'") == [
        ("M\u00fcnchen",)
    ]


def test_utf8_accents_then_other_bytes_far_down_are_refused(
    workspace: Path, tmp_path: Path
) -> None:
    good = "".join(f"{i},c{i},2024-01-01,1.00\n" for i in range(5000))
    path = tmp_path / "mixed.csv"
    path.write_bytes(
        ("order_id,customer,date,amount\nu,M\u00fcnchen,2024-01-01,1\n" + good).encode()
        + b"x,M\xfcnchen,2024-01-01,1\n"
    )
    with pytest.raises(IngestError) as caught:
        ingest.ingest_file(workspace, "fresh", path, mapping=MAPPING)
    assert str(caught.value).startswith(
        "This file mixes UTF-8 text with another encoding (line 5003)"
    )
    assert not store.dataset_exists(workspace, "fresh")


def test_missing_required_column_is_named(workspace: Path, tmp_path: Path, existing: str) -> None:
    path = write(tmp_path, "Customer ID,Total\nc1,10.00\n")
    before = snapshot(workspace, existing)
    with pytest.raises(IngestError) as caught:
        ingest.ingest_file(workspace, existing, path)
    assert str(caught.value) == (
        "Missing required column: order date (map it to one of the file's columns)."
    )
    assert snapshot(workspace, existing) == before


def test_negative_amounts_are_rejected_and_zero_amounts_counted(
    workspace: Path, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "order_id,customer,date,amount\n"
        "1,a,2024-01-01,10.00\n"
        "2,a,2024-01-02,-4.50\n"
        "3,b,2024-01-03,0.00\n"
        "4,c,2024-01-04,0\n",
    )
    report = ingest.ingest_file(workspace, "shop", path, mapping=MAPPING)
    assert (report.rows_loaded, report.rows_rejected) == (3, 1)
    assert issues(report) == [
        (
            3,
            "amount",
            "rejected",
            "negative amount: returns must be given as refunded_amount",
            "-4.50",
        )
    ]
    assert (
        "2 orders have a total of 0 (loaded; RFM does not count them as purchases unless "
        "asked to)." in report.notes
    )


def test_duplicates_exact_and_conflicting(workspace: Path, tmp_path: Path, existing: str) -> None:
    # exact re-upload of the first file: nothing new, counts unchanged
    before = snapshot(workspace, existing)
    again = ingest.ingest_file(
        workspace, existing, write(tmp_path, GOOD, "first.csv"), mapping=MAPPING
    )
    assert (again.rows_read, again.rows_loaded, again.rows_duplicate) == (1, 0, 1)
    after = snapshot(workspace, existing)
    assert after["orders"] == before["orders"]
    assert len(after["ingests"]) == 2
    # the same order id with another amount, in another file: rejected, stored value kept
    changed = write(tmp_path, GOOD.replace("1.00", "2.00") + "k2,b@x.com,2024-01-02,5.00\n")
    report = ingest.ingest_file(workspace, existing, changed, mapping=MAPPING)
    assert (report.rows_loaded, report.rows_rejected, report.rows_duplicate) == (1, 1, 0)
    assert issues(report) == [
        (2, "order_id", "rejected", "order id already loaded with different values", "k1")
    ]
    assert query(workspace, existing, "SELECT order_id, order_total FROM orders ORDER BY 1") == [
        ("k1", Decimal("1.00")),
        ("k2", Decimal("5.00")),
    ]


@pytest.mark.parametrize(
    ("date", "reason"),
    [
        ("2099-01-01", "date in the future"),
        ("1970-01-01 00:00:00", "implausible date (before 1990)"),
        ("0001-01-01", "implausible date (before 1990)"),
        ("", "missing date"),
        ("  ", "missing date"),
    ],
)
def test_future_epoch_and_empty_dates_are_rejected(
    workspace: Path, tmp_path: Path, date: str, reason: str
) -> None:
    path = write(tmp_path, f"order_id,customer,date,amount\n1,a,{date},1.00\n2,a,2024-01-01,1\n")
    report = ingest.ingest_file(workspace, "shop", path, mapping=MAPPING)
    assert report.rows_loaded == 1
    assert [(i.line_number, i.column, i.reason) for i in report.issues] == [(2, "date", reason)]


def test_tomorrow_is_accepted_but_the_day_after_is_not(workspace: Path, tmp_path: Path) -> None:
    today = dt.date.today()
    tomorrow, later = today + dt.timedelta(days=1), today + dt.timedelta(days=2)
    path = write(
        tmp_path,
        f"order_id,customer,date,amount\n1,a,{tomorrow} 23:59,1.00\n2,a,{later} 00:00,1.00\n",
    )
    report = ingest.ingest_file(workspace, "shop", path, mapping=MAPPING)
    assert [(i.line_number, i.reason) for i in report.issues] == [(3, "date in the future")]


def test_hostile_and_odd_headers_load_under_safe_names(
    workspace: Path, tmp_path: Path, existing: str
) -> None:
    path = write(
        tmp_path,
        '"amount""; DROP TABLE orders; --",select,a b,Kunde \u00c4,x,x,,date\n'
        "12.50,o-1,unused,k\u00e4ufer@x.com,1,2,3,2024-02-01\n"
        "7.25,o-2,unused,\u00e9lodie@x.com,1,2,3,2024-02-02\n",
    )
    headers = ingest.read_headers(path)
    assert headers == [
        'amount"; DROP TABLE orders; --',
        "select",
        "a b",
        "Kunde \u00c4",
        "x",
        "x (2)",
        "column 7",
        "date",
    ]
    report = ingest.ingest_file(
        workspace,
        existing,
        path,
        mapping={
            "order_total": headers[0],
            "order_id": "select",
            "customer_id": "Kunde \u00c4",
            "ordered_at": "date",
            "channel": "x (2)",
            "country": "column 7",
        },
    )
    assert (report.rows_loaded, report.rows_rejected) == (2, 0)
    assert query(
        workspace,
        existing,
        "SELECT order_id, customer_id, order_total, channel, country FROM orders ORDER BY 1",
    ) == [
        ("k1", "keep@x.com", Decimal("1.00"), None, None),
        ("o-1", "k\u00e4ufer@x.com", Decimal("12.50"), "2", "3"),
        ("o-2", "\u00e9lodie@x.com", Decimal("7.25"), "2", "3"),
    ]
    assert sorted(t[0] for t in query(workspace, existing, "SHOW TABLES")) == sorted(store.SCHEMA)


def test_hostile_header_in_a_rejection_is_stored_as_a_value(
    workspace: Path, tmp_path: Path
) -> None:
    hostile = "amount'); DELETE FROM ingests; --"
    path = write(tmp_path, f'customer,date,"{hostile}"\na,2024-01-01,oops\nb,2024-01-01,3\n')
    report = ingest.ingest_file(
        workspace,
        "shop",
        path,
        mapping={"customer_id": "customer", "ordered_at": "date", "order_total": hostile},
    )
    assert report.rows_loaded == 1
    assert query(workspace, "shop", "SELECT column_name FROM ingest_issues") == [(hostile,)]
    assert query(workspace, "shop", "SELECT count(*) FROM ingests") == [(1,)]


def test_ids_rounded_by_a_spreadsheet_are_detected(workspace: Path, tmp_path: Path) -> None:
    text = (FIXTURES / "shopify_orders_small.csv").read_text(encoding="utf-8")
    path = write(
        tmp_path, text.replace("5800000000001", "5.8E+12").replace("5800000000002", "5.8E+12")
    )
    report = ingest.ingest_file(workspace, "shop", path)
    assert report.rows_loaded == 5
    assert (
        "'Id' has 2 values like 5.8E+12: ids were rounded by a spreadsheet program; re-export "
        "from the store and load that file without opening it in a spreadsheet." in report.notes
    )


def test_rows_without_a_customer_key_are_kept_with_a_warning(
    workspace: Path, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "order_id,customer,date,amount\n"
        "1,,2024-01-01,10.00\n"
        "2, ,2024-01-02,5.00\n"
        "3,c,2024-01-03,1\n",
    )
    report = ingest.ingest_file(workspace, "shop", path, mapping=MAPPING)
    assert (report.rows_loaded, report.rows_rejected, report.rows_warned) == (3, 0, 2)
    assert [(i.line_number, i.column, i.severity, i.reason) for i in report.issues] == [
        (2, "customer", "warning", "no customer key: kept for store totals, not scored"),
        (3, "customer", "warning", "no customer key: kept for store totals, not scored"),
    ]
    assert query(workspace, "shop", "SELECT sum(order_total), count(customer_id) FROM orders") == [
        (Decimal("16.00"), 1)
    ]


NO_CUSTOMER_COLUMN_NOTE = (
    "The file has no customer column, so every order was loaded without a customer: the orders "
    "count in store totals (orders, revenue, average order value) but no customer can be scored "
    "or segmented. To get customer figures, map a column with each order's customer e-mail, "
    "phone or customer id (or add one to the file) and load it into a new dataset."
)


def test_a_file_without_a_customer_column_loads_guest_orders_both_ways(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Row 18: no customer key at all. Every order loads without a customer, each with the guest
    warning, and the report says once what is missing; the one-pass and staged loads agree."""
    path = write(
        tmp_path,
        "order_id,date,amount\n"
        "A1,2024-01-05 10:00:00,10.00\n"
        "A2,2024-02-10 09:30:00,20.50\n"
        "A3,2024-02-11 18:00:00,5.00\n",
    )
    mapping = {"order_id": "order_id", "ordered_at": "date", "order_total": "amount"}
    real = one_pass.load_clean_orders
    one_pass_reports: list[ingest.IngestReport | None] = []

    def spy(*args: object, **kwargs: object) -> ingest.IngestReport | None:
        one_pass_reports.append(real(*args, **kwargs))
        return one_pass_reports[-1]

    monkeypatch.setattr(one_pass, "load_clean_orders", spy)
    fast = ingest.ingest_file(workspace, "fast", path, mapping=mapping)
    monkeypatch.setattr(one_pass, "load_clean_orders", lambda *args, **kwargs: None)
    staged = ingest.ingest_file(workspace, "staged", path, mapping=mapping)
    assert one_pass_reports == [fast]  # the clean file did go the one-pass way
    for report in (fast, staged):
        assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (3, 3, 0)
        assert report.rows_warned == 3
        assert report.notes == [NO_CUSTOMER_COLUMN_NOTE]
        assert issues(report) == [
            (line, None, "warning", load_orders.NO_CUSTOMER_KEY, None) for line in (2, 3, 4)
        ]
    stored = {
        dataset: (
            query(
                workspace,
                dataset,
                "SELECT order_id, customer_id, order_total FROM orders ORDER BY order_id",
            ),
            query(workspace, dataset, "SELECT rows_loaded, rows_warned FROM ingests"),
            query(workspace, dataset, "SELECT * FROM ingest_issues ORDER BY ALL"),
        )
        for dataset in ("fast", "staged")
    }
    assert stored["fast"] == stored["staged"]
    assert stored["fast"][0] == [
        ("A1", None, Decimal("10.00")),
        ("A2", None, Decimal("20.50")),
        ("A3", None, Decimal("5.00")),
    ]
    assert stored["fast"][1] == [(3, 3)]
    overview = analysis.describe_dataset(workspace, "fast")
    assert (overview.orders, overview.orders_without_customer) == (3, 3)


def test_a_guessed_mapping_without_a_customer_keeps_the_good_rows(
    workspace: Path, tmp_path: Path
) -> None:
    """Row 18 with a bad row (the staged load): the header guess finds no customer column, so only
    order date and amount are required; the valid orders load, the bad amount is rejected."""
    path = write(
        tmp_path,
        "Order Date,Total\n"  # 1
        "2024-03-01,12.00\n"  # 2
        "2024-03-02,twelve\n"  # 3: rejected
        "2024-03-03,3\n",  # 4
    )
    report = ingest.ingest_file(workspace, "shop", path)
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (3, 2, 1)
    assert [(i.line_number, i.severity, i.reason) for i in report.issues] == [
        (2, "warning", load_orders.NO_CUSTOMER_KEY),
        (3, "rejected", "amount is not a number"),
        (4, "warning", load_orders.NO_CUSTOMER_KEY),
    ]
    assert report.notes == [NO_CUSTOMER_COLUMN_NOTE]
    assert query(
        workspace, "shop", "SELECT count(*), count(customer_id), sum(order_total) FROM orders"
    ) == [(2, 0, Decimal("15.00"))]


def test_stored_issue_examples_are_capped_but_counts_are_exact(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ledger, "MAX_ISSUES_PER_REASON", 3)
    rows = "".join(f"{i},c,2024-01-01,bad\n" for i in range(5))
    path = write(tmp_path, "order_id,customer,date,amount\n" + rows + "9,c,2024-01-01,1\n")
    report = ingest.ingest_file(workspace, "shop", path, mapping=MAPPING)
    # The report, like the history, keeps the first three as examples; its counts stay exact.
    assert (report.rows_rejected, len(report.issues)) == (5, 3)
    assert [i.line_number for i in report.issues] == [2, 3, 4]
    assert not report.has_all_issues()
    assert report.reason_counts() == {"amount is not a number": 5}
    assert query(workspace, "shop", "SELECT line_number FROM ingest_issues ORDER BY 1") == [
        (2,),
        (3,),
        (4,),
    ]
    assert query(workspace, "shop", "SELECT rows_rejected FROM ingests") == [(5,)]
    assert any(n.startswith("5 rows have the issue 'amount is not a number'") for n in report.notes)


def test_warning_examples_are_capped_and_the_cli_counts_every_row(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setattr(ledger, "MAX_ISSUES_PER_REASON", 3)
    guests = "".join(f"{i},,2024-01-01,1\n" for i in range(5))  # five orders, no customer
    bad = "".join(f"b{i},c,2024-01-01,bad\n" for i in range(4))  # four unreadable amounts
    path = write(tmp_path, "order_id,customer,date,amount\n" + guests + bad)
    report = ingest.ingest_file(workspace, "shop", path, mapping=MAPPING)
    assert (report.rows_loaded, report.rows_warned, report.rows_rejected) == (5, 5, 4)
    assert [(i.severity, i.line_number) for i in report.issues] == [
        ("warning", 2),
        ("warning", 3),
        ("warning", 4),
        ("rejected", 7),
        ("rejected", 8),
        ("rejected", 9),
    ]
    data_commands.print_report(report)
    printed = capsys.readouterr().out
    assert "rejected 4: amount is not a number - lines 7, 8, 9 (+1 more)" in printed
    assert "warning 5: no customer key: kept for store totals, not scored" in printed


def test_a_failure_while_writing_rolls_everything_back(
    workspace: Path, tmp_path: Path, existing: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(workspace, existing)
    path = write(tmp_path, GOOD + "k2,b@x.com,2024-01-02,5.00\n", "second.csv")

    def fail(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire\nTraceback (most recent call last): ...")

    # the orders are inserted by then: the failure comes after them, inside the transaction
    monkeypatch.setattr(ledger, "finish_report", fail)
    for dataset in (existing, "fresh"):
        with pytest.raises(IngestError) as caught:
            ingest.ingest_file(workspace, dataset, path, mapping=MAPPING)
        assert str(caught.value) == (
            "The file could not be loaded because of an unexpected error; nothing was changed."
        )
    assert snapshot(workspace, existing) == before
    assert not store.dataset_exists(workspace, "fresh")
    monkeypatch.undo()
    assert ingest.ingest_file(workspace, existing, path, mapping=MAPPING).rows_loaded == 1


def test_an_invalid_dataset_name_is_refused_before_anything_is_written(
    workspace: Path, tmp_path: Path
) -> None:
    path = tmp_path / "orders.csv"
    shutil.copy(FIXTURES / "generic_orders.csv", path)
    with pytest.raises(IngestError, match="is not a valid dataset name"):
        ingest.ingest_file(workspace, "../evil", path)
    assert list(workspace.iterdir()) == []


def test_running_out_of_memory_is_a_sentence_and_changes_nothing(
    workspace: Path, tmp_path: Path, existing: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Row 20 for ingest: a load that needs more memory than allowed stops with a sentence."""
    before = snapshot(workspace, existing)

    def exhaust(*args: object, **kwargs: object) -> None:
        raise duckdb.TransactionException(
            "Failed to commit: failed to pin block of size 256.0 KiB (512.0 MiB/512.0 MiB used)"
        )

    monkeypatch.setattr(ledger, "finish_report", exhaust)
    path = write(tmp_path, GOOD + "k2,b@x.com,2024-01-02,5.00\n", "second.csv")
    with pytest.raises(IngestError) as caught:
        ingest.ingest_file(workspace, existing, path, mapping=MAPPING)
    assert str(caught.value).startswith(
        "The file needs more memory than this machine can give the import, even spilling to "
        "disk; nothing was changed."
    )
    assert snapshot(workspace, existing) == before
    assert sorted(p.name for p in workspace.iterdir()) == [
        "audit.jsonl",
        "shop.duckdb",
    ]  # no scratch left
