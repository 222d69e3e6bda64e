"""Small Shopify orders exports carrying acquisition evidence, written cell by cell.

Shared by tests/ingest/test_ingest_tracking.py (what ingest stores) and
tests/acquisition/test_attribution_evidence.py (the channels those orders get).
"""

from __future__ import annotations

import csv
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"
ELEVAR = (
    '_elevar_visitor_info: {"user_id":"8f1c","utm_source":"facebook",'
    '"utm_medium":"paidsocial","utm_campaign":"spring_sale","fbclid":null,"gclid":""}'
)


def shopify_header() -> list[str]:
    """The 79-column header of Shopify's orders export (tests/fixtures)."""
    with (FIXTURES / "shopify_orders_export_example.csv").open(newline="", encoding="utf-8") as fh:
        return next(csv.reader(fh))


def write_export(path: Path, orders: list[dict[str, str]], extra: tuple[str, ...] = ()) -> Path:
    """One line item per order, every column empty unless given; ``extra`` columns appended."""
    header = [*shopify_header(), *extra]
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        for number, order in enumerate(orders, start=1):
            writer.writerow(
                {
                    "Name": f"#{number}",
                    "Financial Status": "paid",
                    "Currency": "USD",
                    "Total": "20.00",
                    "Created at": f"2025-03-0{number % 9 + 1} 10:00:00 -0500",
                    "Lineitem quantity": "1",
                    "Lineitem name": "Mug",
                    "Lineitem price": "20.00",
                    "Source": "web",
                    **order,
                }
            )
    return path


# The six customers of the attribution tests (tests/acquisition/test_attribution_evidence.py).
SIX_CUSTOMERS = [
    {"Email": "json@example.com", "Note Attributes": f"{ELEVAR}\nsession_count: 2"},
    {"Email": "lines@example.com", "Note Attributes": "utm_source: attentive\nutm_medium: text"},
    {
        "Email": "landing@example.com",
        "Note Attributes": "landing_site: /collections/all?utm_source=newsletter&utm_medium="
        "email&utm_campaign=may+drop%21",
    },
    {
        "Email": "fbclid@example.com",
        "Note Attributes": "_landing_page: https://shop.example/products/mug?fbclid=IwAR0xyz",
    },
    {"Email": "web@example.com", "Source": "web"},
    {"Email": "code@example.com", "Source": "580111", "Discount Code": "ANNA15"},
]
