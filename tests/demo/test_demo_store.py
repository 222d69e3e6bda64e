"""The demo store generator: formats, determinism and the shape of the simulated business."""

from __future__ import annotations

import ast
from pathlib import Path

import pandas as pd
import pytest

import dashboard.demo
from dashboard.demo.catalogue import PRODUCTS
from dashboard.demo.columns import SESSION_COLUMNS
from dashboard.demo.files import DemoFiles, write_demo_files

ORDERS_HEADER_LINE = (
    "Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Accepts Marketing,"
    "Currency,Subtotal,Shipping,Taxes,Total,Discount Code,Discount Amount,Shipping Method,"
    "Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem compare at price,"
    "Lineitem sku,Lineitem requires shipping,Lineitem taxable,Lineitem fulfillment status,"
    "Billing Name,Billing Street,Billing Address1,Billing Address2,Billing Company,Billing City,"
    "Billing Zip,Billing Province,Billing Country,Billing Phone,Shipping Name,Shipping Street,"
    "Shipping Address1,Shipping Address2,Shipping Company,Shipping City,Shipping Zip,"
    "Shipping Province,Shipping Country,Shipping Phone,Notes,Note Attributes,Cancelled at,"
    "Payment Method,Payment Reference,Refunded Amount,Vendor,Outstanding Balance,Employee,"
    "Location,Device ID,Id,Tags,Risk Level,Source,Lineitem discount,Tax 1 Name,Tax 1 Value,"
    "Tax 2 Name,Tax 2 Value,Tax 3 Name,Tax 3 Value,Tax 4 Name,Tax 4 Value,Tax 5 Name,Tax 5 Value,"
    "Phone,Receipt Number,Duties,Billing Province Name,Shipping Province Name,Payment ID,"
    "Payment Terms Name,Next Payment Due At,Payment References"
)
CUSTOMERS_HEADER_LINE = (
    "Customer ID,First Name,Last Name,Email,Accepts Email Marketing,Default Address Company,"
    "Default Address Address1,Default Address Address2,Default Address City,"
    "Default Address Province Code,Default Address Country Code,Default Address Zip,"
    "Default Address Phone,Phone,Accepts SMS Marketing,Total Spent,Total Orders,Note,Tax Exempt,"
    "Tags"
)
SHOPIFY_ORDERS_HEADER = ORDERS_HEADER_LINE.split(",")
SHOPIFY_CUSTOMERS_HEADER = CUSTOMERS_HEADER_LINE.split(",")
LINE_COLUMNS = {
    "Name",
    "Email",
    "Created at",
    "Lineitem quantity",
    "Lineitem name",
    "Lineitem price",
    "Lineitem compare at price",
    "Lineitem sku",
    "Lineitem requires shipping",
    "Lineitem taxable",
    "Lineitem fulfillment status",
    "Vendor",
    "Lineitem discount",
}
MONEY = ["Subtotal", "Discount Amount", "Shipping", "Taxes", "Total", "Refunded Amount"]


def read_text_csv(path: Path) -> pd.DataFrame:
    """Every cell as written (str, empty string for empty)."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoFiles:
    return write_demo_files(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def lines(demo: DemoFiles) -> pd.DataFrame:
    return read_text_csv(demo.orders)


@pytest.fixture(scope="module")
def orders(lines: pd.DataFrame) -> pd.DataFrame:
    """One row per order (its first line-item row), money as floats, email normalised."""
    first = lines[~lines["Name"].duplicated()].copy()
    for column in MONEY:
        first[column] = pd.to_numeric(first[column])
    first["email_key"] = first["Email"].str.strip().str.lower()
    first["created_date"] = pd.to_datetime(first["Created at"].str[:10])
    return first


def derive_channel(row: pd.Series) -> str:
    """A crude channel label from the acquisition hints of one order row."""
    notes = dict(
        line.split(": ", 1) for line in row["Note Attributes"].splitlines() if ": " in line
    )
    if "utm_medium" in notes:
        return f"{notes.get('utm_source')}/{notes['utm_medium']}"
    if "Channel" in notes:
        return f"channel/{notes['Channel']}"
    if "referrer" in notes:
        return f"referrer/{notes['referrer']}"
    return f"source/{row['Source']}"


def test_engine_modules_do_not_import_streamlit() -> None:
    modules = sorted(Path(dashboard.demo.__file__).parent.glob("*.py"))
    assert len(modules) > 1
    for module in modules:
        tree = ast.parse(module.read_text(encoding="utf-8"))
        imported = {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        }
        imported |= {
            node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
        }
        assert not any(name.split(".")[0] == "streamlit" for name in imported), module.name


def test_same_seed_writes_identical_bytes(demo: DemoFiles, tmp_path: Path) -> None:
    again = write_demo_files(tmp_path / "again")
    for name in ("orders", "customers", "sessions", "checkouts", "spend"):
        assert getattr(again, name).read_bytes() == getattr(demo, name).read_bytes(), name


def test_files_have_the_expected_names(demo: DemoFiles) -> None:
    assert [demo.orders.name, demo.customers.name, demo.sessions.name] == [
        "shopify_orders.csv",
        "shopify_customers.csv",
        "sessions.csv",
    ]
    assert [demo.checkouts.name, demo.spend.name] == [
        "abandoned_checkouts.csv",
        "marketing_spend.csv",
    ]


def test_orders_header_is_the_79_column_shopify_header(demo: DemoFiles) -> None:
    with demo.orders.open(encoding="utf-8", newline="") as handle:
        first_line = handle.readline()
    assert first_line == ORDERS_HEADER_LINE + "\n"
    assert len(SHOPIFY_ORDERS_HEADER) == 79


def test_order_and_customer_counts(orders: pd.DataFrame) -> None:
    assert 51_000 <= len(orders) <= 69_000
    emails = orders.loc[orders["email_key"] != "", "email_key"]
    assert 17_000 <= emails.nunique() <= 23_000
    assert 0.01 <= (orders["email_key"] == "").mean() <= 0.03


def test_order_level_columns_only_on_first_row(lines: pd.DataFrame) -> None:
    order_level = [c for c in SHOPIFY_ORDERS_HEADER if c not in LINE_COLUMNS]
    later = lines[lines["Name"].duplicated()]
    assert len(later) > 10_000
    assert (later[order_level] == "").all().all()
    first = lines[~lines["Name"].duplicated()]
    for column in ("Financial Status", "Currency", "Subtotal", "Total", "Id", "Source"):
        assert (first[column] != "").all(), column
    assert (lines[["Name", "Created at", "Lineitem name", "Lineitem sku"]] != "").all().all()


def test_rows_sorted_and_money_consistent(lines: pd.DataFrame, orders: pd.DataFrame) -> None:
    assert lines["Created at"].str[:19].is_monotonic_increasing
    number = orders["Name"].str[1:].astype(int)
    assert number.is_monotonic_increasing
    assert orders["Id"].str.fullmatch(r"\d{13}").all()
    assert set(orders["Currency"]) == {"USD"}
    recomputed = (
        orders["Subtotal"] - orders["Discount Amount"] + orders["Shipping"] + orders["Taxes"]
    )
    assert (recomputed - orders["Total"]).abs().max() < 0.005
    line_value = pd.to_numeric(lines["Lineitem price"]) * pd.to_numeric(lines["Lineitem quantity"])
    per_order = line_value.groupby(lines["Name"]).sum()
    assert (per_order[orders["Name"]].to_numpy() - orders["Subtotal"]).abs().max() < 0.005
    assert (orders["Total"] == 0).sum() > 20
    assert lines.groupby("Name").size().between(1, 4).all()


def test_timestamps_use_pacific_offsets(orders: pd.DataFrame) -> None:
    pattern = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} -0[78]00"
    assert orders["Created at"].str.fullmatch(pattern).all()
    july = orders[orders["Created at"].str[5:7] == "07"]
    january = orders[orders["Created at"].str[5:7] == "01"]
    assert july["Created at"].str.endswith("-0700").all()
    assert january["Created at"].str.endswith("-0800").all()


def test_dates_span_the_two_fixed_years(orders: pd.DataFrame) -> None:
    assert orders["created_date"].min() == pd.Timestamp("2024-11-01")
    assert orders["created_date"].max() == pd.Timestamp("2026-10-31")


def test_at_least_six_channels_are_derivable(orders: pd.DataFrame) -> None:
    first_orders = orders[orders["email_key"] != ""].drop_duplicates("email_key")
    channels = first_orders.apply(derive_channel, axis=1)
    mediums = {c.split("/")[1] for c in channels if "/" in c and c.split("/")[0] != "source"}
    assert {"cpc", "paid_social", "email", "affiliate", "referral"} <= mediums
    assert {"source/web", "source/tiktok", "source/pos"} <= set(channels)
    assert channels.nunique() >= 6
    assert orders["Note Attributes"].str.contains("\n").any()


def test_repeat_behaviour(orders: pd.DataFrame) -> None:
    known = orders[orders["email_key"] != ""]
    per_customer = known.groupby("email_key")["Name"].nunique()
    one_time_share = (per_customer == 1).mean()
    assert 0.50 <= one_time_share <= 0.70
    assert per_customer.max() >= 15


def test_coupon_only_repeat_customers_exist(orders: pd.DataFrame) -> None:
    known = orders[orders["email_key"] != ""]
    coded = known.groupby("email_key")["Discount Code"].agg(lambda s: (s != "").all())
    repeaters = known.groupby("email_key")["Name"].nunique() > 1
    assert 0.02 <= coded[repeaters].mean() <= 0.10
    assert {"WELCOME10", "BFCM25"} <= set(known["Discount Code"])


def test_cancellations_and_refunds(orders: pd.DataFrame) -> None:
    cancelled = orders["Cancelled at"] != ""
    assert 0.01 <= cancelled.mean() <= 0.04
    assert set(orders.loc[cancelled, "Financial Status"]) <= {"voided", "refunded"}
    refunded = ~cancelled & orders["Financial Status"].isin(["refunded", "partially_refunded"])
    assert 0.02 <= refunded.mean() <= 0.07
    assert (orders.loc[refunded, "Refunded Amount"] > 0).all()
    assert (orders["Refunded Amount"] <= orders["Total"] + 0.005).all()


def test_same_person_with_different_email_spelling(orders: pd.DataFrame) -> None:
    known = orders[orders["email_key"] != ""]
    spellings = known.groupby("email_key")["Email"].nunique()
    assert (spellings > 1).sum() >= 50
    assert known["email_key"].str.fullmatch(r"customer\d{5}@example\.com").all()


def test_several_countries(orders: pd.DataFrame) -> None:
    countries = set(orders["Billing Country"]) - {""}
    assert {"US", "CA", "GB", "DE", "FR", "AU", "NL"} <= countries


def test_monthly_orders_grow(orders: pd.DataFrame) -> None:
    monthly = orders.groupby(orders["created_date"].dt.to_period("M")).size()
    assert len(monthly) == 24
    first_quarter, last_quarter = monthly.iloc[:3].sum(), monthly.iloc[-3:].sum()
    assert last_quarter > 10 * first_quarter
    assert monthly.iloc[12:].to_numpy().mean() > 2 * monthly.iloc[:12].to_numpy().mean()
    per_day = orders.groupby("created_date").size()
    assert per_day["2024-11-01":"2024-11-21"].sum() <= 35
    assert per_day["2026-10-01":"2026-10-31"].mean() >= 100


def test_products_launch_before_they_sell(lines: pd.DataFrame) -> None:
    launched = {p.sku: pd.Timestamp(p.launched) for p in PRODUCTS}
    sold = pd.to_datetime(lines["Created at"].str[:10])
    assert (sold >= lines["Lineitem sku"].map(launched)).all()
    categories = {sku.split("-")[0] for sku in lines["Lineitem sku"]}
    assert len(categories) >= 6
    assert lines["Lineitem sku"].nunique() >= 25


def test_customers_export(demo: DemoFiles, orders: pd.DataFrame) -> None:
    customers = read_text_csv(demo.customers)
    assert list(customers.columns) == SHOPIFY_CUSTOMERS_HEADER
    assert customers["Customer ID"].is_unique and customers["Email"].is_unique
    assert (customers["Email"] == customers["Email"].str.strip().str.lower()).all()
    prospects = customers[customers["Total Orders"] == "0"]
    assert len(prospects) >= 5_000
    assert (prospects["Tags"].str.contains("newsletter")).mean() > 0.8
    accepts = (customers["Accepts Email Marketing"] == "yes").mean()
    assert 0.5 <= accepts <= 0.7

    valid = orders[(orders["Cancelled at"] == "") & (orders["email_key"] != "")]
    expected = valid.groupby("email_key").agg(
        orders=("Name", "size"), spent=("Total", "sum"), refunds=("Refunded Amount", "sum")
    )
    indexed = customers.set_index("Email").loc[expected.index]
    assert (indexed["Total Orders"].astype(int) == expected["orders"]).all()
    net = expected["spent"] - expected["refunds"]
    assert (indexed["Total Spent"].astype(float) - net).abs().max() < 0.005


def test_sessions(demo: DemoFiles, orders: pd.DataFrame) -> None:
    sessions = pd.read_csv(demo.sessions, dtype=str, keep_default_na=False)
    assert list(sessions.columns) == list(SESSION_COLUMNS)
    assert 150_000 <= len(sessions) <= 250_000
    assert set(sessions["added_to_cart"]) == {"true", "false"}
    assert set(sessions["purchased"]) == {"true", "false"}
    assert sessions["started_at"].str.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}").all()
    assert sessions["started_at"].between("2024-11-01", "2026-10-31 23:59:59").all()

    customers = read_text_csv(demo.customers)
    assert set(sessions["customer_email"]) <= set(customers["Email"])
    buyers = set(orders["email_key"]) - {""}
    browsers = set(sessions["customer_email"])
    assert len(browsers - buyers) >= 3_000  # prospects who browse and never buy

    first_order = orders[orders["email_key"] != ""].groupby("email_key")["Created at"].min()
    first_session = sessions.groupby("customer_email")["started_at"].min()
    assert (first_session[first_order.index] <= first_order.str[:19]).all()


def test_abandoned_checkouts(demo: DemoFiles, orders: pd.DataFrame) -> None:
    checkouts = read_text_csv(demo.checkouts)
    assert len(checkouts.columns) == 70
    assert set(checkouts.columns) <= set(SHOPIFY_ORDERS_HEADER)
    first = checkouts[~checkouts["Name"].duplicated()]
    assert 6_500 <= len(first) <= 9_500
    assert first["Name"].str.fullmatch(r"#\d+").all()
    last_order = orders[orders["email_key"] != ""].groupby("email_key")["Created at"].max()
    later = first["Email"].map(last_order).fillna("") > first["Created at"]
    assert 0.2 <= later.mean() <= 0.8


def test_marketing_spend(demo: DemoFiles) -> None:
    spend = pd.read_csv(demo.spend, dtype={"month": str})
    assert list(spend.columns) == ["month", "channel", "spend", "purpose"]
    months = pd.period_range("2024-11", "2026-10", freq="M").strftime("%Y-%m")
    assert list(spend["month"].drop_duplicates()) == list(months)
    assert set(spend["purpose"]) == {"acquisition", "retention"}
    assert {"Google Ads", "Meta Ads", "Klaviyo"} <= set(spend["channel"])
    assert (spend.loc[spend["channel"] == "Klaviyo", "purpose"] == "retention").all()
    monthly = spend.groupby("month")["spend"].sum()
    assert monthly.iloc[-1] > 5 * monthly.iloc[0]
