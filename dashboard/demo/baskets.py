"""What is in a cart and what it costs: line items drawn from the catalogue, priced in cents.

Shared by orders and abandoned checkouts: one basket per owner (an order or a checkout).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dashboard.demo.catalogue import COUNTRIES, DISCOUNT_PERCENT, PRODUCTS
from dashboard.demo.timeline import OPENING_DATE, flag_gifting_days


@dataclass(frozen=True)
class Baskets:
    """Line items of a set of orders or checkouts, sorted by owner then line number."""

    owner: np.ndarray  # index of the order/checkout each line belongs to
    product: np.ndarray
    quantity: np.ndarray
    subtotal: np.ndarray  # per owner, cents
    physical: np.ndarray  # per owner, cents of goods that ship and are taxed (not gift cards)


def draw_baskets(
    rng: np.random.Generator,
    days: np.ndarray,
    repeat: np.ndarray,
    trend: np.ndarray,
    basket_factor: np.ndarray,
) -> Baskets:
    """Pick 1-4 distinct launched products per owner (Gumbel top-k over per-owner weights).

    Takes one entry per owner: day index, is a repeat order, follows trends, the acquisition
    channel's basket factor. Returns their line items.
    """
    launch = np.array([(p.launched - OPENING_DATE).days for p in PRODUCTS])
    price = np.array([p.price_cents for p in PRODUCTS])
    category = np.array([p.category for p in PRODUCTS])
    age = days[:, None] - launch[None, :]
    launched = age >= 0
    new = launched & (age < 45)
    weights = np.where(launched, np.array([p.popularity for p in PRODUCTS])[None, :], 0.0)
    weights *= np.where(new, 2.0, 1.0)
    weights *= np.where(trend[:, None] & new, 20.0, 1.0)
    weights *= np.where(repeat[:, None] & (category == "Coffee Beans")[None, :], 3.0, 1.0)
    weights *= np.where(repeat[:, None] & (category == "Gift Cards")[None, :], 0.3, 1.0)
    gifting = flag_gifting_days()[days]
    weights *= np.where(gifting[:, None] & (category == "Gift Cards")[None, :], 4.0, 1.0)
    weights *= np.where(gifting[:, None] & (category == "Mugs")[None, :], 2.0, 1.0)
    weights *= np.where((price >= 4500)[None, :], basket_factor[:, None] ** 2, 1.0)

    with np.errstate(divide="ignore"):
        keys = np.log(weights) + rng.gumbel(size=weights.shape)
    ranked = np.argsort(-keys, axis=1, kind="stable")[:, :4]
    n_lines = 1 + np.minimum(3, rng.poisson(0.55 * basket_factor))
    take = np.arange(4)[None, :] < n_lines[:, None]
    owner = np.nonzero(take)[0]
    product = ranked[take]
    extra_units = (rng.random(len(product)) < 0.14).astype(int) + (rng.random(len(product)) < 0.04)
    quantity = 1 + extra_units
    line_value = price[product] * quantity
    physical_value = np.where(category[product] == "Gift Cards", 0, line_value)
    n = len(days)
    return Baskets(
        owner=owner,
        product=product,
        quantity=quantity,
        subtotal=np.bincount(owner, weights=line_value, minlength=n).astype(np.int64),
        physical=np.bincount(owner, weights=physical_value, minlength=n).astype(np.int64),
    )


def price_baskets(
    baskets: Baskets, codes: list[str], country: np.ndarray, no_shipping: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return (discount, shipping, tax, total) in cents; total = subtotal - discount + ship + tax.

    Takes one entry per basket owner: discount code ('' for none), country index (0 ships
    domestically), no shipping charged. Shipping and tax apply to physical goods only (gift cards
    neither ship nor are taxed).
    """
    percent = np.array([DISCOUNT_PERCENT.get(c, 0) for c in codes], dtype=np.int64)
    discount = (baskets.subtotal * percent + 50) // 100
    net = baskets.subtotal - discount
    domestic = country == 0
    shipping = np.where(
        domestic, np.where(net >= 6000, 0, 795), np.where(net >= 10000, 0, 1495)
    ).astype(np.int64)
    shipping[no_shipping | (baskets.physical == 0)] = 0
    basis_points = np.array([c.tax_basis_points for c in COUNTRIES])[country]
    taxable_net = np.maximum(0, baskets.physical - discount)
    tax = (taxable_net * basis_points + 5000) // 10000
    return discount, shipping, tax, net + shipping + tax
