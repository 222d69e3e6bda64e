"""``erase``: delete one customer from every table of a dataset (GDPR art. 17)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from dashboard import engines
from dashboard.cli.options import Commands
from dashboard.workspace import erase


def add_erase_command(commands: Commands, common: argparse.ArgumentParser) -> None:
    """Declare ``erase``, which removes a customer by id or e-mail and logs it in the audit."""
    erasing = commands.add_parser(
        "erase",
        parents=[common],
        help="erase one customer (by customer id or e-mail) from every table of the dataset, "
        "rewriting its file so no trace is left; recorded in the workspace's audit log",
    )
    erasing.add_argument(
        "--customer", required=True, help="the customer's id (exact) or e-mail (any case)"
    )
    erasing.set_defaults(run=run_erase)


def run_erase(args: argparse.Namespace, workspace: Path) -> None:
    """Erase the customer and print the rows removed per table.

    An unknown customer is a UserError (exit 2, nothing changed). A Parquet export of the
    dataset for Spark lives outside the workspace and is not rewritten, so it is named for the
    user to export again.
    """
    report = erase.erase_customer(workspace, args.dataset, args.customer)
    print(
        f"Erased {len(report.customer_ids)} customer record(s) from dataset '{args.dataset}': "
        f"{report.total_rows:,} rows."
    )
    for table, rows in report.rows.items():
        print(f"  {table}: {rows:,}")
    print(f"Audit log: erase of customer sha256 {report.key_sha256[:12]}...")
    parquet_root = os.environ.get(engines.PARQUET_DIR_ENV)
    exported = Path(parquet_root) / args.dataset if parquet_root else None
    if exported is not None and exported.exists():
        print(
            f"The Parquet export {exported} still holds this customer: run export-parquet "
            "again to replace it."
        )
