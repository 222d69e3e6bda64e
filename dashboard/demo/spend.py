"""Write ``marketing_spend.csv``: the store's monthly marketing spend by channel and purpose.

Columns ``SPEND_COLUMNS``: ``month`` (``YYYY-MM``), ``channel`` (as marketers name it: Google Ads,
Meta Ads, Klaviyo, ...), ``spend`` (dollars), ``purpose`` (``acquisition`` or ``retention``); for
every month since opening.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from dashboard.demo.catalogue import AFFILIATES, CHANNELS, ORGANIC_SOCIAL, PAID_SEARCH, PAID_SOCIAL
from dashboard.demo.columns import SPEND_COLUMNS, format_money
from dashboard.demo.orders import Orders
from dashboard.demo.people import People
from dashboard.demo.timeline import DAY_SECONDS, list_days


def write_spend(path: Path, rng: np.random.Generator, people: People, orders: Orders) -> None:
    """Write ``marketing_spend.csv``: month, channel (as marketers name it), spend, purpose."""
    months = sorted({(d.year, d.month) for d in list_days()})
    month_of_day = np.array([months.index((d.year, d.month)) for d in list_days()])
    buyer_month = month_of_day[people.first_day[: people.n_buyers]]
    new = np.zeros((len(months), len(CHANNELS)))
    np.add.at(new, (buyer_month, people.channel[: people.n_buyers]), 1)
    social_repeat = (orders.channel == PAID_SOCIAL) & ~orders.is_first & (orders.person >= 0)
    social_repeat_orders = np.bincount(
        month_of_day[orders.created[social_repeat] // DAY_SECONDS], minlength=len(months)
    )
    profiles = np.cumsum(np.bincount(month_of_day[people.first_day], minlength=len(months)))

    rows = []
    for m, (year, month) in enumerate(months):
        progress = m / (len(months) - 1)
        lines = [
            ("Google Ads", "acquisition", max(250.0, new[m, PAID_SEARCH] * (30 + 12 * progress))),
            ("Meta Ads", "acquisition", max(300.0, new[m, PAID_SOCIAL] * (55 - 17 * progress))),
            ("Klaviyo", "retention", 45 + 0.012 * profiles[m]),
        ]
        if (year, month) >= (2025, 1):
            lines.append(("Affiliate network", "acquisition", 99 + new[m, AFFILIATES] * 16))
        if (year, month) >= (2025, 3):
            lines.append(("TikTok Ads", "acquisition", new[m, ORGANIC_SOCIAL] * 0.5 * 30))
            lines.append(("SEO agency", "acquisition", 1500.0 if year == 2025 else 2500.0))
        if (year, month) >= (2025, 6):
            lines.append(("Meta Ads", "retention", max(150.0, social_repeat_orders[m] * 8.0)))
        if (year, month) >= (2025, 8):
            lines.append(("Loyalty app", "retention", 49.0 if year == 2025 else 199.0))
        if (year, month) >= (2025, 9):
            lines.append(("Email agency", "retention", 1200 + 1300 * progress))
        for channel, purpose, amount in lines:
            noisy = round(amount * float(np.exp(rng.normal(0, 0.08))) * 100)
            rows.append((f"{year}-{month:02d}", channel, format_money(noisy), purpose))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(SPEND_COLUMNS)
        writer.writerows(rows)
