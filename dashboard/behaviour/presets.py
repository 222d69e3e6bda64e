"""Presets for the behavioural segments of docs/behaviour.md §4, as data the builder runs.

A preset is a definition template: groups of conditions (see definitions.py) whose values come from
editable parameters with defaults. ``preset_definition`` fills in the analyst's values and returns
an ordinary builder Definition, so a preset can be opened in the builder, saved and exported like
any hand-built segment. A preset whose input file was not loaded names the file that enables it,
and one on predicted features says why the models could not be fitted (``missing_for_preset``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from dashboard.behaviour.catalogue import (
    FEATURES,
    PREDICTION_CHURN_DAYS,
    REPLENISHMENT_WINDOW_DAYS,
    SOURCES,
    TREND_WINDOWS_DAYS,
)
from dashboard.behaviour.definitions import (
    Condition,
    Definition,
    DefinitionError,
    Group,
    RfmSpec,
    validate_definition,
)

NUMBER_PARAM, CHOICE_PARAM, SET_PARAM = "number", "choice", "set"


@dataclass(frozen=True)
class Param:
    """An editable number of a preset: a number in [minimum, maximum] (maximum None = open),
    one of ``options`` (choice), or a set of values of ``feature`` (set)."""

    key: str
    label: str
    kind: str
    default: object
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    options: tuple[object, ...] = ()
    feature: str | None = None
    unit: str = ""


@dataclass(frozen=True)
class PresetCondition:
    """A condition template: ``value`` fixed, or ``scale`` x the value of parameter ``param``.

    ``feature`` may name a parameter in braces (``trend_share_{launch_days}d``).
    """

    feature: str
    operator: str
    value: object = None
    param: str | None = None
    scale: float = 1.0


@dataclass(frozen=True)
class Preset:
    """One behavioural segment of docs/behaviour.md §4: its definition template and parameters."""

    key: str
    name: str
    description: str
    needs: str
    params: tuple[Param, ...]
    groups: tuple[tuple[str, tuple[PresetCondition, ...]], ...]
    match: str = "all"
    requires: tuple[str, ...] = ()


def _number(
    key: str,
    label: str,
    default: float,
    minimum: float,
    maximum: float | None,
    step: float,
    unit: str = "",
) -> Param:
    return Param(key, label, NUMBER_PARAM, default, minimum, maximum, step, unit=unit)


def _one(*conditions: PresetCondition) -> tuple[tuple[str, tuple[PresetCondition, ...]], ...]:
    return (("all", conditions),)


NEVER_BOUGHT = PresetCondition("orders_ever", "==", 0)
PRESETS: dict[str, Preset] = {
    p.key: p
    for p in (
        Preset(
            "top_spenders",
            "Top spenders",
            "Net revenue above the store average (times a factor). For a top X % use the "
            "revenue percentile in the builder.",
            "orders",
            (_number("multiple", "Revenue above the average x", 1.0, 0.1, 10.0, 0.1, "x"),),
            _one(PresetCondition("revenue_vs_average", ">", param="multiple")),
        ),
        Preset(
            "loyal",
            "Loyal customers",
            "Order count well above the average, with high revenue.",
            "orders",
            (
                _number("orders_multiple", "Orders at least the average x", 2.0, 1.0, 10.0, 0.5),
                _number("revenue_multiple", "Revenue at least the average x", 1.0, 0.1, 10.0, 0.1),
            ),
            _one(
                PresetCondition("orders_vs_average", ">=", param="orders_multiple"),
                PresetCondition("revenue_vs_average", ">=", param="revenue_multiple"),
            ),
        ),
        Preset(
            "high_value",
            "High-value (Shopify template)",
            "More than N orders and more than a revenue amount.",
            "orders",
            (
                _number("orders", "More than (orders)", 5, 0, 100, 1),
                _number("revenue", "More than (net revenue)", 1000.0, 0.0, None, 50.0),
            ),
            _one(
                PresetCondition("orders", ">", param="orders"),
                PresetCondition("net_revenue", ">", param="revenue"),
            ),
        ),
        Preset(
            "one_time",
            "One-time buyers",
            "Exactly one valid order in the window.",
            "orders",
            (_number("orders", "Exactly (orders)", 1, 1, 20, 1),),
            _one(PresetCondition("orders", "==", param="orders")),
        ),
        Preset(
            "lapsed",
            "Inactive / lapsed",
            "No order for more than N days.",
            "orders",
            (_number("days", "No order for more than (days)", 180, 1, 1095, 1, "days"),),
            _one(PresetCondition("recency_days", ">", param="days")),
        ),
        Preset(
            "at_risk",
            "At risk of churn",
            "Repeat buyers whose time since their last order exceeds K times their usual gap "
            "between orders.",
            "orders",
            (
                _number("orders", "At least (orders)", 2, 2, 20, 1),
                _number("multiple", "Gap longer than usual interval x", 2.0, 1.0, 10.0, 0.5),
            ),
            _one(
                PresetCondition("orders", ">=", param="orders"),
                PresetCondition("overdue_ratio", ">", param="multiple"),
            ),
        ),
        Preset(
            "replenishment_due",
            "Thrifty / replenishment due",
            "Repeat buyers whose next order (last order + their median interval) is due within "
            "N days.",
            "orders",
            (
                _number("orders", "At least (orders)", 2, 2, 20, 1),
                _number("days", "Next order due within (days)", 14, 1, 180, 1, "days"),
            ),
            _one(
                PresetCondition("orders", ">=", param="orders"),
                PresetCondition("days_overdue", ">=", param="days", scale=-1.0),
                PresetCondition("days_overdue", "<=", 0),
            ),
        ),
        Preset(
            "coupon",
            "Coupon customers",
            "Share of orders with a discount code at least X % (100 % = only buys with a code).",
            "orders (discount code)",
            (_number("share", "Orders with a code at least (%)", 100.0, 1.0, 100.0, 1.0, "%"),),
            _one(PresetCondition("discount_share", ">=", param="share", scale=0.01)),
        ),
        Preset(
            "returners",
            "Returners / negative experience",
            "A refund or return on at least N orders, or a refund rate of at least X %.",
            "orders (refunds)",
            (
                _number("refunds", "Refunded orders at least", 1, 1, 20, 1),
                _number("rate", "or refund rate at least (%)", 25.0, 1.0, 100.0, 1.0, "%"),
            ),
            (
                (
                    "any",
                    (
                        PresetCondition("refund_count", ">=", param="refunds"),
                        PresetCondition("refund_rate", ">=", param="rate", scale=0.01),
                    ),
                ),
            ),
        ),
        Preset(
            "abandoned_carts",
            "Abandoned carts",
            "An abandoned checkout in the last N days and no order after it.",
            "checkouts",
            (_number("days", "Abandoned within the last (days)", 30, 1, 365, 1, "days"),),
            _one(
                PresetCondition("days_since_abandoned_checkout", "<=", param="days"),
                PresetCondition("ordered_after_checkout", "==", False),
            ),
        ),
        Preset(
            "abandoned_product_carts",
            "Abandoned carts by product",
            "An abandoned checkout in the last N days, no order after it, and one of the chosen "
            "products left in the latest abandoned checkout.",
            "checkouts with line items",
            (
                _number("days", "Abandoned within the last (days)", 30, 1, 365, 1, "days"),
                Param("products", "Products left", SET_PARAM, (), feature="abandoned_products"),
            ),
            _one(
                PresetCondition("days_since_abandoned_checkout", "<=", param="days"),
                PresetCondition("ordered_after_checkout", "==", False),
                PresetCondition("abandoned_products", "in", param="products"),
            ),
        ),
        Preset(
            "abandoned_category_carts",
            "Abandoned carts by category",
            "An abandoned checkout in the last N days, no order after it, and a product of one "
            "of the chosen categories left in the latest abandoned checkout.",
            "checkouts with line items",
            (
                _number("days", "Abandoned within the last (days)", 30, 1, 365, 1, "days"),
                Param(
                    "categories", "Categories left", SET_PARAM, (), feature="abandoned_categories"
                ),
            ),
            _one(
                PresetCondition("days_since_abandoned_checkout", "<=", param="days"),
                PresetCondition("ordered_after_checkout", "==", False),
                PresetCondition("abandoned_categories", "in", param="categories"),
            ),
        ),
        Preset(
            "indecisive",
            "Indecisive prospects",
            "Never bought, and visits longer than the average visit or many visits.",
            "sessions",
            (
                _number("multiple", "Visits longer than the average x", 1.0, 0.1, 10.0, 0.1),
                _number("sessions", "or at least (sessions)", 3, 1, 100, 1),
            ),
            (
                ("all", (NEVER_BOUGHT,)),
                (
                    "any",
                    (
                        PresetCondition("session_duration_vs_average", ">", param="multiple"),
                        PresetCondition("session_count", ">=", param="sessions"),
                    ),
                ),
            ),
        ),
        Preset(
            "curious",
            "Curious prospects",
            "Visited in the last N days, never bought.",
            "sessions",
            (_number("days", "Visited within the last (days)", 30, 1, 365, 1, "days"),),
            _one(NEVER_BOUGHT, PresetCondition("days_since_last_visit", "<=", param="days")),
        ),
        Preset(
            "prospects",
            "All prospects / leads",
            "Known contacts without a valid order (at most N orders, 0 by default).",
            "customers file",
            (_number("orders", "At most (orders)", 0, 0, 10, 1),),
            _one(PresetCondition("orders_ever", "<=", param="orders")),
            requires=("customers",),
        ),
        Preset(
            "newsletter",
            "Newsletter subscribers",
            "Accept email marketing.",
            "customers file",
            (),
            _one(PresetCondition("accepts_marketing", "==", True)),
        ),
        Preset(
            "location",
            "Location-based",
            "Customers in the chosen countries.",
            "orders or customers",
            (Param("countries", "Countries", SET_PARAM, (), feature="country"),),
            _one(PresetCondition("country", "in", param="countries")),
        ),
        Preset(
            "trend_followers",
            "Trend followers",
            "At least X % of orders hold a product bought within N days of its launch (its first "
            "sale in the store).",
            "order lines",
            (
                Param(
                    "launch_days",
                    "Within (days of launch)",
                    CHOICE_PARAM,
                    30,
                    options=TREND_WINDOWS_DAYS,
                    unit="days",
                ),
                _number("share", "On at least (% of orders)", 50.0, 1.0, 100.0, 1.0, "%"),
            ),
            _one(PresetCondition("trend_share_{launch_days}d", ">=", param="share", scale=0.01)),
        ),
        Preset(
            "product_replenishment_due",
            "Product replenishment due",
            f"Customers with at least N products due within {REPLENISHMENT_WINDOW_DAYS} days or "
            "overdue by the product's own cycle (its median days between repeat purchases by "
            "the same customer), not the customer's overall gap between orders.",
            "order lines",
            (_number("products", "Products due at least", 1, 1, 20, 1),),
            _one(PresetCondition("replenishment_due", ">=", param="products")),
        ),
        Preset(
            "satisfied",
            "Satisfied",
            "Latest survey score at or above a cut point (9 = NPS promoters on a 0-10 scale).",
            "survey scores",
            (_number("cut", "Score at least", 9.0, 0.0, None, 0.5),),
            _one(PresetCondition("survey_score", ">=", param="cut")),
        ),
        Preset(
            "dissatisfied",
            "Dissatisfied",
            "Latest survey score at or below a cut point (6 = NPS detractors on a 0-10 scale).",
            "survey scores",
            (_number("cut", "Score at most", 6.0, 0.0, None, 0.5),),
            _one(PresetCondition("survey_score", "<=", param="cut")),
        ),
        Preset(
            "high_value_at_risk",
            "High value at risk",
            f"High churn risk (over 66 % chance of no order in the next {PREDICTION_CHURN_DAYS} "
            "days) and a predicted CLV above the store's Nth percentile (80: the top 20 % of "
            "customers with a prediction). For a fixed amount, use predicted CLV in the builder.",
            "orders (predictions)",
            (_number("percentile", "Predicted CLV above percentile", 80, 0, 99, 1),),
            _one(
                PresetCondition("churn_band", "==", "High"),
                PresetCondition("predicted_clv_percentile", ">", param="percentile"),
            ),
        ),
        Preset(
            "likely_to_buy_again",
            "Likely to buy again soon",
            "Probably still active (probability at least X %) with the expected next order "
            "within N days of the analysis date.",
            "orders (predictions)",
            (
                _number("alive", "Probability active at least (%)", 70.0, 1.0, 100.0, 1.0, "%"),
                _number("days", "Next order expected within (days)", 30, 1, 365, 1, "days"),
            ),
            _one(
                PresetCondition("p_alive", ">=", param="alive", scale=0.01),
                PresetCondition("days_to_next_order", "<=", param="days"),
            ),
        ),
        Preset(
            "by_channel",
            "By acquisition channel",
            "Customers whose first order came through the chosen channels.",
            "orders",
            (Param("channels", "Channels", SET_PARAM, (), feature="first_order_channel"),),
            _one(PresetCondition("first_order_channel", "in", param="channels")),
        ),
    )
}


def resolve_values(preset: Preset, values: Mapping[str, object] | None = None) -> dict[str, object]:
    """Return every parameter's value: the given ones checked, defaults for the rest.

    Raises DefinitionError for an unknown parameter, a number outside its range, a value that is
    not one of the options, or an empty set.
    """
    given = dict(values or {})
    params = {p.key: p for p in preset.params}
    unknown = sorted(set(given) - set(params))
    if unknown:
        raise DefinitionError(f"'{preset.name}' has no parameter {', '.join(unknown)}.")
    out: dict[str, object] = {}
    for key, param in params.items():
        value = given.get(key, param.default)
        if param.kind == NUMBER_PARAM:
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            ok = ok and math.isfinite(value)
            ok = ok and (param.minimum is None or value >= param.minimum)
            ok = ok and (param.maximum is None or value <= param.maximum)
            if not ok:
                top = "" if param.maximum is None else f" and at most {param.maximum:g}"
                raise DefinitionError(
                    f"{param.label}: give a number of at least {param.minimum:g}{top}."
                )
        elif param.kind == CHOICE_PARAM:
            if value not in param.options:
                raise DefinitionError(
                    f"{param.label}: choose one of {', '.join(map(str, param.options))}."
                )
        else:
            value = tuple(value) if isinstance(value, list | tuple) else ()
            if not value:
                raise DefinitionError(f"{param.label}: choose at least one value.")
        out[key] = value
    return out


def _feature_name(condition: PresetCondition, values: Mapping[str, object]) -> str:
    return condition.feature.format(**values)


def preset_definition(
    preset: Preset,
    values: Mapping[str, object] | None = None,
    rfm: RfmSpec | None = None,
) -> Definition:
    """Return the builder Definition of ``preset`` with the parameter ``values`` filled in."""
    chosen = resolve_values(preset, values)
    groups = []
    for match, templates in preset.groups:
        conditions = []
        for t in templates:
            value = t.value
            if t.param is not None:
                raw = chosen[t.param]
                value = raw if isinstance(raw, tuple) else _scaled(raw, t.scale)
            conditions.append(Condition(_feature_name(t, chosen), t.operator, value))
        groups.append(Group(tuple(conditions), match))
    definition = Definition(
        tuple(groups),
        preset.match,
        rfm or RfmSpec(),
        f"{preset.name}: {preset.description}",
    )
    return validate_definition(definition)


def _scaled(value: float, scale: float) -> float | int:
    result = value * scale
    if scale == 1.0 or (isinstance(value, int) and float(scale).is_integer()):
        return result
    # Percent sliders become fractions; round off the binary noise of value * 0.01.
    return round(result, 10)


def preset_features(preset: Preset, values: Mapping[str, object] | None = None) -> list[str]:
    """Return the features the preset's conditions read (with parameters filled in)."""
    chosen = {p.key: p.default for p in preset.params} | dict(values or {})
    names = [_feature_name(t, chosen) for _, group in preset.groups for t in group]
    return list(dict.fromkeys(names))


def missing_for_preset(
    preset: Preset, missing: Mapping[str, str], values: Mapping[str, object] | None = None
) -> list[str]:
    """Return one sentence per file to upload to enable the preset (empty when all is there).

    In: ``FeatureBase.missing`` (or ``feature_inputs.missing_inputs``) of the dataset: feature
    -> message; a predicted feature's message is why the models could not be fitted.
    """
    absent = [f for f in preset_features(preset, values) if f in missing]
    sources = [FEATURES[f].source for f in absent]
    sources += [s for s in preset.requires if any(FEATURES[f].source == s for f in missing)]
    return [
        f"'{preset.name}' needs the predictions, which are unavailable: "
        f"{next(missing[f] for f in absent if FEATURES[f].source == s)}"
        if s == "predictions"
        else f"Upload {SOURCES[s][2]} to enable '{preset.name}'."
        for s in dict.fromkeys(sources)
    ]
