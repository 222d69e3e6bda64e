"""Write ``shopify_customers.csv``: the Shopify customers export of everyone the store knows."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from dashboard.demo.catalogue import COUNTRIES, EMAIL
from dashboard.demo.columns import CUSTOMER_COLUMNS, format_money
from dashboard.demo.orders import Orders
from dashboard.demo.people import People


def write_customers(path: Path, people: People, orders: Orders) -> None:
    """Write the customers export: buyers (totals over non-cancelled orders) and prospects."""
    n = len(people.first_day)
    valid = (orders.person >= 0) & ~orders.cancelled
    owner = orders.person[valid]
    total_orders = np.bincount(owner, minlength=n)
    spent = np.bincount(owner, weights=(orders.total - orders.refunded)[valid], minlength=n)
    spent = np.rint(spent).astype(np.int64)
    column = {name: i for i, name in enumerate(CUSTOMER_COLUMNS)}
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(CUSTOMER_COLUMNS)
        for p in np.argsort(people.customer_ids, kind="stable").tolist():
            is_prospect = p >= people.n_buyers
            row = [""] * len(CUSTOMER_COLUMNS)
            row[column["Customer ID"]] = str(people.customer_ids[p])
            row[column["First Name"]] = people.first_names[p]
            row[column["Last Name"]] = people.last_names[p]
            row[column["Email"]] = people.emails[p]
            row[column["Accepts Email Marketing"]] = "yes" if people.accepts_email[p] else "no"
            row[column["Accepts SMS Marketing"]] = "yes" if people.accepts_sms[p] else "no"
            # Newsletter sign-ups leave an email, not an address; a third give their city.
            if not is_prospect or p % 3 == 0:
                country = COUNTRIES[people.country[p]]
                city, province, _, zip_code = country.cities[people.city[p]]
                row[column["Default Address City"]] = city
                row[column["Default Address Province Code"]] = province
                row[column["Default Address Country Code"]] = country.code
                if not is_prospect:
                    row[column["Default Address Address1"]] = people.addresses[p]
                    row[column["Default Address Zip"]] = zip_code
                    row[column["Default Address Phone"]] = people.phones[p]
            row[column["Phone"]] = people.phones[p]
            row[column["Total Spent"]] = format_money(int(spent[p]))
            row[column["Total Orders"]] = str(total_orders[p])
            row[column["Tax Exempt"]] = "no"
            tags = []
            if is_prospect or people.channel[p] == EMAIL:
                tags.append("newsletter")
            if spent[p] >= 50_000:
                tags.append("VIP")
            row[column["Tags"]] = ", ".join(tags)
            writer.writerow(row)
