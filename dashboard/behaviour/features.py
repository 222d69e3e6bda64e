"""One row per customer with every behavioural feature the presets and the segment builder use.

The feature table is the expensive step of behavioural segmentation: built once per dataset,
analysis date and window (``load_feature_base``) and held in the session's private in-memory
database; presets, the builder, overlap and SCALE only filter and aggregate it. The RFM scores and
segment depend on cut points that move with sliders, so they are attached afterwards
(``attach_rfm``), a cheap step over the materialised table.

Order features count orders by the one definition of dashboard/order_rules.py (valid orders
are purchases, counted orders are revenue), as the RFM measures do; order counts, revenue,
discount share, refunds, intervals, categories and trend shares use the valid orders inside the
window. A feature whose
input file was not loaded is NULL for everyone, and ``missing_inputs`` says which file enables it.

The customers are everyone known up to the analysis date: buyers, the customers file, and
visitors with a customer id in sessions, abandoned checkouts or survey answers (as prospects).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import ibis
import ibis.expr.types as ir
import pandas as pd
from ibis.backends import BaseBackend

from dashboard import engines, order_rules, portable
from dashboard.acquisition import channels
from dashboard.rfm import analysis, cut_points, schemes, segments
from dashboard.workspace import store

TREND_WINDOWS_DAYS = (7, 14, 30, 60, 90)
NUMBER, TEXT, FLAG, DATE, LIST = "number", "text", "flag", "date", "list"
SOURCE_TABLES = (
    "orders",
    "order_lines",
    "customers",
    "sessions",
    "abandoned_checkouts",
    "survey_scores",
)
# source -> (table, a column that must hold values, the file that provides it)
SOURCES = {
    "orders": ("orders", None, "an orders export"),
    "discount_codes": ("orders", "discount_code", "orders with a discount code column"),
    "order_lines": ("order_lines", None, "an orders export with line items (product, SKU)"),
    "categories": ("order_lines", "category", "order lines with a product category"),
    "customers": ("customers", None, "a customers file"),
    "sessions": ("sessions", None, "a sessions file"),
    "abandoned_checkouts": ("abandoned_checkouts", None, "an abandoned checkouts export"),
    "survey_scores": ("survey_scores", None, "a survey scores file"),
    "rfm": ("orders", None, "an orders export"),
}


@dataclass(frozen=True)
class Feature:
    """One column of the feature table: its type, where it comes from and what it means."""

    name: str
    label: str
    kind: str
    dtype: str
    source: str
    description: str


def _feature_list() -> list[Feature]:
    out = [
        Feature("customer_id", "Customer id", TEXT, "string", "orders", "The customer key."),
        Feature(
            "email",
            "Email",
            TEXT,
            "string",
            "orders",
            "From the customers file; else the customer id when it is an email address.",
        ),
        Feature(
            "first_name", "First name", TEXT, "string", "customers", "From the customers file."
        ),
        Feature(
            "status",
            "Status",
            TEXT,
            "string",
            "orders",
            "scored (valid order in the window), prospect (no valid order ever) or "
            "outside_window (bought only before the window).",
        ),
        Feature(
            "first_order_on",
            "First order",
            DATE,
            "date",
            "orders",
            "Date of the first valid order in the window.",
        ),
        Feature(
            "last_order_on",
            "Last order",
            DATE,
            "date",
            "orders",
            "Date of the last valid order in the window.",
        ),
        Feature(
            "recency_days",
            "Days since last order",
            NUMBER,
            "int64",
            "orders",
            "Analysis date minus the last order's date.",
        ),
        Feature("orders", "Orders", NUMBER, "int64", "orders", "Valid orders in the window."),
        Feature(
            "orders_ever",
            "Orders ever",
            NUMBER,
            "int64",
            "orders",
            "Valid orders up to the analysis date, whatever the window.",
        ),
        Feature(
            "net_revenue",
            "Net revenue",
            NUMBER,
            "decimal(38, 2)",
            "orders",
            "Order totals minus refunds and returns in the window.",
        ),
        Feature("aov", "Average order value", NUMBER, "float64", "orders", "Net revenue / orders."),
        Feature(
            "revenue_vs_average",
            "Revenue / store average",
            NUMBER,
            "float64",
            "orders",
            "Net revenue divided by the average of the customers with an order in the window.",
        ),
        Feature(
            "revenue_percentile",
            "Revenue percentile",
            NUMBER,
            "float64",
            "orders",
            "Percent of customers with an order in the window whose revenue is at most this "
            "customer's (top 10 % = 90 and above).",
        ),
        Feature(
            "orders_vs_average",
            "Orders / store average",
            NUMBER,
            "float64",
            "orders",
            "Orders divided by the average of the customers with an order in the window.",
        ),
        Feature(
            "median_days_between_orders",
            "Median days between orders",
            NUMBER,
            "float64",
            "orders",
            "Median gap between consecutive order days (needs two order days).",
        ),
        Feature(
            "days_overdue",
            "Days overdue (own rhythm)",
            NUMBER,
            "float64",
            "orders",
            "Days since last order minus the median days between orders; negative = next order "
            "due in that many days.",
        ),
        Feature(
            "overdue_ratio",
            "Gap / usual interval",
            NUMBER,
            "float64",
            "orders",
            "Days since last order divided by the median days between orders.",
        ),
        Feature(
            "discount_share",
            "Share of orders with a discount code",
            NUMBER,
            "float64",
            "discount_codes",
            "Orders with a discount code / orders (0 to 1).",
        ),
        Feature(
            "refund_count",
            "Refunded orders",
            NUMBER,
            "int64",
            "orders",
            "Orders with a refund, and return rows, in the window.",
        ),
        Feature(
            "refund_rate",
            "Refund rate",
            NUMBER,
            "float64",
            "orders",
            "Refunded orders / orders (0 to 1).",
        ),
        Feature(
            "first_order_channel",
            "First-order channel",
            TEXT,
            "string",
            "orders",
            "Acquisition channel read from the first valid order (Channels page rules).",
        ),
        Feature(
            "country",
            "Country",
            TEXT,
            "string",
            "orders",
            "From the customers file, else the last order.",
        ),
        Feature("city", "City", TEXT, "string", "customers", "From the customers file."),
        Feature(
            "categories",
            "Categories bought",
            LIST,
            "array<string>",
            "categories",
            "Product categories of the orders in the window.",
        ),
        Feature(
            "category_count",
            "Categories bought (count)",
            NUMBER,
            "int64",
            "categories",
            "Number of different categories bought.",
        ),
    ]
    out += [
        Feature(
            f"trend_share_{days}d",
            f"Share of orders within {days} days of a launch",
            NUMBER,
            "float64",
            "order_lines",
            f"Orders holding a product bought at most {days} days after its first sale in the "
            "store / orders with line items (0 to 1).",
        )
        for days in TREND_WINDOWS_DAYS
    ]
    out += [
        Feature(
            "session_count",
            "Sessions",
            NUMBER,
            "int64",
            "sessions",
            "Visits up to the analysis date.",
        ),
        Feature(
            "avg_session_seconds",
            "Average session (seconds)",
            NUMBER,
            "float64",
            "sessions",
            "Mean visit duration.",
        ),
        Feature(
            "session_duration_vs_average",
            "Session length / store average",
            NUMBER,
            "float64",
            "sessions",
            "Average session length divided by the average length of all sessions.",
        ),
        Feature(
            "last_visit_on", "Last visit", DATE, "date", "sessions", "Date of the latest session."
        ),
        Feature(
            "days_since_last_visit",
            "Days since last visit",
            NUMBER,
            "int64",
            "sessions",
            "Analysis date minus the last visit.",
        ),
        Feature(
            "abandoned_checkouts",
            "Abandoned checkouts",
            NUMBER,
            "int64",
            "abandoned_checkouts",
            "Checkouts not completed, up to the analysis date.",
        ),
        Feature(
            "days_since_abandoned_checkout",
            "Days since last abandoned checkout",
            NUMBER,
            "int64",
            "abandoned_checkouts",
            "Analysis date minus the latest abandoned checkout's date.",
        ),
        Feature(
            "ordered_after_checkout",
            "Ordered after the last abandoned checkout",
            FLAG,
            "boolean",
            "abandoned_checkouts",
            "A valid order placed at or after the latest abandoned checkout.",
        ),
        Feature(
            "accepts_marketing",
            "Accepts email marketing",
            FLAG,
            "boolean",
            "customers",
            "Consent from the customers file.",
        ),
        Feature(
            "accepts_sms",
            "Accepts SMS marketing",
            FLAG,
            "boolean",
            "customers",
            "Consent from the customers file.",
        ),
        Feature(
            "customer_tags",
            "Customer tags",
            TEXT,
            "string",
            "customers",
            "Tags from the customers file.",
        ),
        Feature(
            "survey_score",
            "Latest survey score",
            NUMBER,
            "float64",
            "survey_scores",
            "The customer's most recent survey answer up to the analysis date.",
        ),
        Feature("r_score", "R score", NUMBER, "int64", "rfm", "Recency score of the RFM scoring."),
        Feature(
            "f_score", "F score", NUMBER, "int64", "rfm", "Frequency score of the RFM scoring."
        ),
        Feature("m_score", "M score", NUMBER, "int64", "rfm", "Monetary score of the RFM scoring."),
        Feature(
            "rfm_segment",
            "RFM segment",
            TEXT,
            "string",
            "rfm",
            "Segment of the RFM scheme (Prospects for customers without orders).",
        ),
    ]
    return out


FEATURES: dict[str, Feature] = {f.name: f for f in _feature_list()}
RFM_COLUMNS = ("r_score", "f_score", "m_score", "rfm_segment")
# channel rule field -> the orders columns its evidence is read from (channels._evidence_fields)
EVIDENCE_COLUMNS = {
    "utm_source_medium": ("utm_source", "utm_medium"),
    "utm_medium": ("utm_medium",),
    "utm_source": ("utm_source",),
    "referrer_host": ("referrer",),
    "channel": ("channel",),
    "source_name": ("source_name",),
    "discount_code": ("discount_code",),
    "tag": ("tags",),
}
BASE_COLUMNS = tuple(name for name in FEATURES if name not in RFM_COLUMNS)
FEATURE_SCHEMA = ibis.schema({name: f.dtype for name, f in FEATURES.items()})


DEFAULT_SCORING = cut_points.ScoringSpec(schemes.PRESETS[schemes.DEFAULT_SCHEME])


@dataclass(frozen=True)
class FeatureParams:
    """What the feature table depends on besides the data: counting rules and channel rules."""

    counting: order_rules.CountingRules = field(default_factory=order_rules.CountingRules)
    channel_rules: tuple[tuple[object, ...], ...] = channels.DEFAULT_RULES


@dataclass
class FeatureBase:
    """The materialised feature table (BASE_COLUMNS) of one dataset for one window.

    ``table`` lives in ``backend``: a private in-memory DuckDB owned by whoever holds this object,
    or a table cached in the Spark session (see ``engines.materialise``). ``missing`` is
    ``missing_inputs`` of the dataset.
    """

    dataset: str
    window: order_rules.Window
    params: FeatureParams
    backend: BaseBackend
    table: ir.Table
    missing: dict[str, str]

    def close(self) -> None:
        """Free the table: close the private DuckDB, or uncache it (Spark keeps running)."""
        engines.release(self.backend, self.table)


def available_sources(tables: Mapping[str, ir.Table]) -> set[str]:
    """Return the keys of SOURCES whose table has rows (and whose column has a value)."""
    found: set[str] = set()
    for name in dict.fromkeys(table for table, _, _ in SOURCES.values()):
        if name not in tables:
            continue
        t = tables[name]
        keys = [k for k, (table, _, _) in SOURCES.items() if table == name]
        counts = t.aggregate(
            **{
                k: t.count()
                if SOURCES[k][1] is None
                else portable.strip(t[SOURCES[k][1]]).nullif("").count()
                for k in keys
            }
        ).to_pyarrow()
        found |= {k for k in keys if (counts.column(k)[0].as_py() or 0) > 0}
    return found


def missing_inputs(
    tables: Mapping[str, ir.Table], available: set[str] | None = None
) -> dict[str, str]:
    """Return feature -> "upload <file> to enable <feature>" for each feature lacking its input.

    In: the dataset's tables by name (absent or empty tables count as missing), and their
    ``available_sources`` when already known.
    """
    if available is None:
        available = available_sources(tables)
    return {
        name: f"upload {SOURCES[f.source][2]} to enable {f.label.lower()}"
        for name, f in FEATURES.items()
        if f.source not in available
    }


def select_rules_with_evidence(orders: ir.Table, rules: pd.DataFrame) -> pd.DataFrame:
    """Return the channel rules (validated) whose evidence some order carries.

    A rule on a column that is empty on every order can never match, so leaving it out changes
    no channel; each rule costs compile time, and many stores carry no UTM tags or referrers.
    """
    valid = channels.validate_rules(rules)
    columns = sorted({c for found in EVIDENCE_COLUMNS.values() for c in found})
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
    params: FeatureParams = FeatureParams(),
    available: set[str] | None = None,
) -> ir.Table:
    """Per-customer features without the RFM columns.

    In: the dataset's tables by name (``orders`` required; order_lines, customers, sessions,
    abandoned_checkouts and survey_scores used when they have rows). Out: one row per known
    customer with BASE_COLUMNS (types of FEATURE_SCHEMA), ordered by customer_id. Features of a
    missing input are NULL; counts of a present input are 0 for customers without rows in it.
    ``available``: the tables' ``available_sources`` when already known.
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
    if "survey_scores" in available:
        t = _join(t, _survey_features(tables["survey_scores"], as_of))
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
    params: FeatureParams = FeatureParams(),
    scoring: cut_points.ScoringSpec = DEFAULT_SCORING,
) -> ir.Table:
    """Every feature of FEATURES, one row per known customer, ordered by customer_id.

    In: the dataset's tables by name (see ``build_behaviour_features``). Out: FEATURE_SCHEMA.
    With quantile scoring the cut points are computed here (one query).
    """
    table = build_behaviour_features(tables, window, params)
    return attach_rfm(
        table, scoring.scheme, cut_points.resolve_cuts(select_measures(table), scoring)
    )


def read_tables(backend: BaseBackend) -> dict[str, ir.Table]:
    """Return the tables of an open dataset that the features read, by name."""
    present = set(backend.list_tables())
    return {name: backend.table(name) for name in SOURCE_TABLES if name in present}


def build_feature_base(
    tables: engines.EngineTables,
    dataset: str,
    as_of: dt.date | None = None,
    start: dt.date | None = None,
    params: FeatureParams = FeatureParams(),
) -> FeatureBase:
    """Build the feature table of a dataset's tables once and hold it where it was computed.

    In: the dataset's tables on any engine (``engines.open_tables``). Out: a FeatureBase whose
    table has BASE_COLUMNS (``build_behaviour_features``), held as ``engines.materialise`` says;
    free it with ``close()``. ``as_of`` defaults to the date of the latest order. Raises
    store.WorkspaceError when the dataset has no orders, analysis.NoCustomerKeyError when no
    order has a customer key.
    """
    if as_of is None:
        as_of = order_rules.latest_order_date(tables["orders"])
    if as_of is None:
        raise store.WorkspaceError(f"The dataset '{dataset}' has no orders yet.")
    no_key = analysis.find_missing_customer_key(tables["orders"])
    if no_key:
        raise analysis.NoCustomerKeyError(no_key)
    window = order_rules.Window(as_of=as_of, start=start)
    available = available_sources(tables)
    missing = missing_inputs(tables, available)
    expr = build_behaviour_features(tables, window, params, available)
    backend, table = engines.materialise(tables, expr, "customer_features")
    return FeatureBase(dataset, window, params, backend, table, missing)


def load_feature_base(
    workspace: Path,
    dataset: str,
    as_of: dt.date | None = None,
    start: dt.date | None = None,
    params: FeatureParams = FeatureParams(),
) -> FeatureBase:
    """Return ``build_feature_base`` of ``dataset`` on the configured engine (the app's loader).

    DuckDB reads the workspace unless the environment chooses Spark
    (``engines.read_engine_settings``). Free the result with ``close()``.
    """
    with engines.open_configured_tables(workspace, dataset) as tables:
        return build_feature_base(tables, dataset, as_of, start, params)


def list_values(table: ir.Table, feature: str, limit: int = 200) -> list[object]:
    """Return the distinct non-null values of a text or list feature, most customers first.

    Ties are ordered by value; at most ``limit`` values. ``feature`` must be in FEATURES.
    """
    if FEATURES[feature].kind not in (TEXT, LIST):
        raise ValueError(f"'{feature}' is not a text or list feature.")
    column = table[feature]
    values = table.select(value=column.unnest() if FEATURES[feature].kind == LIST else column)
    values = values.filter(values.value.notnull())
    counted = values.group_by("value").aggregate(customers=values.count())
    ordered = counted.order_by([ibis.desc("customers"), "value"]).limit(limit)
    return list(ordered.to_pandas().value)
