"""The studio shop (tests/studio_shop.py) plus two customers, for who entered or left a segment.

Same custom cut points and dates (2024-03-31 -> 2024-06-30), Shopify scheme (R x FM, FM the
rounded-up mean of F and M). Scores: R5 < 20 d, R4 < 45, R3 < 90, R2 < 180, else R1; F1 < 2
orders, F2 < 3, F3 < 5, F4 < 10; M1 < 100, M2 < 200, M3 < 300, M4 < 400.

customer  orders (date: net total)         at 2024-03-31            at 2024-06-30
ann       as in studio_shop                Active                   Loyal (37 d, 3, 350; R4F3M4)
bob       06-30: 10 (not in the file)      Not a customer yet       New (0 d, 1, 10; R5F1M1)
cy        none (customers file only)       Not a customer yet       Prospects
dee       as in studio_shop                Champions                Previously loyal (R2F4M5)
eve       as in studio_shop                Dormant                  Dormant
gus       03-06: 60, 03-16: 60             15 d, 2, 120 R5 FM2      106 d, 2, 120 R2F2M2
                                           -> Active                -> Dormant
hal       04-05: 50 (not in the file)      Not a customer yet       86 d, 1, 50 R3F1M1
                                                                    -> Almost lost
"""

from __future__ import annotations

from collections.abc import Callable

from studio_shop import CUSTOMERS, DATASET, ORDERS

MORE_ORDERS = [
    {"order_id": "G1", "customer_id": "gus", "ordered_at": "2024-03-06 10:00", "order_total": 60},
    {"order_id": "G2", "customer_id": "gus", "ordered_at": "2024-03-16 10:00", "order_total": 60},
    {"order_id": "H1", "customer_id": "hal", "ordered_at": "2024-04-05 10:00", "order_total": 50},
]


def load_movers_shop(make_dataset: Callable[..., str]) -> str:
    """Write the studio shop with gus and hal added; return the dataset's name."""
    return make_dataset(DATASET, [*ORDERS, *MORE_ORDERS], customers=[*CUSTOMERS, "gus"])
