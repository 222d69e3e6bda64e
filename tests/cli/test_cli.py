"""The command line, run in-process: ingest a generic CSV, write segments, refuse bad input."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from dashboard import cli, errors

REPO = Path(__file__).resolve().parents[2]

# A generic export with its own headers. Analysis date = latest order = 2024-03-31.
ORDERS_CSV = """\
Order No,Buyer,Placed,Amount
1001,alice,2024-03-31 09:00:00,60.00
1002,alice,2024-03-20 14:00:00,50.00
1003,bob,2024-03-25 10:00:00,30.00
1004,carol,2024-01-15 10:00:00,120.00
1005,carol,2024-02-01 10:00:00,10.00
1006,carol,2024-02-10 10:00:00,15.00
1007,dave,2024-02-20 10:00:00,40.00
1008,erin,2024-03-10 10:00:00,75.00
1009,frank,2024-03-01 10:00:00,20.00
1010,frank,2024-03-05 10:00:00,25.00
1011,frank,2024-03-15 10:00:00,15.00
1012,,2024-03-30 10:00:00,99.00
"""
MAP = ["order_id=Order No", "customer_id=Buyer", "ordered_at=Placed", "order_total=Amount"]
CUSTOM = ["--scoring", "custom", "--r-cuts", "10,30", "--f-cuts", "2,3", "--m-cuts", "50,100"]
HEADER = [
    "customer_id",
    "recency_days",
    "frequency",
    "monetary",
    "r_score",
    "f_score",
    "m_score",
    "segment",
]
# Klaviyo with R cuts 10/30 days, F cuts 2/3 orders, M cuts 50/100:
#  customer  last order  recency  F  M       R F M  segment
#  alice     03-31        0       2  110.00  3 2 3  Champions (323)
#  bob       03-25        6       1   30.00  3 1 1  Recent (311)
#  carol     02-10       50       3  145.00  1 3 3  Needs attention (133)  (19 + 31 days)
#  dave      02-20       40       1   40.00  1 1 1  Inactive (111)         (9 + 31 days)
#  erin      03-10       21       1   75.00  2 1 2  At risk (212)
#  frank     03-15       16       3   60.00  2 3 2  Loyal (232)
#  (order 1012 has no customer: in no row)
EXPECTED = [
    ["alice", "0", "2", "110.00", "3", "2", "3", "Champions"],
    ["bob", "6", "1", "30.00", "3", "1", "1", "Recent"],
    ["carol", "50", "3", "145.00", "1", "3", "3", "Needs attention"],
    ["dave", "40", "1", "40.00", "1", "1", "1", "Inactive"],
    ["erin", "21", "1", "75.00", "2", "1", "2", "At risk"],
    ["frank", "16", "3", "60.00", "2", "3", "2", "Loyal"],
]


def read_csv(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def normalised(rows: list[list[str]]) -> list[list[str]]:
    """Money compared as decimals (110.00 == 110.0), everything else as written."""
    money = HEADER.index("monetary")
    return [
        [str(Decimal(c).quantize(Decimal("0.01"))) if i == money else c for i, c in enumerate(r)]
        for r in rows
    ]


def snapshot(workspace: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(workspace.iterdir())
        if p.is_file()
    }


@pytest.fixture
def loaded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    workspace = tmp_path / "ws"
    source = tmp_path / "orders.csv"
    source.write_text(ORDERS_CSV, encoding="utf-8")
    argv = ["ingest", "--workspace", str(workspace), "--dataset", "shop", str(source)]
    assert cli.main([*argv, "--format", "generic", "--map", *MAP]) == 0
    capsys.readouterr()
    return workspace


def segments_argv(workspace: Path, out: Path, *extra: str) -> list[str]:
    return [
        "segments",
        "--workspace",
        str(workspace),
        "--dataset",
        "shop",
        "--out",
        str(out),
        "--scheme",
        "klaviyo",
        *extra,
    ]


def test_segments_with_custom_cuts(loaded: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out" / "members.csv"
    summary = tmp_path / "out" / "summary.csv"
    assert cli.main(segments_argv(loaded, out, *CUSTOM, "--summary", str(summary))) == 0
    rows = read_csv(out)
    assert rows[0] == HEADER
    assert normalised(rows[1:]) == EXPECTED
    assert "Wrote 6 customers" in capsys.readouterr().out

    table = {r[0]: r for r in read_csv(summary)[1:]}
    head = read_csv(summary)[0]
    customers, revenue = head.index("customers"), head.index("revenue")
    assert {seg: int(r[customers]) for seg, r in table.items()} == {
        "Champions": 1,
        "Loyal": 1,
        "Recent": 1,
        "Needs attention": 1,
        "At risk": 1,
        "Inactive": 1,
        "Prospects": 0,
    }
    # 110 + 30 + 145 + 40 + 75 + 60 = 460; the guest order's 99 is not customer revenue
    assert sum(float(r[revenue]) for r in table.values()) == pytest.approx(460.0)


def test_segment_option_writes_only_that_segment(loaded: Path, tmp_path: Path) -> None:
    out = tmp_path / "needs.csv"
    assert cli.main(segments_argv(loaded, out, *CUSTOM, "--segment", "Needs attention")) == 0
    rows = read_csv(out)
    assert rows[0] == HEADER
    assert normalised(rows[1:]) == [EXPECTED[2]]


def test_as_of_option(loaded: Path, tmp_path: Path) -> None:
    out = tmp_path / "march.csv"
    argv = segments_argv(loaded, out, *CUSTOM, "--as-of", "2024-03-10")
    assert cli.main(argv) == 0
    rows = {r[0]: r for r in read_csv(out)[1:]}
    # as of 2024-03-10: alice and bob have not ordered yet; erin ordered that day (recency 0);
    # frank: 03-01 and 03-05 -> 2 orders, 45.00, recency 5 -> R3 F2 M1 = 321 Loyal
    assert sorted(rows) == ["carol", "dave", "erin", "frank"]
    assert normalised([rows["frank"]]) == [["frank", "5", "2", "45.00", "3", "2", "1", "Loyal"]]
    assert rows["erin"][1] == "0"


def load_orders(tmp_path: Path, text: str, *mapping: str) -> Path:
    """Load ``text`` as dataset 'shop' of a new workspace with MAP (plus ``mapping``)."""
    workspace = tmp_path / "ws"
    source = tmp_path / "orders.csv"
    source.write_text(text, encoding="utf-8")
    argv = ["ingest", "--workspace", str(workspace), "--dataset", "shop", str(source)]
    assert cli.main([*argv, "--format", "generic", "--map", *MAP, *mapping]) == 0
    return workspace


def test_include_zero_value_counts_a_free_order(tmp_path: Path) -> None:
    # bob's free sample on 03-28, after his 30.00 order on 03-25
    workspace = load_orders(tmp_path, ORDERS_CSV + "1013,bob,2024-03-28 10:00:00,0.00\n")
    default, counted = tmp_path / "default.csv", tmp_path / "counted.csv"
    assert cli.main(segments_argv(workspace, default, *CUSTOM)) == 0
    assert cli.main(segments_argv(workspace, counted, *CUSTOM, "--include-zero-value")) == 0
    # left out (the default): every customer as in EXPECTED, bob 311 Recent
    assert normalised(read_csv(default)[1:]) == EXPECTED
    # counted: bob's last order is 03-28 (recency 3), F 2, M 30 + 0 -> R3 F2 M1 = 321 Loyal
    bob = ["bob", "3", "2", "30.00", "3", "2", "1", "Loyal"]
    assert normalised(read_csv(counted)[1:]) == [EXPECTED[0], bob, *EXPECTED[2:]]


# A few orders in two currencies: alice pays in EUR, bob and carol in USD, one guest in USD.
CURRENCY_CSV = """\
Order No,Buyer,Placed,Amount,Money
1,alice,2024-03-01 10:00:00,10.00,EUR
2,alice,2024-03-02 10:00:00,20.00,eur
3,bob,2024-03-03 10:00:00,30.00,USD
4,carol,2024-03-04 10:00:00,40.00,USD
5,,2024-03-05 10:00:00,50.00,USD
"""
CURRENCY_WARNING = (
    "warning: Orders are in 2 currencies, EUR (2 orders) and USD (3 orders): revenue and "
    "monetary figures add them up without conversion, so compare them within one currency or "
    "load each currency into its own dataset."
)


@pytest.mark.parametrize("command", ["segments", "report"])
def test_several_currencies_are_named_on_stderr(tmp_path: Path, capsys, command: str) -> None:
    workspace = load_orders(tmp_path, CURRENCY_CSV, "currency=Money")
    capsys.readouterr()
    argv = [command, "--workspace", str(workspace), "--dataset", "shop"]
    assert cli.main([*argv, "--out", str(tmp_path / "out")]) == 0
    assert capsys.readouterr().err.strip() == CURRENCY_WARNING
    if command == "report":  # the JSON says it too
        report = json.loads((tmp_path / "out").read_text(encoding="utf-8"))
        assert report["warnings"] == [CURRENCY_WARNING.removeprefix("warning: ")]


def test_one_currency_gives_no_warning(tmp_path: Path, capsys) -> None:
    single = "\n".join(line for line in CURRENCY_CSV.splitlines() if "EUR" not in line.upper())
    workspace = load_orders(tmp_path, single + "\n", "currency=Money")
    capsys.readouterr()
    assert cli.main(segments_argv(workspace, tmp_path / "out.csv")) == 0
    assert capsys.readouterr().err == ""


def test_datasets_lists_the_dataset(loaded: Path, capsys) -> None:
    assert cli.main(["datasets", "--workspace", str(loaded)]) == 0
    assert capsys.readouterr().out.split() == ["shop"]


# ---------------------------------------------------------------- bad input


def assert_one_line_error(capsys: pytest.CaptureFixture[str], *words: str) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: "), err
    assert "\n" not in err, err
    assert "Traceback" not in err
    for word in words:
        assert word in err, (word, err)
    return err


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (
            ["--scoring", "custom", "--r-cuts", "30,10", "--f-cuts", "2,3", "--m-cuts", "50,100"],
            ["recency", "rise"],
        ),
        (
            ["--scoring", "custom", "--r-cuts", "10,30", "--f-cuts", "2,3", "--m-cuts=-5,100"],
            ["monetary"],
        ),
        (
            [
                "--scoring",
                "custom",
                "--r-cuts",
                "10,30,90",
                "--f-cuts",
                "2,3,4",
                "--m-cuts",
                "1,2,3",
            ],
            ["3 scores"],
        ),
        (["--scoring", "custom", "--r-cuts", "10,30"], ["--f-cuts"]),
        ([*CUSTOM, "--segment", "Nobody"], ["'Nobody'", "Champions"]),
    ],
)
def test_bad_segments_input(loaded: Path, tmp_path: Path, capsys, extra, words) -> None:
    before = snapshot(loaded)
    out = tmp_path / "never.csv"
    assert cli.main(segments_argv(loaded, out, *extra)) == 2
    assert_one_line_error(capsys, *words)
    assert not out.exists()
    assert snapshot(loaded) == before


def test_unknown_dataset(loaded: Path, tmp_path: Path, capsys) -> None:
    before = snapshot(loaded)
    out = tmp_path / "never.csv"
    argv = ["segments", "--workspace", str(loaded), "--dataset", "nope", "--out", str(out)]
    assert cli.main(argv) == 2
    assert_one_line_error(capsys, "'nope'")
    assert not out.exists()
    assert snapshot(loaded) == before


@pytest.mark.parametrize(
    ("mapping", "words"),
    [
        (["order_id"], ["canonical=Header"]),
        (["=Order No"], ["canonical=Header"]),
        (["colour=Buyer"], ["'colour'"]),
    ],
)
def test_bad_map(loaded: Path, tmp_path: Path, capsys, mapping, words) -> None:
    before = snapshot(loaded)
    source = tmp_path / "more.csv"
    source.write_text(ORDERS_CSV, encoding="utf-8")
    argv = ["ingest", "--workspace", str(loaded), "--dataset", "other", str(source)]
    assert cli.main([*argv, "--format", "generic", "--map", *mapping]) == 2
    assert_one_line_error(capsys, *words)
    assert snapshot(loaded) == before  # no "other" dataset appeared


def test_missing_file(loaded: Path, tmp_path: Path, capsys) -> None:
    before = snapshot(loaded)
    missing = tmp_path / "no-such-file.csv"
    argv = ["ingest", "--workspace", str(loaded), "--dataset", "shop", str(missing)]
    assert cli.main([*argv, "--format", "generic", "--map", *MAP]) == 2
    assert_one_line_error(capsys, "no-such-file.csv")
    assert snapshot(loaded) == before


def test_bad_dataset_name(tmp_path: Path, capsys) -> None:
    workspace = tmp_path / "ws"
    out = tmp_path / "x.csv"
    argv = ["segments", "--workspace", str(workspace), "--dataset", "../etc", "--out", str(out)]
    assert cli.main(argv) == 2
    assert_one_line_error(capsys, "'../etc'")
    assert not out.exists()


def test_malformed_option_value_exits_2(loaded: Path, tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as stop:
        cli.main(segments_argv(loaded, tmp_path / "x.csv", "--as-of", "31/03/2024"))
    assert stop.value.code == 2
    assert "is not a date like 2025-03-31" in capsys.readouterr().err


def test_module_help() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "dashboard", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    for command in ("demo", "ingest", "segments", "datasets"):
        assert command in done.stdout
    seg = subprocess.run(
        [sys.executable, "-m", "dashboard", "segments", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert seg.returncode == 0, seg.stderr
    for option in ("--r-cuts", "--f-cuts", "--m-cuts", "--segment", "--scheme", "--as-of"):
        assert option in seg.stdout


def test_report_is_printed(tmp_path: Path, capsys) -> None:
    source = tmp_path / "orders.csv"
    source.write_text(ORDERS_CSV, encoding="utf-8")
    argv = ["ingest", "--workspace", str(tmp_path / "ws"), "--dataset", "shop", str(source)]
    assert cli.main([*argv, "--format", "generic", "--map", *MAP]) == 0
    out = capsys.readouterr().out
    assert "orders.csv" in out
    assert io.StringIO(out).readline().strip().endswith(".")


def test_ingest_guesses_the_fields_not_given_in_map(tmp_path: Path, capsys) -> None:
    source = tmp_path / "orders.csv"
    source.write_text(ORDERS_CSV, encoding="utf-8")
    workspace = tmp_path / "ws"
    # Order No, Buyer and Amount are guessed; Placed is not a name the guess knows
    argv = ["ingest", "--workspace", str(workspace), "--dataset", "shop", str(source)]
    assert cli.main([*argv, "--map", "ordered_at=Placed"]) == 0
    assert "12 orders rows read, 12 loaded" in capsys.readouterr().out


def test_ingest_shows_progress_on_a_terminal_only(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("piped", "terminal"):
        (tmp_path / name).mkdir()
    load_orders(tmp_path / "piped", ORDERS_CSV)
    assert capsys.readouterr().err == ""  # piped or captured: no progress lines
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    load_orders(tmp_path / "terminal", ORDERS_CSV)
    shown = capsys.readouterr().err
    assert shown.startswith("\rorders.csv: Checking the file (0%)")
    assert shown.endswith("\rorders.csv: Done (100%)\033[K\n")


def test_ingest_date_order_option(tmp_path: Path, capsys) -> None:
    source = tmp_path / "orders.csv"
    source.write_text("customer,date,amount\na,03/04/2024,1.00\n", encoding="utf-8")
    argv = ["ingest", "--workspace", str(tmp_path / "ws"), "--dataset", "shop", str(source)]
    assert cli.main(argv) == 2
    assert_one_line_error(capsys, "'03/04/2024'", "--date-order day-first")
    assert cli.main([*argv, "--date-order", "month-first"]) == 0
    out = capsys.readouterr().out
    assert "were read month-first (as chosen)" in out


def test_every_file_is_checked_before_any_is_loaded(tmp_path: Path, capsys) -> None:
    good = tmp_path / "orders.csv"
    good.write_text(ORDERS_CSV, encoding="utf-8")
    other = tmp_path / "other.csv"
    other.write_text("when,who\n2024-01-01,a\n", encoding="utf-8")
    workspace = tmp_path / "ws"
    argv = ["ingest", "--workspace", str(workspace), "--dataset", "shop", str(good), str(other)]
    assert cli.main([*argv, "--format", "generic", "--map", *MAP]) == 2
    assert_one_line_error(capsys, "'Buyer'", "not in the file")
    assert not (workspace / "shop.duckdb").exists()


def test_demo_loads_every_demo_file(tmp_path: Path, capsys) -> None:
    import duckdb
    import pandas as pd

    workspace, files = tmp_path / "ws", tmp_path / "files"
    argv = ["demo", "--workspace", str(workspace), "--dataset", "demo", "--files-dir", str(files)]
    assert cli.main(argv) == 0
    assert (
        "marketing_spend.csv: 180 marketing spend rows read, 180 loaded" in capsys.readouterr().out
    )
    con = duckdb.connect(str(workspace / "demo.duckdb"), read_only=True)
    try:
        counts = {
            table: con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("sessions", "abandoned_checkouts", "marketing_spend")
        }
    finally:
        con.close()
    checkouts = pd.read_csv(files / "abandoned_checkouts.csv", dtype=str)
    assert counts == {
        "sessions": len(pd.read_csv(files / "sessions.csv")),
        "abandoned_checkouts": checkouts.Name.nunique(),
        "marketing_spend": len(pd.read_csv(files / "marketing_spend.csv")),
    }


# ------------------------------------------------------- no customer key (bad input 18)

# No customer column at all. Orders 3 (cancelled) and 5 (total 0) are not sales.
GUEST_CSV = """\
Order,Placed,Total,Refund,Cancelled
1,2024-01-05 10:00:00,10.00,0,no
2,2024-02-10 09:30:00,20.50,5.50,no
3,2024-02-11 18:00:00,40.00,0,yes
4,2024-03-20 12:00:00,7.25,,no
5,2024-03-21 12:00:00,0.00,,no
"""
NO_CUSTOMER_KEY = (
    "This dataset has no customer key: its 5 orders were loaded without an e-mail, phone or "
    "customer id, so no customer can be scored or segmented; to get customer figures, load the "
    "orders from a file that has one of those columns (a Shopify or WooCommerce export, or a "
    "table with its customer column mapped) into a new dataset."
)


@pytest.fixture
def guests(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A workspace whose dataset 'shop' holds GUEST_CSV, loaded with the guessed mapping."""
    workspace = tmp_path / "ws"
    source = tmp_path / "guests.csv"
    source.write_text(GUEST_CSV, encoding="utf-8")
    argv = ["ingest", "--workspace", str(workspace), "--dataset", "shop", str(source)]
    assert cli.main([*argv, "--map", "ordered_at=Placed"]) == 0
    out = capsys.readouterr().out
    assert "5 orders rows read, 5 loaded, 0 rejected, 5 loaded with a warning." in out
    assert "note: The file has no customer column" in out
    return workspace


@pytest.mark.parametrize("command", ["segments", "migration", "export"])
def test_customer_commands_say_the_customer_key_is_missing(
    guests: Path, tmp_path: Path, capsys, command: str
) -> None:
    definition = tmp_path / "repeat.json"
    definition.write_text(
        '{"match": "all", "groups": [{"match": "all", "conditions": '
        '[{"feature": "orders", "operator": ">=", "value": 2}]}]}',
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    extra = {"export": ["--definition", str(definition), "--format", "csv"]}.get(command, [])
    argv = [command, "--workspace", str(guests), "--dataset", "shop", "--out", str(out), *extra]
    assert cli.main(argv) == errors.EXIT_BAD_INPUT
    assert assert_one_line_error(capsys) == f"error: {NO_CUSTOMER_KEY}"
    assert not out.exists()


def test_report_gives_the_store_totals_without_customers(
    guests: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "report.json"
    argv = ["report", "--workspace", str(guests), "--dataset", "shop", "--out", str(out)]
    assert cli.main(argv) == 0
    printed = capsys.readouterr()
    # Sales: orders 1, 2 and 4. Revenue, cancelled order 3 left out: 10.00 + (20.50 - 5.50)
    # + 7.25 + 0.00 = 32.25; AOV 32.25 / 3 = 10.75. Analysis date = latest order, 2024-03-21:
    # two whole months since the first sale on 2024-01-05.
    assert "3 orders, net revenue 32.25, 0 channels" in printed.out
    assert printed.err.strip() == f"warning: {NO_CUSTOMER_KEY}"
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["store"] == {
        "orders": 3,
        "orders_without_customer": 3,
        "revenue": 32.25,
        "aov": 10.75,
        "first_order_on": "2024-01-05",
        "last_order_on": "2024-03-20",
        "months_open": 2,
    }
    assert report["channels"] == [] and report["cohorts"] == []
    assert report["warnings"] == [NO_CUSTOMER_KEY]
    # Guest orders are sales for the stages: one in each month (orders 1, 2 and 4; order 3 is
    # cancelled, order 5 is worth 0), counted over each month's trailing three calendar months.
    assert [row["orders_trailing"] for row in report["stages"]] == [1, 2, 3]
