"""The hand-computed shop the studio tests share (checked in tests/rfm/test_studio_shop.py).

Cut points (5 scores): recency 20, 45, 90, 180 days; frequency 2, 3, 5, 10 orders; monetary
100, 200, 300, 400. Analysis date 2024-06-30 (the latest order); the earlier date 2024-03-31.

customer  orders (date: net total)                      at 2024-06-30         at 2024-03-31
ann       01-15: 100, 03-01: 120, 05-24: 130            37 d, 3, 350 R4F3M4   30 d, 2, 220 R4F2M3
bob       06-30: 10                                     0 d, 1, 10 R5F1M1     not a customer yet
dee       6 orders 2023-10-01 .. 2024-03-22 (500)       100 d, 6, 500 R2F4M5  9 d, 6, 500 R5F4M5
eve       2023-11-01: 50, 12-13: 100, 04-10 cancelled   200 d, 2, 150 R1F2M2  109 d, 2, 150 R2F2M2
cy        none (customers file only)                    prospect              not a customer yet

Shopify at 2024-06-30: ann FM (3+4)/2 = 3.5 -> 4, R4 x FM4 = Loyal; bob R5 x FM1 = New; dee
FM 4.5 -> 5, R2 x FM5 = Previously loyal; eve R1 x FM2 = Dormant.
At 2024-03-31: ann FM 2.5 -> 3, R4 x FM3 = Active; dee R5 x FM5 = Champions; eve R2 x FM2 = Dormant.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from dashboard.rfm import cut_points

AS_OF = dt.date(2024, 6, 30)
DATE_FROM = dt.date(2024, 3, 31)
CUTS = cut_points.Cuts(
    (20.0, 45.0, 90.0, 180.0), (2.0, 3.0, 5.0, 10.0), (100.0, 200.0, 300.0, 400.0)
)
DATASET = "hand"
DEE_DAYS = ["2023-10-01", "2023-11-01", "2023-12-01", "2024-01-10", "2024-02-20", "2024-03-22"]
ORDERS = [
    {"order_id": "A1", "customer_id": "ann", "ordered_at": "2024-01-15 10:00", "order_total": 100},
    {"order_id": "A2", "customer_id": "ann", "ordered_at": "2024-03-01 10:00", "order_total": 120},
    {"order_id": "A3", "customer_id": "ann", "ordered_at": "2024-05-24 18:30", "order_total": 130},
    {"order_id": "B1", "customer_id": "bob", "ordered_at": "2024-06-30 09:00", "order_total": 10},
    *[
        {"order_id": f"D{i}", "customer_id": "dee", "ordered_at": f"{day} 12:00", "order_total": v}
        for i, (day, v) in enumerate(zip(DEE_DAYS, [100, 50, 50, 100, 100, 100], strict=True))
    ],
    {"order_id": "E1", "customer_id": "eve", "ordered_at": "2023-11-01 08:00", "order_total": 50},
    {"order_id": "E2", "customer_id": "eve", "ordered_at": "2023-12-13 08:00", "order_total": 100},
    {
        "order_id": "E3",
        "customer_id": "eve",
        "ordered_at": "2024-04-10 08:00",
        "order_total": 80,
        "is_cancelled": True,
    },
]
# bob is not in the customers file, so before his first order he is unknown.
CUSTOMERS = ["ann", "cy", "dee", "eve"]


def load_shop(make_dataset: Callable[..., str]) -> str:
    """Write the hand-computed shop with the conftest ``make_dataset`` and return its name."""
    return make_dataset(DATASET, ORDERS, customers=CUSTOMERS)
