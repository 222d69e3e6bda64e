"""The feature catalogue: every column of the feature table, its kind, type, input and meaning.

Pure data. The kind decides the operators a definition may use on a feature
(``definitions.OPERATORS_BY_KIND``); the source names the input that enables it (``SOURCES``).
The columns are computed in ``feature_table``. Reference: docs/behaviour.md §2.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis

NUMBER, TEXT, FLAG, DATE, LIST = "number", "text", "flag", "date", "list"
# One trend_share_{N}d feature per launch window, in CATALOGUE below.
TREND_WINDOWS_DAYS = (7, 14, 30, 60, 90)
# The dataset tables the feature table reads.
SOURCE_TABLES = (
    "orders",
    "order_lines",
    "customers",
    "sessions",
    "abandoned_checkouts",
    "checkout_lines",
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
    "checkout_lines": (
        "checkout_lines",
        None,
        "an abandoned checkouts export with line items",
    ),
    "survey_scores": ("survey_scores", None, "a survey scores file"),
    "rfm": ("orders", None, "an orders export"),
    # Fitted from the orders when the feature base is built (feature_base); a fit that fails
    # makes these features unavailable with its reason instead of a missing file.
    "predictions": ("orders", None, "an orders export"),
}
# The fixed prediction settings of every predicted feature (pipeline.PredictionSettings'
# defaults), so a saved definition picks the same members in the app and the CLI.
PREDICTION_MODEL = "auto"
PREDICTION_HORIZON_DAYS = 365
PREDICTION_CHURN_DAYS = 90
# The fixed settings of the replenishment features (products.replenishment): a product has a
# cycle from this many repeat pairs, and a purchase is due when its date is this close.
REPLENISHMENT_MIN_PAIRS = 5
REPLENISHMENT_WINDOW_DAYS = 7
_FIT = (
    "Fitted on every valid order up to the analysis date (the window start does not apply) with "
    "the model chosen by 'auto' (BG/NBD or Pareto/NBD, the lower holdout error)."
)


@dataclass(frozen=True)
class Feature:
    """One column of the feature table: its type, where it comes from and what it means."""

    name: str
    label: str
    kind: str
    dtype: str
    source: str
    description: str


# The feature table's columns, in table order.
CATALOGUE = (
    Feature("customer_id", "Customer id", TEXT, "string", "orders", "The customer key."),
    Feature(
        "email",
        "Email",
        TEXT,
        "string",
        "orders",
        "From the customers file; else the customer id when it is an email address.",
    ),
    Feature("first_name", "First name", TEXT, "string", "customers", "From the customers file."),
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
    Feature(
        "trend_share_7d",
        "Share of orders within 7 days of a launch",
        NUMBER,
        "float64",
        "order_lines",
        "Orders holding a product bought at most 7 days after its first sale in the "
        "store / orders with line items (0 to 1).",
    ),
    Feature(
        "trend_share_14d",
        "Share of orders within 14 days of a launch",
        NUMBER,
        "float64",
        "order_lines",
        "Orders holding a product bought at most 14 days after its first sale in the "
        "store / orders with line items (0 to 1).",
    ),
    Feature(
        "trend_share_30d",
        "Share of orders within 30 days of a launch",
        NUMBER,
        "float64",
        "order_lines",
        "Orders holding a product bought at most 30 days after its first sale in the "
        "store / orders with line items (0 to 1).",
    ),
    Feature(
        "trend_share_60d",
        "Share of orders within 60 days of a launch",
        NUMBER,
        "float64",
        "order_lines",
        "Orders holding a product bought at most 60 days after its first sale in the "
        "store / orders with line items (0 to 1).",
    ),
    Feature(
        "trend_share_90d",
        "Share of orders within 90 days of a launch",
        NUMBER,
        "float64",
        "order_lines",
        "Orders holding a product bought at most 90 days after its first sale in the "
        "store / orders with line items (0 to 1).",
    ),
    Feature(
        "replenishment_due",
        "Products due for replenishment",
        NUMBER,
        "int64",
        "order_lines",
        f"Products the customer bought that are due within {REPLENISHMENT_WINDOW_DAYS} days or "
        "overdue by the product's own cycle (its median days between repeat purchases, "
        f"products with {REPLENISHMENT_MIN_PAIRS}+ repeat purchases); lapsed ones, more than 3 "
        "cycles overdue, are not counted.",
    ),
    Feature(
        "next_replenishment_on",
        "Next replenishment due",
        DATE,
        "date",
        "order_lines",
        "Earliest date a product the customer bought is due again (last purchase + the "
        "product's cycle); lapsed products left out, empty when none.",
    ),
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
    Feature("last_visit_on", "Last visit", DATE, "date", "sessions", "Date of the latest session."),
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
        "abandoned_products",
        "Products left in the latest abandoned checkout",
        LIST,
        "array<string>",
        "checkout_lines",
        "Product names of the line items of the latest abandoned checkout up to the analysis "
        "date (every checkout at that time), named as on the Products page.",
    ),
    Feature(
        "abandoned_categories",
        "Categories left in the latest abandoned checkout",
        LIST,
        "array<string>",
        "checkout_lines",
        "Categories of those products, from the order lines; Uncategorised for a product never "
        "sold or sold without a category.",
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
    Feature(
        "p_alive",
        "Probability active",
        NUMBER,
        "float64",
        "predictions",
        f"Probability the customer still buys (0 to 1). {_FIT}",
    ),
    Feature(
        "expected_orders",
        f"Expected orders (next {PREDICTION_HORIZON_DAYS} days)",
        NUMBER,
        "float64",
        "predictions",
        f"Expected number of order days in the {PREDICTION_HORIZON_DAYS} days after the "
        f"analysis date. {_FIT}",
    ),
    Feature(
        "expected_order_value",
        "Expected order value",
        NUMBER,
        "decimal(38, 2)",
        "predictions",
        "Expected value of a future order (Gamma-Gamma on the mean of the repeat purchases, or "
        "the stated simpler estimate when that model is degenerate).",
    ),
    Feature(
        "predicted_clv",
        f"Predicted CLV (next {PREDICTION_HORIZON_DAYS} days)",
        NUMBER,
        "decimal(38, 2)",
        "predictions",
        f"Expected orders x expected order value over the next {PREDICTION_HORIZON_DAYS} days, "
        f"not discounted. {_FIT}",
    ),
    Feature(
        "predicted_clv_percentile",
        "Predicted CLV percentile",
        NUMBER,
        "float64",
        "predictions",
        "Percent of customers with a prediction whose predicted CLV is at most this customer's "
        "(top 20 % = above 80).",
    ),
    Feature(
        "historic_clv",
        "Historic CLV",
        NUMBER,
        "decimal(38, 2)",
        "predictions",
        "Net total of the counted orders up to the analysis date, returns and refunds included.",
    ),
    Feature(
        "total_clv",
        "Total CLV",
        NUMBER,
        "decimal(38, 2)",
        "predictions",
        "Historic CLV + predicted CLV.",
    ),
    Feature(
        "churn_risk",
        f"Churn risk (no order in {PREDICTION_CHURN_DAYS} days)",
        NUMBER,
        "float64",
        "predictions",
        f"Probability of no order in the {PREDICTION_CHURN_DAYS} days after the analysis date "
        f"(0 to 1; 0.7 = 70 %). {_FIT}",
    ),
    Feature(
        "churn_band",
        "Churn risk band",
        TEXT,
        "string",
        "predictions",
        f"Low (churn risk below 33 %), Medium (33-66 %) or High (above 66 %), with churn = no "
        f"order in the next {PREDICTION_CHURN_DAYS} days.",
    ),
    Feature(
        "expected_next_order_on",
        "Expected next order",
        DATE,
        "date",
        "predictions",
        "Analysis date + the median wait to the next order of a customer still active; empty "
        "when the probability active is below 0.5.",
    ),
    Feature(
        "days_to_next_order",
        "Days to expected next order",
        NUMBER,
        "int64",
        "predictions",
        "Expected next order minus the analysis date; empty when that date is.",
    ),
    Feature("r_score", "R score", NUMBER, "int64", "rfm", "Recency score of the RFM scoring."),
    Feature("f_score", "F score", NUMBER, "int64", "rfm", "Frequency score of the RFM scoring."),
    Feature("m_score", "M score", NUMBER, "int64", "rfm", "Monetary score of the RFM scoring."),
    Feature(
        "rfm_segment",
        "RFM segment",
        TEXT,
        "string",
        "rfm",
        "Segment of the RFM scheme (Prospects for customers without orders).",
    ),
)

FEATURES: dict[str, Feature] = {f.name: f for f in CATALOGUE}
# Scored afterwards from cut points and a scheme (feature_table.attach_rfm).
RFM_COLUMNS = ("r_score", "f_score", "m_score", "rfm_segment")
PREDICTED_COLUMNS = tuple(name for name, f in FEATURES.items() if f.source == "predictions")
BASE_COLUMNS = tuple(name for name in FEATURES if name not in RFM_COLUMNS)
FEATURE_SCHEMA = ibis.schema({name: f.dtype for name, f in FEATURES.items()})
