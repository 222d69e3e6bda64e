"""The channel rule table: its columns, evidence fields, validation and the default rules.

A rule is one row: priority (lower first; ties keep table order), field (one of ``RULE_FIELDS``),
match (``exact`` or ``prefix``; an empty prefix matches any value), pattern (compared in lower
case) and channel. The defaults read the evidence the way GA4's default channel groups do, and
assign Direct only on positive evidence of a direct visit (docs/acquisition.md §1).
"""

from __future__ import annotations

import pandas as pd

from dashboard.errors import UserError

CHANNEL_GROUPS = (
    "Direct",
    "Organic Search",
    "Paid Search",
    "Organic Social",
    "Paid Social",
    "Email",
    "Referral",
    "Affiliates",
    "Display",
    "Paid Shopping",
    "Organic Shopping",
    "Paid Video",
    "Organic Video",
    "Paid Other",
    "SMS",
)
# The groups whose customers acquisition spend buys one by one; "paid CAC" is computed over them.
PAID_GROUPS = (
    "Paid Search",
    "Paid Social",
    "Paid Shopping",
    "Paid Video",
    "Paid Other",
    "Display",
    "Affiliates",
)
RULE_COLUMNS = ["priority", "field", "match", "pattern", "channel"]
MATCH_KINDS = ("exact", "prefix")
# field -> how the evidence is labelled on screen
RULE_FIELDS = {
    "utm_source_medium": "utm_source/utm_medium",
    "utm_medium": "utm_medium",
    "utm_source": "utm_source",
    "click_id": "click id",
    "referrer_host": "referring site",
    "channel": "Channel note",
    "source_name": "order source",
    "discount_code": "discount code",
    "tag": "order tag",
    "visit": "recorded visit",
}
# Fields that hold a comma-separated list; a rule matches any one item of it.
LIST_FIELDS = ("discount_code", "tag")
# The value of the ``visit`` field for an order whose visit was recorded (a landing site) with no
# referrer, UTM tag or click id: a direct visit.
NO_REFERRER = "no referrer"

_SEARCH_SOURCES = ("google", "bing", "yahoo", "duckduckgo", "ecosia", "baidu", "yandex")
_SOCIAL_SOURCES = (
    "facebook",
    "fb",
    "instagram",
    "ig",
    "meta",
    "tiktok",
    "pinterest",
    "snapchat",
    "linkedin",
    "twitter",
    "x",
    "reddit",
)
# GA4 counts a medium matching ^(.*cp.*|ppc|paid.*)$ as paid; prefixes cover the usual spellings.
_PAID_MEDIUM_PREFIXES = ("cp", "ppc", "paid")
# Mediums that name the paid group themselves, whatever the source; before the "social" prefix.
_PAID_SOCIAL_MEDIUMS = ("paidsocial", "paid_social", "paid-social", "paid social", "social_paid")
_PAID_SEARCH_MEDIUMS = ("paidsearch", "paid_search", "paid-search", "paid search")
_ORGANIC_SOCIAL_MEDIUMS = ("organic_social", "organic-social", "organicsocial", "organic social")
# Click ids ad platforms append to their links (gclid, gbraid, wbraid: Google Ads; msclkid:
# Microsoft Ads; fbclid: Meta, which also tags organic posts' links, so UTMs decide first).
_CLICK_IDS = (
    ("gclid", "Paid Search"),
    ("gbraid", "Paid Search"),
    ("wbraid", "Paid Search"),
    ("msclkid", "Paid Search"),
    ("fbclid", "Paid Social"),
    ("ttclid", "Paid Social"),
    ("twclid", "Paid Social"),
    ("li_fat_id", "Paid Social"),
    ("sccid", "Paid Social"),
    ("epik", "Paid Social"),
    ("dclid", "Display"),
)
_SEARCH_HOSTS = ("google.", "bing.", "search.yahoo.", "yahoo.", "duckduckgo.", "ecosia.")
_SOCIAL_HOSTS = (
    "facebook.",
    "l.facebook.",
    "m.facebook.",
    "lm.facebook.",
    "instagram.",
    "l.instagram.",
    "t.co/",
    "x.com",
    "twitter.",
    "tiktok.",
    "pinterest.",
    "reddit.",
    "linkedin.",
)


def _build_default_rules() -> tuple[tuple[int, str, str, str, str], ...]:
    rules: list[tuple[int, str, str, str, str]] = []
    for source in _SOCIAL_SOURCES:
        rules += [
            (110, "utm_source_medium", "prefix", f"{source}/{m}", "Paid Social")
            for m in _PAID_MEDIUM_PREFIXES
        ]
    for source in _SEARCH_SOURCES:
        rules += [
            (110, "utm_source_medium", "prefix", f"{source}/{m}", "Paid Search")
            for m in _PAID_MEDIUM_PREFIXES
        ]
    rules += [
        (110, "utm_source_medium", "prefix", "youtube/cp", "Paid Video"),
        *((115, "utm_medium", "exact", m, "Paid Social") for m in _PAID_SOCIAL_MEDIUMS),
        *((115, "utm_medium", "exact", m, "Paid Search") for m in _PAID_SEARCH_MEDIUMS),
        *((115, "utm_medium", "exact", m, "Organic Social") for m in _ORGANIC_SOCIAL_MEDIUMS),
        (120, "utm_medium", "exact", "email", "Email"),
        (120, "utm_medium", "exact", "e-mail", "Email"),
        (120, "utm_medium", "exact", "newsletter", "Email"),
        (120, "utm_medium", "exact", "sms", "SMS"),
        (120, "utm_medium", "exact", "text", "SMS"),
        (120, "utm_medium", "prefix", "affiliate", "Affiliates"),
        (120, "utm_medium", "exact", "influencer", "Affiliates"),
        (120, "utm_medium", "exact", "referral", "Referral"),
        (120, "utm_medium", "exact", "organic", "Organic Search"),
        (120, "utm_medium", "prefix", "social", "Organic Social"),
        (120, "utm_medium", "exact", "sm", "Organic Social"),
        (120, "utm_medium", "exact", "display", "Display"),
        (120, "utm_medium", "exact", "banner", "Display"),
        (120, "utm_medium", "exact", "cpm", "Display"),
        *((125, "utm_medium", "prefix", m, "Paid Other") for m in _PAID_MEDIUM_PREFIXES),
        (130, "utm_source", "exact", "klaviyo", "Email"),
        (130, "utm_source", "exact", "mailchimp", "Email"),
        (130, "utm_source", "exact", "omnisend", "Email"),
        (130, "utm_source", "exact", "email", "Email"),
        (130, "utm_source", "exact", "newsletter", "Email"),
        (130, "utm_source", "exact", "attentive", "SMS"),
        (130, "utm_source", "exact", "postscript", "SMS"),
        (130, "utm_source", "exact", "youtube", "Organic Video"),
        *((130, "utm_source", "exact", s, "Organic Social") for s in _SOCIAL_SOURCES),
        *((130, "utm_source", "exact", s, "Organic Search") for s in _SEARCH_SOURCES),
        *((140, "click_id", "exact", name, channel) for name, channel in _CLICK_IDS),
        (190, "referrer_host", "prefix", "mail.google.", "Email"),
        (190, "referrer_host", "prefix", "outlook.live.", "Email"),
        *((200, "referrer_host", "prefix", h, "Organic Search") for h in _SEARCH_HOSTS),
        *((200, "referrer_host", "prefix", h, "Organic Social") for h in _SOCIAL_HOSTS),
        (200, "referrer_host", "prefix", "youtube.", "Organic Video"),
        (290, "referrer_host", "prefix", "", "Referral"),
        *((300, "channel", "exact", g.lower(), g) for g in CHANNEL_GROUPS),
        *((310, "channel", "exact", s, "Organic Social") for s in _SOCIAL_SOURCES),
        (310, "channel", "exact", "klaviyo", "Email"),
        (310, "channel", "exact", "newsletter", "Email"),
        (310, "channel", "exact", "affiliate", "Affiliates"),
        (310, "channel", "exact", "influencer", "Affiliates"),
        # An in-person sale or an order staff took by phone: the customer came to the store.
        (400, "source_name", "exact", "pos", "Direct"),
        (400, "source_name", "exact", "shopify_draft_order", "Direct"),
        (400, "source_name", "exact", "tiktok", "Organic Social"),
        (400, "source_name", "exact", "instagram", "Organic Social"),
        (400, "source_name", "exact", "facebook", "Organic Social"),
        (500, "discount_code", "prefix", "affiliate", "Affiliates"),
        (500, "discount_code", "prefix", "partner", "Affiliates"),
        (500, "discount_code", "prefix", "influencer", "Affiliates"),
        (600, "tag", "exact", "affiliate", "Affiliates"),
        (600, "tag", "exact", "influencer", "Affiliates"),
        (600, "tag", "exact", "newsletter", "Email"),
        (600, "tag", "exact", "pos", "Direct"),
        # Direct markers come last: a discount code or tag a rule maps says more than them.
        (900, "utm_source_medium", "exact", "(direct)/(none)", "Direct"),
        (900, "utm_source", "exact", "(direct)", "Direct"),
        (900, "visit", "exact", NO_REFERRER, "Direct"),
    ]
    return tuple(rules)


DEFAULT_RULES = _build_default_rules()


class ChannelRulesError(UserError):
    """Channel rules that cannot be used, with the reason as one sentence."""


def default_rules() -> pd.DataFrame:
    """Return the default channel rules as an editable table (RULE_COLUMNS)."""
    return pd.DataFrame(list(DEFAULT_RULES), columns=RULE_COLUMNS)


def validate_rules(rules: pd.DataFrame) -> pd.DataFrame:
    """Return the rules cleaned (patterns lower-case, empty rows dropped) and sorted by priority.

    In: a table with RULE_COLUMNS (as edited by the analyst). Out: the same columns, priority as
    int, in evaluation order (priority, then table order). Raises ChannelRulesError naming the
    first bad row (1-based) when a field, match kind, channel or priority is unusable.
    """
    missing = [c for c in RULE_COLUMNS if c not in rules.columns]
    if missing:
        raise ChannelRulesError(f"The channel rules need the columns {', '.join(missing)}.")
    table = rules[RULE_COLUMNS].reset_index(drop=True)
    blank = table.isna() | table.astype(str).apply(lambda c: c.str.strip() == "")
    table = table[~blank.drop(columns="pattern").all(axis=1)]
    rows: list[tuple[int, str, str, str, str]] = []
    for number, row in zip(table.index + 1, table.itertuples(index=False), strict=True):
        field, match = str(row.field).strip(), str(row.match).strip().lower()
        channel = "" if pd.isna(row.channel) else str(row.channel).strip()
        pattern = "" if pd.isna(row.pattern) else str(row.pattern).strip().lower()
        if field not in RULE_FIELDS:
            raise ChannelRulesError(
                f"Rule {number}: field '{field}' is not one of {', '.join(RULE_FIELDS)}."
            )
        if match not in MATCH_KINDS:
            raise ChannelRulesError(f"Rule {number}: match must be 'exact' or 'prefix'.")
        if not channel:
            raise ChannelRulesError(f"Rule {number}: give the channel it assigns.")
        if match == "exact" and not pattern:
            raise ChannelRulesError(f"Rule {number}: an exact match needs a pattern.")
        if field in LIST_FIELDS and "," in pattern:
            raise ChannelRulesError(
                f"Rule {number}: a {field} pattern is one value, without commas."
            )
        try:
            priority = int(row.priority)
        except (TypeError, ValueError):
            raise ChannelRulesError(f"Rule {number}: priority must be a whole number.") from None
        rows.append((priority, field, match, pattern, channel))
    cleaned = pd.DataFrame(rows, columns=RULE_COLUMNS)
    return cleaned.sort_values("priority", kind="stable").reset_index(drop=True)
