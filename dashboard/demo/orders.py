"""Every order of the demo store: who orders when, what, through which channel, at what price.

``draw_orders(rng, people)`` -> ``Orders``: about 60,000 orders over two years, one entry per
order sorted by creation time, money in cents, guests (no person) about 2% of orders.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dashboard.demo.attribution import encode_channel
from dashboard.demo.baskets import (
    FIRST_ONCE,
    FIRST_REGULAR,
    REPEAT,
    Baskets,
    draw_baskets,
    find_product,
    price_baskets,
)
from dashboard.demo.catalogue import (
    AFFILIATES,
    CHANNELS,
    DIRECT,
    EMAIL,
    INFLUENCER_CODES,
    ORGANIC_SOCIAL,
    PARTNER_CODES,
    PRODUCTS,
    REPEAT_CHANNEL_SHARE,
)
from dashboard.demo.people import People
from dashboard.demo.timeline import (
    BLACK_FRIDAYS,
    DAY_SECONDS,
    N_DAYS,
    OPENING_DATE,
    draw_time_of_day,
    find_promo_code,
    list_days,
)

_GUEST_SHARE = 0.02
_FILTERS = find_product("BREW-FLT")
_DRIPPER = find_product("BREW-DRP")


@dataclass(frozen=True)
class Orders:
    """One entry per order, sorted by creation time; money in cents."""

    person: np.ndarray  # -1 for guest orders
    created: np.ndarray  # local seconds since opening
    channel: np.ndarray
    is_first: np.ndarray
    codes: list[str]
    sources: list[str]
    note_attributes: list[str]
    tags: list[str]
    baskets: Baskets
    discount: np.ndarray
    shipping: np.ndarray
    tax: np.ndarray
    total: np.ndarray
    refunded: np.ndarray
    cancelled: np.ndarray
    zero_kind: np.ndarray  # 0 normal, 1 exchange, 2 free sample (Total 0.00)


def draw_orders(rng: np.random.Generator, people: People) -> Orders:
    """Simulate every order (buyers and guests) sorted by creation time, with money and outcomes."""
    person, day, is_first, bfcm_extra, regular, replenish = _draw_order_days(rng, people)
    n_guests = round(len(day) * _GUEST_SHARE / (1 - _GUEST_SHARE))
    person = np.concatenate([person, np.full(n_guests, -1)])
    day = np.concatenate([day, rng.choice(day, size=n_guests)])
    no_guest = np.zeros(n_guests, dtype=bool)
    is_first, bfcm_extra, regular = (
        np.concatenate([a, no_guest]) for a in (is_first, bfcm_extra, regular)
    )
    replenish = np.concatenate([replenish, np.zeros((n_guests, 3), dtype=bool)])
    created = day * DAY_SECONDS + draw_time_of_day(rng, len(day))
    order = np.argsort(created, kind="stable")
    person, day, is_first, bfcm_extra, regular, replenish, created = (
        a[order] for a in (person, day, is_first, bfcm_extra, regular, replenish, created)
    )
    n = len(day)
    known = person >= 0
    safe_person = np.where(known, person, 0)

    repeat_channel = rng.choice(len(CHANNELS), size=n, p=REPEAT_CHANNEL_SHARE)
    bfcm_channel = np.where(rng.random(n) < 0.7, EMAIL, repeat_channel)
    channel = np.where(bfcm_extra, bfcm_channel, repeat_channel)
    channel = np.where(is_first, people.channel[safe_person], channel)
    channel = np.where(known, channel, DIRECT)

    factor = np.array([c.basket_factor for c in CHANNELS])[people.channel[safe_person]]
    must = np.zeros((n, len(PRODUCTS)), dtype=bool)
    must[np.nonzero(known)[0], people.favourite_bean[person[known]]] = replenish[known, 0]
    must[:, _FILTERS] = replenish[:, 1]
    must[:, _DRIPPER] = replenish[:, 2]
    kind = np.where(regular, FIRST_REGULAR, FIRST_ONCE)
    baskets = draw_baskets(
        rng,
        day,
        np.where(is_first | ~known, kind, REPEAT),
        known & people.trend_follower[safe_person],
        np.where(known, factor, 1.0),
        must,
    )
    codes = _draw_codes(rng, people, person, day, channel, is_first)

    # Exchanges and free samples go to known repeat customers and cost them nothing.
    zero_kind = np.where(known & ~is_first & (rng.random(n) < 0.005), rng.integers(1, 3, size=n), 0)
    codes = [("" if z else c) for c, z in zip(codes, zero_kind.tolist(), strict=True)]
    sources, note_attributes, tags = _encode_order_channels(
        rng, person, channel, is_first, zero_kind, codes
    )
    in_person = np.array([source == "pos" for source in sources])
    country = np.where(known, people.country[safe_person], 0)
    discount, shipping, tax, total = price_baskets(
        baskets, codes, country, (zero_kind > 0) | in_person
    )
    discount = np.where(zero_kind > 0, baskets.subtotal, discount)
    tax = np.where(zero_kind > 0, 0, tax)
    total = np.where(zero_kind > 0, 0, total)

    payable = total > 0
    cancelled = payable & (rng.random(n) < 0.02)
    refund_p = np.where(known & people.returner[safe_person], 0.25, 0.028)
    refund = payable & ~cancelled & (rng.random(n) < refund_p)
    partial = refund & (rng.random(n) < 0.6)
    partial_amount = np.maximum(1, (total * rng.uniform(0.2, 0.6, size=n)).astype(np.int64))
    refunded = np.where(partial, partial_amount, np.where(refund, total, 0))
    cancelled_refunded = cancelled & (rng.random(n) < 0.35)
    refunded = np.where(cancelled_refunded, total, refunded)
    return Orders(
        person=person,
        created=created,
        channel=channel,
        is_first=is_first,
        codes=codes,
        sources=sources,
        note_attributes=note_attributes,
        tags=tags,
        baskets=baskets,
        discount=discount,
        shipping=shipping,
        tax=tax,
        total=total,
        refunded=refunded,
        cancelled=cancelled,
        zero_kind=zero_kind,
    )


def _draw_order_days(
    rng: np.random.Generator, people: People
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each buyer's order days: first order, then gamma-distributed gaps until churn or the end.

    Regular buyers drink coffee: every order of their rhythm (about 30 days apart) replenishes
    their favourite bean; those who brew with paper filters (about 45%) buy a pack on their first
    order (half of them with the dripper: the starter kit) and again on the first order at most
    15 days before the pack they bought runs out (about 90 days, with spread). Black Friday extras
    replenish nothing.

    Returns one entry per order: (person, day, is_first, is_bfcm_extra, is_regular_buyer,
    replenish), replenish an orders x 3 bool matrix (favourite bean, filters, dripper).
    """
    n = people.n_buyers
    repeat_rate = np.array([c.repeat_rate for c in CHANNELS])[people.channel[:n]]
    repeater = rng.random(n) < repeat_rate
    median_gap = np.clip(np.exp(rng.normal(np.log(33.0), 0.2, size=n)), 14, 90)
    shape = rng.uniform(4.0, 9.0, size=n)
    churn = rng.beta(1.3, 9.5, size=n)
    filter_user = repeater & (rng.random(n) < 0.45)
    starter_kit = filter_user & (rng.random(n) < 0.5)
    black_fridays = [(bf - OPENING_DATE).days for bf in BLACK_FRIDAYS]

    person, day, first, extra, regular, replenish = [], [], [], [], [], []
    for i in range(n):
        current = int(people.first_day[i])
        days = [current]
        if repeater[i]:
            scale = median_gap[i] / shape[i]
            while True:
                current += max(1, round(rng.gamma(shape[i], scale)))
                if current >= N_DAYS:
                    break
                days.append(current)
                if rng.random() < churn[i]:
                    break
        filters = _pick_filter_orders(rng, days) if filter_user[i] else [False] * len(days)
        bfcm_days = []
        for bf in black_fridays:
            active = any(bf - 120 <= d <= bf + 30 for d in days) and days[0] < bf - 3
            if active and rng.random() < 0.25:
                bfcm_days.append(bf + int(rng.integers(-3, 4)))
        person.extend([i] * (len(days) + len(bfcm_days)))
        day.extend(days + bfcm_days)
        first.extend([True] + [False] * (len(days) - 1 + len(bfcm_days)))
        extra.extend([False] * len(days) + [True] * len(bfcm_days))
        regular.extend([bool(repeater[i])] * (len(days) + len(bfcm_days)))
        replenish.extend(
            (bool(repeater[i]), f, bool(starter_kit[i]) and k == 0) for k, f in enumerate(filters)
        )
        replenish.extend([(False, False, False)] * len(bfcm_days))
    return (
        np.array(person),
        np.array(day),
        np.array(first),
        np.array(extra),
        np.array(regular),
        np.array(replenish, dtype=bool).reshape(-1, 3),
    )


def _pick_filter_orders(rng: np.random.Generator, days: list[int]) -> list[bool]:
    """Per order day (ascending): does it buy filters (first order, then one per ~90-day pack)."""
    buys = [False] * len(days)
    buys[0] = True
    bought = days[0]
    while True:
        runs_out = bought + rng.normal(90.0, 12.0)
        due = next((k for k, d in enumerate(days) if d > bought and d >= runs_out - 15), None)
        if due is None:
            return buys
        buys[due] = True
        bought = days[due]


def _draw_codes(
    rng: np.random.Generator,
    people: People,
    person: np.ndarray,
    days: np.ndarray,
    channel: np.ndarray,
    is_first: np.ndarray,
) -> list[str]:
    """Discount code per order ('' for none): promotions, welcome, influencer and partner codes."""
    day_dates = list_days()
    u = rng.random(len(days))
    pick = rng.integers(0, 1000, size=len(days))
    codes = []
    for k in range(len(days)):
        p = int(person[k])
        promo = find_promo_code(day_dates[int(days[k])])
        coupon_only = p >= 0 and bool(people.coupon_only[p])
        if p < 0:
            code = ""
        elif promo and (coupon_only or u[k] < 0.4):
            code = promo
        elif is_first[k]:
            code = _choose_first_order_code(int(channel[k]), float(u[k]), int(pick[k]), coupon_only)
        elif coupon_only or u[k] < 0.04:
            code = ("LOYAL15", "COMEBACK20")[pick[k] % 2]
        else:
            code = ""
        codes.append(code)
    return codes


def _choose_first_order_code(channel: int, u: float, pick: int, coupon_only: bool) -> str:
    """The discount code of a buyer's first order, by acquisition channel ('' for none)."""
    if channel == ORGANIC_SOCIAL and (coupon_only or u < 0.5):
        return INFLUENCER_CODES[pick % len(INFLUENCER_CODES)]
    if channel == AFFILIATES and (coupon_only or u < 0.5):
        return PARTNER_CODES[pick % len(PARTNER_CODES)]
    if coupon_only or (channel == EMAIL and u < 0.35) or u < 0.08:
        return "WELCOME10"
    return ""


def _encode_order_channels(
    rng: np.random.Generator,
    person: np.ndarray,
    channel: np.ndarray,
    is_first: np.ndarray,
    zero_kind: np.ndarray,
    codes: list[str],
) -> tuple[list[str], list[str], list[str]]:
    """Per order: (Source, Note Attributes, Tags) lists, as the store's apps would record them."""
    n = len(person)
    u = rng.random(n)
    pick = rng.integers(0, 1000, size=n)
    sources, notes, tags = [], [], []
    for k in range(n):
        source, note, tag = encode_channel(
            int(channel[k]), float(u[k]), int(pick[k]), bool(is_first[k])
        )
        if person[k] < 0:
            # Guests: market stalls, phone orders, the odd phone-only web checkout.
            source, note, tag = (
                ("pos", "pos", "pos", "shopify_draft_order", "web")[pick[k] % 5],
                "",
                "",
            )
        if zero_kind[k]:
            source, note = "shopify_draft_order", ""
            tag = "exchange" if zero_kind[k] == 1 else "free-sample"
        sources.append(source)
        notes.append(note)
        tags.append(", ".join(t for t in (tag, "BFCM" if codes[k] == "BFCM25" else "") if t))
    return sources, notes, tags
