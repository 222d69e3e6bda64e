"""Write ``sessions.csv``: the store's web sessions of known emails, about 200,000 rows.

Columns ``SESSION_COLUMNS``: ``customer_email, started_at`` (local ``YYYY-MM-DD HH:MM:SS``),
``duration_seconds, pages_viewed, added_to_cart, purchased`` (``true``/``false``), sorted by
``started_at`` then email.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from dashboard.demo.checkouts import Checkouts
from dashboard.demo.columns import SESSION_COLUMNS
from dashboard.demo.orders import Orders
from dashboard.demo.people import People
from dashboard.demo.timeline import DAY_SECONDS, LAST_SECOND, format_local


def write_sessions(
    path: Path,
    rng: np.random.Generator,
    people: People,
    orders: Orders,
    checkouts: Checkouts,
) -> None:
    """Write ``sessions.csv``: purchase sessions, research before orders, checkouts, prospects."""
    day = DAY_SECONDS
    known = orders.person >= 0
    buyer = orders.person[known]
    bought_at = orders.created[known]
    first = orders.is_first[known]

    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, float, bool]] = []
    # (person, start seconds, mean duration seconds, add-to-cart chance, purchased)
    purchase_duration = np.exp(rng.normal(np.log(420), 0.5, size=len(buyer))).astype(np.int64)
    parts.append((buyer, bought_at - purchase_duration, purchase_duration, 1.0, True))

    research = rng.poisson(np.where(first, 2.0, 1.0))
    who = np.repeat(buyer, research)
    start = np.repeat(bought_at, research) - rng.integers(2 * 3600, 12 * day, size=len(who))
    parts.append((who, start, _draw_durations(rng, len(who), 300), 0.25, False))

    last_seconds = np.zeros(people.n_buyers, dtype=np.int64)
    np.maximum.at(last_seconds, buyer, bought_at)
    browse = rng.poisson(1.2, size=people.n_buyers)
    who = np.repeat(np.arange(people.n_buyers), browse)
    start = last_seconds[who] + rng.integers(day, 200 * day, size=len(who))
    parts.append((who, start, _draw_durations(rng, len(who), 240), 0.15, False))

    checkout_duration = _draw_durations(rng, len(checkouts.created), 500)
    parts.append(
        (checkouts.person, checkouts.created - checkout_duration, checkout_duration, 1.0, False)
    )

    prospects = np.arange(people.n_buyers, len(people.first_day))
    kind = people.prospect_kind[prospects]
    signed_up = people.first_day[prospects] * day
    ordinary = prospects[kind == 0]
    count = 1 + rng.poisson(1.0, size=len(ordinary))
    who = np.repeat(ordinary, count)
    start = people.first_day[who] * day + rng.integers(-2 * day, 30 * day, size=len(who))
    parts.append((who, start, _draw_durations(rng, len(who), 200), 0.1, False))
    indecisive = prospects[kind == 1]
    count = rng.integers(6, 21, size=len(indecisive))
    who = np.repeat(indecisive, count)
    span = np.maximum(day, LAST_SECOND - people.first_day[who] * day)
    start = people.first_day[who] * day + (rng.random(len(who)) * span).astype(np.int64)
    parts.append((who, start, _draw_durations(rng, len(who), 1500), 0.35, False))
    curious = prospects[kind == 2]
    count = rng.integers(1, 4, size=len(curious))
    who = np.repeat(curious, count)
    recent_from = np.maximum(signed_up[kind == 2], LAST_SECOND - 30 * day)
    start = np.repeat(recent_from, count)
    start = start + (rng.random(len(who)) * (LAST_SECOND - start)).astype(np.int64)
    parts.append((who, start, _draw_durations(rng, len(who), 180), 0.05, False))

    who = np.concatenate([p[0] for p in parts])
    start = np.concatenate([p[1] for p in parts])
    duration = np.concatenate([p[2] for p in parts])
    cart = np.concatenate([rng.random(len(p[0])) < p[3] for p in parts])
    purchased = np.concatenate([np.full(len(p[0]), p[4]) for p in parts])
    # A purchase session may not start before opening day; other sessions simply did not happen.
    start = np.where(purchased, np.maximum(start, 0), start)
    keep = (start >= 0) & (start <= LAST_SECOND)
    who, start, duration, cart, purchased = (
        a[keep] for a in (who, start, duration, cart, purchased)
    )
    pages = 1 + rng.poisson(duration / 70)
    emails = np.array(people.emails)[who]
    order = np.lexsort((emails, start))
    stamps = format_local(start[order])
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(SESSION_COLUMNS)
        writer.writerows(
            zip(
                emails[order].tolist(),
                stamps,
                duration[order].tolist(),
                pages[order].tolist(),
                np.where(cart[order], "true", "false").tolist(),
                np.where(purchased[order], "true", "false").tolist(),
                strict=True,
            )
        )


def _draw_durations(rng: np.random.Generator, n: int, median_seconds: float) -> np.ndarray:
    """``n`` session lengths in seconds, log-normal around ``median_seconds``, 5 s to 2 hours."""
    return np.clip(np.exp(rng.normal(np.log(median_seconds), 0.7, size=n)), 5, 7200).astype(
        np.int64
    )
