"""The Products page: bright spots, gateway products, replenishment, basket affinity, retention
and abandoned checkouts of the sidebar's selection (docs/products.md).

The expensive steps run once per session and key (dataset, its file version, analysis date,
counting rules; channel rules where channels are read) and are held in the session: who bought
what (``bright_spots.count_product_buyers``, materialised), the basket pairs (``count_pairs``
with floor 2) and next-order pairs, the replenishment cycles and who is due. A change of segment,
minimum count, category or product filter re-runs only the cheap step on what is held.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

import ibis
import ibis.expr.types as ir
import pandas as pd
import streamlit as st

from dashboard import engines, formatting, ui
from dashboard.acquisition import channels, retention
from dashboard.behaviour import presets, segment_store
from dashboard.behaviour.compiler import compile_definition
from dashboard.behaviour.definitions import Definition
from dashboard.behaviour.membership import list_members
from dashboard.charts import product_charts
from dashboard.export import to_csv_bytes
from dashboard.predict import overview
from dashboard.products import abandoned, affinity, bright_spots, gateway, lines, replenishment
from dashboard.rfm import analysis
from dashboard.ui import acquisition as ui_acquisition
from dashboard.ui import customer_base, predictions, progress, session
from dashboard.ui.behaviour import feature_cache
from dashboard.ui.text import escape_markdown

TAB = "pr_tab"
SECTIONS = (
    "Bright spots",
    "Gateway products",
    "Replenishment",
    "Basket affinity",
    "Retention",
    "Abandoned checkouts",
)
NEEDS_LINES = SECTIONS[:4]
NO_LINES = (
    "This dataset has no order lines: load an orders export with line items (product or SKU) "
    "on the Data page to see bright spots, gateway products, replenishment and basket affinity."
)
BUYERS = "pr_buyers"
BASKETS = "pr_baskets"
CYCLES = "pr_cycles"
KINDS = {
    "rfm": "RFM group",
    "preset": "Behavioural preset",
    "saved": "Saved segment",
    "band": "Predicted churn band",
}
DEFAULT_GROUP = "Champions"
PAIR_FLOOR = 2
ALL = "All"

_T = TypeVar("_T")


def data_key(selection: ui.Selection) -> tuple[object, ...]:
    """Return what every product figure depends on: dataset, file version, date, counting rules."""
    return (
        selection.dataset,
        ui.dataset_version(selection.dataset),
        selection.as_of,
        selection.rules,
    )


def _channel_settings(selection: ui.Selection) -> tuple[Hashable, pd.DataFrame]:
    """The channel rules the Channels page last applied: their hashable form and their table."""
    settings = ui_acquisition.acquisition_settings(selection)
    return settings.rules, settings.rules_frame()


def _held_per_choice(slot: str, key: Hashable, choice: Hashable, compute: Callable[[], _T]) -> _T:
    """Return the value for ``choice`` among those held in ``slot`` for ``key`` (a period, a
    horizon and grouping), computing it on first use."""
    held = session.cached(slot, key, dict)
    if choice not in held:
        held[choice] = compute()
    return held[choice]


@contextmanager
def _computing(
    selection: ui.Selection, label: str
) -> Iterator[tuple[Callable[[str], None], engines.EngineTables]]:
    """A status box titled ``label`` (yielding its ``step``) and the dataset's tables, open
    while the block computes."""
    with (
        progress.show_steps(label) as step,
        engines.open_configured_tables(ui.workspace(), selection.dataset) as tables,
    ):
        yield step, tables


def has_order_lines(selection: ui.Selection) -> bool:
    """Whether the dataset holds any order line (checked once per dataset version)."""

    def check() -> bool:
        with engines.open_configured_tables(ui.workspace(), selection.dataset) as tables:
            return "order_lines" in tables and int(tables["order_lines"].count().execute()) > 0

    return session.cached("pr_has_lines", data_key(selection)[:2], check)


def has_checkout_lines(selection: ui.Selection) -> bool:
    """Whether the dataset holds abandoned checkouts with line items (once per version)."""

    def check() -> bool:
        with engines.open_configured_tables(ui.workspace(), selection.dataset) as tables:
            return abandoned.has_checkout_lines(tables)

    return session.cached("pr_has_checkout_lines", data_key(selection)[:2], check)


def choose_sections(selection: ui.Selection) -> list[str]:
    """The sections the dataset can fill: the product ones need order lines (else the page says
    which file to load), abandoned checkouts need their line items; retention needs orders."""
    shown = list(SECTIONS[:5])
    if not has_order_lines(selection):
        st.info(NO_LINES)
        shown = [s for s in shown if s not in NEEDS_LINES]
    if has_checkout_lines(selection):
        shown.append(SECTIONS[5])
    return shown


def show_definitions(*lines_of_text: str) -> None:
    """An expander stating how each figure of a section is defined (docs/products.md)."""
    with st.expander("Definitions"):
        st.markdown("\n".join(f"- {line}" for line in lines_of_text))


# --- Bright spots -------------------------------------------------------------------------


def get_product_buyers(selection: ui.Selection) -> ir.Table:
    """Return who bought what (``bright_spots.count_product_buyers``: customer_id, product_key,
    product, category, revenue), computed and materialised once per session and ``data_key``."""

    def compute() -> tuple[object, ir.Table]:
        with _computing(
            selection, "Counting who bought each product (once per dataset and date)…"
        ) as (_, tables):
            known = lines.select_valid_lines(
                tables.orders,
                tables["order_lines"],
                selection.as_of,
                selection.rules,
                with_guests=False,
            )
            buyers = bright_spots.count_product_buyers(known)
            return engines.materialise(tables, buyers, "product_buyers")

    _, table = session.cached(
        BUYERS, data_key(selection), compute, close=lambda held: engines.release(*held)
    )
    return table


def _choose_rfm_group(selection: ui.Selection) -> tuple[str, pd.DataFrame]:
    """A selectbox of the sidebar scheme's groups (Champions by default); its members."""
    groups = list(selection.scheme.segments)
    default = groups.index(DEFAULT_GROUP) if DEFAULT_GROUP in groups else 0
    group = st.selectbox("RFM group", groups, index=default, key="pr_rfm_group")
    base = customer_base.get_customer_base(selection)
    _, cuts = customer_base.get_scoring(selection, base)
    members = analysis.segment_members(base, cuts, selection.scheme, group)
    return group, members[["customer_id"]]


def _list_presets(selection: ui.Selection) -> dict[str, Definition]:
    """The behavioural presets whose inputs the dataset has, by name, with their default
    parameters (a set parameter: its most common value)."""
    base = feature_cache.get_feature_base(selection)
    spec = feature_cache.current_rfm(selection)
    view = feature_cache.get_view(base, spec)
    found: dict[str, Definition] = {}
    for preset in presets.PRESETS.values():
        if presets.missing_for_preset(preset, base.missing):
            continue
        values = {
            p.key: feature_cache.known_values(view, p.feature)[:1]
            for p in preset.params
            if p.kind == presets.SET_PARAM
        }
        if all(values.values()):
            found[preset.name] = presets.preset_definition(preset, values, spec)
    return found


def _select_members(selection: ui.Selection, definition: Definition) -> pd.DataFrame:
    """The customer_id of every customer a builder definition selects."""
    base = feature_cache.get_feature_base(selection)
    view = feature_cache.get_view(base, definition.rfm)
    return list_members(view, compile_definition(view, definition), columns=("customer_id",))


def _choose_definition(
    selection: ui.Selection, label: str, options: dict[str, Definition], key: str, empty: str
) -> tuple[str, pd.DataFrame] | None:
    if not options:
        st.info(empty)
        return None
    name = st.selectbox(label, list(options), key=key)
    return name, _select_members(selection, options[name])


def _choose_band(selection: ui.Selection) -> tuple[str, pd.DataFrame] | None:
    """A churn band picker over the held predictions, or a button that fits them first."""
    band = st.selectbox("Predicted churn band", list(overview.CHURN_BANDS), key="pr_band")
    if not predictions.has_prediction_fit(selection) and not st.button(
        "Fit the predictions",
        key="pr_fit",
        help="Fits BG/NBD or Pareto/NBD and Gamma-Gamma "
        "once per dataset and date, as the Predictions page does.",
    ):
        st.caption(
            "The churn bands need the predictions: fit them here or on the Predictions page."
        )
        return None
    scores = predictions.get_customer_predictions(selection)
    return f"{band} churn risk", scores.loc[scores.churn_band == band, ["customer_id"]]


def choose_segment(selection: ui.Selection) -> tuple[str, pd.DataFrame] | None:
    """The segment picker (kind, then the segment): return its name and members (customer_id),
    or None when there is nothing to pick yet."""
    kind = st.radio(
        "Segment kind", list(KINDS), format_func=KINDS.get, horizontal=True, key="pr_kind"
    )
    if kind == "rfm":
        return _choose_rfm_group(selection)
    if kind == "preset":
        return _choose_definition(
            selection,
            "Behavioural preset (default parameters)",
            _list_presets(selection),
            "pr_preset",
            "No behavioural preset has the data it needs in this dataset.",
        )
    if kind == "saved":
        names = segment_store.list_segments(ui.workspace(), selection.dataset)
        saved = {n: segment_store.load_segment(ui.workspace(), selection.dataset, n) for n in names}
        return _choose_definition(
            selection,
            "Saved segment",
            saved,
            "pr_saved",
            "No saved segment yet: build one on the Behaviour page and save it.",
        )
    return _choose_band(selection)


def show_bright_spots(selection: ui.Selection) -> None:
    """The Bright spots section: segment, level and minimum buyers; the table and the chart."""
    st.caption(
        "Which products a segment buys more often than customers at large: the share of the "
        "segment's customers who bought each one, against the same share among all customers."
    )
    picker, level_column, minimum_column = st.columns([3, 1, 1])
    with picker:
        chosen = choose_segment(selection)
    level = level_column.radio(
        "Level", list(bright_spots.LEVELS), format_func=str.capitalize, key="pr_level"
    )
    minimum = minimum_column.number_input(
        "Minimum buyers",
        min_value=1,
        value=5,
        step=1,
        key="pr_min_buyers",
        help="Only products bought by at least this many members are listed.",
    )
    if chosen is None:
        return
    name, members = chosen
    buyers = get_product_buyers(selection)
    if members.empty:
        st.info(f"{escape_markdown(name)} has no members on the analysis date.")
        return
    ids = ibis.memtable(members[["customer_id"]].astype({"customer_id": "string"}))
    spots = bright_spots.find_bright_spots(buyers, ids, level, int(minimum))
    show_definitions(
        "**Share of segment**: members who bought it / members who bought anything (members "
        "without a purchase do not dilute it).",
        "**Share of all**: the same over every customer who bought anything.",
        "**Index**: share of segment / share of all; 2 = the segment buys it twice as often.",
        "**95% interval**: the Wilson interval of the share of segment; a high index on a few "
        "buyers is a hint, not a finding.",
        "**Revenue share**: the segment's revenue on it / its revenue on all products.",
        "Valid orders of known customers up to the analysis date (docs/products.md).",
    )
    if spots.empty:
        st.info(
            f"No {level} was bought by at least {formatting.format_count(minimum)} members of "
            f"{escape_markdown(name)}: lower the minimum."
        )
        return
    st.markdown(
        f"**{escape_markdown(name)}**: "
        f"{formatting.format_count_of(int(spots.segment_customers.iloc[0]), 'member')} bought "
        f"something, of {formatting.format_count_of(len(members), 'member')}; all customers "
        f"who bought something: {formatting.format_count(int(spots.all_customers.iloc[0]))}."
    )
    st.dataframe(
        spots,
        hide_index=True,
        width="stretch",
        key="pr_spots_table",
        column_order=[
            "name",
            *(["category"] if level == "product" else []),
            "index",
            "segment_share",
            "share_low",
            "share_high",
            "all_share",
            "segment_buyers",
            "all_buyers",
            "revenue_share",
        ],
        column_config={
            "name": st.column_config.TextColumn(level.capitalize()),
            "category": st.column_config.TextColumn("Category"),
            "segment_buyers": st.column_config.NumberColumn("Segment buyers", format="localized"),
            "segment_share": st.column_config.NumberColumn("Share of segment", format="percent"),
            "all_buyers": st.column_config.NumberColumn("All buyers", format="localized"),
            "all_share": st.column_config.NumberColumn("Share of all", format="percent"),
            "index": st.column_config.NumberColumn("Index", format="%.2f"),
            "share_low": st.column_config.NumberColumn("95% low", format="percent"),
            "share_high": st.column_config.NumberColumn("95% high", format="percent"),
            "revenue_share": st.column_config.NumberColumn("Revenue share", format="percent"),
        },
    )
    st.plotly_chart(product_charts.plot_bright_spots(spots), width="stretch")


# --- Gateway products ---------------------------------------------------------------------


def get_gateway(selection: ui.Selection, horizon_days: int, by: str) -> pd.DataFrame:
    """Return ``gateway.measure_gateway`` for the horizon and grouping, held per session for
    ``data_key`` and the channel rules."""
    rules, rules_frame = _channel_settings(selection)

    def compute() -> pd.DataFrame:
        with _computing(
            selection, f"Following first orders for {horizon_days:,} days by {by}…"
        ) as (_, tables):
            attribution = (
                channels.attribute_channels(
                    tables.orders, rules_frame, selection.as_of, selection.rules
                )
                if by == "channel"
                else None
            )
            return gateway.measure_gateway(
                tables.orders,
                tables["order_lines"],
                selection.as_of,
                horizon_days,
                by,
                selection.rules,
                attribution,
            )

    return _held_per_choice("pr_gateway", (data_key(selection), rules), (horizon_days, by), compute)


def get_first_and_later(selection: ui.Selection) -> pd.DataFrame:
    """Return ``gateway.compare_first_and_later`` once per session and ``data_key``."""

    def compute() -> pd.DataFrame:
        with _computing(selection, "Comparing first orders with later ones…") as (_, tables):
            return gateway.compare_first_and_later(
                tables.orders, tables["order_lines"], selection.as_of, selection.rules
            )

    return session.cached("pr_first_later", data_key(selection), compute)


def show_gateway(selection: ui.Selection) -> None:
    """The Gateway products section: horizon and grouping, the table, the chart, and first
    purchases against later ones."""
    st.caption(
        "What customers buy first, and whether those who start with it come back: customers "
        "whose first order is at least the horizon old, followed for the horizon."
    )
    left, right = st.columns([1, 2])
    horizon = left.number_input(
        "Horizon (days)", min_value=1, max_value=3650, value=365, step=1, key="pr_horizon"
    )
    by = right.radio(
        "Group first orders by",
        list(gateway.GROUPINGS),
        format_func=str.capitalize,
        horizontal=True,
        key="pr_gateway_by",
    )
    show_definitions(
        "**First order**: a customer's first valid order; the cohort is every customer whose "
        "first order is on or before the analysis date minus the horizon.",
        "**Customers**: cohort customers with the product (category) in their first order, or "
        "acquired through the channel; a first order with two products counts for both.",
        "**Reorder rate**: the share who placed a valid order on a later day within the "
        "horizon, with its Wilson 95% interval.",
        "**Revenue per customer**: their net counted orders from the first order's day to the "
        "horizon's end, the first order included, per customer.",
        "**First share**: customers with the product in their first order / (those + customers "
        "who bought it only later).",
    )
    try:
        table = get_gateway(selection, int(horizon), by)
    except gateway.HorizonError as exc:
        st.error(escape_markdown(exc))
        return
    if table.empty:
        st.info(
            f"No customer's first order is {formatting.format_count(horizon)} days or more "
            "before the analysis date: shorten the horizon."
        )
    else:
        money = formatting.table_money_format(selection.currency)
        st.dataframe(
            table.drop(columns=["key"] + (["category"] if by != "product" else [])),
            hide_index=True,
            width="stretch",
            key="pr_gateway_table",
            column_config={
                "name": st.column_config.TextColumn(by.capitalize()),
                "category": st.column_config.TextColumn("Category"),
                "customers": st.column_config.NumberColumn("Customers", format="localized"),
                "reordered": st.column_config.NumberColumn("Ordered again", format="localized"),
                "reorder_rate": st.column_config.NumberColumn("Reorder rate", format="percent"),
                "reorder_low": st.column_config.NumberColumn("95% low", format="percent"),
                "reorder_high": st.column_config.NumberColumn("95% high", format="percent"),
                "revenue_per_customer": st.column_config.NumberColumn(
                    f"Revenue per customer, {int(horizon):,} days", format=money
                ),
            },
        )
        st.plotly_chart(product_charts.plot_reorder_rates(table, int(horizon)), width="stretch")
    st.markdown("**First purchase vs later purchases**")
    first_and_later = get_first_and_later(selection)
    st.dataframe(
        first_and_later.drop(columns=["key"]),
        hide_index=True,
        width="stretch",
        key="pr_first_later_table",
        column_config={
            "name": st.column_config.TextColumn("Product"),
            "category": st.column_config.TextColumn("Category"),
            "first_order_buyers": st.column_config.NumberColumn(
                "Bought in the first order", format="localized"
            ),
            "later_buyers": st.column_config.NumberColumn("Bought only later", format="localized"),
            "first_share": st.column_config.NumberColumn("First share", format="percent"),
        },
    )


# --- Replenishment ------------------------------------------------------------------------


@dataclass(frozen=True)
class Replenishment:
    """The cycles (``measure_cycles``) and who is due now (``find_due_customers``)."""

    cycles: pd.DataFrame
    due: pd.DataFrame


def get_replenishment(selection: ui.Selection) -> Replenishment:
    """Return the cycles and the due customers, once per session and ``data_key``."""

    def compute() -> Replenishment:
        with _computing(
            selection, "Measuring each product's replenishment cycle (once per dataset and date)…"
        ) as (step, tables):
            known = lines.select_valid_lines(
                tables.orders,
                tables["order_lines"],
                selection.as_of,
                selection.rules,
                with_guests=False,
            )
            cycles = replenishment.measure_cycles(known)
            step("Finding the customers due to buy again…")
            due = replenishment.find_due_customers(known, cycles, selection.as_of)
            return Replenishment(cycles, due)

    return session.cached(CYCLES, data_key(selection), compute)


def show_replenishment(selection: ui.Selection) -> None:
    """The Replenishment section: the cycles table and chart, who is due, its download."""
    st.caption(
        "How many days customers take to buy the same product again, and who is due or overdue "
        "now by that product's own cycle."
    )
    held = get_replenishment(selection)
    show_definitions(
        "**Repeat pair**: two consecutive purchase days of a product by one customer (lines on "
        "the same day count once); its gap is the days between them.",
        "**Median, 25th and 75th percentile**: of the gaps, exact, over every repeat pair; only "
        "products with 5 or more repeat pairs.",
        "**Due on**: the last purchase day + the product's median cycle (rounded to whole "
        "days). **Overdue**: due before the analysis date; **due**: within 7 days after it. "
        "More than 3 cycles overdue has lapsed and is not listed.",
    )
    if held.cycles.empty:
        st.info("No product was bought again by the same customer 5 times or more yet.")
        return
    st.dataframe(
        held.cycles.drop(columns=["product_key"]),
        hide_index=True,
        width="stretch",
        key="pr_cycles_table",
        column_config={
            "product": st.column_config.TextColumn("Product"),
            "category": st.column_config.TextColumn("Category"),
            "repeat_pairs": st.column_config.NumberColumn("Repeat pairs", format="localized"),
            "customers": st.column_config.NumberColumn("Customers", format="localized"),
            "median_days": st.column_config.NumberColumn("Median days", format="%.1f"),
            "p25_days": st.column_config.NumberColumn("25th percentile", format="%.1f"),
            "p75_days": st.column_config.NumberColumn("75th percentile", format="%.1f"),
        },
    )
    st.plotly_chart(product_charts.plot_cycles(held.cycles), width="stretch")
    st.markdown("**Customers due or overdue now**")
    products = [ALL, *sorted(held.due["product"].dropna().unique())]
    product = st.selectbox("Product", products, key="pr_due_product")
    due = held.due if product == ALL else held.due[held.due["product"] == product]
    st.caption(
        f"{formatting.format_count_of(len(due), 'customer and product', 'customers and products')}"
        f" ({formatting.format_count((due.status == 'overdue').sum())} overdue). To reach them, "
        'open the Behaviour page\'s "Product replenishment due" preset: it uses the same cycles.'
    )
    st.dataframe(
        due.drop(columns=["product_key"]),
        hide_index=True,
        width="stretch",
        key="pr_due_table",
        column_config={
            "customer_id": st.column_config.TextColumn("Customer"),
            "product": st.column_config.TextColumn("Product"),
            "last_bought_on": st.column_config.DateColumn("Last bought"),
            "cycle_days": st.column_config.NumberColumn("Cycle (days)", format="%.1f"),
            "due_on": st.column_config.DateColumn("Due on"),
            "status": st.column_config.TextColumn("Status"),
            "days_overdue": st.column_config.NumberColumn("Days overdue", format="localized"),
        },
    )
    st.download_button(
        f"Download {formatting.format_count_of(len(due), 'row')} (CSV)",
        session.defer_in_session(lambda: to_csv_bytes(due)),
        file_name=f"{selection.dataset}-replenishment-due.csv",
        mime="text/csv",
        on_click="ignore",
        key="pr_due_download",
    )


# --- Basket affinity ----------------------------------------------------------------------


@dataclass(frozen=True)
class Baskets:
    """The pairs of every valid order (``count_pairs``, floor 2) and the next-order pairs."""

    pairs: pd.DataFrame
    next_order: pd.DataFrame


def get_baskets(selection: ui.Selection) -> Baskets:
    """Return the basket pairs and the next-order pairs, once per session and ``data_key``."""

    def compute() -> Baskets:
        with _computing(
            selection, "Counting the products bought together (once per dataset and date)…"
        ) as (step, tables):
            every_line = lines.select_valid_lines(
                tables.orders, tables["order_lines"], selection.as_of, selection.rules
            )
            pairs = affinity.count_pairs(every_line, floor=PAIR_FLOOR)
            step("Counting what the next order holds…")
            next_order = affinity.count_next_order_pairs(every_line, floor=PAIR_FLOOR)
            return Baskets(pairs, next_order)

    return session.cached(BASKETS, data_key(selection), compute)


def show_basket_affinity(selection: ui.Selection) -> None:
    """The Basket affinity section: minimum orders and category, the pairs and their download,
    and what the next order holds."""
    st.caption(
        "Which products are bought in the same order, and which follow each other from one "
        "order to the next."
    )
    held = get_baskets(selection)
    left, right = st.columns(2)
    minimum = left.number_input(
        "Minimum orders holding both",
        min_value=PAIR_FLOOR,
        value=PAIR_FLOOR,
        step=1,
        key="pr_min_orders",
    )
    categories = sorted(set(held.pairs.category_a.dropna()) | set(held.pairs.category_b.dropna()))
    category = right.selectbox("Category (either product)", [ALL, *categories], key="pr_category")
    pairs = affinity.filter_pairs(held.pairs, int(minimum), None if category == ALL else category)
    show_definitions(
        "Every valid order up to the analysis date, guest orders included; a product counts "
        "once per order.",
        "**Support**: orders holding both / all orders with a product.",
        "**Confidence A→B**: orders holding both / orders holding A (B→A likewise).",
        "**Lift**: support / (support of A x support of B); above 1, bought together more "
        "often than if they were independent.",
        "**Next order**: of a customer's orders holding A that have a next order, the share "
        "whose next order holds B (A may be B: a repurchase).",
    )
    st.markdown(
        f"**Pairs**: {formatting.format_count_of(len(pairs), 'pair')} held by "
        f"{formatting.format_count(minimum)} or more orders"
    )
    st.dataframe(
        pairs[
            [
                "name_a",
                "name_b",
                "orders",
                "support",
                "confidence_a_b",
                "confidence_b_a",
                "lift",
            ]
        ],
        hide_index=True,
        width="stretch",
        key="pr_pairs_table",
        column_config={
            "name_a": st.column_config.TextColumn("Product A"),
            "name_b": st.column_config.TextColumn("Product B"),
            "orders": st.column_config.NumberColumn("Orders with both", format="localized"),
            "support": st.column_config.NumberColumn("Support", format="percent"),
            "confidence_a_b": st.column_config.NumberColumn("Confidence A→B", format="percent"),
            "confidence_b_a": st.column_config.NumberColumn("Confidence B→A", format="percent"),
            "lift": st.column_config.NumberColumn("Lift", format="%.2f"),
        },
    )
    st.download_button(
        f"Download {formatting.format_count_of(len(pairs), 'pair')} (CSV)",
        session.defer_in_session(lambda: to_csv_bytes(pairs)),
        file_name=f"{selection.dataset}-pairs.csv",
        mime="text/csv",
        on_click="ignore",
        key="pr_pairs_download",
    )
    st.markdown("**Bought A, next order contains B**")
    st.dataframe(
        held.next_order[["name_a", "name_b", "customers", "transitions", "share"]],
        hide_index=True,
        width="stretch",
        key="pr_next_table",
        column_config={
            "name_a": st.column_config.TextColumn("Bought A"),
            "name_b": st.column_config.TextColumn("Next order holds B"),
            "customers": st.column_config.NumberColumn("Customers", format="localized"),
            "transitions": st.column_config.NumberColumn("Times", format="localized"),
            "share": st.column_config.NumberColumn("Share of next orders", format="percent"),
        },
    )


# --- Retention ----------------------------------------------------------------------------


def get_retention(selection: ui.Selection, period: str) -> pd.DataFrame:
    """Return ``retention.measure_retention`` for the period, held per session and key."""

    def compute() -> pd.DataFrame:
        label = f"Counting active, new and returning customers per {period}…"
        with _computing(selection, label) as (_, tables):
            return retention.measure_retention(
                tables.orders, selection.as_of, period, selection.rules
            )

    return _held_per_choice("pr_retention", data_key(selection), period, compute)


def get_time_to_second_order(selection: ui.Selection) -> pd.DataFrame:
    """Return ``retention.measure_time_to_second_order`` once per session and key."""

    def compute() -> pd.DataFrame:
        with _computing(selection, "Measuring the time to the second order…") as (_, tables):
            return retention.measure_time_to_second_order(
                tables.orders, selection.as_of, selection.rules
            )

    return session.cached("pr_second_order", data_key(selection), compute)


def get_conversion(selection: ui.Selection, period: str) -> pd.DataFrame | None:
    """Return ``retention.measure_conversion`` (None without sessions) for the period and the
    Channels page's rules, held per session and key."""
    rules, rules_frame = _channel_settings(selection)

    def compute() -> pd.DataFrame | None:
        label = f"Counting sessions with a purchase per {period}…"
        with _computing(selection, label) as (_, tables):
            return retention.measure_conversion(
                tables, selection.as_of, period, rules_frame, selection.rules
            )

    return _held_per_choice("pr_conversion", (data_key(selection), rules), period, compute)


def show_retention(selection: ui.Selection) -> None:
    """The Retention section: retention and churn, new and returning, repeat purchase rate,
    time to the second order and the conversion rate."""
    st.caption(
        "Who stays: customers of each period who order again in the next, new and returning "
        "customers, how long a second purchase takes, and how often a visit ends in a purchase."
    )
    period = st.radio(
        "Period",
        list(retention.PERIODS),
        format_func=str.capitalize,
        horizontal=True,
        key="pr_period",
    )
    show_definitions(
        "Valid orders of known customers up to the analysis date; a customer is **active** in "
        "a period when they placed a valid order in it.",
        "**Retention rate**: customers active in the previous period and again in this one / "
        "the previous period's active customers. **Churn rate**: 1 - retention rate.",
        "**New**: first valid order in the period; **returning**: active - new.",
        "**Repeat purchase rate**: customers so far with valid orders on 2 or more days / "
        "customers so far.",
        "**Time to second order**: days from the first to the second distinct purchase day.",
        "**Conversion rate**: sessions with a purchase / sessions, by the acquisition channel "
        "of the session's customer.",
        "The last period is partial when the analysis date is before its end.",
    )
    table = get_retention(selection, period)
    distribution = get_time_to_second_order(selection)
    conversion = get_conversion(selection, period)
    if table.empty:
        st.info("No valid order of a known customer up to the analysis date.")
        return
    left, right = st.columns(2)
    left.plotly_chart(product_charts.plot_retention_rates(table), width="stretch")
    right.plotly_chart(product_charts.plot_new_and_returning(table), width="stretch")
    st.plotly_chart(product_charts.plot_repeat_rate(table), width="stretch")
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        key="pr_retention_table",
        column_config={
            "period_start": st.column_config.DateColumn("Period start"),
            "period_end": st.column_config.DateColumn("Period end"),
            "is_partial": st.column_config.CheckboxColumn("Partial"),
            "active_customers": st.column_config.NumberColumn("Active", format="localized"),
            "new_customers": st.column_config.NumberColumn("New", format="localized"),
            "returning_customers": st.column_config.NumberColumn("Returning", format="localized"),
            "previous_active": st.column_config.NumberColumn(
                "Active in the previous period", format="localized"
            ),
            "retained": st.column_config.NumberColumn("Retained", format="localized"),
            "retention_rate": st.column_config.NumberColumn("Retention rate", format="percent"),
            "churn_rate": st.column_config.NumberColumn("Churn rate", format="percent"),
            "customers_to_date": st.column_config.NumberColumn(
                "Customers so far", format="localized"
            ),
            "repeat_customers_to_date": st.column_config.NumberColumn(
                "Repeat customers so far", format="localized"
            ),
            "repeat_purchase_rate": st.column_config.NumberColumn(
                "Repeat purchase rate", format="percent"
            ),
        },
    )
    show_time_to_second_order(distribution)
    st.markdown("**Conversion rate**")
    if conversion is None:
        st.info("Load a sessions file on the Data page to see the conversion rate by channel.")
    else:
        st.plotly_chart(product_charts.plot_conversion(conversion), width="stretch")


def show_time_to_second_order(distribution: pd.DataFrame) -> None:
    """The median and the shares within 30, 90 and 365 days, and the histogram."""
    st.markdown("**Time from the first to the second order**")
    summary = retention.summarise_time_to_second_order(distribution)
    columns = st.columns(2 + len(retention.SECOND_ORDER_WITHIN_DAYS))
    columns[0].metric(
        "Customers with a second purchase", formatting.format_count(summary["customers"])
    )
    median = summary["median_days"]
    columns[1].metric(
        "Median days to the second purchase",
        "—" if median is None else f"{median:,.1f}",
    )
    for column, days in zip(columns[2:], retention.SECOND_ORDER_WITHIN_DAYS, strict=True):
        column.metric(
            f"Within {days} days", formatting.format_percent(summary[f"share_within_{days}"])
        )
    if summary["customers"]:
        st.plotly_chart(
            product_charts.plot_time_to_second_order(distribution, median), width="stretch"
        )


# --- Abandoned checkouts ------------------------------------------------------------------


def get_abandoned(selection: ui.Selection, by: str) -> pd.DataFrame:
    """Return ``abandoned.summarise_abandoned`` by the grouping, held per session for
    ``data_key`` and the channel rules."""
    rules, rules_frame = _channel_settings(selection)

    def compute() -> pd.DataFrame:
        with _computing(selection, f"Summing what abandoned checkouts left behind by {by}…") as (
            _,
            tables,
        ):
            attribution = channels.attribute_channels(
                tables.orders, rules_frame, selection.as_of, selection.rules
            )
            return abandoned.summarise_abandoned(
                tables, selection.as_of, by, selection.rules, attribution
            )

    return _held_per_choice("pr_abandoned", (data_key(selection), rules), by, compute)


def show_abandoned(selection: ui.Selection) -> None:
    """The Abandoned checkouts section: grouping, the table and the value left."""
    st.caption(
        "What abandoned checkouts left behind, by product, category or the acquisition channel "
        "of the customer, and how many of those customers ordered afterwards."
    )
    by = st.radio(
        "Group by",
        list(abandoned.GROUPINGS),
        format_func=str.capitalize,
        horizontal=True,
        key="pr_abandoned_by",
    )
    show_definitions(
        "Abandoned checkouts created on or before the analysis date, with their line items.",
        "**Value left**: price x quantity of the lines (shipping and tax not included).",
        "**Recovered**: checkouts whose customer placed a valid order at or after the checkout.",
        "**Channel**: the acquisition channel of the checkout's customer; Anonymous without a "
        "customer, No purchase yet for a customer without a valid order.",
    )
    table = get_abandoned(selection, by)
    if table.empty:
        st.info("No abandoned checkout with line items up to the analysis date.")
        return
    money = formatting.table_money_format(selection.currency)
    st.dataframe(
        table.drop(columns=["key"]),
        hide_index=True,
        width="stretch",
        key="pr_abandoned_table",
        column_config={
            "name": st.column_config.TextColumn(by.capitalize()),
            "checkouts": st.column_config.NumberColumn("Checkouts", format="localized"),
            "customers": st.column_config.NumberColumn("Customers", format="localized"),
            "units": st.column_config.NumberColumn("Units", format="localized"),
            "value_left": st.column_config.NumberColumn("Value left", format=money),
            "recovered": st.column_config.NumberColumn("Recovered", format="localized"),
            "recovered_share": st.column_config.NumberColumn("Recovered share", format="percent"),
        },
    )
    st.plotly_chart(product_charts.plot_value_left(table, selection.currency), width="stretch")


SHOW_SECTION: dict[str, Callable[[ui.Selection], None]] = {
    "Bright spots": show_bright_spots,
    "Gateway products": show_gateway,
    "Replenishment": show_replenishment,
    "Basket affinity": show_basket_affinity,
    "Retention": show_retention,
    "Abandoned checkouts": show_abandoned,
}


def show_sections(selection: ui.Selection) -> None:
    """One tab per section the dataset can fill; only the open tab is computed and drawn."""
    shown = choose_sections(selection)
    tabs = st.tabs(shown, key=TAB, on_change="rerun")
    for name, tab in zip(shown, tabs, strict=True):
        if tab.open:
            with tab:
                SHOW_SECTION[name](selection)
