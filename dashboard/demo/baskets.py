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


# What the owner came for, which shapes the rest of the basket.
FIRST_ONCE, FIRST_REGULAR, REPEAT, ABANDONED = 0, 1, 2, 3
# Per category, the pull of its products in each basket kind (in the order above): one-time
# buyers come for gifts and mugs, regulars for beans; repeat orders bring their favourite bean
# (a must) and rarely another one; carts of expensive gear are the ones left at checkout.
_KIND_PULL = {
    "Coffee Beans": (0.4, 1.0, 0.4, 1.0),
    "Gift Cards": (2.5, 0.1, 0.3, 1.0),
    "Mugs": (1.5, 0.6, 1.0, 1.0),
}
_FILTERS = "BREW-FLT"
_PREMIUM_CENTS = 4500
# (anchor SKU, companion SKU, chance the companion joins a basket holding the anchor)
_PAIRS = (
    ("BREW-DRP", _FILTERS, 0.75),
    ("BREW-KET", "BREW-DRP", 0.45),
    ("BREW-GRD", "BEAN-ETH1K", 0.5),
    ("MUG-SNO", "BEAN-HOL", 0.6),
    ("MUG-MOS", "BEAN-KEN", 0.5),
)


def find_product(sku: str) -> int:
    """Index into PRODUCTS of the product with this SKU."""
    return next(k for k, p in enumerate(PRODUCTS) if p.sku == sku)


def draw_baskets(
    rng: np.random.Generator,
    days: np.ndarray,
    kind: np.ndarray,
    trend: np.ndarray,
    basket_factor: np.ndarray,
    must: np.ndarray,
) -> Baskets:
    """Pick 1-4 distinct launched products per owner (Gumbel top-k over per-owner weights).

    Takes one entry per owner: day index, basket kind (``FIRST_ONCE`` .. ``ABANDONED``), follows
    trends, the acquisition channel's basket factor; and ``must``, an owners x PRODUCTS bool
    matrix of products the basket holds whenever launched (the product being replenished, a
    starter kit). Companions of ``_PAIRS`` join their anchor's basket by chance. Returns the line
    items.
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
    pull = np.ones((4, len(PRODUCTS)))
    for name, by_kind in _KIND_PULL.items():
        pull[:, category == name] = np.array(by_kind)[:, None]
    pull[REPEAT, find_product(_FILTERS)] = 0.0  # filters come back on their own cycle only
    pull[ABANDONED, price >= _PREMIUM_CENTS] = 2.5
    weights *= pull[kind]
    gifting = flag_gifting_days()[days]
    weights *= np.where(gifting[:, None] & (category == "Gift Cards")[None, :], 4.0, 1.0)
    weights *= np.where(gifting[:, None] & (category == "Mugs")[None, :], 2.0, 1.0)
    weights *= np.where((price >= _PREMIUM_CENTS)[None, :], basket_factor[:, None] ** 2, 1.0)

    n = len(days)
    with np.errstate(divide="ignore"):
        keys = np.log(weights) + rng.gumbel(size=weights.shape)
    must = must & launched
    n_lines = 1 + np.minimum(3, rng.poisson(0.55 * basket_factor))
    n_lines = np.minimum(4, np.maximum(n_lines, must.sum(axis=1)))
    chosen = _take_top(np.where(must, np.inf, keys), n_lines)

    added = np.zeros_like(must)
    for anchor_sku, companion_sku, chance in _PAIRS:
        anchor, companion = find_product(anchor_sku), find_product(companion_sku)
        joins = chosen[:, anchor] & launched[:, companion] & (rng.random(n) < chance)
        added[:, companion] |= joins
        must[:, anchor] |= joins
    added &= ~chosen
    must |= added
    n_lines = np.minimum(4, n_lines + added.sum(axis=1))
    chosen = _take_top(np.where(must, np.inf, keys), n_lines)

    owner, product = np.nonzero(chosen)
    extra_units = (rng.random(len(product)) < 0.14).astype(int) + (rng.random(len(product)) < 0.04)
    quantity = 1 + extra_units
    line_value = price[product] * quantity
    physical_value = np.where(category[product] == "Gift Cards", 0, line_value)
    return Baskets(
        owner=owner,
        product=product,
        quantity=quantity,
        subtotal=np.bincount(owner, weights=line_value, minlength=n).astype(np.int64),
        physical=np.bincount(owner, weights=physical_value, minlength=n).astype(np.int64),
    )


def _take_top(keys: np.ndarray, n_lines: np.ndarray) -> np.ndarray:
    """Owners x PRODUCTS bool matrix: each owner's ``n_lines`` products of highest key."""
    ranked = np.argsort(-keys, axis=1, kind="stable")[:, :4]
    take = np.arange(4)[None, :] < n_lines[:, None]
    chosen = np.zeros(keys.shape, dtype=bool)
    chosen[np.nonzero(take)[0], ranked[take]] = True
    return chosen


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
