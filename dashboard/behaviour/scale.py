"""SCALE prioritisation: chosen segments ranked on Size, Currency, Access, Love and Early adoption.

Reference: docs/behaviour.md §6.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import ibis
import ibis.expr.types as ir
import pandas as pd

from dashboard import engines, formatting, order_rules
from dashboard.acquisition import channel_rules, spend
from dashboard.acquisition.channels import UNATTRIBUTED
from dashboard.behaviour.compiler import flag_segments
from dashboard.behaviour.definitions import Definition
from dashboard.behaviour.feature_table import (
    DEFAULT_PARAMS,
    FeatureParams,
    attach_rfm,
    build_behaviour_features,
)
from dashboard.errors import UserError
from dashboard.rfm import cut_points, schemes

LETTERS = ("size", "currency", "access", "love", "early")
LETTER_NAMES = {
    "size": "Size",
    "currency": "Currency",
    "access": "Access",
    "love": "Love",
    "early": "Early adoption",
}
DEFAULT_WEIGHTS = dict.fromkeys(LETTERS, 1.0)
DEFAULT_LOVE = 5.0
MAX_LOVE = 10.0
DEFAULT_EARLY_MONTHS = 3
MAX_EARLY_MONTHS = 24
# Channels the store can address again on its own: its lists (Email, SMS) and the paid groups,
# whose platforms re-target their own audiences. Direct, organic and referral customers came
# without a lever the store pulls.
ADDRESSABLE_CHANNELS = ("Email", "SMS", *channel_rules.PAID_GROUPS)

# The score first, so it stays on screen however narrow the table is; each letter's score is
# followed by the figure behind it.
SCALE_COLUMNS = [
    "scale_score",
    "segment",
    "size_score",
    "size_why",
    "currency_score",
    "currency_why",
    "access_score",
    "access_why",
    "love_score",
    "love_why",
    "early_score",
    "early_why",
    "revenue_at_stake",
    "share_revenue",
    "size",
    "share_customers",
    "aov",
    "aov_index",
    "email_share",
    "sms_share",
    "local_share",
    "channel_share",
    "access",
    "love",
    "love_repeat_rate",
    "love_satisfaction",
    "early_share",
]
# Added after early_why when acquisition spend is loaded.
CAC_COLUMNS = ["cac_channel_mix", "conversion", "revenue_per_customer", "revenue_to_cac"]
# The raw figure each letter is scored on.
_RAW = {
    "size": "share_customers",
    "currency": "aov",
    "access": "access",
    "love": "love",
    "early": "early_share",
}


class ScaleError(UserError):
    """A SCALE setting that cannot be used, with the reason as one sentence."""


@dataclass(frozen=True)
class ScaleMeasures:
    """The raw SCALE figures of the chosen segments, before scoring.

    ``table``: one row per segment, in the order given: segment, size, share_customers, buyers,
    revenue, aov, aov_index, email_share, sms_share, local_share, channel_share, access,
    love_repeat_rate, love_satisfaction, early_share, share_revenue. ``channel_mix``: members
    per acquisition channel, one row per channel (index) and one column per segment. The store's
    figures they are compared with: ``store_aov``, ``home_country`` (None without countries),
    ``early_until`` (the last day of the store's first months; None without orders).
    """

    table: pd.DataFrame
    channel_mix: pd.DataFrame
    store_aov: float
    home_country: str | None
    early_until: dt.date | None


def find_home_country(table: ir.Table) -> str | None:
    """Return the most common known ``country`` of the table's customers (ties: the first in
    alphabetical order), None when no customer has one."""
    known = table.filter(table.country.notnull())
    top = (
        known.group_by("country")
        .aggregate(customers=known.count())
        .order_by([ibis.desc("customers"), "country"])
        .limit(1)
        .to_pandas()
    )
    return None if top.empty else str(top.country.iloc[0])


def find_early_until(table: ir.Table, early_months: int) -> dt.date | None:
    """Return the last day of the store's first ``early_months`` months: from the earliest
    ``first_order_on`` of the table, None when nobody has ordered."""
    if not 1 <= early_months <= MAX_EARLY_MONTHS:
        raise ScaleError(
            f"The store's first months for Early adoption must be 1 to {MAX_EARLY_MONTHS}."
        )
    opened = table.aggregate(opened=table.first_order_on.min()).to_pandas().opened.iloc[0]
    if pd.isna(opened):
        return None
    return (pd.Timestamp(opened) + pd.DateOffset(months=early_months)).date() - dt.timedelta(1)


def measure_segments(
    table: ir.Table,
    members: Mapping[str, ir.BooleanValue],
    early_months: int = DEFAULT_EARLY_MONTHS,
) -> ScaleMeasures:
    """Measure the SCALE figures of each segment (docs/behaviour.md §6).

    In: one row per customer with orders, net_revenue, accepts_marketing, accepts_sms, country,
    first_order_on, first_order_channel and survey_score (the feature table); ``members``:
    segment -> the boolean expression over ``table`` of its members. Out: ``ScaleMeasures``.
    A share whose input no customer of the table has (no consent, country or channel known) is
    NaN, and left out of Access.
    """
    home = find_home_country(table)
    early_until = find_early_until(table, early_months)
    email = table.accepts_marketing.fill_null(False)
    sms = table.accepts_sms.fill_null(False)
    local = table.country == ibis.literal(home, "string")
    addressable = table.first_order_channel.isin(ADDRESSABLE_CHANNELS)
    early = table.first_order_on <= ibis.literal(early_until, "date")
    measures: dict[str, ir.Value] = {
        "_total": table.count(),
        "_orders": table.orders.sum(),
        "_revenue": table.net_revenue.sum().cast("float64"),
        "_email_known": table.accepts_marketing.count(),
        "_sms_known": table.accepts_sms.count(),
        "_channel_known": table.first_order_channel.count(),
    }
    for i, member in enumerate(members.values()):
        measures |= {
            f"size_{i}": member.cast("int64").sum(),
            f"orders_{i}": table.orders.sum(where=member),
            f"revenue_{i}": table.net_revenue.sum(where=member).cast("float64"),
            f"email_{i}": (member & email).cast("int64").sum(),
            f"sms_{i}": (member & sms).cast("int64").sum(),
            f"local_{i}": (member & local.fill_null(False)).cast("int64").sum(),
            f"channel_{i}": (member & addressable.fill_null(False)).cast("int64").sum(),
            f"early_{i}": (member & early.fill_null(False)).cast("int64").sum(),
            f"buyers_{i}": (member & (table.orders >= 1)).cast("int64").sum(),
            f"repeat_{i}": (member & (table.orders >= 2)).cast("int64").sum(),
            f"survey_{i}": table.survey_score.mean(where=member),
        }
    row = table.aggregate(**measures).to_pandas().iloc[0]

    def number(key: str) -> float:
        return math.nan if pd.isna(row[key]) else float(row[key])

    def share(count: float, of: float, known: bool = True) -> float:
        return count / of if of and known else math.nan

    store_aov = share(number("_revenue"), number("_orders"))
    rows = []
    for i, name in enumerate(members):
        size = number(f"size_{i}") or 0.0
        orders = number(f"orders_{i}") or 0.0
        revenue = number(f"revenue_{i}") if size else 0.0
        aov = share(revenue, orders)
        shares = {
            "email_share": share(number(f"email_{i}"), size, number("_email_known") > 0),
            "sms_share": share(number(f"sms_{i}"), size, number("_sms_known") > 0),
            "local_share": share(number(f"local_{i}"), size, home is not None),
            "channel_share": share(number(f"channel_{i}"), size, number("_channel_known") > 0),
        }
        known = [v for v in shares.values() if not math.isnan(v)]
        rows.append(
            {
                "segment": name,
                "size": int(size),
                "share_customers": share(size, number("_total")),
                "buyers": int(number(f"buyers_{i}") or 0),
                "revenue": revenue,
                "aov": aov,
                "aov_index": share(aov, store_aov) if not math.isnan(aov) else math.nan,
                **shares,
                "access": sum(known) / len(known) if known else math.nan,
                "love_repeat_rate": share(number(f"repeat_{i}"), number(f"buyers_{i}")),
                "love_satisfaction": number(f"survey_{i}"),
                "early_share": share(number(f"early_{i}"), size, early_until is not None),
                "share_revenue": share(revenue, number("_revenue")),
            }
        )
    mix = table.group_by(channel=table.first_order_channel).aggregate(
        **{f"_{i}": m.cast("int64").sum() for i, m in enumerate(members.values())}
    )
    channel_mix = mix.to_pandas().set_index("channel").sort_index()
    channel_mix.columns = list(members)
    return ScaleMeasures(pd.DataFrame(rows), channel_mix, store_aov, home, early_until)


def read_channel_cacs(economics: pd.DataFrame) -> dict[str, float]:
    """Return channel -> CAC from ``spend.summarise_economics`` output (spend.ECONOMICS_COLUMNS),
    without its paid and blended rows."""
    rows = economics[~economics.channel.isin([spend.PAID_CHANNELS, spend.ALL_CHANNELS])]
    return {str(c): float(v) for c, v in zip(rows.channel, rows.cac, strict=True)}


def compute_mix_cac(channel_mix: pd.DataFrame, channel_cac: Mapping[str, float]) -> pd.Series:
    """Return each segment's CAC by channel mix: the mean of its members' channel CAC.

    In: ``ScaleMeasures.channel_mix`` (channel x segment counts); channel -> CAC, a channel
    without acquisition spend missing (it costs 0). Members of no channel or Unattributed, and
    of a channel whose CAC is unknown (spend but no new customer), are left out. Out: segment ->
    CAC, NaN when none of its members is left.
    """
    known = channel_mix[
        channel_mix.index.notna()
        & (channel_mix.index != UNATTRIBUTED)
        & ~channel_mix.index.map(lambda c: math.isnan(channel_cac.get(c, 0.0)))
    ]
    cac = pd.Series([channel_cac.get(c, 0.0) for c in known.index], index=known.index)
    counted = known.sum(axis=0)
    cost = known.mul(cac, axis=0).sum(axis=0)
    return (cost / counted.where(counted > 0)).astype("float64")


def score_letters(raw: pd.Series) -> pd.Series:
    """Min-max score of one letter's figures across the segments: 0 the lowest, 1 the highest,
    1 for all when they are equal; NaN stays NaN."""
    low, high = raw.min(), raw.max()
    if pd.isna(low):
        return raw.astype("float64")
    if high == low:
        return raw.where(raw.isna(), 1.0).astype("float64")
    return ((raw - low) / (high - low)).astype("float64")


def check_weights(weights: Mapping[str, float]) -> dict[str, float]:
    """Return the five letters' weights (a letter not given weighs 1); raise ScaleError on a
    negative weight or when all are 0."""
    chosen = {letter: float(weights.get(letter, 1.0)) for letter in LETTERS}
    if any(w < 0 or math.isnan(w) for w in chosen.values()):
        raise ScaleError("SCALE weights must be 0 or more.")
    if not sum(chosen.values()):
        raise ScaleError("Give at least one SCALE letter a weight above 0.")
    return chosen


def check_love(segments: list[str], love: Mapping[str, float]) -> list[float]:
    """Return the analyst's Love per segment (DEFAULT_LOVE when not given); raise ScaleError
    outside 0 to 10."""
    values = [float(love.get(name, DEFAULT_LOVE)) for name in segments]
    if any(not 0 <= v <= MAX_LOVE for v in values):
        raise ScaleError("Love is your own preference from 0 to 10 for each segment.")
    return values


def rank_segments(
    measures: ScaleMeasures,
    love: Mapping[str, float] | None = None,
    weights: Mapping[str, float] | None = None,
    channel_cac: Mapping[str, float] | None = None,
    currency: str | None = None,
) -> pd.DataFrame:
    """Score and rank the measured segments (docs/behaviour.md §6).

    In: ``measure_segments`` output; Love 0..10 per segment (default 5); weights per letter
    (default 1 each); channel -> CAC when acquisition spend is loaded (``read_channel_cacs``).
    Out: SCALE_COLUMNS (plus CAC_COLUMNS after early_why with ``channel_cac``), one row per
    segment, highest scale_score first (ties in the given order). Each letter is scored 0..1 by
    min-max across the segments; scale_score is the weighted mean of the letters' scores, a
    letter without a score left out.
    """
    chosen = check_weights(weights or {})
    table = measures.table.copy()
    table["love"] = check_love(list(table.segment), love or {})
    total = pd.Series(0.0, index=table.index)
    weight = pd.Series(0.0, index=table.index)
    for letter in LETTERS:
        table[f"{letter}_score"] = score_letters(table[_RAW[letter]])
        scored = table[f"{letter}_score"].notna()
        total += table[f"{letter}_score"].fillna(0.0) * chosen[letter]
        weight += scored * chosen[letter]
    table["scale_score"] = total / weight.where(weight > 0)
    table["revenue_at_stake"] = table.revenue
    explain_letters(table, measures, currency)
    columns = list(SCALE_COLUMNS)
    if channel_cac is not None:
        by_mix = compute_mix_cac(measures.channel_mix, channel_cac)
        table["cac_channel_mix"] = table.segment.map(by_mix).astype("float64")
        table["conversion"] = table.buyers / table["size"].where(table["size"] > 0)
        table["revenue_per_customer"] = table.revenue / table.buyers.where(table.buyers > 0)
        cac = table.cac_channel_mix.where(table.cac_channel_mix > 0)
        table["revenue_to_cac"] = table.revenue_per_customer / cac
        at = columns.index("early_why") + 1
        columns[at:at] = CAC_COLUMNS
    ordered = table.sort_values("scale_score", ascending=False, kind="stable", na_position="last")
    return ordered[columns].reset_index(drop=True)


def explain_letters(table: pd.DataFrame, measures: ScaleMeasures, currency: str | None) -> None:
    """Add each letter's explanation (``<letter>_why``: the figures behind its score) to the
    measured table, in place."""
    percent = formatting.format_percent
    table["size_why"] = [
        f"{formatting.format_count_of(n, 'customer')}, {percent(s)} of all"
        for n, s in zip(table["size"], table.share_customers, strict=True)
    ]
    store = formatting.format_money(measures.store_aov, currency)
    table["currency_why"] = [
        f"AOV {formatting.format_money(a, currency)}, {i:.2f}x the store's {store}"
        if not math.isnan(i)
        else "no orders"
        for a, i in zip(table.aov, table.aov_index, strict=True)
    ]
    local = f"in {measures.home_country}" if measures.home_country else "local"
    parts = (
        ("email_share", "e-mail"),
        ("sms_share", "SMS"),
        ("local_share", local),
        ("channel_share", "addressable channel"),
    )
    table["access_why"] = [
        ", ".join(f"{label} {percent(row[c])}" for c, label in parts if not math.isnan(row[c]))
        or "no consent, country or channel known"
        for _, row in table.iterrows()
    ]
    table["love_why"] = [
        f"your rating {v:g}/10; repeat rate {percent(r)}"
        + (f", survey {s:.1f}" if not math.isnan(s) else "")
        for v, r, s in zip(table.love, table.love_repeat_rate, table.love_satisfaction, strict=True)
    ]
    until = measures.early_until
    table["early_why"] = [
        f"{percent(s)} first bought by {until.isoformat()}" if until else "no orders"
        for s in table.early_share
    ]


def scale_table(
    base: ir.Table,
    definitions: Mapping[str, Definition],
    workspace: Path,
    love: Mapping[str, float] | None = None,
    weights: Mapping[str, float] | None = None,
    early_months: int = DEFAULT_EARLY_MONTHS,
    channel_cac: Mapping[str, float] | None = None,
    currency: str | None = None,
) -> pd.DataFrame:
    """SCALE prioritisation of behavioural segments (docs/behaviour.md §6).

    In: the feature table (BASE_COLUMNS), the chosen definitions, the analyst's Love, weights
    and early months, channel -> CAC when spend is loaded. Out: ``rank_segments`` output.
    """
    table, columns = flag_segments(base, definitions, workspace)
    members = {name: table[columns[name]] for name in definitions}
    measures = measure_segments(table, members, early_months)
    return rank_segments(measures, love, weights, channel_cac, currency)


def measure_rfm_segments(
    table: ir.Table,
    scheme: schemes.Scheme,
    cuts: cut_points.Cuts,
    early_months: int = DEFAULT_EARLY_MONTHS,
) -> ScaleMeasures:
    """Measure the SCALE figures of each group of an RFM scheme (docs/behaviour.md §6).

    In: the feature table (BASE_COLUMNS), the scheme and its cut points. Each group's members are
    ``rfm_segment == group`` of ``attach_rfm``, measured by ``measure_segments`` like any
    behavioural segment; Prospects are left out (no order to score). Out: ``ScaleMeasures``
    with one row per group, in the scheme's order.
    """
    view = attach_rfm(table, scheme, cuts)
    members = {name: view.rfm_segment == ibis.literal(name, "string") for name in scheme.segments}
    return measure_segments(view, members, early_months)


def rank_rfm_segments(
    table: ir.Table,
    scheme: schemes.Scheme,
    cuts: cut_points.Cuts,
    love: Mapping[str, float] | None = None,
    weights: Mapping[str, float] | None = None,
    early_months: int = DEFAULT_EARLY_MONTHS,
    channel_cac: Mapping[str, float] | None = None,
    currency: str | None = None,
) -> pd.DataFrame:
    """SCALE prioritisation of the groups of an RFM scheme.

    In: the feature table (BASE_COLUMNS), scheme, cut points and the analyst's settings as in
    ``rank_segments``. Out: ``rank_segments`` output, one row per group with members (Prospects
    left out).
    """
    measures = measure_rfm_segments(table, scheme, cuts, early_months)
    # A group nobody is in has nothing to score, and would set every Size minimum at 0.
    filled = measures.table[measures.table["size"] > 0].reset_index(drop=True)
    return rank_segments(replace(measures, table=filled), love, weights, channel_cac, currency)


def build_rfm_scale(
    tables: engines.EngineTables,
    window: order_rules.Window,
    scheme: schemes.Scheme,
    cuts: cut_points.Cuts,
    params: FeatureParams = DEFAULT_PARAMS,
    currency: str | None = None,
) -> pd.DataFrame:
    """Rank the groups of an RFM scheme by SCALE with the default weights and Love (the report's
    ranking), from the dataset's tables on any engine.

    The feature table is built without predictions (SCALE uses none) and held only for this
    call. Out: ``rank_rfm_segments`` output.
    """
    expr = build_behaviour_features(tables, window, params)
    backend, features = engines.materialise(tables, expr, "customer_features")
    try:
        return rank_rfm_segments(features, scheme, cuts, currency=currency)
    finally:
        engines.release(backend, features)
