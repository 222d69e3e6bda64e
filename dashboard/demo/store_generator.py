"""A deterministic synthetic demo store, written in the file formats analysts upload.

``write_demo_files(out_dir, seed)`` simulates a coffee and homeware web shop that opens on
2024-11-01 and is exported on 2026-10-31, and writes five CSV files (see ``DemoFiles``). The same
seed always gives byte-identical files; nothing depends on today's date.

The store grows through the maturity stages of the segmentation design (a handful of sales a week
at first, about ten a day after half a year, 100+ a day at the end of year two), with weekly
seasonality and a Black Friday / December peak. About 20,000 people order about 60,000 times; most
buy once, a heavy tail of repeat buyers reorders on their own rhythm until they churn.

How an order's acquisition channel is written (as in real Shopify exports). A customer's first
order carries the channel that acquired them; repeat orders mostly come from Email or Direct.

- Organic Search: Source ``web`` or ``580111`` (an app id); Note Attributes ``landing_site`` and
  ``referrer`` (google, bing).
- Paid Search: ``utm_source: google`` (or bing), ``utm_medium: cpc``, ``utm_campaign``.
- Paid Social: ``utm_source: facebook`` (instagram, fb, ig), ``utm_medium: paid_social``.
- Email: ``utm_source: klaviyo``, ``utm_medium: email``; first orders often use ``WELCOME10``.
- Direct: Source ``web`` with no notes, ``3890849`` (an app id), ``pos`` (tag ``pop-up``) or
  ``shopify_draft_order`` (tag ``phone-order``).
- Affiliates: ``utm_medium: affiliate`` (refersion) or ``referral``; tag ``affiliate``;
  partner codes.
- Organic Social: Source ``tiktok`` (tag ``tiktok-shop``) or ``Channel: Instagram`` /
  ``Channel: TikTok`` (tag ``influencer``); influencer codes.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np

OPENING_DATE = date(2024, 11, 1)
LAST_DATE = date(2026, 10, 31)

_ORDERS_HEADER = (
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
ORDER_COLUMNS: tuple[str, ...] = tuple(_ORDERS_HEADER.split(","))
# A checkout never became an order, so it has no payment, fulfilment, cancellation or refund.
_ORDER_ONLY_COLUMNS = frozenset(
    {
        "Financial Status",
        "Paid at",
        "Fulfillment Status",
        "Fulfilled at",
        "Lineitem fulfillment status",
        "Cancelled at",
        "Refunded Amount",
        "Outstanding Balance",
        "Receipt Number",
    }
)
CHECKOUT_COLUMNS: tuple[str, ...] = tuple(c for c in ORDER_COLUMNS if c not in _ORDER_ONLY_COLUMNS)
_CUSTOMERS_HEADER = (
    "Customer ID,First Name,Last Name,Email,Accepts Email Marketing,Default Address Company,"
    "Default Address Address1,Default Address Address2,Default Address City,"
    "Default Address Province Code,Default Address Country Code,Default Address Zip,"
    "Default Address Phone,Phone,Accepts SMS Marketing,Total Spent,Total Orders,Note,Tax Exempt,"
    "Tags"
)
CUSTOMER_COLUMNS: tuple[str, ...] = tuple(_CUSTOMERS_HEADER.split(","))
SESSION_COLUMNS = (
    "customer_email",
    "started_at",
    "duration_seconds",
    "pages_viewed",
    "added_to_cart",
    "purchased",
)
SPEND_COLUMNS = ("month", "channel", "spend", "purpose")
# Columns repeated on every line-item row; the others are filled on an order's first row only.
_LINE_COLUMNS = frozenset(
    {
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
)


@dataclass(frozen=True)
class DemoFiles:
    """Paths of the five files written by ``write_demo_files``."""

    orders: Path  # Shopify orders export CSV (line-item rows)
    customers: Path  # Shopify customers export CSV (2023+ header)
    sessions: Path  # sessions CSV
    checkouts: Path  # Shopify abandoned checkouts export CSV
    spend: Path  # monthly marketing spend CSV


@dataclass(frozen=True)
class Product:
    """One sellable variant; the SKU prefix names its category (``MUG-SND`` is a mug)."""

    sku: str
    name: str
    category: str
    vendor: str
    price_cents: int
    launched: date
    popularity: float


@dataclass(frozen=True)
class Channel:
    """An acquisition channel (GA4 default channel group name) and how its customers behave."""

    name: str
    repeat_rate: float  # chance that a customer acquired here becomes a repeat buyer
    basket_factor: float  # scales basket size and the pull of premium products (AOV)
    early_share: float  # share of new customers at opening
    late_share: float  # share of new customers two years later


# SKU prefix -> (category, vendor)
_CATEGORIES = {
    "BEAN": ("Coffee Beans", "Roastery"),
    "MUG": ("Mugs", "Kiln & Co"),
    "BREW": ("Brewing", "Brew Lab"),
    "TEA": ("Tea", "Leaf & Kettle"),
    "ACC": ("Accessories", "Carry Goods"),
    "GIFT": ("Gift Cards", "Store"),
}
# sku | Lineitem name | price | launch date | popularity weight
_PRODUCT_TABLE = """
BEAN-ETH   | Coffee Beans 250g - Ethiopia      |  18.00 | 2024-11-01 | 10
BEAN-COL   | Coffee Beans 250g - Colombia      |  17.00 | 2024-11-01 | 10
BEAN-BRA   | Coffee Beans 250g - Brazil        |  16.00 | 2024-11-01 | 8
BEAN-ETH1K | Coffee Beans 1kg - Ethiopia       |  48.00 | 2025-02-10 | 4
BEAN-KEN   | Coffee Beans 250g - Kenya         |  19.00 | 2025-05-01 | 6
BEAN-DEC   | Coffee Beans 250g - Decaf         |  18.00 | 2025-09-01 | 3
BEAN-HOL   | Coffee Beans 250g - Holiday Blend |  19.00 | 2025-11-10 | 6
BEAN-GUA   | Coffee Beans 250g - Guatemala     |  19.00 | 2026-04-01 | 6
MUG-SND    | Ceramic Mug - Sand                |  24.00 | 2024-11-01 | 6
MUG-SLT    | Ceramic Mug - Slate               |  24.00 | 2024-11-01 | 5
MUG-MOS    | Ceramic Mug - Moss                |  26.00 | 2025-03-01 | 4
MUG-CLY    | Ceramic Mug - Clay                |  26.00 | 2025-08-15 | 4
MUG-SNO    | Ceramic Mug - Snow                |  28.00 | 2025-11-15 | 4
MUG-TER    | Ceramic Mug - Terracotta          |  28.00 | 2026-06-01 | 4
BREW-KET   | Pour-over Kettle - Matte Black    |  89.00 | 2024-11-01 | 3
BREW-DRP   | Pour-over Dripper - Ceramic       |  32.00 | 2024-11-01 | 4
BREW-FLT   | Paper Filters - 100 Pack          |   9.00 | 2024-11-01 | 6
BREW-GRD   | Hand Grinder - Steel              |  65.00 | 2025-01-15 | 2
BREW-PRS   | French Press - 1L                 |  45.00 | 2025-06-01 | 2
BREW-SCL   | Coffee Scale - Black              |  55.00 | 2026-02-01 | 2
TEA-SEN    | Loose Leaf Tea - Sencha           |  16.00 | 2025-04-01 | 3
TEA-EGR    | Loose Leaf Tea - Earl Grey        |  15.00 | 2025-04-01 | 3
TEA-CHA    | Loose Leaf Tea - Chamomile        |  14.00 | 2025-10-01 | 2
TEA-OOL    | Loose Leaf Tea - Oolong           |  18.00 | 2026-03-01 | 2
ACC-TUM    | Travel Tumbler - Olive            |  29.00 | 2025-02-01 | 3
ACC-CAN    | Storage Canister - Steel          |  22.00 | 2025-07-01 | 2
ACC-TOT    | Tote Bag - Natural                |  18.00 | 2025-10-15 | 2
ACC-CST    | Coaster Set - Cork                |  16.00 | 2026-05-01 | 2
GIFT-25    | Gift Card - $25                   |  25.00 | 2024-11-01 | 1
GIFT-50    | Gift Card - $50                   |  50.00 | 2024-11-01 | 1
GIFT-100   | Gift Card - $100                  | 100.00 | 2025-11-01 | 0.5
"""


def _parse_products(table: str) -> tuple[Product, ...]:
    """Rows of ``_PRODUCT_TABLE`` -> Product records, category and vendor from the SKU prefix."""
    products = []
    for line in table.strip().splitlines():
        sku, name, price, launched, popularity = (cell.strip() for cell in line.split("|"))
        category, vendor = _CATEGORIES[sku.split("-")[0]]
        products.append(
            Product(
                sku=sku,
                name=name,
                category=category,
                vendor=vendor,
                price_cents=round(float(price) * 100),
                launched=date.fromisoformat(launched),
                popularity=float(popularity),
            )
        )
    return tuple(products)


PRODUCTS = _parse_products(_PRODUCT_TABLE)

CHANNELS: tuple[Channel, ...] = (
    Channel("Organic Search", 0.52, 1.00, 0.08, 0.20),
    Channel("Paid Search", 0.45, 1.15, 0.15, 0.13),
    Channel("Paid Social", 0.34, 0.90, 0.30, 0.12),
    Channel("Email", 0.68, 1.00, 0.05, 0.10),
    Channel("Direct", 0.64, 1.20, 0.07, 0.30),
    Channel("Affiliates", 0.38, 0.95, 0.15, 0.07),
    Channel("Organic Social", 0.26, 0.80, 0.20, 0.08),
)
# Indexes into CHANNELS.
_ORGANIC_SEARCH, _PAID_SEARCH, _PAID_SOCIAL, _EMAIL = 0, 1, 2, 3
_DIRECT, _AFFILIATES, _ORGANIC_SOCIAL = 4, 5, 6
# Repeat orders come back mostly through email campaigns and typed-in visits.
_REPEAT_CHANNEL_SHARE = np.array([0.10, 0.04, 0.04, 0.45, 0.35, 0.01, 0.01])


@dataclass(frozen=True)
class _Country:
    code: str
    share: float
    tax_name: str
    tax_basis_points: int
    # (city, province code, province name, zip)
    cities: tuple[tuple[str, str, str, str], ...]


_COUNTRIES: tuple[_Country, ...] = (
    _Country(
        "US",
        0.62,
        "State Tax 8%",
        800,
        (
            ("New York", "NY", "New York", "10001"),
            ("Brooklyn", "NY", "New York", "11201"),
            ("Los Angeles", "CA", "California", "90012"),
            ("San Francisco", "CA", "California", "94103"),
            ("Seattle", "WA", "Washington", "98101"),
            ("Portland", "OR", "Oregon", "97205"),
            ("Austin", "TX", "Texas", "78701"),
            ("Denver", "CO", "Colorado", "80202"),
            ("Chicago", "IL", "Illinois", "60607"),
            ("Boston", "MA", "Massachusetts", "02116"),
            ("Miami", "FL", "Florida", "33130"),
            ("Minneapolis", "MN", "Minnesota", "55401"),
        ),
    ),
    _Country(
        "CA",
        0.10,
        "HST 13%",
        1300,
        (
            ("Toronto", "ON", "Ontario", "M5V 2T6"),
            ("Vancouver", "BC", "British Columbia", "V6B 1A1"),
            ("Montreal", "QC", "Quebec", "H2X 1Y4"),
            ("Calgary", "AB", "Alberta", "T2P 1J9"),
        ),
    ),
    _Country(
        "GB",
        0.09,
        "VAT 20%",
        2000,
        (
            ("London", "", "", "EC1A 1BB"),
            ("Leeds", "", "", "LS1 4AP"),
            ("Bristol", "", "", "BS1 5TR"),
            ("Edinburgh", "", "", "EH1 1YZ"),
        ),
    ),
    _Country(
        "DE",
        0.06,
        "VAT 19%",
        1900,
        (
            ("Berlin", "", "", "10115"),
            ("Hamburg", "", "", "20095"),
            ("München", "", "", "80331"),
        ),
    ),
    _Country(
        "AU",
        0.05,
        "GST 10%",
        1000,
        (
            ("Sydney", "NSW", "New South Wales", "2000"),
            ("Melbourne", "VIC", "Victoria", "3000"),
            ("Brisbane", "QLD", "Queensland", "4000"),
        ),
    ),
    _Country("FR", 0.04, "VAT 20%", 2000, (("Paris", "", "", "75011"), ("Lyon", "", "", "69002"))),
    _Country(
        "NL",
        0.04,
        "VAT 21%",
        2100,
        (("Amsterdam", "", "", "1012 AB"), ("Utrecht", "", "", "3511 LN")),
    ),
)

_FIRST_NAMES_TEXT = (
    "Alex Sam Jordan Taylor Morgan Casey Riley Jamie Avery Quinn Drew Robin Charlie Emerson Finley "
    "Harper Hayden Jesse Kai Logan Noa Parker Reese Rowan Sage Skyler Toni Wren Ari Blair Cameron "
    "Dana Eden Frankie Gray Indy Jules Kit Lane Marley Nico Oakley Pat Remy Shay Tatum Val Wynn"
)
_LAST_NAMES_TEXT = (
    "Ashford Bramley Calder Dunmore Ellery Fairlie Garnet Holloway Ingram Jessop Kestrel Larkin "
    "Merriman Northcott Oakes Pembury Quarry Redfern Stanton Thorne Upton Vance Whitlock Yardley "
    "Ambrose Bellamy Carrow Dalby Everly Fenwick Galloway Hartley Ivers Juniper Kirby Lowther "
    "Marlow Nettles Orwin Pryor"
)
_FIRST_NAMES = tuple(_FIRST_NAMES_TEXT.split())
_LAST_NAMES = tuple(_LAST_NAMES_TEXT.split())
_STREETS = (
    "Maple Street",
    "Harbour Road",
    "Cedar Avenue",
    "Mill Lane",
    "Station Road",
    "Elm Court",
    "Orchard Way",
    "Bridge Street",
    "Park Row",
    "Willow Drive",
)

_DISCOUNT_PERCENT = {
    "WELCOME10": 10,
    "BFCM25": 25,
    "HOLIDAY15": 15,
    "SPRING20": 20,
    "SUMMER15": 15,
    "LOYAL15": 15,
    "COMEBACK20": 20,
    "MAYA15": 15,
    "LEOBREWS10": 10,
    "JOSH20": 20,
    "TESSTOK15": 15,
    "BEANBLOG10": 10,
    "HOMEBARISTA15": 15,
}
_INFLUENCER_CODES = ("MAYA15", "LEOBREWS10", "JOSH20", "TESSTOK15")
_PARTNER_CODES = ("BEANBLOG10", "HOMEBARISTA15")
_AFFILIATE_PARTNERS = ("beanblog", "homebarista", "brewguide", "coffeegeek_weekly")
_BLACK_FRIDAYS = (date(2024, 11, 29), date(2025, 11, 28))
_LANDING_PAGES = ("/", "/collections/coffee", "/products/pour-over-kettle", "/collections/mugs")
_DAY_SECONDS = 86_400
_N_DAYS = (LAST_DATE - OPENING_DATE).days + 1
_LAST_SECOND = _N_DAYS * _DAY_SECONDS - 1
_EPOCH = np.datetime64(OPENING_DATE.isoformat(), "s")
_HOUR_WEIGHTS = np.array(
    [1.0, 0.6, 0.4, 0.3, 0.3, 0.4, 0.8, 1.5, 2.2, 2.6, 2.8, 3.0]
    + [3.3, 3.1, 2.9, 2.8, 2.9, 3.2, 3.6, 4.0, 4.2, 3.8, 2.8, 1.7]
)
_WEEKDAY_FACTOR = (1.06, 1.02, 1.00, 0.98, 0.95, 0.92, 1.07)
_ORDER_ID_BASE = 5_800_000_000_000
_CUSTOMER_ID_BASE = 7_100_000_000_000
_CHECKOUT_ID_BASE = 2_900_000_000_000
_PROSPECTS = 6_000
_GUEST_SHARE = 0.02


@dataclass(frozen=True)
class _People:
    """Everyone the store knows: buyers first (index < n_buyers), then newsletter prospects."""

    n_buyers: int
    first_day: np.ndarray  # day index of first order (buyers) or sign-up (prospects)
    channel: np.ndarray  # acquisition channel index; -1 for prospects
    country: np.ndarray
    city: np.ndarray
    accepts_email: np.ndarray
    accepts_sms: np.ndarray
    coupon_only: np.ndarray
    returner: np.ndarray
    trend_follower: np.ndarray
    messy_email: np.ndarray  # writes their email with varying case/whitespace on some orders
    prospect_kind: np.ndarray  # 0 ordinary, 1 indecisive, 2 curious (prospects only)
    emails: list[str]
    first_names: list[str]
    last_names: list[str]
    addresses: list[str]
    phones: list[str]
    customer_ids: np.ndarray


@dataclass(frozen=True)
class _Baskets:
    """Line items of a set of orders or checkouts, sorted by owner then line number."""

    owner: np.ndarray  # index of the order/checkout each line belongs to
    product: np.ndarray
    quantity: np.ndarray
    subtotal: np.ndarray  # per owner, cents
    physical: np.ndarray  # per owner, cents of goods that ship and are taxed (not gift cards)


@dataclass(frozen=True)
class _Orders:
    """One entry per order, sorted by creation time; money in cents."""

    person: np.ndarray  # -1 for guest orders
    created: np.ndarray  # local seconds since opening
    channel: np.ndarray
    is_first: np.ndarray
    codes: list[str]
    sources: list[str]
    note_attributes: list[str]
    tags: list[str]
    baskets: _Baskets
    discount: np.ndarray
    shipping: np.ndarray
    tax: np.ndarray
    total: np.ndarray
    refunded: np.ndarray
    cancelled: np.ndarray
    zero_kind: np.ndarray  # 0 normal, 1 exchange, 2 free sample (Total 0.00)


def write_demo_files(out_dir: Path, seed: int = 7) -> DemoFiles:
    """Simulate the demo store and write its five CSV files into ``out_dir`` (created if missing).

    Files and columns:
    - ``shopify_orders.csv``: Shopify orders export, the 79-column 2023+ header (``ORDER_COLUMNS``),
      one row per line item, order-level columns on the first row of each order only; about 60,000
      orders from 2024-11-01 to 2026-10-31, sorted by ``Created at`` then ``Name``.
    - ``shopify_customers.csv``: customers export, 2023+ header (``CUSTOMER_COLUMNS``); one row per
      person who ordered (``Total Spent``/``Total Orders`` over their non-cancelled orders, net of
      refunds) plus about 6,000 prospects with ``Total Orders`` 0.
    - ``sessions.csv``: ``customer_email,started_at,duration_seconds,pages_viewed,added_to_cart,
      purchased`` for known emails, about 200,000 rows sorted by ``started_at``.
    - ``abandoned_checkouts.csv``: abandoned checkouts export, the 70-column subset
      ``CHECKOUT_COLUMNS``, about 8,000 checkouts named ``#<checkout id>``.
    - ``marketing_spend.csv``: ``month,channel,spend,purpose`` for every month since opening.

    The same ``seed`` always writes byte-identical files.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = DemoFiles(
        orders=out_dir / "shopify_orders.csv",
        customers=out_dir / "shopify_customers.csv",
        sessions=out_dir / "sessions.csv",
        checkouts=out_dir / "abandoned_checkouts.csv",
        spend=out_dir / "marketing_spend.csv",
    )
    # Independent streams, so a change in one file's logic does not reshuffle the others.
    rng_people, rng_orders, rng_checkouts, rng_sessions, rng_spend = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(5)
    )
    people = _draw_people(rng_people)
    orders = _draw_orders(rng_orders, people)
    checkouts, checkout_baskets, checkout_people = _draw_checkouts(rng_checkouts, people, orders)
    _write_orders(files.orders, rng_orders, people, orders)
    _write_checkouts(
        files.checkouts, rng_checkouts, people, checkouts, checkout_baskets, checkout_people
    )
    _write_customers(files.customers, people, orders)
    _write_sessions(files.sessions, rng_sessions, people, orders, checkouts, checkout_people)
    _write_spend(files.spend, rng_spend, people, orders)
    return files


# ---------------------------------------------------------------------------- calendar helpers


def _list_days() -> list[date]:
    return [OPENING_DATE + timedelta(days=d) for d in range(_N_DAYS)]


def _compute_season_factors() -> np.ndarray:
    """Per-day multiplier of demand: weekday rhythm, Black Friday week, December gifting."""
    factors = np.empty(_N_DAYS)
    for i, day in enumerate(_list_days()):
        factor = _WEEKDAY_FACTOR[day.weekday()]
        for black_friday in _BLACK_FRIDAYS:
            offset = (day - black_friday).days
            if -7 <= offset < 0:
                factor *= 1.5
            elif 0 <= offset <= 3:
                factor *= 3.2
            elif 4 <= offset <= 20:
                factor *= 1.5
        if day.month == 12 and 24 <= day.day <= 26:
            factor *= 0.6
        elif day.month == 1:
            factor *= 0.85
        factors[i] = factor
    return factors


def _flag_gifting_days() -> np.ndarray:
    """Per-day flag: the mid-November to pre-Christmas gift season."""
    return np.array(
        [(d.month == 11 and d.day >= 15) or (d.month == 12 and d.day <= 22) for d in _list_days()]
    )


def _compute_acquisition_rate(days: np.ndarray) -> np.ndarray:
    """Expected new customers per day: a launch wave, then a slower second growth wave."""
    launch = 11.0 / (1.0 + np.exp(-0.05 * (days - 105.0)))
    scale_up = 49.0 / (1.0 + np.exp(-0.012 * (days - 480.0)))
    return 0.5 + launch + scale_up


def _find_promo_code(day: date) -> str:
    """The store-wide promotion running on ``day``, or ''."""
    for black_friday in _BLACK_FRIDAYS:
        offset = (day - black_friday).days
        if -4 <= offset <= 3:
            return "BFCM25"
        if 4 <= offset <= 20:
            return "HOLIDAY15"
    if (day.month, day.day) >= (3, 20) and (day.month, day.day) <= (4, 5):
        return "SPRING20"
    if day.month == 7 and 10 <= day.day <= 20:
        return "SUMMER15"
    return ""


def _compute_dst_ranges() -> list[tuple[int, int]]:
    """US Pacific daylight-saving periods as [start, end) local seconds since opening."""
    ranges = []
    for year in (2024, 2025, 2026):
        march = date(year, 3, 1)
        start = march + timedelta(days=(6 - march.weekday()) % 7 + 7)
        november = date(year, 11, 1)
        end = november + timedelta(days=(6 - november.weekday()) % 7)
        ranges.append(
            (
                (start - OPENING_DATE).days * _DAY_SECONDS + 7200,
                (end - OPENING_DATE).days * _DAY_SECONDS + 7200,
            )
        )
    return ranges


_DST = _compute_dst_ranges()


def _format_local(seconds: np.ndarray) -> list[str]:
    """Local seconds since opening -> ``YYYY-MM-DD HH:MM:SS`` strings."""
    stamps = np.datetime_as_string(_EPOCH + np.asarray(seconds, dtype="timedelta64[s]"), unit="s")
    return [s.replace("T", " ") for s in stamps.tolist()]


def _format_shopify(seconds: np.ndarray) -> list[str]:
    """Local seconds since opening -> Shopify ``YYYY-MM-DD HH:MM:SS -0700`` (-0800 in winter)."""
    seconds = np.asarray(seconds, dtype=np.int64)
    summer = np.zeros(len(seconds), dtype=bool)
    for start, end in _DST:
        summer |= (seconds >= start) & (seconds < end)
    return [
        f"{stamp} {'-0700' if is_summer else '-0800'}"
        for stamp, is_summer in zip(_format_local(seconds), summer.tolist(), strict=True)
    ]


def _draw_time_of_day(rng: np.random.Generator, n: int) -> np.ndarray:
    """Seconds after midnight, busier at lunch and in the evening."""
    hours = rng.choice(24, size=n, p=_HOUR_WEIGHTS / _HOUR_WEIGHTS.sum())
    return hours * 3600 + rng.integers(0, 3600, size=n)


def _format_money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


# ---------------------------------------------------------------------------- people


def _draw_people(rng: np.random.Generator) -> _People:
    """Draw buyers (by day of first order) and newsletter prospects, with traits and contacts."""
    days = np.arange(_N_DAYS)
    rate = _compute_acquisition_rate(days) * _compute_season_factors()
    new_buyers = rng.poisson(rate)
    new_buyers[0] = max(new_buyers[0], 2)  # the store's opening-day sales
    buyer_day = np.repeat(days, new_buyers)
    n_buyers = len(buyer_day)

    progress = (buyer_day / (_N_DAYS - 1))[:, None]
    early = np.array([c.early_share for c in CHANNELS])
    late = np.array([c.late_share for c in CHANNELS])
    shares = (1 - progress) * early + progress * late
    cumulative = np.cumsum(shares / shares.sum(axis=1, keepdims=True), axis=1)
    channel = (rng.random(n_buyers)[:, None] > cumulative).sum(axis=1)
    channel = np.minimum(channel, len(CHANNELS) - 1)

    signup_p = rate / rate.sum()
    prospect_day = np.sort(rng.choice(_N_DAYS, size=_PROSPECTS, p=signup_p))
    first_day = np.concatenate([buyer_day, prospect_day])
    channel = np.concatenate([channel, np.full(_PROSPECTS, -1)])
    n = len(first_day)
    is_prospect = np.arange(n) >= n_buyers

    country_p = np.array([c.share for c in _COUNTRIES])
    country = rng.choice(len(_COUNTRIES), size=n, p=country_p / country_p.sum())
    city = (rng.random(n) * np.array([len(_COUNTRIES[c].cities) for c in country])).astype(int)
    accepts_email = np.where(
        is_prospect, rng.random(n) < 0.9, (rng.random(n) < 0.5) | (channel == _EMAIL)
    )
    accepts_sms = rng.random(n) < 0.12
    prospect_kind = np.where(is_prospect, rng.choice(3, size=n, p=[0.62, 0.16, 0.22]), 0)

    # Emails are numbered in order of first appearance, as a store's sign-up log would be.
    number = np.empty(n, dtype=np.int64)
    number[np.lexsort((rng.random(n), first_day))] = np.arange(1, n + 1)
    first_idx = rng.integers(0, len(_FIRST_NAMES), size=n)
    last_idx = rng.integers(0, len(_LAST_NAMES), size=n)
    house = rng.integers(1, 400, size=n)
    street = rng.integers(0, len(_STREETS), size=n)
    has_phone = rng.random(n) < 0.25
    phone_tail = rng.integers(0, 100, size=n)
    return _People(
        n_buyers=n_buyers,
        first_day=first_day,
        channel=channel,
        country=country,
        city=city,
        accepts_email=accepts_email,
        accepts_sms=accepts_sms,
        coupon_only=~is_prospect & (rng.random(n) < 0.05),
        returner=~is_prospect & (rng.random(n) < 0.06),
        trend_follower=~is_prospect & (rng.random(n) < 0.08),
        messy_email=~is_prospect & (rng.random(n) < 0.04),
        prospect_kind=prospect_kind,
        emails=[f"customer{k:05d}@example.com" for k in number.tolist()],
        first_names=[_FIRST_NAMES[i] for i in first_idx.tolist()],
        last_names=[_LAST_NAMES[i] for i in last_idx.tolist()],
        addresses=[
            f"{h} {_STREETS[s]}" for h, s in zip(house.tolist(), street.tolist(), strict=True)
        ],
        # 555-01xx numbers are reserved for fiction.
        phones=[
            f"+1 555-01{t:02d}" if p else ""
            for p, t in zip(has_phone.tolist(), phone_tail.tolist(), strict=True)
        ],
        customer_ids=_CUSTOMER_ID_BASE + number * 131 + rng.integers(0, 100, size=n),
    )


# ---------------------------------------------------------------------------- orders


def _draw_order_days(
    rng: np.random.Generator, people: _People
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each buyer's order days: first order, then gamma-distributed gaps until churn or the end.

    Returns (person, day, is_first, is_bfcm_extra) arrays, one entry per order.
    """
    n = people.n_buyers
    repeat_rate = np.array([c.repeat_rate for c in CHANNELS])[people.channel[:n]]
    repeater = rng.random(n) < repeat_rate
    median_gap = np.clip(np.exp(rng.normal(np.log(38.0), 0.45, size=n)), 12, 200)
    shape = rng.uniform(2.0, 5.0, size=n)
    churn = rng.beta(1.3, 9.5, size=n)
    black_fridays = [(bf - OPENING_DATE).days for bf in _BLACK_FRIDAYS]

    person, day, first, extra = [], [], [], []
    for i in range(n):
        current = int(people.first_day[i])
        days = [current]
        if repeater[i]:
            scale = median_gap[i] / shape[i]
            while True:
                current += max(1, round(rng.gamma(shape[i], scale)))
                if current >= _N_DAYS:
                    break
                days.append(current)
                if rng.random() < churn[i]:
                    break
        bfcm_days = []
        for bf in black_fridays:
            active = any(bf - 120 <= d <= bf + 30 for d in days) and days[0] < bf - 3
            if active and rng.random() < 0.25:
                bfcm_days.append(bf + int(rng.integers(-3, 4)))
        person.extend([i] * (len(days) + len(bfcm_days)))
        day.extend(days + bfcm_days)
        first.extend([True] + [False] * (len(days) - 1 + len(bfcm_days)))
        extra.extend([False] * len(days) + [True] * len(bfcm_days))
    return np.array(person), np.array(day), np.array(first), np.array(extra)


def _draw_baskets(
    rng: np.random.Generator,
    days: np.ndarray,
    repeat: np.ndarray,
    trend: np.ndarray,
    basket_factor: np.ndarray,
) -> _Baskets:
    """Pick 1-4 distinct launched products per owner (Gumbel top-k over per-owner weights)."""
    launch = np.array([(p.launched - OPENING_DATE).days for p in PRODUCTS])
    price = np.array([p.price_cents for p in PRODUCTS])
    category = np.array([p.category for p in PRODUCTS])
    age = days[:, None] - launch[None, :]
    launched = age >= 0
    new = launched & (age < 45)
    weights = np.where(launched, np.array([p.popularity for p in PRODUCTS])[None, :], 0.0)
    weights *= np.where(new, 2.0, 1.0)
    weights *= np.where(trend[:, None] & new, 20.0, 1.0)
    weights *= np.where(repeat[:, None] & (category == "Coffee Beans")[None, :], 3.0, 1.0)
    weights *= np.where(repeat[:, None] & (category == "Gift Cards")[None, :], 0.3, 1.0)
    gifting = _flag_gifting_days()[days]
    weights *= np.where(gifting[:, None] & (category == "Gift Cards")[None, :], 4.0, 1.0)
    weights *= np.where(gifting[:, None] & (category == "Mugs")[None, :], 2.0, 1.0)
    weights *= np.where((price >= 4500)[None, :], basket_factor[:, None] ** 2, 1.0)

    with np.errstate(divide="ignore"):
        keys = np.log(weights) + rng.gumbel(size=weights.shape)
    ranked = np.argsort(-keys, axis=1, kind="stable")[:, :4]
    n_lines = 1 + np.minimum(3, rng.poisson(0.55 * basket_factor))
    take = np.arange(4)[None, :] < n_lines[:, None]
    owner = np.nonzero(take)[0]
    product = ranked[take]
    extra_units = (rng.random(len(product)) < 0.14).astype(int) + (rng.random(len(product)) < 0.04)
    quantity = 1 + extra_units
    line_value = price[product] * quantity
    physical_value = np.where(category[product] == "Gift Cards", 0, line_value)
    n = len(days)
    return _Baskets(
        owner=owner,
        product=product,
        quantity=quantity,
        subtotal=np.bincount(owner, weights=line_value, minlength=n).astype(np.int64),
        physical=np.bincount(owner, weights=physical_value, minlength=n).astype(np.int64),
    )


def _draw_codes(
    rng: np.random.Generator,
    people: _People,
    person: np.ndarray,
    days: np.ndarray,
    channel: np.ndarray,
    is_first: np.ndarray,
) -> list[str]:
    """Discount code per order ('' for none): promotions, welcome, influencer and partner codes."""
    day_dates = _list_days()
    u = rng.random(len(days))
    pick = rng.integers(0, 1000, size=len(days))
    codes = []
    for k in range(len(days)):
        p = int(person[k])
        promo = _find_promo_code(day_dates[int(days[k])])
        coupon_only = p >= 0 and bool(people.coupon_only[p])
        if p < 0:
            code = ""
        elif promo and (coupon_only or u[k] < 0.4):
            code = promo
        elif is_first[k]:
            code = _choose_first_order_code(int(channel[k]), float(u[k]), int(pick[k]), coupon_only)
        elif coupon_only or u[k] < 0.04:
            code = ("LOYAL15", "COMEBACK20")[pick[k] % 2]
        else:
            code = ""
        codes.append(code)
    return codes


def _choose_first_order_code(channel: int, u: float, pick: int, coupon_only: bool) -> str:
    if channel == _ORGANIC_SOCIAL and (coupon_only or u < 0.5):
        return _INFLUENCER_CODES[pick % len(_INFLUENCER_CODES)]
    if channel == _AFFILIATES and (coupon_only or u < 0.5):
        return _PARTNER_CODES[pick % len(_PARTNER_CODES)]
    if coupon_only or (channel == _EMAIL and u < 0.35) or u < 0.08:
        return "WELCOME10"
    return ""


def _price_orders(
    baskets: _Baskets, codes: list[str], country: np.ndarray, no_shipping: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return (discount, shipping, tax, total) in cents; total = subtotal - discount + ship + tax.

    Shipping and tax apply to physical goods only (gift cards neither ship nor are taxed).
    """
    percent = np.array([_DISCOUNT_PERCENT.get(c, 0) for c in codes], dtype=np.int64)
    discount = (baskets.subtotal * percent + 50) // 100
    net = baskets.subtotal - discount
    domestic = country == 0
    shipping = np.where(
        domestic, np.where(net >= 6000, 0, 795), np.where(net >= 10000, 0, 1495)
    ).astype(np.int64)
    shipping[no_shipping | (baskets.physical == 0)] = 0
    basis_points = np.array([c.tax_basis_points for c in _COUNTRIES])[country]
    taxable_net = np.maximum(0, baskets.physical - discount)
    tax = (taxable_net * basis_points + 5000) // 10000
    return discount, shipping, tax, net + shipping + tax


def _draw_orders(rng: np.random.Generator, people: _People) -> _Orders:
    """Simulate every order (buyers and guests) sorted by creation time, with money and outcomes."""
    person, day, is_first, bfcm_extra = _draw_order_days(rng, people)
    n_guests = round(len(day) * _GUEST_SHARE / (1 - _GUEST_SHARE))
    person = np.concatenate([person, np.full(n_guests, -1)])
    day = np.concatenate([day, rng.choice(day, size=n_guests)])
    is_first = np.concatenate([is_first, np.zeros(n_guests, dtype=bool)])
    bfcm_extra = np.concatenate([bfcm_extra, np.zeros(n_guests, dtype=bool)])
    created = day * _DAY_SECONDS + _draw_time_of_day(rng, len(day))
    order = np.argsort(created, kind="stable")
    person, day, is_first, bfcm_extra, created = (
        a[order] for a in (person, day, is_first, bfcm_extra, created)
    )
    n = len(day)
    known = person >= 0
    safe_person = np.where(known, person, 0)

    repeat_channel = rng.choice(len(CHANNELS), size=n, p=_REPEAT_CHANNEL_SHARE)
    bfcm_channel = np.where(rng.random(n) < 0.7, _EMAIL, repeat_channel)
    channel = np.where(bfcm_extra, bfcm_channel, repeat_channel)
    channel = np.where(is_first, people.channel[safe_person], channel)
    channel = np.where(known, channel, _DIRECT)

    factor = np.array([c.basket_factor for c in CHANNELS])[people.channel[safe_person]]
    baskets = _draw_baskets(
        rng,
        day,
        ~is_first & known,
        known & people.trend_follower[safe_person],
        np.where(known, factor, 1.0),
    )
    codes = _draw_codes(rng, people, person, day, channel, is_first)

    # Exchanges and free samples go to known repeat customers and cost them nothing.
    zero_kind = np.where(known & ~is_first & (rng.random(n) < 0.005), rng.integers(1, 3, size=n), 0)
    codes = [("" if z else c) for c, z in zip(codes, zero_kind.tolist(), strict=True)]
    sources, note_attributes, tags = _encode_order_channels(
        rng, person, channel, is_first, zero_kind, codes
    )
    in_person = np.array([source == "pos" for source in sources])
    country = np.where(known, people.country[safe_person], 0)
    discount, shipping, tax, total = _price_orders(
        baskets, codes, country, (zero_kind > 0) | in_person
    )
    discount = np.where(zero_kind > 0, baskets.subtotal, discount)
    tax = np.where(zero_kind > 0, 0, tax)
    total = np.where(zero_kind > 0, 0, total)

    payable = total > 0
    cancelled = payable & (rng.random(n) < 0.02)
    refund_p = np.where(known & people.returner[safe_person], 0.25, 0.028)
    refund = payable & ~cancelled & (rng.random(n) < refund_p)
    partial = refund & (rng.random(n) < 0.6)
    partial_amount = np.maximum(1, (total * rng.uniform(0.2, 0.6, size=n)).astype(np.int64))
    refunded = np.where(partial, partial_amount, np.where(refund, total, 0))
    cancelled_refunded = cancelled & (rng.random(n) < 0.35)
    refunded = np.where(cancelled_refunded, total, refunded)
    return _Orders(
        person=person,
        created=created,
        channel=channel,
        is_first=is_first,
        codes=codes,
        sources=sources,
        note_attributes=note_attributes,
        tags=tags,
        baskets=baskets,
        discount=discount,
        shipping=shipping,
        tax=tax,
        total=total,
        refunded=refunded,
        cancelled=cancelled,
        zero_kind=zero_kind,
    )


def _encode_order_channels(
    rng: np.random.Generator,
    person: np.ndarray,
    channel: np.ndarray,
    is_first: np.ndarray,
    zero_kind: np.ndarray,
    codes: list[str],
) -> tuple[list[str], list[str], list[str]]:
    """Per order: (Source, Note Attributes, Tags) lists, as the store's apps would record them."""
    n = len(person)
    u = rng.random(n)
    pick = rng.integers(0, 1000, size=n)
    sources, notes, tags = [], [], []
    for k in range(n):
        source, note, tag = _encode_channel(
            int(channel[k]), float(u[k]), int(pick[k]), bool(is_first[k])
        )
        if person[k] < 0:
            # Guests: market stalls, phone orders, the odd phone-only web checkout.
            source, note, tag = (
                ("pos", "pos", "pos", "shopify_draft_order", "web")[pick[k] % 5],
                "",
                "",
            )
        if zero_kind[k]:
            source, note = "shopify_draft_order", ""
            tag = "exchange" if zero_kind[k] == 1 else "free-sample"
        sources.append(source)
        notes.append(note)
        tags.append(", ".join(t for t in (tag, "BFCM" if codes[k] == "BFCM25" else "") if t))
    return sources, notes, tags


def _encode_channel(channel: int, u: float, pick: int, is_first: bool) -> tuple[str, str, str]:
    """Return (Source, Note Attributes, tag) as a Shopify store would record ``channel``."""
    if channel == _ORGANIC_SEARCH:
        engine = "https://www.bing.com/" if pick % 10 == 0 else "https://www.google.com/"
        landing = _LANDING_PAGES[pick % len(_LANDING_PAGES)]
        return ("580111" if u < 0.2 else "web"), f"landing_site: {landing}\nreferrer: {engine}", ""
    if channel == _PAID_SEARCH:
        source = "bing" if pick % 10 == 0 else "google"
        campaign = ("brand", "nonbrand", "shopping_pmax")[pick % 3]
        return "web", f"utm_source: {source}\nutm_medium: cpc\nutm_campaign: {campaign}", ""
    if channel == _PAID_SOCIAL:
        source = ("facebook", "instagram", "fb", "ig")[pick % 4]
        campaign = "prospecting" if is_first else "retargeting"
        return "web", f"utm_source: {source}\nutm_medium: paid_social\nutm_campaign: {campaign}", ""
    if channel == _EMAIL:
        campaigns = ("newsletter", "replenishment", "winback", "abandoned_cart")
        campaign = "welcome_series" if is_first else campaigns[pick % 4]
        return "web", f"utm_source: klaviyo\nutm_medium: email\nutm_campaign: {campaign}", ""
    if channel == _DIRECT:
        if u < 0.70:
            return "web", "", ""
        if u < 0.84:
            return "3890849", "", ""
        if u < 0.95:
            return "pos", "", "pop-up"
        return "shopify_draft_order", "", "phone-order"
    if channel == _AFFILIATES:
        partner = _AFFILIATE_PARTNERS[pick % len(_AFFILIATE_PARTNERS)]
        if u < 0.6:
            note = f"utm_source: refersion\nutm_medium: affiliate\nutm_campaign: {partner}"
        else:
            note = f"utm_source: {partner}\nutm_medium: referral"
        return "web", note, "affiliate"
    if u < 0.55:
        return "tiktok", "", "tiktok-shop"
    return "web", ("Channel: Instagram" if u < 0.8 else "Channel: TikTok"), "influencer"


def _draw_email_spelling(rng: np.random.Generator, email: str) -> str:
    """The same address as a person might type it: odd capitals, stray spaces."""
    local, domain = email.split("@")
    variant = int(rng.integers(0, 4))
    if variant == 0:
        return f"{local.capitalize()}@{domain.capitalize()} "
    if variant == 1:
        return email.upper()
    if variant == 2:
        return f" {email}"
    return f"{local.capitalize()}@{domain}"


def _fill_address(row: list[str], people: _People, p: int, phone_prefix: str) -> None:
    """Billing and shipping columns of one order row from person ``p``'s default address."""
    country = _COUNTRIES[people.country[p]]
    city, province, province_name, zip_code = country.cities[people.city[p]]
    name = f"{people.first_names[p]} {people.last_names[p]}"
    zip_code = f"'{zip_code}" if country.code == "US" else zip_code
    phone = f"{phone_prefix}{people.phones[p]}" if people.phones[p] else ""
    for side in ("Billing", "Shipping"):
        row[_ORDER_INDEX[f"{side} Name"]] = name
        row[_ORDER_INDEX[f"{side} Street"]] = people.addresses[p]
        row[_ORDER_INDEX[f"{side} Address1"]] = people.addresses[p]
        row[_ORDER_INDEX[f"{side} City"]] = city
        row[_ORDER_INDEX[f"{side} Zip"]] = zip_code
        row[_ORDER_INDEX[f"{side} Province"]] = province
        row[_ORDER_INDEX[f"{side} Country"]] = country.code
        row[_ORDER_INDEX[f"{side} Phone"]] = phone
        row[_ORDER_INDEX[f"{side} Province Name"]] = province_name


_ORDER_INDEX = {name: i for i, name in enumerate(ORDER_COLUMNS)}
_LINE_INDEXES = [i for i, name in enumerate(ORDER_COLUMNS) if name in _LINE_COLUMNS]


def _expand_line_rows(
    first_row: list[str], baskets: _Baskets, start: int, stop: int, line_status: str
) -> list[list[str]]:
    """Expand one order's first row into its line-item rows (line columns on every row)."""
    rows = []
    for k in range(start, stop):
        product = PRODUCTS[baskets.product[k]]
        row = first_row if k == start else [""] * len(ORDER_COLUMNS)
        if k > start:
            for i in _LINE_INDEXES:
                row[i] = first_row[i]
        row[_ORDER_INDEX["Lineitem quantity"]] = str(baskets.quantity[k])
        row[_ORDER_INDEX["Lineitem name"]] = product.name
        row[_ORDER_INDEX["Lineitem price"]] = _format_money(product.price_cents)
        row[_ORDER_INDEX["Lineitem sku"]] = product.sku
        is_gift_card = product.category == "Gift Cards"
        row[_ORDER_INDEX["Lineitem requires shipping"]] = "false" if is_gift_card else "true"
        row[_ORDER_INDEX["Lineitem taxable"]] = "false" if is_gift_card else "true"
        row[_ORDER_INDEX["Lineitem fulfillment status"]] = line_status
        row[_ORDER_INDEX["Vendor"]] = product.vendor
        row[_ORDER_INDEX["Lineitem discount"]] = "0.00"
        rows.append(row)
    return rows


def _write_orders(path: Path, rng: np.random.Generator, people: _People, orders: _Orders) -> None:
    """Write the 79-column orders export: one row per line item, sorted by Created at then Name."""
    n = len(orders.created)
    created = _format_shopify(orders.created)
    fulfilled_seconds = orders.created + rng.integers(6 * 3600, 3 * _DAY_SECONDS, size=n)
    fulfilled = _format_shopify(np.minimum(fulfilled_seconds, _LAST_SECOND))
    cancelled_seconds = orders.created + rng.integers(600, 36 * 3600, size=n)
    cancelled_at = _format_shopify(np.minimum(cancelled_seconds, _LAST_SECOND))
    due_at = _format_shopify(orders.created + 30 * _DAY_SECONDS)
    order_ids = _ORDER_ID_BASE + np.cumsum(rng.integers(4000, 12000, size=n))
    pick = rng.integers(0, 1000, size=n)
    spelling = rng.random(n)
    risk = rng.random(n)
    payment = rng.random(n)
    note = rng.random(n)
    line_bounds = np.searchsorted(orders.baskets.owner, np.arange(n + 1))
    column = _ORDER_INDEX

    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(ORDER_COLUMNS)
        for k in range(n):
            p = int(orders.person[k])
            source = orders.sources[k]
            is_pos = source == "pos"
            status = _decide_financial_status(orders, k, float(payment[k]))
            is_fulfilled = not orders.cancelled[k] and fulfilled_seconds[k] <= _LAST_SECOND

            row = [""] * len(ORDER_COLUMNS)
            row[column["Name"]] = f"#{1001 + k}"
            if p >= 0:
                email = people.emails[p]
                if people.messy_email[p] and spelling[k] < 0.5:
                    email = _draw_email_spelling(rng, email)
                row[column["Email"]] = email
                row[column["Accepts Marketing"]] = "yes" if people.accepts_email[p] else "no"
                _fill_address(row, people, p, "'" if pick[k] % 2 else "")
            else:
                row[column["Accepts Marketing"]] = "no"
                if not is_pos:
                    row[column["Phone"]] = f"+1 555-01{pick[k] % 100:02d}"
            row[column["Created at"]] = created[k]
            row[column["Financial Status"]] = status
            if status in ("paid", "refunded", "partially_refunded"):
                row[column["Paid at"]] = created[k]
            row[column["Fulfillment Status"]] = "fulfilled" if is_fulfilled else "unfulfilled"
            if is_fulfilled:
                row[column["Fulfilled at"]] = fulfilled[k]
            row[column["Currency"]] = "USD"
            row[column["Subtotal"]] = _format_money(int(orders.baskets.subtotal[k]))
            row[column["Shipping"]] = _format_money(int(orders.shipping[k]))
            row[column["Taxes"]] = _format_money(int(orders.tax[k]))
            row[column["Total"]] = _format_money(int(orders.total[k]))
            row[column["Discount Code"]] = orders.codes[k]
            row[column["Discount Amount"]] = _format_money(int(orders.discount[k]))
            if not is_pos:
                row[column["Shipping Method"]] = (
                    "Standard" if orders.shipping[k] else "Free Shipping"
                )
            if note[k] < 0.01:
                row[column["Notes"]] = ("Please gift wrap", "Leave at the back door")[pick[k] % 2]
            row[column["Note Attributes"]] = orders.note_attributes[k]
            if orders.cancelled[k]:
                row[column["Cancelled at"]] = cancelled_at[k]
            if orders.total[k] > 0:
                row[column["Payment Method"]] = _choose_payment_method(source, float(payment[k]))
                reference = f"c{order_ids[k] + 21_000_000_000_000}"
                row[column["Payment Reference"]] = f"{reference}.1"
                row[column["Payment ID"]] = reference
                row[column["Payment References"]] = reference
            row[column["Refunded Amount"]] = _format_money(int(orders.refunded[k]))
            outstanding = orders.total[k] if status == "pending" else 0
            row[column["Outstanding Balance"]] = _format_money(int(outstanding))
            if status == "pending":
                row[column["Payment Terms Name"]] = "Net 30"
                row[column["Next Payment Due At"]] = due_at[k]
            if is_pos:
                row[column["Employee"]] = "Robin Calder"
                row[column["Location"]] = "Pop-up Market"
                row[column["Device ID"]] = str(40_000 + pick[k] % 3)
            row[column["Id"]] = str(order_ids[k])
            row[column["Tags"]] = orders.tags[k]
            row[column["Risk Level"]] = (
                "High" if risk[k] < 0.004 else "Medium" if risk[k] < 0.03 else "Low"
            )
            row[column["Source"]] = source
            country = _COUNTRIES[people.country[p]] if p >= 0 else _COUNTRIES[0]
            row[column["Tax 1 Name"]] = country.tax_name
            row[column["Tax 1 Value"]] = _format_money(int(orders.tax[k]))
            line_status = "fulfilled" if is_fulfilled else "unfulfilled"
            writer.writerows(
                _expand_line_rows(
                    row, orders.baskets, line_bounds[k], line_bounds[k + 1], line_status
                )
            )


def _decide_financial_status(orders: _Orders, k: int, u: float) -> str:
    """Shopify's Financial Status of order ``k``; ``u`` decides the rare uncaptured payment."""
    created = int(orders.created[k])
    if orders.cancelled[k]:
        return "refunded" if orders.refunded[k] else "voided"
    is_guest_draft = orders.person[k] < 0 and orders.sources[k] == "shopify_draft_order"
    if is_guest_draft and created > _LAST_SECOND - 30 * _DAY_SECONDS:
        return "pending"  # wholesale invoices on Net 30 terms
    if created > _LAST_SECOND - 2 * _DAY_SECONDS and u < 0.05:
        return "authorized"
    if orders.refunded[k] >= orders.total[k] > 0:
        return "refunded"
    if orders.refunded[k]:
        return "partially_refunded"
    return "paid"


def _choose_payment_method(source: str, u: float) -> str:
    if source == "shopify_draft_order":
        return "manual"
    if source == "pos":
        return "Cash" if u < 0.3 else "Shopify Payments"
    return "PayPal Express Checkout" if u < 0.2 else "Shopify Payments"


# ---------------------------------------------------------------------------- checkouts


def _draw_checkouts(
    rng: np.random.Generator, people: _People, orders: _Orders
) -> tuple[np.ndarray, _Baskets, np.ndarray]:
    """Abandoned checkouts: before a first order, between orders, after the last one, prospects.

    Returns (created seconds, baskets, person) sorted by creation time.
    """
    known = orders.person >= 0
    person = orders.person[known]
    created = orders.created[known]
    first_seconds = np.full(people.n_buyers, _LAST_SECOND)
    np.minimum.at(first_seconds, person, created)
    last_seconds = np.zeros(people.n_buyers, dtype=np.int64)
    np.maximum.at(last_seconds, person, created)
    day = _DAY_SECONDS

    before = rng.integers(0, people.n_buyers, size=2600)
    before_at = first_seconds[before] - rng.integers(3600, 10 * day, size=len(before))
    after = rng.integers(0, people.n_buyers, size=3200)
    after_at = last_seconds[after] + rng.integers(day, 120 * day, size=len(after))
    between = rng.integers(0, len(person), size=900)
    between_at = created[between] - rng.integers(3 * day, 20 * day, size=len(between))
    prospects = rng.integers(people.n_buyers, len(people.first_day), size=2700)
    prospects_at = (
        people.first_day[prospects] * day
        + rng.integers(0, 60 * day, size=len(prospects))
        + rng.integers(0, day, size=len(prospects))
    )
    who = np.concatenate([before, after, person[between], prospects])
    at = np.concatenate([before_at, after_at, between_at, prospects_at])
    keep = (at >= 0) & (at <= _LAST_SECOND)
    who, at = who[keep], at[keep]
    order = np.argsort(at, kind="stable")
    who, at = who[order], at[order]
    is_buyer = who < people.n_buyers
    factor = np.array([c.basket_factor for c in CHANNELS])[
        np.where(is_buyer, people.channel[who], 0)
    ]
    baskets = _draw_baskets(
        rng, at // day, np.zeros(len(at), dtype=bool), people.trend_follower[who], factor
    )
    return at, baskets, who


def _write_checkouts(
    path: Path,
    rng: np.random.Generator,
    people: _People,
    created: np.ndarray,
    baskets: _Baskets,
    who: np.ndarray,
) -> None:
    """Write the 70-column abandoned checkouts export (``CHECKOUT_COLUMNS``), line-item rows."""
    n = len(created)
    stamps = _format_shopify(created)
    checkout_ids = _CHECKOUT_ID_BASE + np.cumsum(rng.integers(50, 400, size=n))
    u = rng.random(n)
    pick = rng.integers(0, 1000, size=n)
    with_code = rng.random(n) < 0.1
    codes = [("WELCOME10" if w else "") for w in with_code.tolist()]
    country = people.country[who]
    discount, shipping, tax, total = _price_orders(baskets, codes, country, np.zeros(n, dtype=bool))
    line_bounds = np.searchsorted(baskets.owner, np.arange(n + 1))
    keep = [ORDER_COLUMNS.index(c) for c in CHECKOUT_COLUMNS]
    column = _ORDER_INDEX
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(CHECKOUT_COLUMNS)
        for k in range(n):
            p = int(who[k])
            channel = int(people.channel[p]) if p < people.n_buyers else _EMAIL
            source, note_attributes, _ = _encode_channel(channel, float(u[k]), int(pick[k]), True)
            if source in ("pos", "shopify_draft_order"):
                source = "web"  # only online checkouts can be abandoned
            row = [""] * len(ORDER_COLUMNS)
            row[column["Name"]] = f"#{checkout_ids[k]}"
            row[column["Id"]] = str(checkout_ids[k])
            row[column["Email"]] = people.emails[p]
            row[column["Accepts Marketing"]] = "yes" if people.accepts_email[p] else "no"
            row[column["Created at"]] = stamps[k]
            row[column["Currency"]] = "USD"
            row[column["Subtotal"]] = _format_money(int(baskets.subtotal[k]))
            row[column["Shipping"]] = _format_money(int(shipping[k]))
            row[column["Taxes"]] = _format_money(int(tax[k]))
            row[column["Total"]] = _format_money(int(total[k]))
            row[column["Discount Code"]] = codes[k]
            row[column["Discount Amount"]] = _format_money(int(discount[k]))
            row[column["Shipping Method"]] = "Standard" if shipping[k] else "Free Shipping"
            row[column["Note Attributes"]] = note_attributes
            row[column["Source"]] = source
            row[column["Tax 1 Name"]] = _COUNTRIES[country[k]].tax_name
            row[column["Tax 1 Value"]] = _format_money(int(tax[k]))
            _fill_address(row, people, p, "")
            for line in _expand_line_rows(row, baskets, line_bounds[k], line_bounds[k + 1], ""):
                writer.writerow([line[i] for i in keep])


# ---------------------------------------------------------------------------- customers


def _write_customers(path: Path, people: _People, orders: _Orders) -> None:
    """Write the customers export: buyers (totals over non-cancelled orders) and prospects."""
    n = len(people.first_day)
    valid = (orders.person >= 0) & ~orders.cancelled
    owner = orders.person[valid]
    total_orders = np.bincount(owner, minlength=n)
    spent = np.bincount(owner, weights=(orders.total - orders.refunded)[valid], minlength=n)
    spent = np.rint(spent).astype(np.int64)
    column = {name: i for i, name in enumerate(CUSTOMER_COLUMNS)}
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(CUSTOMER_COLUMNS)
        for p in np.argsort(people.customer_ids, kind="stable").tolist():
            is_prospect = p >= people.n_buyers
            row = [""] * len(CUSTOMER_COLUMNS)
            row[column["Customer ID"]] = str(people.customer_ids[p])
            row[column["First Name"]] = people.first_names[p]
            row[column["Last Name"]] = people.last_names[p]
            row[column["Email"]] = people.emails[p]
            row[column["Accepts Email Marketing"]] = "yes" if people.accepts_email[p] else "no"
            row[column["Accepts SMS Marketing"]] = "yes" if people.accepts_sms[p] else "no"
            # Newsletter sign-ups leave an email, not an address; a third give their city.
            if not is_prospect or p % 3 == 0:
                country = _COUNTRIES[people.country[p]]
                city, province, _, zip_code = country.cities[people.city[p]]
                row[column["Default Address City"]] = city
                row[column["Default Address Province Code"]] = province
                row[column["Default Address Country Code"]] = country.code
                if not is_prospect:
                    row[column["Default Address Address1"]] = people.addresses[p]
                    row[column["Default Address Zip"]] = zip_code
                    row[column["Default Address Phone"]] = people.phones[p]
            row[column["Phone"]] = people.phones[p]
            row[column["Total Spent"]] = _format_money(int(spent[p]))
            row[column["Total Orders"]] = str(total_orders[p])
            row[column["Tax Exempt"]] = "no"
            tags = []
            if is_prospect or people.channel[p] == _EMAIL:
                tags.append("newsletter")
            if spent[p] >= 50_000:
                tags.append("VIP")
            row[column["Tags"]] = ", ".join(tags)
            writer.writerow(row)


# ---------------------------------------------------------------------------- sessions


def _write_sessions(
    path: Path,
    rng: np.random.Generator,
    people: _People,
    orders: _Orders,
    checkouts: np.ndarray,
    checkout_people: np.ndarray,
) -> None:
    """Write ``sessions.csv``: purchase sessions, research before orders, checkouts, prospects."""
    day = _DAY_SECONDS
    known = orders.person >= 0
    buyer = orders.person[known]
    bought_at = orders.created[known]
    first = orders.is_first[known]

    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, float, bool]] = []
    # (person, start seconds, mean duration seconds, add-to-cart chance, purchased)
    purchase_duration = np.exp(rng.normal(np.log(420), 0.5, size=len(buyer))).astype(np.int64)
    parts.append((buyer, bought_at - purchase_duration, purchase_duration, 1.0, True))

    research = rng.poisson(np.where(first, 2.0, 1.0))
    who = np.repeat(buyer, research)
    start = np.repeat(bought_at, research) - rng.integers(2 * 3600, 12 * day, size=len(who))
    parts.append((who, start, _draw_durations(rng, len(who), 300), 0.25, False))

    last_seconds = np.zeros(people.n_buyers, dtype=np.int64)
    np.maximum.at(last_seconds, buyer, bought_at)
    browse = rng.poisson(1.2, size=people.n_buyers)
    who = np.repeat(np.arange(people.n_buyers), browse)
    start = last_seconds[who] + rng.integers(day, 200 * day, size=len(who))
    parts.append((who, start, _draw_durations(rng, len(who), 240), 0.15, False))

    checkout_duration = _draw_durations(rng, len(checkouts), 500)
    parts.append((checkout_people, checkouts - checkout_duration, checkout_duration, 1.0, False))

    prospects = np.arange(people.n_buyers, len(people.first_day))
    kind = people.prospect_kind[prospects]
    signed_up = people.first_day[prospects] * day
    ordinary = prospects[kind == 0]
    count = 1 + rng.poisson(1.0, size=len(ordinary))
    who = np.repeat(ordinary, count)
    start = people.first_day[who] * day + rng.integers(-2 * day, 30 * day, size=len(who))
    parts.append((who, start, _draw_durations(rng, len(who), 200), 0.1, False))
    indecisive = prospects[kind == 1]
    count = rng.integers(6, 21, size=len(indecisive))
    who = np.repeat(indecisive, count)
    span = np.maximum(day, _LAST_SECOND - people.first_day[who] * day)
    start = people.first_day[who] * day + (rng.random(len(who)) * span).astype(np.int64)
    parts.append((who, start, _draw_durations(rng, len(who), 1500), 0.35, False))
    curious = prospects[kind == 2]
    count = rng.integers(1, 4, size=len(curious))
    who = np.repeat(curious, count)
    recent_from = np.maximum(signed_up[kind == 2], _LAST_SECOND - 30 * day)
    start = np.repeat(recent_from, count)
    start = start + (rng.random(len(who)) * (_LAST_SECOND - start)).astype(np.int64)
    parts.append((who, start, _draw_durations(rng, len(who), 180), 0.05, False))

    who = np.concatenate([p[0] for p in parts])
    start = np.concatenate([p[1] for p in parts])
    duration = np.concatenate([p[2] for p in parts])
    cart = np.concatenate([rng.random(len(p[0])) < p[3] for p in parts])
    purchased = np.concatenate([np.full(len(p[0]), p[4]) for p in parts])
    # A purchase session may not start before opening day; other sessions simply did not happen.
    start = np.where(purchased, np.maximum(start, 0), start)
    keep = (start >= 0) & (start <= _LAST_SECOND)
    who, start, duration, cart, purchased = (
        a[keep] for a in (who, start, duration, cart, purchased)
    )
    pages = 1 + rng.poisson(duration / 70)
    emails = np.array(people.emails)[who]
    order = np.lexsort((emails, start))
    stamps = _format_local(start[order])
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(SESSION_COLUMNS)
        writer.writerows(
            zip(
                emails[order].tolist(),
                stamps,
                duration[order].tolist(),
                pages[order].tolist(),
                np.where(cart[order], "true", "false").tolist(),
                np.where(purchased[order], "true", "false").tolist(),
                strict=True,
            )
        )


def _draw_durations(rng: np.random.Generator, n: int, median_seconds: float) -> np.ndarray:
    return np.clip(np.exp(rng.normal(np.log(median_seconds), 0.7, size=n)), 5, 7200).astype(
        np.int64
    )


# ---------------------------------------------------------------------------- marketing spend


def _write_spend(path: Path, rng: np.random.Generator, people: _People, orders: _Orders) -> None:
    """Write ``marketing_spend.csv``: month, channel (as marketers name it), spend, purpose."""
    months = sorted({(d.year, d.month) for d in _list_days()})
    month_of_day = np.array([months.index((d.year, d.month)) for d in _list_days()])
    buyer_month = month_of_day[people.first_day[: people.n_buyers]]
    new = np.zeros((len(months), len(CHANNELS)))
    np.add.at(new, (buyer_month, people.channel[: people.n_buyers]), 1)
    social_repeat = (orders.channel == _PAID_SOCIAL) & ~orders.is_first & (orders.person >= 0)
    social_repeat_orders = np.bincount(
        month_of_day[orders.created[social_repeat] // _DAY_SECONDS], minlength=len(months)
    )
    profiles = np.cumsum(np.bincount(month_of_day[people.first_day], minlength=len(months)))

    rows = []
    for m, (year, month) in enumerate(months):
        progress = m / (len(months) - 1)
        lines = [
            ("Google Ads", "acquisition", max(250.0, new[m, _PAID_SEARCH] * (30 + 12 * progress))),
            ("Meta Ads", "acquisition", max(300.0, new[m, _PAID_SOCIAL] * (55 - 17 * progress))),
            ("Klaviyo", "retention", 45 + 0.012 * profiles[m]),
        ]
        if (year, month) >= (2025, 1):
            lines.append(("Affiliate network", "acquisition", 99 + new[m, _AFFILIATES] * 16))
        if (year, month) >= (2025, 3):
            lines.append(("TikTok Ads", "acquisition", new[m, _ORGANIC_SOCIAL] * 0.5 * 30))
            lines.append(("SEO agency", "acquisition", 1500.0 if year == 2025 else 2500.0))
        if (year, month) >= (2025, 6):
            lines.append(("Meta Ads", "retention", max(150.0, social_repeat_orders[m] * 8.0)))
        if (year, month) >= (2025, 8):
            lines.append(("Loyalty app", "retention", 49.0 if year == 2025 else 199.0))
        if (year, month) >= (2025, 9):
            lines.append(("Email agency", "retention", 1200 + 1300 * progress))
        for channel, purpose, amount in lines:
            noisy = round(amount * float(np.exp(rng.normal(0, 0.08))) * 100)
            rows.append((f"{year}-{month:02d}", channel, _format_money(noisy), purpose))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(SPEND_COLUMNS)
        writer.writerows(rows)
