"""Everyone the demo store knows: buyers by the day of their first order, then newsletter prospects.

``draw_people(rng)`` -> ``People``: one entry per person in parallel arrays and lists, buyers at
indexes ``0 .. n_buyers - 1`` and about 6,000 prospects after them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dashboard.demo.catalogue import (
    CHANNELS,
    COUNTRIES,
    EMAIL,
    FIRST_NAMES,
    LAST_NAMES,
    PRODUCTS,
    STREETS,
)
from dashboard.demo.timeline import N_DAYS, OPENING_DATE, compute_season_factors

_CUSTOMER_ID_BASE = 7_100_000_000_000
_PROSPECTS = 6_000


@dataclass(frozen=True)
class People:
    """Everyone the store knows: buyers first (index < n_buyers), then newsletter prospects."""

    n_buyers: int
    first_day: np.ndarray  # day index of first order (buyers) or sign-up (prospects)
    channel: np.ndarray  # acquisition channel index; -1 for prospects
    country: np.ndarray
    city: np.ndarray
    accepts_email: np.ndarray
    accepts_sms: np.ndarray
    coupon_only: np.ndarray
    returner: np.ndarray
    trend_follower: np.ndarray
    messy_email: np.ndarray  # writes their email with varying case/whitespace on some orders
    prospect_kind: np.ndarray  # 0 ordinary, 1 indecisive, 2 curious (prospects only)
    favourite_bean: np.ndarray  # index into PRODUCTS of a bean launched by first_day
    emails: list[str]
    first_names: list[str]
    last_names: list[str]
    addresses: list[str]
    phones: list[str]
    customer_ids: np.ndarray


def _compute_acquisition_rate(days: np.ndarray) -> np.ndarray:
    """Expected new customers per day: a launch wave, then a slower second growth wave."""
    launch = 11.0 / (1.0 + np.exp(-0.05 * (days - 105.0)))
    scale_up = 49.0 / (1.0 + np.exp(-0.012 * (days - 480.0)))
    return 0.5 + launch + scale_up


def draw_people(rng: np.random.Generator) -> People:
    """Draw buyers (by day of first order) and newsletter prospects, with traits and contacts."""
    days = np.arange(N_DAYS)
    rate = _compute_acquisition_rate(days) * compute_season_factors()
    new_buyers = rng.poisson(rate)
    new_buyers[0] = max(new_buyers[0], 2)  # the store's opening-day sales
    buyer_day = np.repeat(days, new_buyers)
    n_buyers = len(buyer_day)

    progress = (buyer_day / (N_DAYS - 1))[:, None]
    early = np.array([c.early_share for c in CHANNELS])
    late = np.array([c.late_share for c in CHANNELS])
    shares = (1 - progress) * early + progress * late
    cumulative = np.cumsum(shares / shares.sum(axis=1, keepdims=True), axis=1)
    channel = (rng.random(n_buyers)[:, None] > cumulative).sum(axis=1)
    channel = np.minimum(channel, len(CHANNELS) - 1)

    signup_p = rate / rate.sum()
    prospect_day = np.sort(rng.choice(N_DAYS, size=_PROSPECTS, p=signup_p))
    first_day = np.concatenate([buyer_day, prospect_day])
    channel = np.concatenate([channel, np.full(_PROSPECTS, -1)])
    n = len(first_day)
    is_prospect = np.arange(n) >= n_buyers

    country_p = np.array([c.share for c in COUNTRIES])
    country = rng.choice(len(COUNTRIES), size=n, p=country_p / country_p.sum())
    city = (rng.random(n) * np.array([len(COUNTRIES[c].cities) for c in country])).astype(int)
    accepts_email = np.where(
        is_prospect, rng.random(n) < 0.9, (rng.random(n) < 0.5) | (channel == EMAIL)
    )
    accepts_sms = rng.random(n) < 0.12
    prospect_kind = np.where(is_prospect, rng.choice(3, size=n, p=[0.62, 0.16, 0.22]), 0)

    # Emails are numbered in order of first appearance, as a store's sign-up log would be.
    number = np.empty(n, dtype=np.int64)
    number[np.lexsort((rng.random(n), first_day))] = np.arange(1, n + 1)
    first_idx = rng.integers(0, len(FIRST_NAMES), size=n)
    last_idx = rng.integers(0, len(LAST_NAMES), size=n)
    house = rng.integers(1, 400, size=n)
    street = rng.integers(0, len(STREETS), size=n)
    has_phone = rng.random(n) < 0.25
    phone_tail = rng.integers(0, 100, size=n)
    return People(
        n_buyers=n_buyers,
        first_day=first_day,
        channel=channel,
        country=country,
        city=city,
        accepts_email=accepts_email,
        accepts_sms=accepts_sms,
        coupon_only=~is_prospect & (rng.random(n) < 0.05),
        returner=~is_prospect & (rng.random(n) < 0.06),
        trend_follower=~is_prospect & (rng.random(n) < 0.08),
        messy_email=~is_prospect & (rng.random(n) < 0.04),
        prospect_kind=prospect_kind,
        emails=[f"customer{k:05d}@example.com" for k in number.tolist()],
        first_names=[FIRST_NAMES[i] for i in first_idx.tolist()],
        last_names=[LAST_NAMES[i] for i in last_idx.tolist()],
        addresses=[
            f"{h} {STREETS[s]}" for h, s in zip(house.tolist(), street.tolist(), strict=True)
        ],
        # 555-01xx numbers are reserved for fiction.
        phones=[
            f"+1 555-01{t:02d}" if p else ""
            for p, t in zip(has_phone.tolist(), phone_tail.tolist(), strict=True)
        ],
        customer_ids=_CUSTOMER_ID_BASE + number * 131 + rng.integers(0, 100, size=n),
        # Drawn last, so every earlier trait keeps its draws.
        favourite_bean=_choose_favourite_beans(rng, first_day),
    )


def _choose_favourite_beans(rng: np.random.Generator, first_day: np.ndarray) -> np.ndarray:
    """Per person, a bean launched by ``first_day`` drawn by popularity (index into PRODUCTS)."""
    beans = np.array([k for k, p in enumerate(PRODUCTS) if p.category == "Coffee Beans"])
    launch = np.array([(PRODUCTS[k].launched - OPENING_DATE).days for k in beans])
    popularity = np.array([PRODUCTS[k].popularity for k in beans])
    weights = np.where(first_day[:, None] >= launch[None, :], popularity[None, :], 0.0)
    with np.errstate(divide="ignore"):
        keys = np.log(weights) + rng.gumbel(size=weights.shape)
    return beans[np.argmax(keys, axis=1)]
