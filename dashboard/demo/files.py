"""The demo store generator's entry point: ``write_demo_files(out_dir, seed)`` -> ``DemoFiles``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dashboard.demo.checkouts import draw_checkouts, write_checkouts
from dashboard.demo.customers import write_customers
from dashboard.demo.orders import draw_orders
from dashboard.demo.orders_export import write_orders
from dashboard.demo.people import draw_people
from dashboard.demo.sessions import write_sessions
from dashboard.demo.spend import write_spend


@dataclass(frozen=True)
class DemoFiles:
    """Paths of the five files written by ``write_demo_files``."""

    orders: Path  # Shopify orders export CSV (line-item rows)
    customers: Path  # Shopify customers export CSV (2023+ header)
    sessions: Path  # sessions CSV
    checkouts: Path  # Shopify abandoned checkouts export CSV
    spend: Path  # monthly marketing spend CSV


def write_demo_files(out_dir: Path, seed: int = 7) -> DemoFiles:
    """Simulate the demo store and write its five CSV files into ``out_dir`` (created if missing).

    Files and columns:
    - ``shopify_orders.csv``: Shopify orders export, the 79-column 2023+ header (``ORDER_COLUMNS``),
      one row per line item, order-level columns on the first row of each order only; about 60,000
      orders from 2024-11-01 to 2026-10-31, sorted by ``Created at`` then ``Name``.
    - ``shopify_customers.csv``: customers export, 2023+ header (``CUSTOMER_COLUMNS``); one row per
      person who ordered (``Total Spent``/``Total Orders`` over their non-cancelled orders, net of
      refunds) plus about 6,000 prospects with ``Total Orders`` 0.
    - ``sessions.csv``: ``customer_email,started_at,duration_seconds,pages_viewed,added_to_cart,
      purchased`` for known emails, about 200,000 rows sorted by ``started_at``.
    - ``abandoned_checkouts.csv``: abandoned checkouts export, the 70-column subset
      ``CHECKOUT_COLUMNS``, about 8,000 checkouts named ``#<checkout id>``.
    - ``marketing_spend.csv``: ``month,channel,spend,purpose`` for every month since opening.

    The same ``seed`` always writes byte-identical files.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = DemoFiles(
        orders=out_dir / "shopify_orders.csv",
        customers=out_dir / "shopify_customers.csv",
        sessions=out_dir / "sessions.csv",
        checkouts=out_dir / "abandoned_checkouts.csv",
        spend=out_dir / "marketing_spend.csv",
    )
    # Independent streams, so a change in one file's logic does not reshuffle the others.
    rng_people, rng_orders, rng_checkouts, rng_sessions, rng_spend = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(5)
    )
    people = draw_people(rng_people)
    orders = draw_orders(rng_orders, people)
    checkouts = draw_checkouts(rng_checkouts, people, orders)
    write_orders(files.orders, rng_orders, people, orders)
    write_checkouts(files.checkouts, rng_checkouts, people, checkouts)
    write_customers(files.customers, people, orders)
    write_sessions(files.sessions, rng_sessions, people, orders, checkouts)
    write_spend(files.spend, rng_spend, people, orders)
    return files
