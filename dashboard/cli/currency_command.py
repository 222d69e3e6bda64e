"""``set-currency``: the currency of a dataset whose files did not state one."""

from __future__ import annotations

import argparse
from pathlib import Path

from dashboard.cli.options import Commands
from dashboard.ingest import currency


def add_currency_command(commands: Commands, common: argparse.ArgumentParser) -> None:
    """Declare ``set-currency``, which fills the orders that have no currency."""
    setting = commands.add_parser(
        "set-currency",
        parents=[common],
        help="give orders loaded without a currency (a file with no currency column) the "
        "currency they are in, so money shows with its symbol; stated currencies are kept",
    )
    setting.add_argument("currency", help="ISO 4217 code, e.g. USD, EUR, GBP")
    setting.set_defaults(run=run_set_currency)


def run_set_currency(args: argparse.Namespace, workspace: Path) -> None:
    """Set the currency of the dataset's orders without one and say how many changed."""
    code = currency.check_currency(args.currency)
    changed = currency.set_currency(workspace, args.dataset, code)
    print(f"{changed:,} orders of dataset '{args.dataset}' without a currency are now in {code}.")
