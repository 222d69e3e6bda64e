"""The one-pass load of clean orders files against the staged load, file by file.

``one_pass.load_clean_orders`` must give exactly what the staged load gives: the same stored
orders, report, load history and issues, and hand every file it cannot take as clean (returning
None, the dataset untouched) to the staged load. Each case loads one sequence of files twice,
once as the app does and once with the one-pass load switched off, and compares everything.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from dashboard import ingest
from dashboard.ingest import ledger, load_orders, one_pass, values
from dashboard.ingest import lines as ingest_lines
from dashboard.workspace import store

HEADER = "order_id,customer,ordered_at,total,refunded,cancelled,code,channel,country,currency\n"
MAPPING = {
    "order_id": "order_id",
    "customer_id": "customer",
    "ordered_at": "ordered_at",
    "order_total": "total",
    "refunded_amount": "refunded",
    "is_cancelled": "cancelled",
    "discount_code": "code",
    "channel": "channel",
    "country": "country",
    "currency": "currency",
}
# Clean, with what a clean file may still hold: a guest order (no customer: loaded with a
# warning on its line), spaces and a no-break space around values, a quoted comma, an e-mail
# key in capitals, a zero total, words for cancelled, two currencies, an empty refund.
CLEAN = HEADER + (
    "A1,c1,2024-01-05 10:00:00,10.50,0.00,false,,web,US,USD\n"
    "A2, c2 ,2024-01-06 11:30:00,20.00,5.00,true,SAVE10,web,US,usd\n"
    "A3,,2024-01-07 09:00:00,7.25,0,no,,store,GB,EUR\n"
    '"A4","Ann@Example.com","2024-02-01 08:00:00","1234.50",,yes,"a, b",web,US,USD\n'
    "A5,c3,2024-02-02,0,0,cancelled,,\u00a0web\u00a0,US,USD\n"
    "A6,17850.0,2024-02-03T12:00:00,3.10,1.10,,,app,FR,EUR\n"
)
# A quoted cell spanning two lines, then a guest order: its warning must name line 4.
MULTILINE = HEADER + (
    'B1,c1,2024-01-05 10:00:00,10.00,0,false,"two\nlines",web,US,USD\n'
    "B2,,2024-01-06 10:00:00,12.00,0,false,,web,US,USD\n"
)
# A blank line, which the CSV reader skips, before a guest order on line 4.
BLANK_LINE = HEADER + (
    "C1,c1,2024-01-05 10:00:00,10.00,0,false,,web,US,USD\n\nC2,,2024-01-06 10:00:00,9,0,,,,,\n"
)


def _lines(*rows: str) -> str:
    return HEADER + "".join(f"{row}\n" for row in rows)


GOOD = "D1,c1,2024-03-01 10:00:00,10.00,0,false,,web,US,USD"
# Files the one-pass load must hand to the staged load, each for one reason.
NOT_CLEAN = {
    "repeated order id": _lines(GOOD, "D1,c1,2024-03-01 10:00:00,5.00,0,false,,web,US,USD"),
    "bad date": _lines(GOOD, "D2,c2,soon,10.00,0,false,,web,US,USD"),
    "day-first date": _lines(GOOD, "D2,c2,13/01/2024,10.00,0,false,,web,US,USD"),
    "thousands separator": _lines(GOOD, 'D2,c2,2024-03-02 10:00:00,"1,050.00",0,,,,,'),
    "decimal comma": _lines(GOOD, 'D2,c2,2024-03-02 10:00:00,"10,50",0,false,,web,US,USD'),
    "negative amount": _lines(GOOD, "D2,c2,2024-03-02 10:00:00,-3.00,0,false,,web,US,USD"),
    "unknown cancelled word": _lines(GOOD, "D2,c2,2024-03-02 10:00:00,3,0,maybe,,web,US,USD"),
    "rounded id": _lines(GOOD, "7.02255E+12,c2,2024-03-02 10:00:00,3,0,false,,web,US,USD"),
    "missing order id": _lines(GOOD, ",c2,2024-03-02 10:00:00,3,0,false,,web,US,USD"),
    "too many cells": _lines(GOOD, "D2,c2,2024-03-02 10:00:00,3,0,false,,web,US,USD,extra"),
    "future date": _lines(GOOD, "D2,c2,2999-01-01 10:00:00,3,0,false,,web,US,USD"),
}


def load_sequence(
    workspace: Path, texts: list[str], monkeypatch: pytest.MonkeyPatch, *, one_pass_on: bool
) -> tuple[list[object], list[object | None]]:
    """Load ``texts`` in order into one dataset; return (everything stored and reported, what
    each call of the one-pass load returned: a report or None)."""
    calls: list[object | None] = []
    real = one_pass.load_clean_orders

    def spy(*args: object, **kwargs: object) -> object | None:
        calls.append(real(*args, **kwargs) if one_pass_on else None)
        return calls[-1]

    monkeypatch.setattr(one_pass, "load_clean_orders", spy)
    reports = []
    for number, text in enumerate(texts, start=1):
        path = workspace / f"file{number}.csv"
        path.write_text(text, encoding="utf-8", newline="")
        reports.append(ingest.ingest_file(workspace, "shop", path, mapping=MAPPING))
    monkeypatch.setattr(one_pass, "load_clean_orders", real)
    return [_describe(report) for report in reports] + _stored(workspace), calls


def _describe(report: ingest.IngestReport) -> tuple[object, ...]:
    return (
        report.file_format,
        report.records_read,
        report.rows_read,
        report.rows_loaded,
        report.rows_rejected,
        report.rows_duplicate,
        report.notes,
        report.issues,
        report.issue_counts,
        report.ingest_id,
    )


def _stored(workspace: Path) -> list[object]:
    con = duckdb.connect(str(store.dataset_path(workspace, "shop")), read_only=True)
    try:
        return [
            con.execute("SELECT * FROM orders ORDER BY order_id").fetchall(),
            con.execute("SELECT * EXCLUDE (loaded_at) FROM ingests ORDER BY ingest_id").fetchall(),
            con.execute("SELECT * FROM ingest_issues ORDER BY ALL").fetchall(),
        ]
    finally:
        con.close()


@pytest.fixture
def compare(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[[list[str]], tuple[list[object], list[object | None]]]:
    """Load a sequence both ways, assert the results are equal; return them and the calls."""

    def run(texts: list[str]) -> tuple[list[object], list[object | None]]:
        (tmp_path / "one").mkdir()
        (tmp_path / "staged").mkdir()
        fast, calls = load_sequence(tmp_path / "one", texts, monkeypatch, one_pass_on=True)
        staged, _ = load_sequence(tmp_path / "staged", texts, monkeypatch, one_pass_on=False)
        assert fast == staged
        return fast, calls

    return run


@pytest.mark.parametrize(
    "text",
    [
        CLEAN,
        CLEAN.replace("\n", "\r\n"),
        "\ufeff" + CLEAN,
        CLEAN.replace(",", ";").replace('"a; b"', '"a, b"'),
        MULTILINE,
        BLANK_LINE,
    ],
    ids=["clean", "crlf", "bom", "semicolons", "multiline-cell", "blank-line"],
)
def test_a_clean_file_loads_in_one_pass_exactly_as_staged(
    compare: Callable[[list[str]], tuple[list[object], list[object | None]]], text: str
) -> None:
    results, calls = compare([text])
    assert calls[0] is not None, "the clean file was not loaded in one pass"
    report = calls[0]
    assert report.rows_rejected == 0 and report.rows_loaded == report.rows_read


def test_the_clean_file_s_warnings_and_notes_are_worked_out_by_hand(
    compare: Callable[[list[str]], tuple[list[object], list[object | None]]],
) -> None:
    results, calls = compare([CLEAN])
    report = calls[0]
    assert (report.records_read, report.rows_loaded) == (6, 6)
    # A3 (line 4) has no customer: loaded, with the one warning.
    assert [(i.line_number, i.column, i.severity) for i in report.issues] == [
        (4, "customer", "warning")
    ]
    assert any("1 orders have a total of 0" in note for note in report.notes)
    assert any("2 currencies: EUR (2 orders), USD (4 orders)" in note for note in report.notes)
    orders = {row[0]: row for row in results[-3]}
    assert orders["A2"][1] == "c2" and orders["A2"][6] == "USD"  # trimmed, upper-cased
    assert orders["A4"][1] == "ann@example.com" and str(orders["A4"][3]) == "1234.50"
    assert orders["A5"][9] == "web" and orders["A5"][8] is True  # no-break spaces trimmed
    assert orders["A6"][1] == "17850"


@pytest.mark.parametrize("text,line", [(MULTILINE, 4), (BLANK_LINE, 4)])
def test_warnings_name_the_line_an_editor_shows(
    compare: Callable[[list[str]], tuple[list[object], list[object | None]]],
    text: str,
    line: int,
) -> None:
    _, calls = compare([text])
    assert [issue.line_number for issue in calls[0].issues] == [line]


@pytest.mark.parametrize("reason", sorted(NOT_CLEAN))
def test_a_file_that_is_not_clean_goes_the_staged_way(
    compare: Callable[[list[str]], tuple[list[object], list[object | None]]], reason: str
) -> None:
    _, calls = compare([NOT_CLEAN[reason]])
    assert calls == [None]


def test_a_second_file_loads_in_one_pass_and_a_repeated_one_is_staged(
    compare: Callable[[list[str]], tuple[list[object], list[object | None]]],
) -> None:
    later = _lines("E1,c9,2024-04-01 10:00:00,4.00,0,false,,web,US,USD")
    overlapping = _lines(GOOD, "E2,c9,2024-04-02 10:00:00,4.00,0,false,,web,US,USD")
    results, calls = compare([_lines(GOOD), later, _lines(GOOD), overlapping])
    assert [call is not None for call in calls] == [True, True, False, False]
    assert [(r[3], r[5]) for r in results[:4]] == [(1, 0), (1, 0), (0, 1), (1, 1)]


def _many_guests(multiline_at: int) -> str:
    """40 orders; every third (records 0, 3, ..., 39: 14 orders) has no customer; record
    ``multiline_at`` has a quoted code cell spanning two lines."""
    rows = []
    for record in range(40):
        customer = "" if record % 3 == 0 else f"c{record}"
        code = '"two\nlines"' if record == multiline_at else ""
        rows.append(f"G{record},{customer},2024-05-01 10:00:00,5.00,0,false,{code},web,US,USD")
    return _lines(*rows)


@pytest.mark.parametrize(
    "multiline_at,lines",
    [
        (30, [2, 5, 8, 11, 14]),  # the cell spans lines after the examples: line = record + 2
        (1, [2, 6, 9, 12, 15]),  # it pushes every later record one line down
    ],
    ids=["plain-start", "multiline-first"],
)
def test_many_guest_orders_keep_the_first_examples_and_count_every_one(
    compare: Callable[[list[str]], tuple[list[object], list[object | None]]],
    monkeypatch: pytest.MonkeyPatch,
    multiline_at: int,
    lines: list[int],
) -> None:
    """Only the first examples of a reason are looked up (reading ever more of the file's
    first records), and the rest are counted: the same report and history as the staged load's."""
    monkeypatch.setattr(ledger, "MAX_ISSUES_PER_REASON", 5)
    monkeypatch.setattr(one_pass, "_FIRST_ROWS", 2)
    monkeypatch.setattr(ingest_lines, "_CHUNK_BYTES", 64)
    results, calls = compare([_many_guests(multiline_at)])
    report = calls[0]
    assert report is not None and report.rows_loaded == 40
    assert [issue.line_number for issue in report.issues] == lines
    assert report.issue_counts == {("warning", load_orders.NO_CUSTOMER_KEY): 14}
    assert any("14 rows have the issue" in note for note in report.notes)
    rows_warned = results[-2][0][8]
    assert rows_warned == 14


# Values the shortcuts in dashboard.ingest.values must read exactly as trim()/lower() would:
# (raw, trimmed text, flag, amount).
EDGE_VALUES = [
    (None, None, None, None),
    ("", None, None, None),
    (" ", None, None, None),
    ("\u00a0", None, None, None),
    ("true", "true", True, None),
    (" TRUE\u3000", "TRUE", True, None),
    ("\tno", "\tno", None, None),  # trim() keeps tabs, so the word is not recognised
    ("Cancelled", "Cancelled", True, None),
    ("é ", "é", None, None),
    ("12.345", "12.345", None, "12.35"),
    (" 7 ", "7", None, "7.00"),
    ("\u00a01,234.50", "1,234.50", None, "1234.50"),
    ("$12", "$12", None, "12.00"),
    ("12,50", "12,50", None, None),
]


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("2024-01-05 10:00:00", "2024-01-05 10:00:00"),
        (" 2024-01-05 10:00:00 ", "2024-01-05 10:00:00"),
        ("2024-02-30 10:00:00", None),
        ("2024-01-05 10:00:00 -0500", "2024-01-05 10:00:00"),
        ("2024-01-05T10:00:00+02:00", "2024-01-05 10:00:00"),
        ("2024-01-05 25:00:00", None),
        ("1704448800", "2024-01-05 10:00:00"),
    ],
)
def test_the_plain_datetime_shortcut_reads_like_the_full_parse(
    raw: str, expected: str | None
) -> None:
    row = duckdb.execute(
        f"SELECT CAST({values.local_timestamp('v', values.DateOrder(None))} AS VARCHAR) "
        "FROM (SELECT CAST(? AS VARCHAR) AS v)",
        [raw],
    ).fetchone()
    assert row == (expected,)


@pytest.mark.parametrize("raw,text,flag,amount", EDGE_VALUES)
def test_value_shortcuts_read_like_trim(
    raw: str | None, text: str | None, flag: bool | None, amount: str | None
) -> None:
    row = duckdb.execute(
        f"SELECT {values.text('v')}, {values.flag('v')}, "
        f"CAST({values.amount('v')} AS VARCHAR) FROM (SELECT CAST(? AS VARCHAR) AS v)",
        [raw],
    ).fetchone()
    assert row == (text, flag, amount)
