"""The demo store's fixed data: products, acquisition channels, countries, names, discount codes.

Plain tables, no logic beyond parsing the product table; every draw in the generator indexes into
these tuples, so their order is part of what makes a seed's files byte-identical.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np


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
ORGANIC_SEARCH, PAID_SEARCH, PAID_SOCIAL, EMAIL = 0, 1, 2, 3
DIRECT, AFFILIATES, ORGANIC_SOCIAL = 4, 5, 6
# Repeat orders come back mostly through email campaigns and typed-in visits.
REPEAT_CHANNEL_SHARE = np.array([0.10, 0.04, 0.04, 0.45, 0.35, 0.01, 0.01])


@dataclass(frozen=True)
class Country:
    """A shipping country: its share of customers, its sales tax and the cities people live in."""

    code: str
    share: float
    tax_name: str
    tax_basis_points: int
    # (city, province code, province name, zip)
    cities: tuple[tuple[str, str, str, str], ...]


COUNTRIES: tuple[Country, ...] = (
    Country(
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
    Country(
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
    Country(
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
    Country(
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
    Country(
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
    Country("FR", 0.04, "VAT 20%", 2000, (("Paris", "", "", "75011"), ("Lyon", "", "", "69002"))),
    Country(
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
FIRST_NAMES = tuple(_FIRST_NAMES_TEXT.split())
LAST_NAMES = tuple(_LAST_NAMES_TEXT.split())
STREETS = (
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

DISCOUNT_PERCENT = {
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
INFLUENCER_CODES = ("MAYA15", "LEOBREWS10", "JOSH20", "TESSTOK15")
PARTNER_CODES = ("BEANBLOG10", "HOMEBARISTA15")
