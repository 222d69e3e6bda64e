"""The feature table: one row per known customer with every behavioural feature.

This is the expensive step of behavioural segmentation (``feature_base`` builds it once per
dataset, analysis date and window). The RFM scores and segment depend on cut points that move
with sliders, so they are attached afterwards (``attach_rfm``), a cheap step over the
materialised table.

Order features count orders by the one definition of dashboard/order_rules.py (valid orders
are purchases, counted orders are revenue), as the RFM measures do; order counts, revenue,
discount share, refunds, intervals, categories and trend shares use the valid orders inside the
window. A feature whose input file was not loaded is NULL for everyone
(``feature_inputs.missing_inputs`` says which file enables it).

The customers are everyone known up to the analysis date: buyers, the customers file, and
visitors with a customer id in sessions, abandoned checkouts or survey answers (as prospects).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

import ibis
import ibis.expr.types as ir
import pandas as pd

from dashboard import order_rules, portable
from dashboard.acquisition import channels
from dashboard.behaviour.catalogue import (
    BASE_COLUMNS,
    FEATURES,
    PREDICTED_COLUMNS,
    REPLENISHMENT_MIN_PAIRS,
    REPLENISHMENT_WINDOW_DAYS,
    TREND_WINDOWS_DAYS,
)
from dashboard.behaviour.feature_inputs import available_sources
from dashboard.products import abandoned, replenishment
from dashboard.products import lines as product_lines
from dashboard.rfm import cut_points, schemes, segments

DEFAULT_SCORING = cut_points.ScoringSpec(schemes.PRESETS[schemes.DEFAULT_SCHEME])

# channel rule field -> the orders columns its evidence is read from (channels._evidence_fields)
EVIDENCE_COLUMNS = {
    "utm_source_medium": ("utm_source", "utm_medium"),
    "utm_medium": ("utm_medium",),
    "utm_source": ("utm_source",),
    "click_id": ("click_id",),
    "referrer_host": ("referrer",),
    "channel": ("channel",),
    "source_name": ("source_name",),
    "discount_code": ("discount_code",),
    "tag": ("tags",),
    "visit": ("landing_site",),
}


@dataclass(frozen=True)
class FeatureParams:
    """What the feature table depends on besides the data: counting rules and channel rules."""

    counting: order_rules.CountingRules = field(default_factory=order_rules.CountingRules)
    channel_rules: tuple[tuple[object, ...], ...] = channels.DEFAULT_RULES


DEFAULT_PARAMS = FeatureParams()


def select_rules_with_evidence(orders: ir.Table, rules: pd.DataFrame) -> pd.DataFrame:
    """Return the channel rules (validated) whose evidence some order carries.

    A rule on a column that is empty on every order can never match, so leaving it out changes
    no channel; each rule costs compile time, and many stores carry no UTM tags or referrers.
    """
    valid = channels.validate_rules(rules)
    # A dataset stored before a column existed is opened read-only, never migrated: no evidence.
    columns = sorted(
        {c for found in EVIDENCE_COLUMNS.values() for c in found} & set(orders.columns)
    )
    counts = orders.aggregate(
        **{c: portable.strip(orders[c]).nullif("").count() for c in columns}
    ).to_pyarrow()
    present = {c for c in columns if counts.column(c)[0].as_py()}
    keep = valid.field.map(lambda f: any(c in present for c in EVIDENCE_COLUMNS.get(f, columns)))
    return valid[keep].reset_index(drop=True)


def _join(left: ir.Table, right: ir.Table) -> ir.Table:
    joined = left.left_join(right, "customer_id")
    return joined.drop(*(c for c in joined.columns if c == "customer_id_right"))


def _order_features(flags: ir.Table, available: set[str]) -> ir.Table:
    in_window = flags.in_window
    valid_in_window = flags.is_valid & in_window
    has_code = portable.strip(flags.discount_code).nullif("").notnull()
    refunded = flags.is_counted & in_window & ((flags.refunded_amount > 0) | (flags.net_total < 0))
    per_customer = flags.group_by("customer_id").aggregate(
        _coded=(valid_in_window & has_code).sum(),
        refund_count=refunded.sum(),
        _last_order_at=flags.ordered_at.max(where=flags.is_valid),
    )
    if "discount_codes" not in available:
        per_customer = per_customer.mutate(_coded=ibis.null("int64"))
    days = flags.filter(valid_in_window).select("customer_id", "day").distinct()
    gaps = days.mutate(
        gap=days.day.delta(days.day.lag().over(group_by="customer_id", order_by="day"), unit="day")
    )
    # A filter, not median(where=...): Ibis writes that condition into Spark's percentile
    # fraction, which Spark refuses. Customers with one order day keep a NULL median.
    gaps = gaps.filter(gaps.gap.notnull())
    rhythm = gaps.group_by("customer_id").aggregate(
        median_days_between_orders=gaps.gap.cast("float64").median()
    )
    rank = ibis.row_number().over(
        group_by="customer_id", order_by=[ibis.desc("ordered_at"), ibis.desc("order_id")]
    )
    with_country = flags.filter(flags.is_valid & portable.strip(flags.country).nullif("").notnull())
    last_country = (
        with_country.mutate(_rank=rank)
        .filter(lambda t: t._rank == 0)
        .select("customer_id", _order_country=lambda t: portable.strip(t.country))
    )
    return _join(_join(per_customer, rhythm), last_country)


def _line_features(flags: ir.Table, lines: ir.Table, available: set[str]) -> ir.Table:
    valid = flags.filter(flags.is_valid).select("order_id", "customer_id", "day", "in_window")
    product = (
        portable.strip(lines.sku).nullif("").fill_null(portable.strip(lines["product"]).nullif(""))
    )
    keyed = lines.select(
        "order_id", product=product, category=portable.strip(lines.category).nullif("")
    )
    bought = keyed.join(valid, "order_id")
    launches = (
        bought.filter(bought["product"].notnull())
        .group_by("product")
        .aggregate(launched_on=lambda t: t.day.min())
    )
    window_lines = bought.filter(bought.in_window)
    per_line = window_lines.left_join(launches, "product")
    per_order = per_line.group_by(["customer_id", "order_id"]).aggregate(
        after_launch=per_line.day.delta(per_line.launched_on, unit="day").min()
    )
    trend = per_order.group_by("customer_id").aggregate(
        _orders_with_lines=per_order.count(),
        **{
            f"_trend_{days}": (per_order.after_launch <= days).fill_null(False).sum()
            for days in TREND_WINDOWS_DAYS
        },
    )
    if "categories" not in available:
        return trend
    named = window_lines.filter(window_lines.category.notnull())
    categories = named.group_by("customer_id").aggregate(
        categories=named.category.collect(distinct=True).sort(),
        category_count=named.category.nunique(),
    )
    return _join(trend, categories)


def _replenishment_features(
    tables: Mapping[str, ir.Table], as_of: dt.date, rules: order_rules.CountingRules
) -> ir.Table:
    """Per customer: replenishment_due (products due or overdue by their own cycle) and
    next_replenishment_on (the earliest due date), lapsed products left out. A cycle needs
    history, so every valid order up to the analysis date counts, whatever the window."""
    bought = product_lines.select_valid_lines(
        tables["orders"], tables["order_lines"], as_of, rules, with_guests=False
    )
    cycles = replenishment.measure_cycles(bought, REPLENISHMENT_MIN_PAIRS)
    scheduled = replenishment.schedule_replenishments(bought, cycles, as_of)
    horizon = ibis.literal(as_of + dt.timedelta(days=REPLENISHMENT_WINDOW_DAYS))
    return scheduled.group_by("customer_id").aggregate(
        replenishment_due=(scheduled.due_on <= horizon).cast("int64").sum(),
        next_replenishment_on=scheduled.due_on.min(),
    )


def _exact_mean(column: ir.NumericColumn) -> ir.FloatingScalar:
    """The mean of an integer or decimal column as float64: the exact sum over the count of
    values, so it does not depend on the order an engine adds rows in (a float mean does)."""
    return column.sum().cast("float64") / column.count().nullif(0)


def _session_features(sessions: ir.Table, as_of: dt.date) -> ir.Table:
    seen = sessions.filter(sessions.customer_id.notnull() & (sessions.started_at.date() <= as_of))
    average = _exact_mean(seen.duration_seconds).as_scalar()
    per_customer = seen.group_by("customer_id").aggregate(
        session_count=seen.count(),
        avg_session_seconds=_exact_mean(seen.duration_seconds),
        last_visit_on=seen.started_at.date().max(),
    )
    return per_customer.mutate(
        session_duration_vs_average=per_customer.avg_session_seconds / average.nullif(0),
        days_since_last_visit=ibis.literal(as_of).delta(per_customer.last_visit_on, unit="day"),
    )


def _checkout_features(checkouts: ir.Table, as_of: dt.date) -> ir.Table:
    seen = checkouts.filter(
        checkouts.customer_id.notnull() & (checkouts.created_at.date() <= as_of)
    )
    return seen.group_by("customer_id").aggregate(
        abandoned_checkouts=seen.count(), _last_checkout_at=seen.created_at.max()
    )


def _survey_features(surveys: ir.Table, as_of: dt.date) -> ir.Table:
    answered = surveys.filter(
        surveys.customer_id.notnull()
        & (surveys.answered_at.isnull() | (surveys.answered_at.date() <= as_of))
    )
    # An answer without a date is older than any dated one; equal dates keep the higher score.
    rank = ibis.row_number().over(
        group_by="customer_id",
        order_by=[
            ibis.desc(answered.answered_at.isnull().ifelse(0, 1)),
            ibis.desc("answered_at"),
            ibis.desc("score"),
        ],
    )
    return (
        answered.mutate(_rank=rank)
        .filter(lambda t: t._rank == 0)
        .select("customer_id", survey_score=lambda t: t.score.cast("float64"))
    )


def _prediction_features(predictions: ir.Table) -> ir.Table:
    """The scored predictions' columns, and each customer's predicted CLV percentile among the
    customers with a prediction (as revenue_percentile: the share whose value is at most it)."""
    scored = predictions.select(
        "customer_id", *(c for c in PREDICTED_COLUMNS if c in predictions.columns)
    )
    predicted = scored.filter(scored.predicted_clv.notnull())
    percentiles = predicted.select(
        "customer_id",
        predicted_clv_percentile=ibis.cume_dist().over(order_by=predicted.predicted_clv) * 100,
    )
    return _join(scored, percentiles)


def _known_ids(tables: Mapping[str, ir.Table], available: set[str], as_of: dt.date) -> ir.Table:
    parts = [tables["orders"].select("customer_id").filter(ibis.literal(False))]
    if "customers" in available:
        parts.append(tables["customers"].select("customer_id"))
    for key, column in (("sessions", "started_at"), ("abandoned_checkouts", "created_at")):
        if key in available:
            t = tables[key]
            parts.append(
                t.filter(t.customer_id.notnull() & (t[column].date() <= as_of)).select(
                    "customer_id"
                )
            )
    if "survey_scores" in available:
        parts.append(tables["survey_scores"].select("customer_id"))
    # Key columns are NOT NULL in some tables: one nullable type lets the parts union.
    return ibis.union(
        *(p.select(customer_id=p.customer_id.cast("string")) for p in parts), distinct=True
    )


def build_behaviour_features(
    tables: Mapping[str, ir.Table],
    window: order_rules.Window,
    params: FeatureParams = DEFAULT_PARAMS,
    available: set[str] | None = None,
    predictions: ir.Table | None = None,
) -> ir.Table:
    """Per-customer features without the RFM columns.

    In: the dataset's tables by name (``orders`` required; order_lines, customers, sessions,
    abandoned_checkouts, checkout_lines and survey_scores used when they have rows). Out: one
    row per known customer with BASE_COLUMNS (types of FEATURE_SCHEMA), ordered by customer_id.
    Features of a
    missing input are NULL; counts of a present input are 0 for customers without rows in it.
    ``available``: the tables' ``available_sources`` when already known. ``predictions``:
    ``pipeline.score_customers`` of the same tables (customer_id and the predicted columns),
    left-joined; without it the predicted features are NULL (``feature_base`` fits them).
    """
    if available is None:
        available = available_sources(tables)
    as_of = window.as_of
    orders = tables["orders"]
    known = _known_ids(tables, available, as_of)
    measures = cut_points.build_customer_measures(orders, window, params.counting, known)
    scored = measures.filter(measures.status == cut_points.STATUS_SCORED)
    averages = scored.aggregate(
        _avg_revenue=_exact_mean(scored.monetary),
        _avg_orders=_exact_mean(scored.frequency),
    )
    percentiles = scored.select(
        "customer_id",
        revenue_percentile=ibis.cume_dist().over(order_by=scored.monetary) * 100,
    )
    flags = order_rules.flag_orders(orders, window, params.counting)
    rules = select_rules_with_evidence(
        orders, pd.DataFrame(list(params.channel_rules), columns=channels.RULE_COLUMNS)
    )
    attribution = channels.attribute_channels(orders, rules, as_of, params.counting).select(
        "customer_id", first_order_channel="channel"
    )
    t = _join(measures.cross_join(averages), percentiles)
    t = _join(_join(t, _order_features(flags, available)), attribution)
    if "order_lines" in available:
        t = _join(t, _line_features(flags, tables["order_lines"], available))
        t = _join(t, _replenishment_features(tables, as_of, params.counting))
    if "customers" in available:
        customers = tables["customers"].select(
            "customer_id",
            _email=lambda c: portable.strip(c.email).nullif(""),
            first_name="first_name",
            accepts_marketing="accepts_marketing",
            accepts_sms="accepts_sms",
            _country=lambda c: portable.strip(c.country).nullif(""),
            city="city",
            customer_tags="tags",
        )
        t = _join(t, customers)
    if "sessions" in available:
        t = _join(t, _session_features(tables["sessions"], as_of))
    if "abandoned_checkouts" in available:
        t = _join(t, _checkout_features(tables["abandoned_checkouts"], as_of))
        if "checkout_lines" in available:
            t = _join(t, abandoned.collect_latest_abandoned(tables, as_of, params.counting))
    if "survey_scores" in available:
        t = _join(t, _survey_features(tables["survey_scores"], as_of))
    if predictions is not None:
        t = _join(t, _prediction_features(predictions))
    return _select_features(t, available, as_of)


def _select_features(t: ir.Table, available: set[str], as_of: dt.date) -> ir.Table:
    def has(*names: str) -> bool:
        return all(n in t.columns for n in names)

    orders = t.frequency
    some_orders = orders.nullif(0)
    interval = t.median_days_between_orders
    # Return rows counted apart from their order can make the ratio pass 1.
    refund_rate = t.refund_count.fill_null(0).cast("float64") / some_orders
    email_id = t.customer_id.contains("@").ifelse(t.customer_id, ibis.null("string"))
    values: dict[str, ir.Value] = {
        "customer_id": t.customer_id,
        "email": t._email.fill_null(email_id) if has("_email") else email_id,
        "status": t.status,
        "first_order_on": t.first_order_on,
        "last_order_on": t.last_order_on,
        "recency_days": t.recency_days,
        "orders": orders,
        "orders_ever": t.orders_ever,
        "net_revenue": t.monetary,
        "aov": t.monetary.cast("float64") / some_orders,
        "revenue_vs_average": (t.status == cut_points.STATUS_SCORED).ifelse(
            t.monetary.cast("float64") / t._avg_revenue.nullif(0), ibis.null("float64")
        ),
        "revenue_percentile": t.revenue_percentile,
        "orders_vs_average": (t.status == cut_points.STATUS_SCORED).ifelse(
            orders.cast("float64") / t._avg_orders.nullif(0), ibis.null("float64")
        ),
        "median_days_between_orders": interval,
        "days_overdue": t.recency_days.cast("float64") - interval,
        "overdue_ratio": t.recency_days.cast("float64") / interval.nullif(0),
        "discount_share": t._coded.cast("float64") / some_orders,
        "refund_count": t.refund_count.fill_null(0),
        "refund_rate": ibis.ifelse(refund_rate > 1, 1.0, refund_rate),
        "first_order_channel": t.first_order_channel,
        "country": t._country.fill_null(t._order_country) if has("_country") else t._order_country,
    }
    if has("categories"):
        values["categories"] = t.categories
        values["category_count"] = t.category_count.fill_null(0)
    if has("_orders_with_lines"):
        for days in TREND_WINDOWS_DAYS:
            values[f"trend_share_{days}d"] = t[f"_trend_{days}"].cast(
                "float64"
            ) / t._orders_with_lines.nullif(0)
    if has("replenishment_due"):
        values["replenishment_due"] = t.replenishment_due.fill_null(0)
    if has("session_count"):
        values["session_count"] = t.session_count.fill_null(0)
    if has("abandoned_checkouts"):
        values["abandoned_checkouts"] = t.abandoned_checkouts.fill_null(0)
        values["days_since_abandoned_checkout"] = ibis.literal(as_of).delta(
            t._last_checkout_at.date(), unit="day"
        )
        values["ordered_after_checkout"] = t._last_checkout_at.notnull().ifelse(
            (t._last_order_at >= t._last_checkout_at).fill_null(False), ibis.null("boolean")
        )
    if has("expected_next_order_on"):
        values["days_to_next_order"] = t.expected_next_order_on.delta(
            ibis.literal(as_of), unit="day"
        )
    for name in BASE_COLUMNS:
        if name not in values and name in t.columns:
            values[name] = t[name]
    return t.select(
        **{
            name: values.get(name, ibis.null(FEATURES[name].dtype)).cast(FEATURES[name].dtype)
            for name in BASE_COLUMNS
        }
    ).order_by("customer_id")


def select_measures(table: ir.Table) -> ir.Table:
    """The RFM measures of a feature table, as ``cut_points`` reads them.

    In: a table with BASE_COLUMNS. Out: customer_id, status, recency_days, frequency, monetary.
    """
    return table.select(
        "customer_id", "status", "recency_days", frequency="orders", monetary="net_revenue"
    )


def attach_rfm(table: ir.Table, scheme: schemes.Scheme, cuts: cut_points.Cuts) -> ir.Table:
    """Add r_score, f_score, m_score and rfm_segment to a feature table (the cheap step).

    In: a table with BASE_COLUMNS. Out: the same rows with all FEATURE_SCHEMA columns; customers
    bought only before the window have no scores and no segment.
    """
    assigned = segments.assign_segments(select_measures(table), cuts, scheme).select(
        "customer_id",
        r_score=lambda t: t.r_score.cast("int64"),
        f_score=lambda t: t.f_score.cast("int64"),
        m_score=lambda t: t.m_score.cast("int64"),
        rfm_segment="segment",
    )
    return _join(table, assigned).select(*FEATURES).order_by("customer_id")


def build_customer_features(
    tables: Mapping[str, ir.Table],
    window: order_rules.Window,
    params: FeatureParams = DEFAULT_PARAMS,
    scoring: cut_points.ScoringSpec = DEFAULT_SCORING,
    predictions: ir.Table | None = None,
) -> ir.Table:
    """Every feature of FEATURES, one row per known customer, ordered by customer_id.

    In: the dataset's tables by name and their scored predictions, if any (see
    ``build_behaviour_features``). Out: FEATURE_SCHEMA. With quantile scoring the cut points are
    computed here (one query).
    """
    table = build_behaviour_features(tables, window, params, predictions=predictions)
    return attach_rfm(
        table, scoring.scheme, cut_points.resolve_cuts(select_measures(table), scoring)
    )
