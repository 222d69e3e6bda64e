"""Abandoned checkouts: carts filled and left before paying, and ``abandoned_checkouts.csv``.

``draw_checkouts`` -> ``Checkouts`` (about 8,000, sorted by creation time); ``write_checkouts``
writes them as Shopify's abandoned checkouts export (``CHECKOUT_COLUMNS``, line-item rows).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dashboard.demo.attribution import encode_channel
from dashboard.demo.baskets import ABANDONED, Baskets, draw_baskets, price_baskets
from dashboard.demo.catalogue import CHANNELS, COUNTRIES, EMAIL, PRODUCTS
from dashboard.demo.columns import CHECKOUT_COLUMNS, ORDER_COLUMNS, format_money
from dashboard.demo.order_rows import ORDER_INDEX, expand_line_rows, fill_address
from dashboard.demo.orders import Orders
from dashboard.demo.people import People
from dashboard.demo.timeline import DAY_SECONDS, LAST_SECOND, format_shopify

_CHECKOUT_ID_BASE = 2_900_000_000_000


@dataclass(frozen=True)
class Checkouts:
    """One entry per abandoned checkout, sorted by creation time."""

    created: np.ndarray  # local seconds since opening
    person: np.ndarray  # index into People: buyers and prospects
    baskets: Baskets


def draw_checkouts(rng: np.random.Generator, people: People, orders: Orders) -> Checkouts:
    """Abandoned checkouts: before a first order, between orders, after the last one, prospects."""
    known = orders.person >= 0
    person = orders.person[known]
    created = orders.created[known]
    first_seconds = np.full(people.n_buyers, LAST_SECOND)
    np.minimum.at(first_seconds, person, created)
    last_seconds = np.zeros(people.n_buyers, dtype=np.int64)
    np.maximum.at(last_seconds, person, created)
    day = DAY_SECONDS

    before = rng.integers(0, people.n_buyers, size=2600)
    before_at = first_seconds[before] - rng.integers(3600, 10 * day, size=len(before))
    after = rng.integers(0, people.n_buyers, size=3200)
    after_at = last_seconds[after] + rng.integers(day, 120 * day, size=len(after))
    between = rng.integers(0, len(person), size=900)
    between_at = created[between] - rng.integers(3 * day, 20 * day, size=len(between))
    prospects = rng.integers(people.n_buyers, len(people.first_day), size=2700)
    prospects_at = (
        people.first_day[prospects] * day
        + rng.integers(0, 60 * day, size=len(prospects))
        + rng.integers(0, day, size=len(prospects))
    )
    who = np.concatenate([before, after, person[between], prospects])
    at = np.concatenate([before_at, after_at, between_at, prospects_at])
    keep = (at >= 0) & (at <= LAST_SECOND)
    who, at = who[keep], at[keep]
    order = np.argsort(at, kind="stable")
    who, at = who[order], at[order]
    is_buyer = who < people.n_buyers
    factor = np.array([c.basket_factor for c in CHANNELS])[
        np.where(is_buyer, people.channel[who], 0)
    ]
    baskets = draw_baskets(
        rng,
        at // day,
        np.full(len(at), ABANDONED),
        people.trend_follower[who],
        factor,
        np.zeros((len(at), len(PRODUCTS)), dtype=bool),
    )
    return Checkouts(created=at, person=who, baskets=baskets)


def write_checkouts(
    path: Path, rng: np.random.Generator, people: People, checkouts: Checkouts
) -> None:
    """Write the 70-column abandoned checkouts export (``CHECKOUT_COLUMNS``), line-item rows."""
    baskets, who = checkouts.baskets, checkouts.person
    n = len(checkouts.created)
    stamps = format_shopify(checkouts.created)
    checkout_ids = _CHECKOUT_ID_BASE + np.cumsum(rng.integers(50, 400, size=n))
    u = rng.random(n)
    pick = rng.integers(0, 1000, size=n)
    with_code = rng.random(n) < 0.1
    codes = [("WELCOME10" if w else "") for w in with_code.tolist()]
    country = people.country[who]
    discount, shipping, tax, total = price_baskets(baskets, codes, country, np.zeros(n, dtype=bool))
    line_bounds = np.searchsorted(baskets.owner, np.arange(n + 1))
    keep = [ORDER_COLUMNS.index(c) for c in CHECKOUT_COLUMNS]
    column = ORDER_INDEX
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(CHECKOUT_COLUMNS)
        for k in range(n):
            p = int(who[k])
            channel = int(people.channel[p]) if p < people.n_buyers else EMAIL
            source, note_attributes, _ = encode_channel(channel, float(u[k]), int(pick[k]), True)
            if source in ("pos", "shopify_draft_order"):
                source = "web"  # only online checkouts can be abandoned
            row = [""] * len(ORDER_COLUMNS)
            row[column["Name"]] = f"#{checkout_ids[k]}"
            row[column["Id"]] = str(checkout_ids[k])
            row[column["Email"]] = people.emails[p]
            row[column["Accepts Marketing"]] = "yes" if people.accepts_email[p] else "no"
            row[column["Created at"]] = stamps[k]
            row[column["Currency"]] = "USD"
            row[column["Subtotal"]] = format_money(int(baskets.subtotal[k]))
            row[column["Shipping"]] = format_money(int(shipping[k]))
            row[column["Taxes"]] = format_money(int(tax[k]))
            row[column["Total"]] = format_money(int(total[k]))
            row[column["Discount Code"]] = codes[k]
            row[column["Discount Amount"]] = format_money(int(discount[k]))
            row[column["Shipping Method"]] = "Standard" if shipping[k] else "Free Shipping"
            row[column["Note Attributes"]] = note_attributes
            row[column["Source"]] = source
            row[column["Tax 1 Name"]] = COUNTRIES[country[k]].tax_name
            row[column["Tax 1 Value"]] = format_money(int(tax[k]))
            fill_address(row, people, p, "")
            for line in expand_line_rows(row, baskets, line_bounds[k], line_bounds[k + 1], ""):
                writer.writerow([line[i] for i in keep])
