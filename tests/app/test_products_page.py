"""The Products page through AppTest on a small coffee store written straight into a workspace.

Every figure the page shows must be the number the engine computes directly on the same data
(``bright_spots``, ``gateway``, ``replenishment``, ``affinity``, ``retention``, ``abandoned``);
a change of segment, level or minimum count must not re-run the expensive steps
(``count_product_buyers``, ``count_pairs``); a dataset without order lines says which file to
load and still shows the Retention section.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from pathlib import Path

import ibis
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import engines, formatting, ui
from dashboard.acquisition import channels, retention
from dashboard.behaviour import presets
from dashboard.behaviour.compiler import compile_definition, feature_view
from dashboard.behaviour.membership import list_members
from dashboard.products import abandoned, affinity, bright_spots, gateway, lines, replenishment
from dashboard.rfm import analysis, cut_points
from dashboard.ui import predictions
from dashboard.ui import products as ui_products
from dashboard.ui.behaviour import feature_cache
from dashboard.workspace import store

APP = Path(__file__).resolve().parents[2] / "streamlit_app.py"
PAGE = "pages/products.py"
DATASET = "coffee"
# SKU -> (name, category, price); the gift card has no category.
PRODUCTS = {
    "BEAN-ETH": ("Ethiopia beans", "Coffee", "15.00"),
    "BEAN-KEN": ("Kenya beans", "Coffee", "14.00"),
    "FLT": ("Paper filters", "Brewing", "5.00"),
    "DRIP": ("Dripper", "Brewing", "25.00"),
    "MUG": ("Mug", "Merch", "12.00"),
    "GIFT": ("Gift card", None, "50.00"),
}
INSERT_ORDER = (
    "INSERT INTO orders (order_id, customer_id, ordered_at, order_total, refunded_amount, "
    "net_total, currency, is_cancelled, ingest_id) VALUES (?, ?, ?, ?, 0, ?, 'EUR', false, 1)"
)
INSERT_LINE = (
    "INSERT INTO order_lines (order_id, line_number, product, sku, quantity, price, category, "
    "ingest_id) VALUES (?, ?, ?, ?, ?, ?, ?, 1)"
)
INSERT_SESSION = (
    "INSERT INTO sessions (customer_id, started_at, purchased, ingest_id) VALUES (?, ?, ?, 1)"
)
INSERT_CHECKOUT = (
    "INSERT INTO abandoned_checkouts (checkout_id, customer_id, created_at, total, currency, "
    "ingest_id) VALUES (?, ?, ?, ?, 'EUR', 1)"
)
INSERT_CHECKOUT_LINE = (
    "INSERT INTO checkout_lines (checkout_id, line_number, product, sku, quantity, price, "
    "ingest_id) VALUES (?, ?, ?, ?, ?, ?, 1)"
)


def basket(rng: random.Random, favourite: str, first: bool) -> list[str]:
    """The SKUs of one order: a regular's beans, a dripper with filters now and then, a mug."""
    skus = [favourite]
    if first and rng.random() < 0.4:
        skus += ["DRIP", "FLT"]
    if rng.random() < 0.15:
        skus.append("MUG")
    return skus


def write_coffee_store(workspace: Path) -> None:
    """120 customers over 2023-2024: every third a regular who buys beans about every 30 days,
    the others one or two orders (gift cards, mugs); guest orders, sessions and abandoned
    checkouts with line items."""
    rng = random.Random(16)
    start = dt.datetime(2023, 1, 2, 9, 0)
    orders, order_lines, sessions, checkouts, checkout_lines = [], [], [], [], []

    def add_order(customer: str | None, when: dt.datetime, skus: list[str]) -> None:
        order_id = f"O{len(orders) + 1:05d}"
        total = Decimal(0)
        for number, sku in enumerate(skus, start=1):
            name, category, price = PRODUCTS[sku]
            total += Decimal(price)
            order_lines.append((order_id, number, name, sku, 1, Decimal(price), category))
        orders.append((order_id, customer, when, total, total))

    for c in range(120):
        customer = f"c{c:03d}"
        when = start + dt.timedelta(days=rng.randrange(600), minutes=rng.randrange(600))
        if c % 3 == 0:
            favourite = rng.choice(["BEAN-ETH", "BEAN-KEN"])
            for n in range(rng.randint(3, 12)):
                add_order(customer, when, basket(rng, favourite, n == 0))
                when += dt.timedelta(days=rng.randint(24, 36))
        else:
            first = rng.choice([["GIFT"], ["MUG"], ["BEAN-ETH"], ["GIFT", "MUG"]])
            add_order(customer, when, first)
            if rng.random() < 0.3:
                add_order(customer, when + dt.timedelta(days=rng.randint(40, 200)), ["MUG"])
        for _ in range(3):
            seen = start + dt.timedelta(days=rng.randrange(730))
            sessions.append((customer, seen, rng.random() < 0.2))
        if rng.random() < 0.3:
            checkout_id = f"K{len(checkouts) + 1:04d}"
            checkouts.append((checkout_id, customer, when, Decimal("40.00")))
            for number, sku in enumerate(rng.sample(sorted(PRODUCTS), 2), start=1):
                name, _, price = PRODUCTS[sku]
                checkout_lines.append((checkout_id, number, name, sku, 2, Decimal(price)))
    for g in range(10):
        add_order(None, start + dt.timedelta(days=30 * g), ["DRIP", "FLT"])
    with store.open_for_write(workspace, DATASET) as con:
        con.begin()
        con.executemany(INSERT_ORDER, orders)
        con.executemany(INSERT_LINE, order_lines)
        con.executemany(INSERT_SESSION, sessions)
        con.executemany(INSERT_CHECKOUT, checkouts)
        con.executemany(INSERT_CHECKOUT_LINE, checkout_lines)
        con.commit()


@pytest.fixture(scope="module")
def coffee_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workspace = store.resolve_workspace(tmp_path_factory.mktemp("products") / "workspace")
    write_coffee_store(workspace)
    return workspace


@pytest.fixture
def coffee_env(coffee_workspace: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(store.WORKSPACE_ENV, str(coffee_workspace))
    monkeypatch.setenv("SEGMENTS_DATASET", DATASET)
    return coffee_workspace


@pytest.fixture
def expensive_calls(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Count the calls of the expensive steps the page must run once per dataset and date."""
    calls = {"count_product_buyers": 0, "count_pairs": 0}
    for module, name in ((bright_spots, "count_product_buyers"), (affinity, "count_pairs")):
        original = getattr(module, name)

        def counted(*args: object, _original=original, _name=name, **kwargs: object) -> object:
            calls[_name] += 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(module, name, counted)
    return calls


def start(tab: str | None = None) -> AppTest:
    """Open the Products page (on ``tab`` when given: only the open tab is drawn)."""
    app = AppTest.from_file(str(APP), default_timeout=240).run()
    app.switch_page(PAGE).run()
    if tab is not None:
        app.session_state[ui_products.TAB] = tab
        app.run()
    assert_clean(app)
    return app


def assert_clean(app: AppTest) -> None:
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]


def selection_of(app: AppTest) -> ui.Selection:
    return app.session_state[ui.SELECTION]


def table_with(app: AppTest, column: str) -> pd.DataFrame:
    """The one table on the page that has ``column``."""
    found = [d.value for d in app.dataframe if column in d.value.columns]
    assert len(found) == 1, [list(d.value.columns) for d in app.dataframe]
    return found[0].reset_index(drop=True)


def open_tables(workspace: Path):
    return engines.open_tables("duckdb", workspace=workspace, dataset=DATASET)


def expected_bright_spots(
    workspace: Path, selection: ui.Selection, group: str, level: str, minimum: int
) -> pd.DataFrame:
    """The bright spots of ``group`` (quantile scoring of the sidebar's scheme), computed
    without the app."""
    base = analysis.load_customer_base(
        workspace, DATASET, as_of=selection.as_of, start=selection.start, rules=selection.rules
    )
    try:
        cuts = cut_points.resolve_cuts(base.measures, cut_points.ScoringSpec(selection.scheme))
        members = analysis.segment_members(base, cuts, selection.scheme, group)
    finally:
        base.close()
    with open_tables(workspace) as tables:
        known = lines.select_valid_lines(
            tables.orders, tables["order_lines"], selection.as_of, selection.rules, False
        )
        ids = ibis.memtable(members[["customer_id"]].astype({"customer_id": "string"}))
        return bright_spots.find_bright_spots(
            bright_spots.count_product_buyers(known), ids, level, minimum
        )


def assert_shown(shown: pd.DataFrame, expected: pd.DataFrame) -> None:
    """The table the page shows holds ``expected``'s values in its columns (the trip through
    Arrow to the browser may change dtypes and missing markers, never values)."""
    expected = expected[list(shown.columns)].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        shown.astype(object).where(shown.notna(), None),
        expected.astype(object).where(expected.notna(), None),
        check_dtype=False,
    )


def test_bright_spots_of_champions_equal_the_engine_and_reuse_the_buyers(
    coffee_env: Path, expensive_calls: dict[str, int]
) -> None:
    app = start()
    selection = selection_of(app)
    assert app.radio(key="pr_kind").value == "rfm"
    assert app.selectbox(key="pr_rfm_group").value == "Champions"
    shown = table_with(app, "segment_share")
    expected = expected_bright_spots(coffee_env, selection, "Champions", "product", 5)
    assert len(shown) > 0
    assert_shown(shown, expected)
    assert expensive_calls["count_product_buyers"] == 2  # the app's once, and ours above

    app.number_input(key="pr_min_buyers").set_value(2).run()
    app.radio(key="pr_level").set_value("category").run()
    assert_clean(app)
    shown = table_with(app, "segment_share")
    expected = expected_bright_spots(coffee_env, selection, "Champions", "category", 2)
    assert_shown(shown, expected)

    others = [g for g in app.selectbox(key="pr_rfm_group").options if g != "Champions"]
    app.selectbox(key="pr_rfm_group").set_value(others[0]).run()
    assert_clean(app)
    # Two more of ours, none more of the app's: segment, level and minimum are cheap steps.
    assert expensive_calls["count_product_buyers"] == 3


def test_gateway_products_equal_the_engine(coffee_env: Path) -> None:
    app = start("Gateway products")
    selection = selection_of(app)
    with open_tables(coffee_env) as tables:
        expected = gateway.measure_gateway(
            tables.orders, tables["order_lines"], selection.as_of, 365, "product", selection.rules
        )
        first_later = gateway.compare_first_and_later(
            tables.orders, tables["order_lines"], selection.as_of, selection.rules
        )
    shown = table_with(app, "reorder_rate")
    assert len(shown) > 0
    assert_shown(shown, expected)
    shown = table_with(app, "first_share")
    assert_shown(shown, first_later)

    app.number_input(key="pr_horizon").set_value(90).run()
    app.radio(key="pr_gateway_by").set_value("channel").run()
    assert_clean(app)
    with open_tables(coffee_env) as tables:
        attribution = channels.attribute_channels(
            tables.orders, channels.default_rules(), selection.as_of, selection.rules
        )
        expected = gateway.measure_gateway(
            tables.orders,
            tables["order_lines"],
            selection.as_of,
            90,
            "channel",
            selection.rules,
            attribution,
        )
    shown = table_with(app, "reorder_rate")
    assert_shown(shown, expected)


def test_replenishment_cycles_and_due_customers_equal_the_engine(coffee_env: Path) -> None:
    app = start("Replenishment")
    selection = selection_of(app)
    with open_tables(coffee_env) as tables:
        known = lines.select_valid_lines(
            tables.orders, tables["order_lines"], selection.as_of, selection.rules, False
        )
        cycles = replenishment.measure_cycles(known)
        due = replenishment.find_due_customers(known, cycles, selection.as_of)
    shown = table_with(app, "median_days")
    assert {"Ethiopia beans", "Kenya beans"} <= set(shown["product"])
    assert_shown(shown, cycles)
    beans = cycles.loc[cycles["product"] == "Kenya beans", "median_days"].iloc[0]
    assert 24 <= beans <= 36
    shown = table_with(app, "due_on")
    assert len(shown) == len(due) > 0
    assert_shown(shown, due)

    product = due["product"].iloc[0]
    app.selectbox(key="pr_due_product").set_value(product).run()
    assert_clean(app)
    shown = table_with(app, "due_on")
    assert len(shown) == int((due["product"] == product).sum())
    assert any("Product replenishment due" in c.value for c in app.caption)


def test_basket_pairs_equal_the_engine_and_filters_reuse_the_counts(
    coffee_env: Path, expensive_calls: dict[str, int]
) -> None:
    app = start("Basket affinity")
    selection = selection_of(app)
    with open_tables(coffee_env) as tables:
        every = lines.select_valid_lines(
            tables.orders, tables["order_lines"], selection.as_of, selection.rules
        )
        pairs = affinity.count_pairs(every, floor=2)
        next_order = affinity.count_next_order_pairs(every, floor=2)
    assert expensive_calls["count_pairs"] == 2
    shown = table_with(app, "lift")
    assert_shown(shown, pairs)
    dripper = pairs[(pairs.name_a == "Dripper") & (pairs.name_b == "Paper filters")]
    # Every dripper order of the store holds filters: confidence dripper -> filters is 1.
    assert dripper.confidence_a_b.iloc[0] == 1.0
    shown = table_with(app, "transitions")
    assert_shown(shown, next_order)

    app.number_input(key="pr_min_orders").set_value(10).run()
    app.selectbox(key="pr_category").set_value("Merch").run()
    assert_clean(app)
    shown = table_with(app, "lift")
    kept = affinity.filter_pairs(pairs, 10, "Merch")
    assert len(kept) > 0
    assert_shown(shown, kept)
    assert expensive_calls["count_pairs"] == 2


def test_retention_equals_the_engine(coffee_env: Path) -> None:
    app = start("Retention")
    selection = selection_of(app)
    with open_tables(coffee_env) as tables:
        quarterly = retention.measure_retention(
            tables.orders, selection.as_of, "quarter", selection.rules
        )
        summary = retention.summarise_time_to_second_order(
            retention.measure_time_to_second_order(tables.orders, selection.as_of, selection.rules)
        )
    app.radio(key="pr_period").set_value("quarter").run()
    assert_clean(app)
    shown = table_with(app, "retention_rate")
    assert_shown(shown, quarterly)
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Median days to the second purchase"] == f"{summary['median_days']:,.1f}"
    assert metrics["Within 90 days"] == formatting.format_percent(summary["share_within_90"])
    # Sessions are loaded: the conversion chart is drawn, not the sentence.
    assert not [i for i in app.info if "sessions file" in i.value]


def test_abandoned_checkouts_by_product_equal_the_engine(coffee_env: Path) -> None:
    app = start("Abandoned checkouts")
    selection = selection_of(app)
    with open_tables(coffee_env) as tables:
        attribution = channels.attribute_channels(
            tables.orders, channels.default_rules(), selection.as_of, selection.rules
        )
        expected = abandoned.summarise_abandoned(
            tables, selection.as_of, "product", selection.rules, attribution
        )
    shown = table_with(app, "value_left")
    assert len(shown) == len(PRODUCTS)
    assert_shown(shown, expected)


def test_without_order_lines_the_page_says_which_file_and_shows_retention(shop_env) -> None:
    app = start()
    assert [i.value for i in app.info][0] == ui_products.NO_LINES
    assert [t.label for t in app.tabs] == ["Retention"]
    selection = selection_of(app)
    with open_tables_of(shop_env) as tables:
        monthly = retention.measure_retention(
            tables.orders, selection.as_of, "month", selection.rules
        )
    assert_shown(table_with(app, "retention_rate"), monthly)
    assert any("sessions file" in i.value for i in app.info)


def open_tables_of(shop):
    return engines.open_tables("duckdb", workspace=shop.workspace, dataset=shop.dataset)


def bright_spots_of(workspace: Path, selection: ui.Selection, members: pd.DataFrame):
    with open_tables(workspace) as tables:
        known = lines.select_valid_lines(
            tables.orders, tables["order_lines"], selection.as_of, selection.rules, False
        )
        ids = ibis.memtable(members[["customer_id"]].astype({"customer_id": "string"}))
        return bright_spots.find_bright_spots(bright_spots.count_product_buyers(known), ids)


def test_a_churn_band_needs_the_fit_then_shows_its_bright_spots(coffee_env: Path) -> None:
    app = start()
    app.radio(key="pr_kind").set_value("band").run()
    app.selectbox(key="pr_band").set_value("High").run()
    assert_clean(app)
    assert not [d for d in app.dataframe if "segment_share" in d.value.columns]
    assert any("need the predictions" in c.value for c in app.caption)

    app.button(key="pr_fit").click().run()
    assert_clean(app)
    scores = app.session_state[predictions.SCORES][1]
    high = scores.loc[scores.churn_band == "High", ["customer_id"]]
    expected = bright_spots_of(coffee_env, selection_of(app), high)
    assert len(expected) > 0
    assert_shown(table_with(app, "segment_share"), expected)


def test_a_preset_shows_the_bright_spots_of_its_members(coffee_env: Path) -> None:
    app = start()
    app.radio(key="pr_kind").set_value("preset").run()
    name = presets.PRESETS["product_replenishment_due"].name
    app.selectbox(key="pr_preset").set_value(name).run()
    assert_clean(app)
    base = app.session_state[feature_cache.FEATURE_BASE][1]
    definition = presets.preset_definition(presets.PRESETS["product_replenishment_due"])
    view = feature_view(base.table, definition.rfm, coffee_env)
    members = list_members(view, compile_definition(view, definition), ["customer_id"])
    expected = bright_spots_of(coffee_env, selection_of(app), members)
    assert len(expected) > 0
    assert_shown(table_with(app, "segment_share"), expected)
