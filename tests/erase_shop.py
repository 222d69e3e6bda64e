"""A tiny shop of two customers with a row in every table that can name a customer.

Ana (c1, ana@example.com, alias a1) has orders o1 (2 lines) and o2 (1 line), 2 sessions,
checkout k1 (2 lines), a survey score and one ingest issue quoting her e-mail. Bob (c2,
bob@example.com) has order o3 (1 line), 1 session, checkout k2 (1 line) and a survey score.
One anonymous session has no customer. Erasing Ana removes 14 rows (ANA_ROWS).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from dashboard.workspace import store

ANA_EMAIL = "ana@example.com"
BOB_EMAIL = "bob@example.com"
ANA_ROWS = {
    "customers": 1,
    "customer_aliases": 1,
    "orders": 2,
    "order_lines": 3,
    "sessions": 2,
    "abandoned_checkouts": 1,
    "checkout_lines": 2,
    "survey_scores": 1,
    "ingest_issues": 1,
}

_ROWS = {
    "INSERT INTO ingests (ingest_id, file_name, file_format, table_name, rows_read, rows_loaded, "
    "rows_rejected, rows_duplicate, rows_warned, loaded_at, sha256) "
    "VALUES (?, 'shop.csv', 'generic', 'orders', 3, 3, 0, 0, 0, ?, 'x')": [
        (1, dt.datetime(2024, 4, 1))
    ],
    "INSERT INTO customers (customer_id, email, first_name, accepts_marketing, ingest_id) "
    "VALUES (?, ?, ?, true, 1)": [("c1", ANA_EMAIL, "Ana"), ("c2", BOB_EMAIL, "Bob")],
    "INSERT INTO customer_aliases VALUES (?, ?, 1)": [("a1", "c1")],
    "INSERT INTO orders (order_id, customer_id, ordered_at, order_total, refunded_amount, "
    "net_total, currency, is_cancelled, ingest_id) VALUES (?, ?, ?, ?, 0, ?, 'EUR', false, 1)": [
        ("o1", "c1", dt.datetime(2024, 1, 10), Decimal("30.00"), Decimal("30.00")),
        ("o2", "c1", dt.datetime(2024, 3, 5), Decimal("20.00"), Decimal("20.00")),
        ("o3", "c2", dt.datetime(2024, 2, 1), Decimal("50.00"), Decimal("50.00")),
    ],
    "INSERT INTO order_lines (order_id, line_number, product, quantity, price, ingest_id) "
    "VALUES (?, ?, ?, 1, ?, 1)": [
        ("o1", 1, "mug", Decimal("10.00")),
        ("o1", 2, "tea", Decimal("20.00")),
        ("o2", 1, "tea", Decimal("20.00")),
        ("o3", 1, "pot", Decimal("50.00")),
    ],
    "INSERT INTO sessions (customer_id, started_at, pages_viewed, ingest_id) VALUES (?, ?, 3, 1)": [
        ("c1", dt.datetime(2024, 1, 9)),
        ("c1", dt.datetime(2024, 3, 4)),
        ("c2", dt.datetime(2024, 2, 1)),
        (None, dt.datetime(2024, 2, 2)),
    ],
    "INSERT INTO abandoned_checkouts (checkout_id, customer_id, created_at, total, ingest_id) "
    "VALUES (?, ?, ?, ?, 1)": [
        ("k1", "c1", dt.datetime(2024, 2, 20), Decimal("15.00")),
        ("k2", "c2", dt.datetime(2024, 2, 21), Decimal("25.00")),
    ],
    "INSERT INTO checkout_lines (checkout_id, line_number, product, quantity, price, ingest_id) "
    "VALUES (?, ?, 'tea', 1, ?, 1)": [
        ("k1", 1, Decimal("5.00")),
        ("k1", 2, Decimal("10.00")),
        ("k2", 1, Decimal("25.00")),
    ],
    "INSERT INTO survey_scores VALUES (?, ?, ?, 1)": [
        ("c1", dt.datetime(2024, 3, 6), 9.0),
        ("c2", dt.datetime(2024, 2, 2), 7.0),
    ],
    "INSERT INTO ingest_issues VALUES (1, ?, 'email', 'warning', 'odd value', ?)": [
        (4, "ANA@example.com"),
        (5, "not-a-date"),
    ],
}


def write_shop(workspace: Path, name: str = "shop") -> Path:
    """Write the two-customer shop as dataset ``name``; return its database file."""
    with store.open_for_write(workspace, name) as con:
        con.begin()
        for statement, rows in _ROWS.items():
            con.executemany(statement, rows)
        con.commit()
        con.execute("CHECKPOINT")
    return store.dataset_path(workspace, name)
