"""Acquisition channel of each customer, and what each channel's customers are worth.

A customer's channel is read from the evidence on their FIRST valid order (not cancelled, total
above 0; ties on the same second broken by order id) through an editable table of rules
(``channel_rules``), first match wins, in this order of evidence (docs/acquisition.md §1):

1. UTM tags (``utm_source`` / ``utm_medium``), read the way GA4's default channel group reads
   them (google/cpc -> Paid Search, facebook/paidsocial -> Paid Social, klaviyo/email -> Email);
2. the click id an ad platform appended to the landing URL (gclid -> Paid Search, fbclid ->
   Paid Social);
3. the referring site (google -> Organic Search, instagram -> Organic Social, other -> Referral);
4. the ``Channel:`` note attribute;
5. the order's source (``pos`` and staff-created draft orders -> Direct; ``tiktok`` -> Organic
   Social); an online-store source (``web``, an app id) says nothing and decides nothing;
6. the discount code (affiliate, partner and influencer codes -> Affiliates; the analyst adds
   rules for codes of their own, a creator's code -> Affiliates);
7. the order's tags;
8. positive evidence of a direct visit: ``(direct)/(none)`` UTMs, or a recorded landing site
   with no referrer, UTM tag or click id.

Whatever no rule matches is "Unattributed", a group of its own that is always shown. Channel names
are GA4's default channel groups, so spend and GA4 reports line up. The rules become one Ibis
case expression whose values are literals.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import ibis
import ibis.expr.types as ir
import pandas as pd

from dashboard import order_rules, portable

# The rule table lives in channel_rules; callers keep reading these names from this module.
from dashboard.acquisition.channel_rules import CHANNEL_GROUPS as CHANNEL_GROUPS
from dashboard.acquisition.channel_rules import DEFAULT_RULES as DEFAULT_RULES
from dashboard.acquisition.channel_rules import (
    LIST_FIELDS,
    NO_REFERRER,
    RULE_FIELDS,
    validate_rules,
)
from dashboard.acquisition.channel_rules import MATCH_KINDS as MATCH_KINDS
from dashboard.acquisition.channel_rules import RULE_COLUMNS as RULE_COLUMNS
from dashboard.acquisition.channel_rules import ChannelRulesError as ChannelRulesError
from dashboard.acquisition.channel_rules import default_rules as default_rules

UNATTRIBUTED = "Unattributed"
ATTRIBUTION_SCHEMA = ibis.schema(
    {
        "customer_id": "string",
        "first_order_on": "date",
        "first_order_id": "string",
        "channel": "string",
        "evidence": "string",
        "has_visit_evidence": "boolean",
    }
)
# The evidence of how the visit that led to the order began, as opposed to what the order itself
# carries (source, discount code, tags).
VISIT_FIELDS = ("utm_source_medium", "click_id", "referrer_host", "channel", "visit")
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


_SCHEME = r"^[a-z][a-z0-9+.-]*://"


def _read_column(orders: ir.Table, name: str) -> ir.StringValue:
    """The column, or NULL for a dataset stored before the column existed (read-only, so never
    migrated)."""
    return orders[name] if name in orders.columns else ibis.null("string")


def _site(url: ir.StringValue) -> ir.StringValue:
    """A URL without its scheme and ``www.``: ``https://www.google.com/x`` -> ``google.com/x``."""
    return url.re_replace(_SCHEME, "").re_replace(r"^www\.", "")


def _evidence_fields(orders: ir.Table) -> dict[str, ir.StringValue]:
    def clean(column: ir.StringValue) -> ir.StringValue:
        return portable.strip(column).lower().nullif("")

    source, medium = clean(orders.utm_source), clean(orders.utm_medium)
    campaign, click = clean(orders.utm_campaign), clean(_read_column(orders, "click_id"))
    referrer, landing = clean(orders.referrer), clean(_read_column(orders, "landing_site"))
    # The store's own pages are not where a visit came from: a path (datasets loaded before
    # landing_site existed kept it as the referrer), or the landing site's own host.
    landing_host = ibis.ifelse(
        landing.re_search(_SCHEME), _site(landing).re_extract(r"^([^/?#]+)", 1), ibis.null("string")
    )
    internal = referrer.startswith("/") | (
        _site(referrer).re_extract(r"^([^/?#]+)", 1) == landing_host
    ).fill_null(False)
    referrer_host = ibis.ifelse(internal, ibis.null("string"), _site(referrer))
    # A recorded visit (a landing site) without referrer, UTM tag or click id: typed, bookmarked.
    no_referrer = (
        landing.notnull()
        & referrer_host.isnull()
        & source.isnull()
        & medium.isnull()
        & campaign.isnull()
        & click.isnull()
    )
    return {
        "utm_source_medium": ibis.ifelse(
            source.isnull() & medium.isnull(),
            ibis.null("string"),
            source.fill_null("") + "/" + medium.fill_null(""),
        ),
        "utm_medium": medium,
        "utm_source": source,
        "click_id": click,
        "referrer_host": referrer_host,
        "channel": clean(orders.channel),
        "source_name": clean(orders.source_name),
        "discount_code": clean(orders.discount_code),
        "tag": clean(orders.tags),
        "visit": ibis.ifelse(no_referrer, NO_REFERRER, ibis.null("string")),
    }


def _rule_condition(
    fields: dict[str, ir.StringValue], field: str, match: str, pattern: str
) -> ir.BooleanValue:
    value = fields[field]
    if field in LIST_FIELDS:
        # Tags and discount codes are one comma-separated cell; wrapped in commas, a rule
        # matches whole items (exact) or items that start with the pattern (prefix).
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
    with a valid order (ATTRIBUTION_SCHEMA): customer_id, first_order_on (date), first_order_id,
    channel (a rule's channel or UNATTRIBUTED), evidence (e.g. ``utm_source/utm_medium:
    google/cpc``; for Unattributed, ``no rule matched`` and the order source if any, so a rule
    can be added for it), has_visit_evidence (the first order carries a UTM source or medium, a
    click id, a referrer, a Channel note or a recorded landing site: VISIT_FIELDS).
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
    has_visit = ibis.or_(*(fields[k].notnull() for k in VISIT_FIELDS))
    if not ordered:
        return firsts.select(
            "customer_id",
            first_order_on=firsts.ordered_at.date(),
            first_order_id=firsts.order_id,
            channel=ibis.literal(UNATTRIBUTED),
            evidence=unmatched,
            has_visit_evidence=has_visit,
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
    numbered = firsts.mutate(rule_number=rule_number, unmatched=unmatched, _has_visit=has_visit)
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
        has_visit_evidence=matched._has_visit,
    )


def describe_unattributed(attribution: pd.DataFrame) -> str | None:
    """One or two sentences on the Unattributed share of ``attribution``, None when it is 0.

    In: a loaded attribution (ATTRIBUTION_SCHEMA), e.g. one first-order period. When no first
    order carries visit evidence (UTM tags, a click id, a referrer, a Channel note, a landing
    site), the export cannot tell how customers found the store: the sentence says so and
    names the files that would (docs/acquisition.md §1).
    """
    customers = len(attribution)
    unattributed = int((attribution.channel == UNATTRIBUTED).sum())
    if not customers or not unattributed:
        return None
    share = (
        f"{unattributed / customers:.1%} of these new customers ({unattributed:,} of "
        f"{customers:,}) are Unattributed"
    )
    if attribution.has_visit_evidence.fillna(False).astype(bool).any():
        return (
            f"{share}: their first orders carry no evidence a rule maps. 'Which evidence decided "
            "each channel' lists what they carry; add a rule for it."
        )
    return (
        f"This data holds no channel evidence: no first order carries UTM tags, a click id, a "
        f"referrer or a landing site, so {share}, and an online-store order source (web, an "
        "app id) does not say how a customer found the store. To attribute them, load orders "
        "with their Landing Site and Referring Site (an Admin API export, e.g. Matrixify), or "
        "with UTM tags in Note Attributes (written by a tracking app such as Elevar); map your "
        "own discount codes to channels in the rules (a creator's code -> Affiliates). A GA4 "
        "export shows the channels of sessions, but not which customer each one was."
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
