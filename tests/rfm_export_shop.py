"""A five-buyer store whose RFM segments are worked out by hand (issue 17 item 2 exports).

Analysis date 2025-03-31; cut points R 10, 20, 30, 40 days (R 5 = at most 10 days), F 2, 3, 4, 5
orders, M 100, 200, 300, 400. Shopify scheme: the row is round half up of (F + M) / 2.

- P1: orders 03-01, 03-15, 03-30 of 100 -> recency 1, F 3, M 300 -> R5 F3 M4, row 4: Champions;
  customers file p1@x.com, accepted e-mail, tag "vip".
- P2: orders 03-25, 03-28 of 300 -> recency 3, F 2, M 600 -> R5 F2 M5, row 4: Champions;
  p2@x.com, declined e-mail.
- P3: order 03-31 of 500 -> R5 F1 M5, row 3: Active; p3@x.com, no recorded answer.
- P4: orders 01-01 to 01-04 of 50 -> recency 86, F 4, M 200 -> R1 F4 M3, row 4: At risk;
  p4@x.com, accepted.
- P5: order 03-29 of 20 -> R5 F1 M1: New; not in the customers file (no email).
- P6: customers file only (p6@x.com, accepted): a prospect.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from dashboard.workspace import store

DATASET = "hand"
AS_OF = "2025-03-31"
CUTS = ((10, 20, 30, 40), (2, 3, 4, 5), (100, 200, 300, 400))
ORDERS = [
    # order_id, customer_id, ordered_at, total
    ("O1", "P1", "2025-03-01 10:00", "100"),
    ("O2", "P1", "2025-03-15 10:00", "100"),
    ("O3", "P1", "2025-03-30 10:00", "100"),
    ("O4", "P2", "2025-03-25 10:00", "300"),
    ("O5", "P2", "2025-03-28 10:00", "300"),
    ("O6", "P3", "2025-03-31 10:00", "500"),
    ("O7", "P4", "2025-01-01 10:00", "50"),
    ("O8", "P4", "2025-01-02 10:00", "50"),
    ("O9", "P4", "2025-01-03 10:00", "50"),
    ("O10", "P4", "2025-01-04 10:00", "50"),
    ("O11", "P5", "2025-03-29 10:00", "20"),
]
CUSTOMERS = [
    # customer_id, email, first_name, accepts_marketing, country, tags
    ("P1", "p1@x.com", "Pia", True, "US", "vip"),
    ("P2", "p2@x.com", "Pat", False, "US", None),
    ("P3", "p3@x.com", "Per", None, "SE", None),
    ("P4", "p4@x.com", "Pam", True, "FR", None),
    ("P6", "p6@x.com", "Pip", True, "DE", None),
]


def write_hand_store(workspace: Path) -> None:
    """Write the store of the module docstring with bound parameters."""
    with store.open_for_write(workspace, DATASET) as con:
        con.begin()
        con.executemany(
            "INSERT INTO orders (order_id, customer_id, ordered_at, order_total, refunded_amount,"
            " net_total, currency, is_cancelled, ingest_id) VALUES (?, ?, ?, ?, 0, ?, 'EUR',"
            " false, 1)",
            [
                (o, c, dt.datetime.fromisoformat(at), Decimal(t), Decimal(t))
                for o, c, at, t in ORDERS
            ],
        )
        con.executemany(
            "INSERT INTO customers (customer_id, email, first_name, accepts_marketing, country,"
            " tags, ingest_id) VALUES (?, ?, ?, ?, ?, ?, 2)",
            CUSTOMERS,
        )
        con.commit()
