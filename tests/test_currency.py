"""Money for people: two decimals and a symbol everywhere, and a currency the analyst sets when
the files had none (the Data page and ``set-currency``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard import cli, formatting, ingest
from dashboard.ingest import currency
from dashboard.rfm import analysis
from dashboard.workspace import store

NO_CURRENCY = "order_id,customer,date,total\n1,a,2024-01-05,455.094\n2,b,2024-01-06,35.00\n"
WITH_CURRENCY = "order_id,customer,date,total,currency\n3,c,2024-01-07,10.00,SEK\n"


def test_money_has_two_decimals_and_a_symbol_or_code() -> None:
    assert formatting.format_money(455.094) == "455.09"
    assert formatting.format_money(1234.5, "GBP") == "£1,234.50"
    assert formatting.format_money(-3, "SEK") == "-3.00 SEK"
    # A currency cell that is not an ISO code is not repeated into the figure.
    assert formatting.format_money(7, "[X](http://e)") == "7.00"


def test_table_formats_keep_two_decimals_and_separators() -> None:
    assert formatting.table_money_format(None) == "%,.2f"
    assert formatting.table_money_format("GBP") == "£%,.2f"
    assert formatting.table_money_format("SEK") == "%,.2f SEK"
    assert formatting.table_money_format("USD") == "dollar"
    # A '%' from the data never reaches the format string.
    assert formatting.table_money_format("%d") == "%,.2f"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load(tmp_path: Path, *texts: str) -> Path:
    workspace = store.resolve_workspace(tmp_path / "workspace")
    for i, text in enumerate(texts):
        ingest.ingest_file(
            workspace,
            "shop",
            write(tmp_path, f"f{i}.csv", text),
            file_format="generic",
            mapping={
                "customer_id": "customer",
                "ordered_at": "date",
                "order_total": "total",
                "currency": "currency" if "currency" in text else None,
            },
        )
    return workspace


def test_set_currency_fills_only_the_orders_without_one(tmp_path: Path) -> None:
    workspace = load(tmp_path, NO_CURRENCY, WITH_CURRENCY)
    assert analysis.describe_dataset(workspace, "shop").currencies == ("SEK",)
    assert currency.set_currency(workspace, "shop", "gbp") == 2
    assert analysis.describe_dataset(workspace, "shop").currencies == ("GBP", "SEK")
    assert currency.set_currency(workspace, "shop", "EUR") == 0


def test_a_bad_code_or_dataset_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    workspace = load(tmp_path, NO_CURRENCY)
    for code in ("", "US", "DOLLARS", "U$D", "US D"):
        with pytest.raises(ingest.IngestError, match="not a currency code"):
            currency.set_currency(workspace, "shop", code)
    with pytest.raises(ingest.IngestError, match="no dataset"):
        currency.set_currency(workspace, "other", "USD")
    assert analysis.describe_dataset(workspace, "shop").currencies == ()


def test_the_cli_sets_the_currency(tmp_path: Path, capsys) -> None:
    workspace = load(tmp_path, NO_CURRENCY)
    args = ["set-currency", "--workspace", str(workspace), "--dataset", "shop"]
    assert cli.main([*args, "CHF"]) == 0
    assert "2 orders of dataset 'shop' without a currency are now in CHF" in capsys.readouterr().out
    assert analysis.describe_dataset(workspace, "shop").currencies == ("CHF",)
    assert cli.main([*args, "Swiss francs"]) == 2
    assert "not a currency code" in capsys.readouterr().err
