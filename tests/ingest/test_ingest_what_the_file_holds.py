"""What a file holds is what gets loaded (issue 14, items 2, 3, 7 and the last part of 12).

- a sheet whose ``<dimension>`` tag is stale is read to its last row, and the row caps apply to
  the rows it really holds (docs/ingest.md §1);
- a zip archive or workbook with a part that unpacks far beyond its packed size is refused from
  the archive's directory, before anything is opened (docs/ingest.md §1, §7 case 7);
- identical rows of one order in an orders-level file are that order once; rows of a
  line-level file add up (docs/ingest.md §5);
- a rejected record is shown with its own text and numbered by its first physical line, after
  quoted cells that span lines, in CRLF files, and with a stray quote (docs/ingest.md §1, §6).

Each file is written inline; the expected numbers are worked out by hand next to it.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from decimal import Decimal
from pathlib import Path

import duckdb
import openpyxl
import pytest

from dashboard import ingest
from dashboard.ingest import IngestError, ledger, load_orders, one_pass, read, unpack, values
from dashboard.ingest.generic import order_expressions
from dashboard.workspace import store

MAPPING = {
    "order_id": "order_id",
    "customer_id": "customer",
    "ordered_at": "date",
    "order_total": "amount",
}
DATE_NOT_RECOGNISED = "date not recognised (use YYYY-MM-DD or YYYY-MM-DD HH:MM:SS)"


def query(workspace: Path, sql: str) -> list[tuple]:
    """Run ``sql`` on the dataset 'shop' (read-only) and return all rows."""
    con = duckdb.connect(str(store.dataset_path(workspace, "shop")), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def write(tmp_path: Path, text: str, name: str = "orders.csv") -> Path:
    """Write ``text`` as UTF-8 bytes, line ends as written, and return its path."""
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def issues(report: ingest.IngestReport) -> list[tuple]:
    """The report's issues as (line, column, reason, value)."""
    return [(i.line_number, i.column, i.reason, i.raw_value) for i in report.issues]


# --- item 2: a stale <dimension> tag -------------------------------------------------------


def hundred_row_workbook(path: Path, dimension: str) -> Path:
    """A workbook of a header and 100 orders (o1..o100, amount = n, 2024-01-01 + n - 1 days)
    whose sheet's ``<dimension>`` tag is rewritten to ``dimension``, as other programs leave it
    stale; read-only openpyxl trusts that tag."""
    book = openpyxl.Workbook()
    book.active.append(["order_id", "customer", "date", "amount"])
    for n in range(1, 101):
        day = dt.date(2024, 1, 1) + dt.timedelta(days=n - 1)
        book.active.append([f"o{n}", f"c{n}@x.com", day.isoformat(), n])
    fresh = path.with_name("fresh.xlsx")
    book.save(fresh)
    with zipfile.ZipFile(fresh) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for part in source.infolist():
            data = source.read(part.filename)
            if part.filename == "xl/worksheets/sheet1.xml":
                data, found = re.subn(
                    rb'<dimension ref="[^"]*" ?/>', f'<dimension ref="{dimension}"/>'.encode(), data
                )
                assert found == 1
            out.writestr(part, data)
    return path


@pytest.mark.parametrize("dimension", ["A1:D10", "A1"])
def test_a_stale_dimension_tag_does_not_cut_the_sheet_short(
    workspace: Path, tmp_path: Path, dimension: str
) -> None:
    path = hundred_row_workbook(tmp_path / "orders.xlsx", dimension)
    assert ingest.read_headers(path) == ["order_id", "customer", "date", "amount"]
    report = ingest.ingest_file(workspace, "shop", path, mapping=MAPPING)
    assert report.reconciliation() == (
        "100 records in the file = 100 loaded + 0 rejected + 0 already loaded."
    )
    # 1 + 2 + ... + 100 = 5050; the last order is dated 2024-01-01 + 99 days = 2024-04-09.
    assert query(workspace, "SELECT count(*), sum(order_total), max(ordered_at) FROM orders") == [
        (100, Decimal("5050.00"), dt.datetime(2024, 4, 9))
    ]


def test_the_row_cap_counts_the_rows_the_sheet_really_holds(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The tag says 10 rows; the sheet holds 101, past a cap lowered to 50.
    monkeypatch.setattr(unpack, "MAX_SHEET_ROWS", 50)
    path = hundred_row_workbook(tmp_path / "orders.xlsx", "A1:D10")
    with pytest.raises(IngestError) as caught:
        ingest.ingest_file(workspace, "shop", path, mapping=MAPPING)
    assert str(caught.value) == (
        "This sheet has more than 50 rows or 16,384 columns, more than Excel allows, so it was "
        "not loaded; save it as 'CSV UTF-8' and load that."
    )
    assert not store.dataset_exists(workspace, "shop")


# --- item 7: bombs in any part of a zip or workbook -----------------------------------------

SWOLLEN_BYTES = 20 * 2**20  # 20 MB of one byte packs into about 20 KB: a ratio near 1,000


def test_a_workbook_with_a_swollen_styles_part_is_refused_before_it_is_opened(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    book = openpyxl.Workbook()
    book.active.append(["order_id", "customer", "date", "amount"])
    book.active.append(["o1", "a@x.com", "2024-01-01", 5])
    plain = tmp_path / "plain.xlsx"
    book.save(plain)
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as out:
        for part in source.infolist():
            if part.filename == "xl/styles.xml":
                with out.open("xl/styles.xml", "w") as styles:
                    for _ in range(SWOLLEN_BYTES // 2**20):
                        styles.write(b" " * 2**20)
            else:
                out.writestr(part, source.read(part.filename))
    assert bomb.stat().st_size < 100_000
    opened: list[object] = []
    monkeypatch.setattr(openpyxl, "load_workbook", lambda *a, **k: opened.append(a))
    for attempt in (
        lambda: ingest.read_headers(bomb),
        lambda: ingest.ingest_file(workspace, "shop", bomb, mapping=MAPPING),
    ):
        with pytest.raises(IngestError) as caught:
            attempt()
        message = str(caught.value)
        assert message.startswith(
            "The part 'xl/styles.xml' of this workbook unpacks to 20 MB from "
        )
        assert message.endswith(
            "packed more than 100 times as no real table is; it looks like a zip bomb, so it "
            "was not loaded: save the sheet as 'CSV UTF-8' and load that."
        )
    assert opened == []
    assert not store.dataset_exists(workspace, "shop")


def test_a_zip_whose_table_is_packed_like_a_bomb_is_refused(
    workspace: Path, tmp_path: Path
) -> None:
    # 20 MB of one amount repeated: under the 256 MB floor of the size cap, far over the ratio.
    bomb = tmp_path / "orders.zip"
    archive = zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED)
    with archive, archive.open("orders.csv", "w") as table:
        table.write(b"customer,date,amount\na@x.com,2024-01-01,")
        for _ in range(SWOLLEN_BYTES // 2**20):
            table.write(b"1" * 2**20)
        table.write(b"\n")
    with pytest.raises(IngestError) as caught:
        ingest.ingest_file(
            workspace,
            "shop",
            bomb,
            mapping={"customer_id": "customer", "ordered_at": "date", "order_total": "amount"},
        )
    assert str(caught.value).startswith(
        "The part 'orders.csv' of this zip archive unpacks to 20 MB"
    )
    assert str(caught.value).endswith(
        "it looks like a zip bomb, so it was not loaded: unpack it yourself and load the file "
        "inside."
    )
    assert not store.dataset_exists(workspace, "shop")


def test_a_zip_of_an_ordinary_table_still_loads(workspace: Path, tmp_path: Path) -> None:
    packed = tmp_path / "orders.zip"
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("orders.csv", "order_id,customer,date,amount\no1,a@x.com,2024-01-01,5\n")
    report = ingest.ingest_file(workspace, "shop", packed, mapping=MAPPING)
    assert (report.rows_loaded, report.rows_rejected) == (1, 0)


# --- item 3: identical rows of one order ------------------------------------------------------


def test_identical_rows_of_an_orders_level_file_are_one_order(
    workspace: Path, tmp_path: Path
) -> None:
    text = (
        "order_id,customer,date,amount\n"
        "D1,a@x.com,2024-01-01,5.00\n"
        "D1,a@x.com,2024-01-01,5.00\n"  # the same order again: one order of 5.00
        "D2,b@x.com,2024-01-02,7.00\n"
    )
    report = ingest.ingest_file(workspace, "shop", write(tmp_path, text), mapping=MAPPING)
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (3, 2, 0)
    assert report.rows_duplicate == 1
    assert report.reconciliation() == (
        "3 records in the file = 2 loaded + 0 rejected + 1 already loaded."
    )
    assert load_orders.REPEATED_ROWS_NOTE.format(rows=1) in report.notes
    assert not any("added up" in note for note in report.notes)
    assert query(workspace, "SELECT order_id, order_total FROM orders ORDER BY 1") == [
        ("D1", Decimal("5.00")),
        ("D2", Decimal("7.00")),
    ]
    # Loading the file again adds nothing: all three rows are already loaded.
    again = ingest.ingest_file(
        workspace, "shop", write(tmp_path, text, "again.csv"), mapping=MAPPING
    )
    assert (again.rows_loaded, again.rows_rejected, again.rows_duplicate) == (0, 0, 3)


def test_an_orders_level_repeat_beside_a_different_row_of_the_order(
    workspace: Path, tmp_path: Path
) -> None:
    # Rows that differ still add up (docs/ingest.md §5): 5.00 (twice, once counted) + 2.00.
    text = (
        "order_id,customer,date,amount\n"
        "D1,a@x.com,2024-01-01,5.00\n"
        "D1,a@x.com,2024-01-01,5.00\n"
        "D1,a@x.com,2024-01-01,2.00\n"
    )
    report = ingest.ingest_file(workspace, "shop", write(tmp_path, text), mapping=MAPPING)
    assert (report.rows_read, report.rows_loaded, report.rows_duplicate) == (3, 2, 1)
    assert "2 rows were added up into 1 orders (rows sharing an order id)." in report.notes
    assert query(workspace, "SELECT order_total FROM orders") == [(Decimal("7.00"),)]


def test_a_rejected_row_rejects_the_order_and_its_repeat(workspace: Path, tmp_path: Path) -> None:
    text = (
        "order_id,customer,date,amount\n"
        "D1,a@x.com,2024-01-01,5.00\n"
        "D1,a@x.com,2024-01-01,5.00\n"
        "D1,a@x.com,2024-01-01,x\n"
    )
    report = ingest.ingest_file(workspace, "shop", write(tmp_path, text), mapping=MAPPING)
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (3, 0, 3)
    assert report.rows_duplicate == 0
    assert [(line, reason) for line, _, reason, _ in issues(report)] == [
        (2, "another row of the same order was rejected"),
        (3, "another row of the same order was rejected"),
        (4, "amount is not a number"),
    ]


def load_staged_rows(workspace: Path, source: load_orders.OrderSource) -> ingest.IngestReport:
    """Load two identical rows of order D1 (5.00 each, lines 2 and 3) as ``source`` says."""
    with store.open_for_write(workspace, "shop") as con:
        con.execute(
            "CREATE TEMP TABLE raw_cells AS SELECT * FROM (VALUES "
            "(2, 'D1', 'a@x.com', '2024-01-01', '5.00'), "
            "(3, 'D1', 'a@x.com', '2024-01-01', '5.00')) t(line_number, c0, c1, c2, c3)"
        )
        con.execute("CREATE TEMP VIEW raw_rows AS SELECT * FROM raw_cells")
        read.create_read_issues(con)
        cells = {"order_id": "c0", "customer_id": "c1", "ordered_at": "c2", "order_total": "c3"}
        load_orders.create_order_rows(
            con, order_expressions(cells, values.DateOrder(None), "."), "raw_rows"
        )
        meta = ledger.FileMeta("lines.csv", "0" * 64, [], dt.date(2025, 1, 1), records=2)
        return load_orders.load_orders(con, source, meta)


def test_the_mapping_says_whether_rows_are_orders_or_lines(workspace: Path) -> None:
    orders_level = load_orders.OrderSource("generic", {"order_id": "id", "order_total": "Total"})
    line_level = load_orders.OrderSource("generic", {"order_id": "id", "price": "Unit price"})
    assert not orders_level.is_line_level()
    assert line_level.is_line_level()
    assert load_orders.OrderSource("shopify-orders", {}, has_lines=True).is_line_level()
    # Two identical lines of one order are two units bought: 5.00 + 5.00.
    report = load_staged_rows(workspace, line_level)
    assert (report.rows_loaded, report.rows_duplicate) == (2, 0)
    assert query(workspace, "SELECT order_id, order_total FROM orders") == [
        ("D1", Decimal("10.00"))
    ]


def test_identical_lines_of_a_line_item_export_add_up(workspace: Path, tmp_path: Path) -> None:
    # UCI layout: two identical lines of invoice 536365, 6 x 2.55 each = 30.60.
    text = (
        "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
        "536365,85123A,WHITE HANGING HEART,6,12/1/2010 8:26,2.55,17850,United Kingdom\n"
        "536365,85123A,WHITE HANGING HEART,6,12/1/2010 8:26,2.55,17850,United Kingdom\n"
    )
    report = ingest.ingest_file(workspace, "shop", write(tmp_path, text, "retail.csv"))
    assert (report.rows_loaded, report.rows_duplicate) == (1, 0)
    assert query(workspace, "SELECT order_id, order_total FROM orders") == [
        ("536365", Decimal("30.60"))
    ]
    assert query(workspace, "SELECT count(*) FROM order_lines") == [(2,)]


# --- item 12: a rejected record's own text and first line ---------------------------------------


@pytest.mark.parametrize("end", ["\n", "\r\n"], ids=["LF", "CRLF"])
def test_a_rejected_record_shows_its_own_text_after_a_multi_line_cell(
    workspace: Path, tmp_path: Path, end: str
) -> None:
    rows = [
        "order_id,customer,date,amount,note",  # 1
        "1,a@x.com,2024-01-01,10.00,plain",  # 2
        '2,b@x.com,2024-01-02,20.00,"a note on',  # 3: record 2 spans lines 3-4
        'two lines"',  # 4
        "3,c@x.com,2024-01-03,30.00,plain",  # 5
        "4,d@x.com,2024-13-45,40.00,plain",  # 6: record 4, a bad date
        "5,e@x.com,2024-01-05,50.00",  # 7: a column short
        '6,f@x.com,2024-01-06,60.00,"x',  # 8: a column too many, on lines 8-9
        'y",extra',  # 9
        "7,g@x.com,2024-01-07,70.00,plain",  # 10
    ]
    path = write(tmp_path, end.join(rows) + end)
    report = ingest.ingest_file(workspace, "shop", path, mapping=MAPPING)
    assert report.reconciliation() == (
        "7 records in the file = 4 loaded + 3 rejected + 0 already loaded."
    )
    assert issues(report) == [
        (6, "date", DATE_NOT_RECOGNISED, "2024-13-45"),
        (7, "note", "row has fewer columns than the header", "5,e@x.com,2024-01-05,50.00"),
        (
            8,
            None,
            "row has more columns than the header",
            f'6,f@x.com,2024-01-06,60.00,"x{end}y",extra',
        ),
    ]
    assert query(workspace, "SELECT order_id FROM orders ORDER BY 1") == [
        ("1",),
        ("2",),
        ("3",),
        ("7",),
    ]


def test_a_stray_quote_does_not_shift_the_line_numbers(workspace: Path, tmp_path: Path) -> None:
    # A 5" in an unquoted cell opens no quote for the CSV reader; counted as one, it paired with
    # the quotes after it and the bad date of record 4 was reported on line 7.
    rows = [
        "order_id,customer,date,amount,note",  # 1
        "1,a@x.com,2024-01-01,10.00,plain",  # 2
        '2,a@x.com,2024-01-02,20.00,"two',  # 3: record 2 spans lines 3-4
        'lines"',  # 4
        '3,a@x.com,2024-01-03,30.00,5" screen',  # 5
        '4,a@x.com,2024-13-45,40.00,"two',  # 6: record 4, a bad date, on lines 6-7
        'lines"',  # 7
    ]
    path = write(tmp_path, "\n".join(rows) + "\n")
    report = ingest.ingest_file(workspace, "shop", path, mapping=MAPPING)
    assert report.reconciliation() == (
        "4 records in the file = 3 loaded + 1 rejected + 0 already loaded."
    )
    assert issues(report) == [(6, "date", DATE_NOT_RECOGNISED, "2024-13-45")]
    assert query(workspace, "SELECT order_id, order_total FROM orders ORDER BY 1") == [
        ("1", Decimal("10.00")),
        ("2", Decimal("20.00")),
        ("3", Decimal("30.00")),
    ]


# --- both ways in agree ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        # identical rows of one order: the one-pass load hands the file to the staged load
        "order_id,customer,date,amount\nD1,a@x.com,2024-01-01,5.00\nD1,a@x.com,2024-01-01,5.00\n",
        # a stray quote and a multi-line cell before a guest order (its warning names line 5)
        'order_id,customer,date,amount,note\n1,a@x.com,2024-01-01,1.00,5" screen\n'
        '2,b@x.com,2024-01-02,2.00,"two\nlines"\n3,,2024-01-03,3.00,x\n',
    ],
    ids=["identical rows", "stray quote"],
)
def test_the_one_pass_and_the_staged_load_agree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    results = []
    for staged_only in (False, True):
        workspace = store.resolve_workspace(tmp_path / f"staged-{staged_only}")
        if staged_only:
            monkeypatch.setattr(one_pass, "load_clean_orders", lambda *a, **k: None)
        report = ingest.ingest_file(workspace, "shop", write(tmp_path, text), mapping=MAPPING)
        results.append(
            (
                report.reconciliation(),
                report.notes,
                issues(report),
                query(workspace, "SELECT * EXCLUDE (ingest_id) FROM orders ORDER BY order_id"),
            )
        )
    assert results[0] == results[1]
    if "screen" in text:
        assert results[0][2] == [(5, "customer", load_orders.NO_CUSTOMER_KEY, None)]
