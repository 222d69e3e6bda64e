"""A tiny store whose every behavioural feature is computed by hand, for the feature, builder and
segment export tests.

Analysis date 2025-03-31, all history. Rows go in with bound parameters through
``store.open_for_write``.

Customers and what they did (valid = not cancelled, total above 0):
- ``A``: orders A1 (01-01, 100, code WELCOME, P1), A2 (01-11, 50 refunded 10, P2), A3 (01-31,
  60, P1 + P3), A4 (02-05, cancelled); customers file (a@x.com, Ann, email yes, SMS no, US,
  tag vip); sessions 03-10 (60 s) and 03-30 (120 s); surveys 7 (02-01) then 9 (03-01).
- ``b@x.com``: orders B1 and B2 on 03-01 (300 and 100, code SALE, P2 / P4), B3 (03-21, 200, SALE,
  P4), all shipped to CA; abandoned checkout 03-20 (P4) then ordered 03-21; a survey after the
  date.
- ``C``: order C1 (03-31, 50, P1) shipped to DE; surveys 4 (undated) and 3 (03-15).
- ``D``: customers file only (d@x.com, email yes, FR); abandoned checkout 03-25 (P1 named "Big
  mug" there, sold as "Mug"; "Candle" without SKU, never sold). A's checkout K3 (P2) is after
  the date.
- ``E``: sessions only, 03-25 (600 s) and 03-29 (300 s); one on 04-05, after the date.

Products launch on their first valid sale: P1 01-01, P2 01-11, P3 01-31, P4 03-01.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from dashboard import order_rules
from dashboard.workspace import store

AS_OF = dt.date(2025, 3, 31)
WINDOW = order_rules.Window(as_of=AS_OF)
DATASET = "tiny"

ORDERS = [
    # order_id, customer_id, ordered_at, total, refunded, discount_code, cancelled, country
    ("A1", "A", "2025-01-01 10:00", "100.00", "0", "WELCOME", False, None),
    ("A2", "A", "2025-01-11 10:00", "50.00", "10.00", None, False, None),
    ("A3", "A", "2025-01-31 10:00", "60.00", "0", "", False, None),
    ("A4", "A", "2025-02-05 10:00", "30.00", "0", None, True, None),
    ("B1", "b@x.com", "2025-03-01 09:00", "300.00", "0", "SALE", False, "CA"),
    ("B2", "b@x.com", "2025-03-01 18:00", "100.00", "0", "SALE", False, "CA"),
    ("B3", "b@x.com", "2025-03-21 12:00", "200.00", "0", "SALE", False, "CA"),
    ("C1", "C", "2025-03-31 20:00", "50.00", "0", None, False, "DE"),
]
LINES = [
    # order_id, line_number, product, sku, category
    ("A1", 1, "Mug", "P1", "Mugs"),
    ("A2", 1, "Beans", "P2", "Beans"),
    ("A3", 1, "Mug", "P1", "Mugs"),
    ("A3", 2, "Dark beans", "P3", "Beans"),
    ("A4", 1, "Gift", "P4", "Gifts"),
    ("B1", 1, "Beans", "P2", "Beans"),
    ("B2", 1, "Gift", "P4", "Gifts"),
    ("B3", 1, "Gift", "P4", "Gifts"),
    ("C1", 1, "Mug", "P1", "Mugs"),
]
CUSTOMERS = [
    # customer_id, email, first_name, accepts_marketing, accepts_sms, country, city, tags
    ("A", "a@x.com", "Ann", True, False, "US", "Boston", "vip"),
    ("D", "d@x.com", "Dee", True, False, "FR", "Paris", None),
]
SESSIONS = [
    ("A", "2025-03-10 08:00", 60),
    ("A", "2025-03-30 08:00", 120),
    ("E", "2025-03-25 08:00", 600),
    ("E", "2025-03-29 08:00", 300),
    ("E", "2025-04-05 08:00", 1000),
]
CHECKOUTS = [
    ("K1", "b@x.com", "2025-03-20 10:00"),
    ("K2", "D", "2025-03-25 10:00"),
    ("K3", "A", "2025-04-02 10:00"),
]
CHECKOUT_LINES = [
    # checkout_id, line_number, product, sku
    ("K1", 1, "Gift", "P4"),
    ("K2", 1, "Big mug", "P1"),
    ("K2", 2, "Candle", None),
    ("K3", 1, "Beans", "P2"),
]
SURVEYS = [
    ("A", "2025-02-01 10:00", 7.0),
    ("A", "2025-03-01 10:00", 9.0),
    ("C", None, 4.0),
    ("C", "2025-03-15 10:00", 3.0),
    ("b@x.com", "2025-04-10 10:00", 10.0),
]

# Hand-computed features (None = NULL).
EXPECTED = {
    "A": {
        "email": "a@x.com",
        "status": "scored",
        "orders": 3,
        "net_revenue": 200.0,
        "aov": 200 / 3,
        "recency_days": 59,
        "median_days_between_orders": 15.0,
        "days_overdue": 44.0,
        "overdue_ratio": 59 / 15,
        "discount_share": 1 / 3,
        "refund_count": 1,
        "refund_rate": 1 / 3,
        "country": "US",
        "categories": ["Beans", "Mugs"],
        "category_count": 2,
        "trend_share_7d": 1.0,
        "trend_share_30d": 1.0,
        "trend_share_90d": 1.0,
        "revenue_vs_average": 200 / (850 / 3),
        "orders_vs_average": 3 / (7 / 3),
        "revenue_percentile": 200 / 3,
        "session_count": 2,
        "avg_session_seconds": 90.0,
        "session_duration_vs_average": 90 / 270,
        "days_since_last_visit": 1,
        "abandoned_checkouts": 0,
        "days_since_abandoned_checkout": None,
        "ordered_after_checkout": None,
        "abandoned_products": None,
        "abandoned_categories": None,
        "accepts_marketing": True,
        "survey_score": 9.0,
    },
    "b@x.com": {
        "email": "b@x.com",
        "status": "scored",
        "orders": 3,
        "net_revenue": 600.0,
        "aov": 200.0,
        "recency_days": 10,
        "median_days_between_orders": 20.0,
        "days_overdue": -10.0,
        "overdue_ratio": 0.5,
        "discount_share": 1.0,
        "refund_count": 0,
        "refund_rate": 0.0,
        "country": "CA",
        "categories": ["Beans", "Gifts"],
        "category_count": 2,
        "trend_share_7d": 1 / 3,
        "trend_share_30d": 2 / 3,
        "trend_share_90d": 1.0,
        "revenue_vs_average": 600 / (850 / 3),
        "orders_vs_average": 3 / (7 / 3),
        "revenue_percentile": 100.0,
        "session_count": 0,
        "avg_session_seconds": None,
        "days_since_last_visit": None,
        "abandoned_checkouts": 1,
        "days_since_abandoned_checkout": 11,
        "ordered_after_checkout": True,
        "abandoned_products": ["Gift"],
        "abandoned_categories": ["Gifts"],
        "accepts_marketing": None,
        "survey_score": None,
    },
    "C": {
        "email": None,
        "status": "scored",
        "orders": 1,
        "net_revenue": 50.0,
        "recency_days": 0,
        "median_days_between_orders": None,
        "days_overdue": None,
        "discount_share": 0.0,
        "country": "DE",
        "categories": ["Mugs"],
        "trend_share_7d": 0.0,
        "trend_share_60d": 0.0,
        "trend_share_90d": 1.0,
        "revenue_percentile": 100 / 3,
        "session_count": 0,
        "abandoned_checkouts": 0,
        "survey_score": 3.0,
    },
    "D": {
        "email": "d@x.com",
        "status": "prospect",
        "orders": 0,
        "orders_ever": 0,
        "net_revenue": 0.0,
        "aov": None,
        "recency_days": None,
        "discount_share": None,
        "refund_rate": None,
        "revenue_vs_average": None,
        "country": "FR",
        "categories": None,
        "category_count": 0,
        "trend_share_30d": None,
        "abandoned_checkouts": 1,
        "days_since_abandoned_checkout": 6,
        "ordered_after_checkout": False,
        "abandoned_products": ["Candle", "Mug"],
        "abandoned_categories": ["Mugs", "Uncategorised"],
        "accepts_marketing": True,
    },
    "E": {
        "email": None,
        "status": "prospect",
        "orders_ever": 0,
        "session_count": 2,
        "avg_session_seconds": 450.0,
        "session_duration_vs_average": 450 / 270,
        "days_since_last_visit": 2,
        "accepts_marketing": None,
    },
}


def _at(text: str | None) -> dt.datetime | None:
    return None if text is None else dt.datetime.fromisoformat(text)


def write_tiny_store(workspace: Path, name: str = DATASET, orders_only: bool = False) -> str:
    """Write the tiny store into ``workspace`` as dataset ``name`` (only the orders if asked)."""
    with store.open_for_write(workspace, name) as con:
        con.begin()
        con.executemany(
            "INSERT INTO orders (order_id, customer_id, ordered_at, order_total, refunded_amount,"
            " net_total, currency, discount_code, is_cancelled, country, ingest_id)"
            " VALUES (?, ?, ?, ?, ?, ?, 'EUR', ?, ?, ?, 1)",
            [
                (o, c, _at(at), Decimal(t), Decimal(r), Decimal(t) - Decimal(r), code, x, country)
                for o, c, at, t, r, code, x, country in ORDERS
            ],
        )
        if not orders_only:
            con.executemany(
                "INSERT INTO order_lines (order_id, line_number, product, sku, quantity, price,"
                " category, ingest_id) VALUES (?, ?, ?, ?, 1, 10, ?, 1)",
                LINES,
            )
            con.executemany(
                "INSERT INTO customers (customer_id, email, first_name, accepts_marketing,"
                " accepts_sms, country, city, tags, ingest_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 2)",
                CUSTOMERS,
            )
            con.executemany(
                "INSERT INTO sessions (customer_id, started_at, duration_seconds, ingest_id)"
                " VALUES (?, ?, ?, 3)",
                [(c, _at(at), d) for c, at, d in SESSIONS],
            )
            con.executemany(
                "INSERT INTO abandoned_checkouts (checkout_id, customer_id, created_at, total,"
                " ingest_id) VALUES (?, ?, ?, 20, 4)",
                [(k, c, _at(at)) for k, c, at in CHECKOUTS],
            )
            con.executemany(
                "INSERT INTO checkout_lines (checkout_id, line_number, product, sku, quantity,"
                " price, ingest_id) VALUES (?, ?, ?, ?, 1, 20, 4)",
                CHECKOUT_LINES,
            )
            con.executemany(
                "INSERT INTO survey_scores (customer_id, answered_at, score, ingest_id)"
                " VALUES (?, ?, ?, 5)",
                [(c, _at(at), s) for c, at, s in SURVEYS],
            )
        con.commit()
    return name


# preset key -> (parameter values, members with those values), from the features above.
PRESET_CASES: dict[str, tuple[dict[str, object], set[str]]] = {
    "top_spenders": ({}, {"b@x.com"}),
    "loyal": ({"orders_multiple": 1.0}, {"b@x.com"}),
    "high_value": ({"orders": 2, "revenue": 500.0}, {"b@x.com"}),
    "one_time": ({}, {"C"}),
    "lapsed": ({"days": 30}, {"A"}),
    "at_risk": ({}, {"A"}),
    "replenishment_due": ({}, {"b@x.com"}),
    # No product has the 5 repeat purchases a cycle needs (tests/products/test_replenishment.py).
    "product_replenishment_due": ({}, set()),
    "coupon": ({"share": 30.0}, {"A", "b@x.com"}),
    "returners": ({}, {"A"}),
    "abandoned_carts": ({}, {"D"}),
    "abandoned_product_carts": ({"products": ["Mug", "Gift"]}, {"D"}),
    "abandoned_category_carts": ({"categories": ["Uncategorised"]}, {"D"}),
    "indecisive": ({}, {"E"}),
    "curious": ({}, {"E"}),
    "prospects": ({}, {"D", "E"}),
    "newsletter": ({}, {"A", "D"}),
    "location": ({"countries": ["CA", "DE"]}, {"b@x.com", "C"}),
    "trend_followers": ({"launch_days": 7}, {"A"}),
    "satisfied": ({}, {"A"}),
    "dissatisfied": ({}, {"C"}),
    "by_channel": ({"channels": ["Unattributed"]}, {"A", "b@x.com", "C"}),
}
# Presets on predicted fields: their members here follow a fit on three buyers, so they are
# checked by hand on a written-out feature table instead (behaviour/test_predicted_features.py).
PREDICTION_PRESETS = {"high_value_at_risk", "likely_to_buy_again"}
# With their defaults, these presets find nobody in the tiny store.
EMPTY_BY_DEFAULT = {"loyal", "high_value", "lapsed"}
# A hand-built segment with two conditions: repeat buyers in the US or Canada.
TWO_CONDITION_DOCUMENT = {
    "match": "all",
    "groups": [
        {
            "match": "all",
            "conditions": [
                {"feature": "orders", "operator": ">=", "value": 2},
                {"feature": "country", "operator": "in", "value": ["US", "CA"]},
            ],
        }
    ],
}
TWO_CONDITION_MEMBERS = {"A", "b@x.com"}
