"""Marketing spend: CAC per channel and month, per campaign, CLV : CAC and payback
(docs/acquisition.md §3-4).

Spend rows (``marketing_spend``: month, channel, spend, purpose, campaign) name channels the way
marketers
do ("Google Ads", "Meta Ads"); an editable mapping turns each name into the channel group the
orders are attributed to (case does not matter). Defaults worth knowing:

- TikTok Ads -> Organic Social. Orders bought through TikTok Shop or an influencer's link carry
  no paid UTM tags, so the customers TikTok ads win are attributed to Organic Social (source
  ``tiktok``); the spend goes where those customers land, so CAC compares like with like. Map it
  to Paid Social when your TikTok ads link to the web store with ``utm_medium=paid_social``.
- SEO agency -> Organic Search and Klaviyo -> Email: money spent to win the "free" channels.
A name with no mapping is "Unmapped" and shown, never dropped.

Purpose: a row whose purpose is ``retention`` is retention effort; anything else (acquisition,
empty) is acquisition spend, the only spend in CAC. CAC = acquisition spend / new customers of the
same channel and month. Blended CAC is all acquisition spend / all new customers (Direct, Email and
Unattributed included); paid CAC is the paid groups' spend / their own new customers. CLV is
the simple formula AOV x orders per year x expected years, with orders per year = valid orders
in a customer's first 365 days (customers seen that long), in revenue, not margin. Payback =
the first month since first order at which the average cohort's cumulative revenue per customer
reaches CAC. CAC by campaign divides a campaign's acquisition spend by the new customers whose
first valid order's ``utm_campaign`` is the campaign's name (case and surrounding spaces aside).
"""

from __future__ import annotations

import datetime as dt
import math

import ibis
import ibis.expr.types as ir
import pandas as pd

from dashboard import portable
from dashboard.acquisition.channel_rules import PAID_GROUPS
from dashboard.errors import UserError

UNMAPPED = "Unmapped"
# Blended CAC divides all acquisition spend by every new customer, Direct, Email and Unattributed
# included; paid CAC divides the paid groups' spend by their own new customers only.
ALL_CHANNELS = "All channels (blended)"
PAID_CHANNELS = "Paid channels"
RETENTION = "retention"
ACQUISITION = "acquisition"
MAPPING_COLUMNS = ["spend_channel", "channel"]
DEFAULT_MAPPING = (
    ("Google Ads", "Paid Search"),
    ("Microsoft Ads", "Paid Search"),
    ("Bing Ads", "Paid Search"),
    ("Meta Ads", "Paid Social"),
    ("Facebook Ads", "Paid Social"),
    ("Facebook", "Paid Social"),
    ("Instagram Ads", "Paid Social"),
    ("Pinterest Ads", "Paid Social"),
    ("Snapchat Ads", "Paid Social"),
    ("TikTok Ads", "Organic Social"),
    ("Klaviyo", "Email"),
    ("Mailchimp", "Email"),
    ("Email agency", "Email"),
    ("Affiliate network", "Affiliates"),
    ("Refersion", "Affiliates"),
    ("SEO agency", "Organic Search"),
)
GUIDE_RATIO = 3.0
BREAK_EVEN_RATIO = 1.0
CRITICAL_AFTER_MONTHS = 6
DEFAULT_EXPECTED_YEARS = 3.0
CAC_COLUMNS = ["month", "channel", "acquisition_spend", "new_customers", "cac"]
CAMPAIGN_COLUMNS = [
    "campaign",
    "spend_channel",
    "channel",
    "acquisition_spend",
    "new_customers",
    "cac",
]
ECONOMICS_COLUMNS = [
    "channel",
    "acquisition_spend",
    "new_customers",
    "cac",
    "aov",
    "orders_per_year",
    "expected_years",
    "simple_clv",
    "observed_ltv_365d",
    "clv_to_cac",
    "payback_months",
    "health",
]


class SpendMappingError(UserError):
    """A spend mapping table that cannot be used, with the reason as one sentence."""


def default_mapping() -> pd.DataFrame:
    """Return the default spend-name -> channel group mapping (MAPPING_COLUMNS)."""
    return pd.DataFrame(list(DEFAULT_MAPPING), columns=MAPPING_COLUMNS)


def validate_mapping(mapping: pd.DataFrame) -> pd.DataFrame:
    """Return the mapping with names trimmed and empty rows dropped; the first row of a name wins.

    In/out: MAPPING_COLUMNS. Raises SpendMappingError when a column is missing or a name has no
    channel.
    """
    missing = [c for c in MAPPING_COLUMNS if c not in mapping.columns]
    if missing:
        raise SpendMappingError(f"The spend mapping needs the columns {', '.join(missing)}.")
    table = mapping[MAPPING_COLUMNS].fillna("").astype(str).apply(lambda c: c.str.strip())
    table = table[(table.spend_channel != "") | (table.channel != "")]
    if (table.channel == "").any() or (table.spend_channel == "").any():
        raise SpendMappingError("Every spend mapping row needs both a spend name and a channel.")
    return table.drop_duplicates("spend_channel").reset_index(drop=True)


def map_spend(spend: ir.Table, mapping: pd.DataFrame) -> ir.Table:
    """Spend rows with their channel group and purpose.

    In: the ``marketing_spend`` table; a mapping (MAPPING_COLUMNS). Out: month (date),
    spend_channel, channel (mapped group or UNMAPPED), purpose (``retention`` or ``acquisition``),
    spend (as stored: decimal in a dataset, so sums over it are exact; summaries cast them to
    float), campaign (NULL for spend not split by campaign).
    """
    name = portable.strip(spend.channel).lower()
    pairs = validate_mapping(mapping).itertuples(index=False)
    cases = [(name == ibis.literal(row.spend_channel.lower()), row.channel) for row in pairs]
    group = ibis.cases(*cases, else_=UNMAPPED) if cases else ibis.literal(UNMAPPED)
    purpose = ibis.ifelse(
        portable.strip(spend.purpose).lower().fill_null("") == RETENTION, RETENTION, ACQUISITION
    )
    return spend.select(
        month=spend.month,
        spend_channel=spend.channel,
        channel=group,
        purpose=purpose,
        spend=spend.spend,
        # A dataset stored before the column existed and opened read-only was never migrated.
        campaign=spend.campaign if "campaign" in spend.columns else ibis.null("string"),
    )


def _month_start(day: dt.date | None) -> dt.date | None:
    return None if day is None else day.replace(day=1)


def summarise_cac(
    mapped: ir.Table,
    attribution: ir.Table,
    first_from: dt.date | None = None,
    first_to: dt.date | None = None,
) -> pd.DataFrame:
    """CAC per channel and month, for the channels with acquisition spend.

    In: the table of ``map_spend``; the table of ``channels.attribute_channels``; the period in
    whole months (the months of ``first_from`` to ``first_to``). Out: CAC_COLUMNS, one row per
    month (first day) and channel with acquisition spend rows in the period, sorted; cac = spend /
    new customers of that channel and month (empty without new customers).
    """
    start, end = _month_start(first_from), _month_start(first_to)
    acquisition = mapped.filter(mapped.purpose == ACQUISITION)
    firsts = attribution.mutate(month=attribution.first_order_on.truncate("M"))
    if start is not None:
        acquisition = acquisition.filter(acquisition.month >= start)
        firsts = firsts.filter(firsts.month >= start)
    if end is not None:
        acquisition = acquisition.filter(acquisition.month <= end)
        firsts = firsts.filter(firsts.month <= end)
    spent = (
        acquisition.group_by(["month", "channel"])
        .aggregate(acquisition_spend=acquisition.spend.sum().cast("float64"))
        .to_pandas()
    )
    if spent.empty:
        return pd.DataFrame(columns=CAC_COLUMNS)
    new = firsts.group_by(["month", "channel"]).aggregate(new_customers=firsts.count()).to_pandas()
    for frame in (spent, new):
        frame["month"] = pd.to_datetime(frame.month).dt.date
    table = spent.merge(new, how="left", on=["month", "channel"])
    table = table.sort_values(["month", "channel"]).reset_index(drop=True)
    table["acquisition_spend"] = table.acquisition_spend.fillna(0.0)
    table["new_customers"] = table.new_customers.fillna(0).astype("int64")
    table["cac"] = table.acquisition_spend / table.new_customers.where(table.new_customers > 0)
    return table[CAC_COLUMNS]


def _campaign_key(name: ir.StringValue) -> ir.StringValue:
    return portable.strip(name).lower().nullif("")


def summarise_campaign_cac(
    mapped: ir.Table,
    orders: ir.Table,
    attribution: ir.Table,
    first_from: dt.date | None = None,
    first_to: dt.date | None = None,
) -> pd.DataFrame:
    """CAC per campaign, for the campaigns with acquisition spend in the period.

    In: the table of ``map_spend``; the canonical ``orders`` (order_id, utm_campaign); the table
    of ``channels.attribute_channels`` (customer_id, first_order_on, first_order_id); the period
    in whole months, as ``summarise_cac``. Out: CAMPAIGN_COLUMNS, one row per campaign (names
    equal once trimmed and lower-cased are one campaign, shown as the first name in sort order):
    spend_channel and channel (the spend's names and their groups, joined by ", " when a name is
    used on several), acquisition_spend (float), new_customers (the customers whose first order
    in the period carries the campaign's name in utm_campaign; NA when none does, as there is
    then no evidence to count them by), cac (spend / new customers; NaN without them); most
    spend first, then by campaign.
    """
    start, end = _month_start(first_from), _month_start(first_to)
    acquisition = mapped.mutate(campaign_key=_campaign_key(mapped.campaign))
    acquisition = acquisition.filter(
        (acquisition.purpose == ACQUISITION) & acquisition.campaign_key.notnull()
    )
    firsts = attribution.mutate(month=attribution.first_order_on.truncate("M"))
    if start is not None:
        acquisition = acquisition.filter(acquisition.month >= start)
        firsts = firsts.filter(firsts.month >= start)
    if end is not None:
        acquisition = acquisition.filter(acquisition.month <= end)
        firsts = firsts.filter(firsts.month <= end)
    spent = (
        acquisition.group_by(["campaign_key", "campaign", "spend_channel", "channel"])
        .aggregate(acquisition_spend=acquisition.spend.sum())
        .to_pandas()
    )
    if spent.empty:
        return pd.DataFrame(columns=CAMPAIGN_COLUMNS)
    tagged = firsts.join(
        orders.select(first_order_id=orders.order_id, utm_campaign=orders.utm_campaign),
        "first_order_id",
    )
    tagged = tagged.mutate(campaign_key=_campaign_key(tagged.utm_campaign))
    tagged = tagged.filter(tagged.campaign_key.notnull())
    new = tagged.group_by("campaign_key").aggregate(new_customers=tagged.count()).to_pandas()
    table = (
        spent.groupby("campaign_key")
        .agg(
            campaign=("campaign", "min"),
            spend_channel=("spend_channel", _join_names),
            channel=("channel", _join_names),
            acquisition_spend=("acquisition_spend", "sum"),
        )
        .reset_index()
        .merge(new, how="left", on="campaign_key")
    )
    table["acquisition_spend"] = table.acquisition_spend.astype("float64")
    table["new_customers"] = table.new_customers.astype("Int64")
    table["cac"] = (table.acquisition_spend / table.new_customers.astype("float64")).astype(
        "float64"
    )
    table = table.sort_values(["acquisition_spend", "campaign"], ascending=[False, True])
    return table[CAMPAIGN_COLUMNS].reset_index(drop=True)


def _join_names(names: pd.Series) -> str:
    return ", ".join(sorted(set(names)))


def describe_campaigns_without_evidence(campaigns: pd.DataFrame) -> str | None:
    """The sentence on the campaigns whose new customers cannot be counted, None without any.

    In: ``summarise_campaign_cac`` output.
    """
    missing = int(campaigns.new_customers.isna().sum())
    if not missing:
        return None
    if missing == len(campaigns):
        return (
            "New customers and CAC show — for every campaign: no new customer's first order "
            "carries a campaign's name in utm_campaign, so the orders hold no campaign evidence "
            "to count them by."
        )
    return (
        f"{missing:,} of {len(campaigns):,} campaigns show — for new customers and CAC: no new "
        "customer's first order carries their name in utm_campaign, so the orders hold no "
        "campaign evidence to count them by."
    )


def compute_simple_clv(aov: float, orders_per_year: float, expected_years: float) -> float:
    """Simple CLV = AOV x orders per year x expected years (docs/acquisition.md §4)."""
    return aov * orders_per_year * expected_years


def find_payback_months(curve: pd.DataFrame, cac: float) -> int | None:
    """Months since first order until cumulative revenue per customer reaches ``cac``.

    In: ``cohorts.average_curve`` output (months_since, cumulative_revenue_per_customer). Out: the
    first such month (0 = within the first month), or None if not reached in the data.
    """
    if cac is None or math.isnan(cac):
        return None
    reached = curve[curve.cumulative_revenue_per_customer >= cac]
    return int(reached.months_since.min()) if not reached.empty else None


def assess_clv_cac(ratio: float | None, months_open: int | None = None) -> tuple[str, str]:
    """Return (level, sentence) for a CLV : CAC ratio: healthy, low, warning or critical.

    About 3 : 1 is the usual guide; 1 : 1 or below loses money on each customer, which is
    critical once the store is past its first ``CRITICAL_AFTER_MONTHS`` months.
    """
    if ratio is None or math.isnan(ratio):
        return "unknown", "No acquisition spend to compare with, so no CLV : CAC."
    shown = f"{ratio:.1f} : 1"
    if ratio <= BREAK_EVEN_RATIO:
        level = (
            "critical" if months_open is None or months_open >= CRITICAL_AFTER_MONTHS else "warning"
        )
        return level, (
            f"CLV : CAC is {shown}: each new customer costs at least what they will bring in, "
            "so acquisition loses money."
            + (" Past the first six months this is critical." if level == "critical" else "")
        )
    if ratio < GUIDE_RATIO:
        return "low", f"CLV : CAC is {shown}, below the usual 3 : 1: acquisition pays, but thinly."
    return "healthy", f"CLV : CAC is {shown}, at or above the usual 3 : 1 guide."


def summarise_economics(
    channel_table: pd.DataFrame,
    cac_table: pd.DataFrame,
    curves: dict[str, pd.DataFrame],
    expected_years: float = DEFAULT_EXPECTED_YEARS,
    months_open: int | None = None,
) -> pd.DataFrame:
    """CAC, simple CLV (with its inputs), observed 365-day LTV, CLV : CAC and payback per channel.

    In: ``channels.summarise_channels`` output; ``summarise_cac`` output for the same period;
    ``curves``: channel (and PAID_CHANNELS, ALL_CHANNELS) -> ``cohorts.average_curve``. Out:
    ECONOMICS_COLUMNS, one row per channel with acquisition spend (UNMAPPED included); then
    PAID_CHANNELS when a paid group (``channel_rules.PAID_GROUPS``) has acquisition spend: their
    spend over their new customers (paid CAC); then ALL_CHANNELS: all acquisition spend over all
    new customers (blended CAC). A channel's cac is all its acquisition spend in the period over
    all its new customers in the period, months without spend rows included.
    """
    if cac_table.empty:
        return pd.DataFrame(columns=ECONOMICS_COLUMNS)
    spent = cac_table.groupby("channel").acquisition_spend.sum()
    by_channel = channel_table.set_index("channel")
    groups: list[tuple[str, dict[str, float] | pd.Series | None, float]] = [
        (c, by_channel.loc[c] if c in by_channel.index else None, float(spent[c]))
        for c in spent.index
    ]
    paid = [c for c in spent.index if c in PAID_GROUPS]
    if paid:
        paid_table = channel_table[channel_table.channel.isin(PAID_GROUPS)]
        groups.append((PAID_CHANNELS, _total_figures(paid_table), float(spent[paid].sum())))
    groups.append((ALL_CHANNELS, _total_figures(channel_table), float(spent.sum())))
    rows = []
    for channel, figures, acquisition in groups:
        new = int(figures["new_customers"]) if figures is not None else 0
        cac = acquisition / new if new else math.nan
        aov = float(figures["aov"]) if figures is not None else math.nan
        per_year = float(figures["orders_per_customer_365d"]) if figures is not None else math.nan
        clv = compute_simple_clv(aov, per_year, expected_years)
        ratio = clv / cac if cac and not math.isnan(cac) else math.nan
        curve = curves.get(channel)
        rows.append(
            {
                "channel": channel,
                "acquisition_spend": acquisition,
                "new_customers": new,
                "cac": cac,
                "aov": aov,
                "orders_per_year": per_year,
                "expected_years": expected_years,
                "simple_clv": clv,
                "observed_ltv_365d": float(figures["revenue_per_customer_365d"])
                if figures is not None
                else math.nan,
                "clv_to_cac": ratio,
                "payback_months": find_payback_months(curve, cac) if curve is not None else None,
                "health": assess_clv_cac(ratio, months_open)[0],
            }
        )
    table = pd.DataFrame(rows, columns=ECONOMICS_COLUMNS)
    table["payback_months"] = table.payback_months.astype("Int64")
    return table


def _total_figures(channel_table: pd.DataFrame) -> dict[str, float]:
    t = channel_table
    observed = t.customers_365d.sum()
    orders_365 = (t.orders_per_customer_365d.fillna(0) * t.customers_365d).sum()
    revenue_365 = (t.revenue_per_customer_365d.fillna(0) * t.customers_365d).sum()
    orders = t.orders.sum()
    return {
        "new_customers": t.new_customers.sum(),
        "aov": t.revenue.sum() / orders if orders else math.nan,
        "orders_per_customer_365d": orders_365 / observed if observed else math.nan,
        "revenue_per_customer_365d": revenue_365 / observed if observed else math.nan,
    }


def read_cac(economics: pd.DataFrame, row: str) -> float:
    """The CAC of the economics row ``row`` (PAID_CHANNELS or ALL_CHANNELS), NaN when absent."""
    found = economics.cac[economics.channel == row]
    return float(found.iloc[0]) if len(found) else math.nan


def summarise_effort_spend(mapped: ir.Table) -> pd.DataFrame:
    """Spend per month split by purpose.

    In: the table of ``map_spend``. Out: month (date), spend, retention_spend,
    retention_spend_share (fraction of the month's spend tagged retention), sorted by month.
    """
    table = (
        mapped.group_by("month")
        .aggregate(
            spend=mapped.spend.sum().cast("float64"),
            retention_spend=mapped.spend.sum(where=mapped.purpose == RETENTION).cast("float64"),
        )
        .order_by("month")
        .to_pandas()
    )
    table["month"] = pd.to_datetime(table.month).dt.date
    table["retention_spend"] = table.retention_spend.fillna(0.0)
    table["retention_spend_share"] = table.retention_spend / table.spend.where(table.spend > 0)
    return table
