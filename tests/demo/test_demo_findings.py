"""The demo store shows a finding on every products chart (issue 16), computed with pandas.

Each figure is read from the generated CSV files with plain pandas, not with the engine: valid
orders are the ones not cancelled with a positive total, a customer is ``lower(trim(Email))``.
"""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard.demo.files import DemoFiles, write_demo_files

AS_OF = pd.Timestamp("2026-10-31")
HORIZON_DAYS = 365
PREMIUM_PRICE = 45.0


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoFiles:
    return write_demo_files(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def lines(demo: DemoFiles) -> pd.DataFrame:
    """Line items of valid orders: order, customer ('' for guests), day, sku."""
    raw = pd.read_csv(demo.orders, dtype=str, keep_default_na=False)
    first = raw.drop_duplicates("Name").set_index("Name")
    valid = first.index[(first["Cancelled at"] == "") & (first["Total"].astype(float) > 0)]
    kept = raw[raw["Name"].isin(valid)]
    return pd.DataFrame(
        {
            "order": kept["Name"].to_numpy(),
            "customer": kept["Name"].map(first["Email"].str.strip().str.lower()).to_numpy(),
            "day": pd.to_datetime(kept["Name"].map(first["Created at"]).str[:10]).to_numpy(),
            "sku": kept["Lineitem sku"].to_numpy(),
            "price": kept["Lineitem price"].astype(float).to_numpy(),
        }
    )


def median_repurchase_gap(lines: pd.DataFrame, sku_prefix: str) -> tuple[float, int]:
    """Median days between consecutive purchases of one SKU by one customer, and the pairs."""
    bought = lines[(lines["customer"] != "") & lines["sku"].str.startswith(sku_prefix)]
    bought = bought.drop_duplicates(["customer", "sku", "day"]).sort_values("day")
    gaps = bought.groupby(["customer", "sku"])["day"].diff().dt.days.dropna()
    return float(gaps.median()), len(gaps)


def test_beans_come_back_about_every_30_days(lines: pd.DataFrame) -> None:
    median, pairs = median_repurchase_gap(lines, "BEAN-")
    assert 25 <= median <= 35
    assert pairs >= 10_000


def test_filters_come_back_about_every_90_days(lines: pd.DataFrame) -> None:
    median, pairs = median_repurchase_gap(lines, "BREW-FLT")
    assert 75 <= median <= 105
    assert pairs >= 1_000


def test_repeat_orders_of_regulars_replenish_a_bean_they_bought_before(
    lines: pd.DataFrame,
) -> None:
    known = lines[lines["customer"] != ""]
    orders = known.drop_duplicates("order").sort_values(["day", "order"])
    rank = orders.groupby("customer").cumcount()
    regulars = orders.groupby("customer")["order"].transform("size") >= 4
    repeat_orders = set(orders.loc[regulars & (rank > 0), "order"])
    first_orders = orders.loc[regulars & (rank == 0), ["customer", "order"]]
    first_beans = known.merge(first_orders, on=["customer", "order"])
    first_beans = first_beans[first_beans["sku"].str.startswith("BEAN-")]
    again = known[known["order"].isin(repeat_orders)].merge(
        first_beans[["customer", "sku"]], on=["customer", "sku"]
    )
    # Black Friday extras replenish nothing; every other repeat order of a regular does.
    assert again["order"].nunique() / len(repeat_orders) >= 0.8


def test_beans_as_first_purchase_return_far_more_often_than_gift_cards(
    lines: pd.DataFrame,
) -> None:
    known = lines[lines["customer"] != ""]
    first_day = known.groupby("customer")["day"].min()
    old_enough = first_day[first_day <= AS_OF - pd.Timedelta(days=HORIZON_DAYS)]
    days = known[known["customer"].isin(old_enough.index)]
    first = days[days["day"] == days["customer"].map(old_enough)]
    first_order = first.groupby("customer")["order"].min()
    first_lines = first[first["order"] == first["customer"].map(first_order)]
    later = days[
        (days["day"] > days["customer"].map(old_enough))
        & (days["day"] <= days["customer"].map(old_enough) + pd.Timedelta(days=HORIZON_DAYS))
    ]
    returned = set(later["customer"])

    def return_rate(prefix: str) -> float:
        customers = set(first_lines.loc[first_lines["sku"].str.startswith(prefix), "customer"])
        assert len(customers) >= 100, prefix
        return len(customers & returned) / len(customers)

    beans, gift_cards, mugs = return_rate("BEAN-"), return_rate("GIFT-"), return_rate("MUG-")
    assert beans > 1.5 * gift_cards
    assert beans > 1.5 * mugs


def test_a_dripper_and_filters_are_bought_together(lines: pd.DataFrame) -> None:
    baskets = lines.drop_duplicates(["order", "sku"])
    n_orders = baskets["order"].nunique()
    with_dripper = set(baskets.loc[baskets["sku"] == "BREW-DRP", "order"])
    with_filters = set(baskets.loc[baskets["sku"] == "BREW-FLT", "order"])
    both = len(with_dripper & with_filters)
    lift = both * n_orders / (len(with_dripper) * len(with_filters))
    assert both >= 500
    assert lift > 2


def test_abandoned_checkouts_have_line_items_and_leave_gear_behind(
    demo: DemoFiles, lines: pd.DataFrame
) -> None:
    checkouts = pd.read_csv(demo.checkouts, dtype=str, keep_default_na=False)
    assert (checkouts[["Lineitem name", "Lineitem sku", "Lineitem quantity"]] != "").all().all()
    per_checkout = checkouts.groupby("Name").size()
    assert per_checkout.between(1, 4).all()
    assert len(checkouts) > 1.3 * len(per_checkout)
    left_premium = (checkouts["Lineitem price"].astype(float) >= PREMIUM_PRICE).mean()
    bought_premium = (lines["price"] >= PREMIUM_PRICE).mean()
    assert left_premium > 1.5 * bought_premium
