"""Acquisition channel of each customer, and what each channel's customers are worth.

A customer's channel is read from the evidence on their FIRST valid order (not cancelled, total
above 0; ties on the same second broken by order id) through an editable table of rules, first
match wins, in this order of evidence (docs/acquisition.md §1):

1. UTM tags (``utm_source`` / ``utm_medium``), read the way GA4's default channel group reads
   them (google/cpc -> Paid Search, facebook/paid_social -> Paid Social, klaviyo/email -> Email);
2. the referring site (google -> Organic Search, instagram -> Organic Social, other -> Referral);
3. the ``Channel:`` note attribute;
4. the order's source (``pos`` and staff-created draft orders -> Direct: GA4 has no group for
   them and the customer came to the store on their own; ``tiktok`` -> Organic Social);
5. the discount code (affiliate, partner and influencer codes -> Affiliates);
6. the order's tags;
7. an online-store source with none of the above -> Direct.

Whatever no rule matches is "Unattributed", a group of its own that is always shown. Channel names
are GA4's default channel groups (docs/acquisition.md §1), so spend and GA4 reports line up.

A rule is one row: priority (lower first; ties keep table order), field (one of ``RULE_FIELDS``),
match (``exact`` or ``prefix``; an empty prefix matches any value), pattern (compared in lower
case) and channel. The rules become one Ibis case expression whose values are literals.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import ibis
import ibis.expr.types as ir
import pandas as pd

from dashboard import order_rules, portable
from dashboard.errors import UserError

UNATTRIBUTED = "Unattributed"
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
RULE_COLUMNS = ["priority", "field", "match", "pattern", "channel"]
MATCH_KINDS = ("exact", "prefix")
# field -> how the evidence is labelled on screen
RULE_FIELDS = {
    "utm_source_medium": "utm_source/utm_medium",
    "utm_medium": "utm_medium",
    "utm_source": "utm_source",
    "referrer_host": "referring site",
    "channel": "Channel note",
    "source_name": "order source",
    "discount_code": "discount code",
    "tag": "order tag",
}
ATTRIBUTION_SCHEMA = ibis.schema(
    {
        "customer_id": "string",
        "first_order_on": "date",
        "first_order_id": "string",
        "channel": "string",
        "evidence": "string",
    }
)
HORIZONS_DAYS = (90, 180, 365)
SUMMARY_COLUMNS = [
    "channel",
    "new_customers",
    "share_new_customers",
    "revenue",
    "share_revenue",
    "orders",
    "aov",
    "repeat_rate",
    "orders_per_customer",
    "revenue_per_customer",
    *(
        f"{kind}_{days}d"
        for days in HORIZONS_DAYS
        for kind in ("customers", "revenue_per_customer")
    ),
    "orders_per_customer_365d",
]

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
        (110, "utm_source_medium", "exact", "(direct)/(none)", "Direct"),
        (120, "utm_medium", "exact", "email", "Email"),
        (120, "utm_medium", "exact", "e-mail", "Email"),
        (120, "utm_medium", "exact", "newsletter", "Email"),
        (120, "utm_medium", "exact", "sms", "SMS"),
        (120, "utm_medium", "prefix", "affiliate", "Affiliates"),
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
        # 580111 is the app id of Shopify's Online Store; the phone apps write iphone/android.
        *(
            (900, "source_name", "exact", s, "Direct")
            for s in ("web", "580111", "iphone", "android")
        ),
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
        if field == "tag" and "," in pattern:
            raise ChannelRulesError(f"Rule {number}: a tag pattern is one tag, without commas.")
        try:
            priority = int(row.priority)
        except (TypeError, ValueError):
            raise ChannelRulesError(f"Rule {number}: priority must be a whole number.") from None
        rows.append((priority, field, match, pattern, channel))
    cleaned = pd.DataFrame(rows, columns=RULE_COLUMNS)
    return cleaned.sort_values("priority", kind="stable").reset_index(drop=True)


def _evidence_fields(orders: ir.Table) -> dict[str, ir.StringValue]:
    def clean(column: ir.StringValue) -> ir.StringValue:
        return portable.strip(column).lower().nullif("")

    source, medium = clean(orders.utm_source), clean(orders.utm_medium)
    referrer = clean(orders.referrer)
    # A value starting with "/" is a landing page of the store, not where the visit came from.
    host = referrer.re_replace(r"^[a-z][a-z0-9+.-]*://", "").re_replace(r"^www\.", "")
    return {
        "utm_source_medium": ibis.ifelse(
            source.isnull() & medium.isnull(),
            ibis.null("string"),
            source.fill_null("") + "/" + medium.fill_null(""),
        ),
        "utm_medium": medium,
        "utm_source": source,
        "referrer_host": ibis.ifelse(referrer.startswith("/"), ibis.null("string"), host),
        "channel": clean(orders.channel),
        "source_name": clean(orders.source_name),
        "discount_code": clean(orders.discount_code),
        "tag": clean(orders.tags),
    }


def _rule_condition(
    fields: dict[str, ir.StringValue], field: str, match: str, pattern: str
) -> ir.BooleanValue:
    value = fields[field]
    if field == "tag":
        # Tags are one comma-separated cell; wrap it in commas to match whole tags.
        wrapped = "," + value.re_replace(r"\s*,\s*", ",") + ","
        return wrapped.contains("," + pattern + ("," if match == "exact" else ""))
    if match == "exact":
        return value == ibis.literal(pattern)
    return value.startswith(ibis.literal(pattern))


def attribute_channels(
    orders: ir.Table,
    rules: pd.DataFrame,
    as_of: dt.date | None = None,
    counting: order_rules.CountingRules = order_rules.DEFAULT_RULES,
) -> ir.Table:
    """Each customer's acquisition channel from the evidence on their first valid order.

    In: the canonical ``orders`` table; ``rules`` with RULE_COLUMNS (validated here); orders after
    ``as_of`` are ignored; ``counting`` says which orders are valid. Out: one row per customer
    with a valid order: customer_id,
    first_order_on (date), first_order_id, channel (a rule's channel or UNATTRIBUTED), evidence
    (e.g. ``utm_source/utm_medium: google/cpc``; for Unattributed, ``no rule matched`` and the
    order source if any, so a rule can be added for it).
    """
    ordered = list(validate_rules(rules).itertuples(index=False))
    valid = order_rules.select_valid_orders(orders, counting, as_of)
    rank = ibis.row_number().over(group_by="customer_id", order_by=["ordered_at", "order_id"])
    ranked = valid.mutate(rank=rank).filter(lambda t: t["rank"] == 0)
    # The cleaned evidence is computed once per order, before the rules read it many times.
    firsts = ranked.mutate(**{f"_{k}": v for k, v in _evidence_fields(ranked).items()})
    fields = {k: firsts[f"_{k}"] for k in RULE_FIELDS}
    source = fields["source_name"]
    unmatched = ibis.literal("no rule matched") + (" (order source: " + source + ")").fill_null("")
    if not ordered:
        return firsts.select(
            "customer_id",
            first_order_on=firsts.ordered_at.date(),
            first_order_id=firsts.order_id,
            channel=ibis.literal(UNATTRIBUTED),
            evidence=unmatched,
        )
    rule_number = ibis.cases(
        *((_rule_condition(fields, r.field, r.match, r.pattern), i) for i, r in enumerate(ordered)),
        else_=-1,
    ).cast("int64")
    # The matched rule's channel and field come from a lookup join, not from CASEs over the rule
    # number: an engine that inlines the rule number into each CASE (Spark) would otherwise
    # build an expression too large for its code generator.
    lookup = ibis.memtable(
        pd.DataFrame(
            {
                "rule_number": range(len(ordered)),
                "rule_channel": [r.channel for r in ordered],
                "rule_field": [r.field for r in ordered],
            }
        ),
        schema=ibis.schema(
            {"rule_number": "int64", "rule_channel": "string", "rule_field": "string"}
        ),
    )
    numbered = firsts.mutate(rule_number=rule_number, unmatched=unmatched)
    matched = numbered.left_join(lookup, "rule_number")
    used_field = matched.rule_field.fill_null("")
    evidence = ibis.cases(
        *(
            (used_field == field, ibis.literal(f"{label}: ") + matched[f"_{field}"])
            for field, label in RULE_FIELDS.items()
        ),
        else_=matched.unmatched,
    )
    return matched.select(
        "customer_id",
        first_order_on=matched.ordered_at.date(),
        first_order_id=matched.order_id,
        channel=matched.rule_channel.fill_null(UNATTRIBUTED),
        evidence=evidence,
    )


def to_attribution_table(frame: pd.DataFrame) -> ir.Table:
    """Return an Ibis table over a materialised attribution (``attribute_channels`` as pandas).

    Joining it with the orders is much cheaper than re-evaluating the rules in every query.
    """
    return ibis.memtable(frame[list(ATTRIBUTION_SCHEMA)], schema=ATTRIBUTION_SCHEMA)


def filter_first_orders(
    attribution: ir.Table, first_from: dt.date | None = None, first_to: dt.date | None = None
) -> ir.Table:
    """Keep the customers whose first order falls in [first_from, first_to] (either end open).

    In/out: the table of ``attribute_channels``.
    """
    if first_from is not None:
        attribution = attribution.filter(attribution.first_order_on >= first_from)
    if first_to is not None:
        attribution = attribution.filter(attribution.first_order_on <= first_to)
    return attribution


def summarise_customers(
    orders: ir.Table,
    attribution: ir.Table,
    as_of: dt.date,
    counting: order_rules.CountingRules = order_rules.DEFAULT_RULES,
) -> ir.Table:
    """Per customer: lifetime and first-N-day figures, up to ``as_of``.

    In: canonical ``orders``; the table of ``attribute_channels``. Out: one row per attributed
    customer: customer_id, channel, first_order_on, orders (valid), revenue (net of counted
    orders, float), and per N in HORIZONS_DAYS: is_observed_{N}d (first order at least N days
    before ``as_of``), orders_{N}d and revenue_{N}d (orders placed less than N days after the
    first order).
    """
    per_customer = _sum_customers(orders, attribution, as_of, counting)
    return per_customer.mutate(
        revenue=per_customer.revenue.cast("float64"),
        **{
            f"revenue_{d}d": per_customer[f"revenue_{d}d"].cast("float64").fill_null(0)
            for d in HORIZONS_DAYS
        },
    )


def _sum_customers(
    orders: ir.Table, attribution: ir.Table, as_of: dt.date, counting: order_rules.CountingRules
) -> ir.Table:
    """``summarise_customers`` with revenue still decimal, so sums over it are exact."""
    counted = order_rules.select_counted_orders(orders, counting, as_of)
    counted = counted.select(
        "customer_id", "ordered_at", "net_total", is_valid=order_rules.is_valid(counted, counting)
    )
    joined = counted.join(
        attribution.select("customer_id", "channel", "first_order_on"), "customer_id"
    )
    is_valid = joined.is_valid
    age = joined.ordered_at.date().delta(joined.first_order_on, unit="day")
    measures: dict[str, ir.Value] = {
        "orders": is_valid.sum(),
        "revenue": joined.net_total.sum(),
    }
    for days in HORIZONS_DAYS:
        early = age < days
        measures[f"orders_{days}d"] = (is_valid & early).sum()
        measures[f"revenue_{days}d"] = joined.net_total.sum(where=early)
    per_customer = joined.group_by(["customer_id", "channel", "first_order_on"]).aggregate(
        **measures
    )
    return per_customer.mutate(
        **{
            f"is_observed_{days}d": per_customer.first_order_on
            <= ibis.literal(as_of - dt.timedelta(days=days))
            for days in HORIZONS_DAYS
        }
    )


def summarise_channels(
    orders: ir.Table,
    attribution: ir.Table,
    as_of: dt.date,
    first_from: dt.date | None = None,
    first_to: dt.date | None = None,
    counting: order_rules.CountingRules = order_rules.DEFAULT_RULES,
) -> pd.DataFrame:
    """The per-channel table for the customers first ordering in [first_from, first_to].

    In: canonical ``orders``; the table of ``attribute_channels`` (built with the same ``as_of``).
    Out: one row per channel with customers (most new customers first, Unattributed last):
    SUMMARY_COLUMNS. Revenue is net of refunds, all orders up to ``as_of``; AOV = revenue /
    orders; repeat_rate = share of customers with 2+ valid orders; the {N}d columns count only
    customers whose first order is at least N days before ``as_of`` (customers_{N}d says how
    many) and the revenue of their orders placed less than N days after it. Revenue is summed
    as decimal and cast to float once, so it is the same whatever order the rows are added in.
    """
    chosen = filter_first_orders(attribution, first_from, first_to)
    per_customer = _sum_customers(orders, chosen, as_of, counting)
    measures: dict[str, ir.Value] = {
        "new_customers": per_customer.count(),
        "revenue": per_customer.revenue.sum().cast("float64"),
        "orders": per_customer.orders.sum(),
        "repeat_customers": (per_customer.orders >= 2).sum(),
    }
    for days in HORIZONS_DAYS:
        observed = per_customer[f"is_observed_{days}d"]
        measures[f"customers_{days}d"] = observed.sum()
        measures[f"revenue_{days}d"] = (
            per_customer[f"revenue_{days}d"].sum(where=observed).cast("float64")
        )
    measures["orders_365d"] = per_customer.orders_365d.sum(where=per_customer.is_observed_365d)
    # In channel order, so the shares' float totals do not depend on the engine's group order.
    table = per_customer.group_by("channel").aggregate(**measures).order_by("channel")
    return _finish_summary(table.to_pandas())


def _finish_summary(table: pd.DataFrame) -> pd.DataFrame:
    if table.empty:
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
    table = table.fillna({"revenue": 0.0}).copy()
    for column in ("new_customers", "orders", "repeat_customers", "orders_365d"):
        table[column] = table[column].fillna(0).astype("int64")
    customers = table.new_customers.where(table.new_customers > 0)
    total_customers, total_revenue = table.new_customers.sum(), table.revenue.sum()
    table["share_new_customers"] = table.new_customers / total_customers if total_customers else 0.0
    table["share_revenue"] = table.revenue / total_revenue if total_revenue else 0.0
    table["aov"] = table.revenue / table.orders.where(table.orders > 0)
    table["repeat_rate"] = table.repeat_customers / customers
    table["orders_per_customer"] = table.orders / customers
    table["revenue_per_customer"] = table.revenue / customers
    for days in HORIZONS_DAYS:
        observed = table[f"customers_{days}d"].fillna(0).astype("int64")
        table[f"customers_{days}d"] = observed
        table[f"revenue_per_customer_{days}d"] = table[f"revenue_{days}d"].fillna(
            0
        ) / observed.where(observed > 0)
    table["orders_per_customer_365d"] = table.orders_365d / table.customers_365d.where(
        table.customers_365d > 0
    )
    table["_last"] = table.channel == UNATTRIBUTED
    table = table.sort_values(["_last", "new_customers", "channel"], ascending=[True, False, True])
    return table[SUMMARY_COLUMNS].reset_index(drop=True)


def count_channel_segments(
    attribution: pd.DataFrame, members: pd.DataFrame, segments: Sequence[str]
) -> pd.DataFrame:
    """Where each channel's customers are now: customers per channel and RFM segment.

    In: ``attribution`` (customer_id, channel, ...) and ``members`` (customer_id, segment), e.g.
    ``analysis.segment_members``; ``segments`` in display order. Out: one row per channel
    (Unattributed last) and segment: channel, segment, customers, share_of_channel (fraction of
    the channel's customers that have a segment). Customers without a segment are left out.
    """
    joined = attribution[["customer_id", "channel"]].merge(
        members[["customer_id", "segment"]], on="customer_id"
    )
    counts = pd.crosstab(joined.channel, joined.segment)
    counts = counts.reindex(columns=list(segments), fill_value=0)
    order = sorted(counts.index, key=lambda c: (c == UNATTRIBUTED, -counts.loc[c].sum(), c))
    counts = counts.reindex(order)
    long = counts.stack().rename("customers").reset_index()
    long.columns = ["channel", "segment", "customers"]
    totals = long.groupby("channel", sort=False).customers.transform("sum")
    long["customers"] = long.customers.astype("int64")
    long["share_of_channel"] = long.customers / totals.where(totals > 0)
    return long


def pivot_channel_segments(cells: pd.DataFrame, value: str = "share_of_channel") -> pd.DataFrame:
    """Channels (rows) x segments (columns) of ``value`` from ``count_channel_segments``."""
    return cells.pivot(index="channel", columns="segment", values=value).reindex(
        index=list(dict.fromkeys(cells.channel)), columns=list(dict.fromkeys(cells.segment))
    )
