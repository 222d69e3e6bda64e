"""How a Shopify store records an order's acquisition channel (as in real Shopify exports).

``encode_channel`` turns a channel index of ``catalogue.CHANNELS`` into (Source, Note Attributes,
tag). A customer's first order carries the channel that acquired them; repeat orders mostly come
from Email or Direct.

- Organic Search: Source ``web`` or ``580111`` (an app id); Note Attributes ``landing_site`` and
  ``referrer`` (google, bing).
- Paid Search: ``utm_source: google`` (or bing), ``utm_medium: cpc``, ``utm_campaign``.
- Paid Social: ``utm_source: facebook`` (instagram, fb, ig), ``utm_medium: paid_social``.
- Email: ``utm_source: klaviyo``, ``utm_medium: email``; first orders often use ``WELCOME10``.
- Direct: Source ``web`` with no notes, ``3890849`` (an app id), ``pos`` (tag ``pop-up``) or
  ``shopify_draft_order`` (tag ``phone-order``).
- Affiliates: ``utm_medium: affiliate`` (refersion) or ``referral``; tag ``affiliate``;
  partner codes.
- Organic Social: Source ``tiktok`` (tag ``tiktok-shop``) or ``Channel: Instagram`` /
  ``Channel: TikTok`` (tag ``influencer``); influencer codes.
"""

from __future__ import annotations

from dashboard.demo.catalogue import (
    AFFILIATES,
    DIRECT,
    EMAIL,
    ORGANIC_SEARCH,
    PAID_SEARCH,
    PAID_SOCIAL,
)

_AFFILIATE_PARTNERS = ("beanblog", "homebarista", "brewguide", "coffeegeek_weekly")
_LANDING_PAGES = ("/", "/collections/coffee", "/products/pour-over-kettle", "/collections/mugs")


def encode_channel(channel: int, u: float, pick: int, is_first: bool) -> tuple[str, str, str]:
    """Return (Source, Note Attributes, tag) as a Shopify store would record ``channel``.

    ``u`` (uniform in [0, 1)) and ``pick`` (an integer in [0, 1000)) are the order's own draws.
    """
    if channel == ORGANIC_SEARCH:
        engine = "https://www.bing.com/" if pick % 10 == 0 else "https://www.google.com/"
        landing = _LANDING_PAGES[pick % len(_LANDING_PAGES)]
        return ("580111" if u < 0.2 else "web"), f"landing_site: {landing}\nreferrer: {engine}", ""
    if channel == PAID_SEARCH:
        source = "bing" if pick % 10 == 0 else "google"
        campaign = ("brand", "nonbrand", "shopping_pmax")[pick % 3]
        return "web", f"utm_source: {source}\nutm_medium: cpc\nutm_campaign: {campaign}", ""
    if channel == PAID_SOCIAL:
        source = ("facebook", "instagram", "fb", "ig")[pick % 4]
        campaign = "prospecting" if is_first else "retargeting"
        return "web", f"utm_source: {source}\nutm_medium: paid_social\nutm_campaign: {campaign}", ""
    if channel == EMAIL:
        campaigns = ("newsletter", "replenishment", "winback", "abandoned_cart")
        campaign = "welcome_series" if is_first else campaigns[pick % 4]
        return "web", f"utm_source: klaviyo\nutm_medium: email\nutm_campaign: {campaign}", ""
    if channel == DIRECT:
        if u < 0.70:
            return "web", "", ""
        if u < 0.84:
            return "3890849", "", ""
        if u < 0.95:
            return "pos", "", "pop-up"
        return "shopify_draft_order", "", "phone-order"
    if channel == AFFILIATES:
        partner = _AFFILIATE_PARTNERS[pick % len(_AFFILIATE_PARTNERS)]
        if u < 0.6:
            note = f"utm_source: refersion\nutm_medium: affiliate\nutm_campaign: {partner}"
        else:
            note = f"utm_source: {partner}\nutm_medium: referral"
        return "web", note, "affiliate"
    if u < 0.55:
        return "tiktok", "", "tiktok-shop"
    return "web", ("Channel: Instagram" if u < 0.8 else "Channel: TikTok"), "influencer"
