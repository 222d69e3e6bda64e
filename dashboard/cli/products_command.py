"""The ``products`` command: what customers buy and whether they stay, as CSV files
(docs/products.md, "CLI")."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from dashboard.cli.engine_tables import find_latest_date, open_engine_tables
from dashboard.cli.options import (
    Commands,
    add_engine_options,
    add_scoring_options,
    parse_date,
    read_counting_rules,
    read_custom_cuts,
)
from dashboard.cli.output import tell
from dashboard.cli.predict_command import parse_whole_days
from dashboard.errors import UserError

if TYPE_CHECKING:
    import datetime as dt

    import ibis.expr.types as ir
    import pandas as pd

    from dashboard import engines, order_rules

# The first columns of pairs.csv, as the issue and the README name them; labels follow.
PAIR_COLUMNS = [
    "product_a",
    "product_b",
    "orders",
    "support",
    "confidence_a_b",
    "confidence_b_a",
    "lift",
    "name_a",
    "name_b",
    "category_a",
    "category_b",
    "orders_a",
    "orders_b",
]
FILES = ("pairs.csv", "gateway.csv", "replenishment.csv", "bright_spots.csv", "retention.csv")
# Written only when the dataset holds abandoned checkouts with their line items.
ABANDONED_FILE = "abandoned.csv"


def parse_count(text: str) -> int:
    """Parse a whole number of 1 or more (``--min-orders``)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number of 1 or more")
    return value


def add_products_command(commands: Commands, common: argparse.ArgumentParser) -> None:
    """Declare ``products``, which writes basket pairs, gateway products, replenishment cycles,
    bright spots and retention."""
    products = commands.add_parser(
        "products",
        parents=[common],
        help="write pairs.csv (basket affinity), gateway.csv (first-purchase products), "
        "replenishment.csv (cycles per product), bright_spots.csv (what a segment buys more "
        "than everyone), retention.csv (monthly retention and churn) and, with abandoned "
        "checkouts' line items, abandoned.csv (what was left behind) into a folder",
    )
    products.add_argument(
        "--out-dir", required=True, type=Path, help="folder to write the CSV files into"
    )
    products.add_argument(
        "--as-of", type=parse_date, help="analysis date (default: latest order date)"
    )
    products.add_argument(
        "--horizon-days",
        type=parse_whole_days,
        default=365,
        help="gateway products: customers whose first order is at least this old, and whether "
        "they ordered again within it (default 365)",
    )
    products.add_argument(
        "--min-orders",
        type=parse_count,
        default=10,
        help="pairs.csv keeps the pairs held by at least this many orders (default 10)",
    )
    add_scoring_options(products)
    products.add_argument(
        "--segment",
        help="bright spots of this segment of --scheme only (default: every segment, one block "
        "each)",
    )
    add_engine_options(products)
    products.set_defaults(run=run_products)


def run_products(args: argparse.Namespace, workspace: Path) -> None:
    """Compute the product and retention tables on --dataset (on --engine) and write them."""
    from dashboard.acquisition import channels, retention
    from dashboard.products import abandoned, affinity, gateway, lines, replenishment

    rules = read_counting_rules(args)
    with open_engine_tables(args, workspace) as tables:
        if "order_lines" not in tables or int(tables["order_lines"].count().execute()) == 0:
            raise UserError(
                f"The dataset '{args.dataset}' has no order lines: load an orders export with "
                "line items (product or SKU) to analyse products."
            )
        as_of = args.as_of or find_latest_date(tables, args.dataset)
        order_lines = tables["order_lines"]
        every_line = lines.select_valid_lines(tables.orders, order_lines, as_of, rules)
        known_lines = lines.select_valid_lines(
            tables.orders, order_lines, as_of, rules, with_guests=False
        )
        pairs = affinity.count_pairs(every_line, floor=args.min_orders)[PAIR_COLUMNS]
        attribution = channels.attribute_channels(
            tables.orders, channels.default_rules(), as_of, rules
        )
        gateways = [
            gateway.measure_gateway(
                tables.orders,
                order_lines,
                as_of,
                args.horizon_days,
                by=level,
                rules=rules,
                attribution=attribution,
            ).assign(by=level)
            for level in ("product", "category", "channel")
        ]
        cycles = replenishment.measure_cycles(known_lines)
        spots = measure_segment_bright_spots(args, workspace, tables, known_lines, as_of, rules)
        monthly = retention.measure_retention(tables.orders, as_of, "month", rules)
        left = None
        if abandoned.has_checkout_lines(tables):
            left = [
                abandoned.summarise_abandoned(
                    tables, as_of, by=level, rules=rules, attribution=attribution
                ).assign(by=level)
                for level in abandoned.GROUPINGS
            ]
    import pandas as pd

    args.out_dir.mkdir(parents=True, exist_ok=True)
    frames = [pairs, pd.concat(gateways, ignore_index=True), cycles, spots, monthly]
    names = list(FILES)
    if left is not None:
        frames.append(pd.concat(left, ignore_index=True))
        names.append(ABANDONED_FILE)
    for name, frame in zip(names, frames, strict=True):
        write_table(frame, args.out_dir / name)
    tell(
        f"Wrote {', '.join(names)} to {args.out_dir} (analysis date {as_of}; {len(pairs):,} "
        f"pairs held by {args.min_orders}+ orders, {len(cycles):,} products with a cycle)."
    )


def measure_segment_bright_spots(
    args: argparse.Namespace,
    workspace: Path,
    tables: engines.EngineTables,
    known_lines: ir.Table,
    as_of: dt.date,
    rules: order_rules.CountingRules,
) -> pd.DataFrame:
    """Return the bright spots (products) of --segment, or of every segment of --scheme.

    Out: ``bright_spots.find_bright_spots``' columns with ``segment`` first.
    """
    import ibis
    import pandas as pd

    from dashboard import engines
    from dashboard.products import bright_spots
    from dashboard.rfm import analysis, cut_points, scheme_io, schemes

    scheme = scheme_io.resolve_scheme(workspace, args.scheme, args.scores)
    names = (*scheme.segments, schemes.PROSPECTS)
    if args.segment is not None and args.segment not in names:
        raise UserError(
            f"'{args.segment}' is not a segment of this scheme; choose one of: {', '.join(names)}."
        )
    base = analysis.build_customer_base(
        tables, args.dataset, as_of=as_of, rules=rules, excluded=tuple(args.exclude)
    )
    try:
        cuts = cut_points.resolve_cuts(
            base.measures, cut_points.ScoringSpec(scheme, read_custom_cuts(args))
        )
        members = analysis.segment_members(base, cuts, scheme, args.segment)
    finally:
        base.close()
    # Every segment reads who bought what: computed once, not once per segment.
    backend, buyers = engines.materialise(
        tables, bright_spots.count_product_buyers(known_lines), "product_buyers"
    )
    blocks = []
    try:
        for segment in [args.segment] if args.segment else scheme.segments:
            ids = members.loc[members.segment == segment, ["customer_id"]].astype(str)
            if ids.empty:
                continue
            found = bright_spots.find_bright_spots(buyers, ibis.memtable(ids))
            blocks.append(found.assign(segment=segment))
    finally:
        engines.release(backend, buyers)
    if not blocks:
        return pd.DataFrame(columns=["segment", *bright_spots.BRIGHT_SPOT_COLUMNS])
    spots = pd.concat(blocks, ignore_index=True)
    return spots[["segment", *(c for c in spots.columns if c != "segment")]]


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` as a formula-safe CSV."""
    from dashboard.export import to_csv_bytes

    path.write_bytes(to_csv_bytes(frame))
