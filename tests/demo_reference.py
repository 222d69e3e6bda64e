"""Independent pandas computations over the demo store's CSV files, to check the engine against.

Nothing here uses the engine's analysis modules: orders are read from the Shopify export with
pandas (one row per order: its first row with a Total), and each customer's channel is decided by
plain Python written from GA4's channel definitions and the demo store's documented encoding
(dashboard/demo/attribution.py docstring), not from dashboard.channels' rule table.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pandas as pd

from dashboard.workspace import store

AS_OF = dt.date(2026, 10, 31)
HORIZONS = (90, 180, 365)
SEARCH = {"google", "bing", "yahoo", "duckduckgo", "ecosia", "baidu", "yandex"}
SOCIAL = {
    "facebook",
    "fb",
    "instagram",
    "ig",
    "meta",
    "tiktok",
    "pinterest",
    "snapchat",
    "linkedin",
    "twitter",
    "x",
    "reddit",
}
# How the demo's marketers name spend lines -> channel group
# (TikTok Ads: see dashboard/acquisition/spend.py).
SPEND_CHANNELS = {
    "Google Ads": "Paid Search",
    "Meta Ads": "Paid Social",
    "TikTok Ads": "Organic Social",
    "Klaviyo": "Email",
    "Email agency": "Email",
    "Affiliate network": "Affiliates",
    "SEO agency": "Organic Search",
}


def files_dir(workspace: Path) -> Path:
    """The demo CSV folder written by the ``demo_dataset`` fixture next to its workspace."""
    folder = workspace.parent / "files"
    assert (folder / "shopify_orders.csv").exists(), folder
    return folder


def _notes(cell: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in cell.splitlines():
        key, sep, value = line.partition(":")
        if sep and value.strip():
            out.setdefault(key.strip().lower(), value.strip())
    return out


def read_orders(path: Path) -> pd.DataFrame:
    """One row per order: order_id, customer_id, ordered_at, day, total, net, is_cancelled, and
    the evidence (source, utm_source, utm_medium, channel_note, referrer, landing, discount,
    tags)."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    first = raw[raw.Total != ""].drop_duplicates("Name")
    notes = [_notes(cell) for cell in first["Note Attributes"]]
    email = first.Email.str.strip().str.lower()
    total = first.Total.astype(float)
    refunded = pd.to_numeric(first["Refunded Amount"].replace("", "0"))
    ordered_at = pd.to_datetime(first["Created at"].str[:19])
    return pd.DataFrame(
        {
            "order_id": first.Name.to_numpy(),
            "customer_id": email.where(email != "", None).to_numpy(),
            "ordered_at": ordered_at.to_numpy(),
            "day": ordered_at.dt.date.to_numpy(),
            "total": total.to_numpy(),
            "net": (total - refunded).round(2).to_numpy(),
            "is_cancelled": (first["Cancelled at"] != "").to_numpy(),
            "source": first.Source.str.strip().str.lower().to_numpy(),
            "utm_source": [n.get("utm_source", "").lower() for n in notes],
            "utm_medium": [n.get("utm_medium", "").lower() for n in notes],
            "channel_note": [n.get("channel", "").lower() for n in notes],
            "referrer": [n.get("referrer", "") for n in notes],
            "landing": [n.get("landing_site", "") for n in notes],
            "discount": first["Discount Code"].str.strip().str.lower().to_numpy(),
            "tags": first.Tags.str.lower().to_numpy(),
        }
    )


def decide_channel(order: pd.Series) -> str:
    """GA4-style channel of one order from its evidence, UTM first, then referrer, note, source."""
    source, medium = order.utm_source, order.utm_medium
    paid = medium.startswith(("cp", "ppc", "paid"))
    if source or medium:
        if source in SOCIAL and paid:
            return "Paid Social"
        if source in SEARCH and paid:
            return "Paid Search"
        if medium in ("email", "e-mail", "newsletter"):
            return "Email"
        if medium.startswith("affiliate"):
            return "Affiliates"
        if medium == "referral":
            return "Referral"
        if medium == "organic":
            return "Organic Search"
        if paid:
            return "Paid Other"
        if source in ("klaviyo", "mailchimp", "email"):
            return "Email"
        if source in SOCIAL:
            return "Organic Social"
        if source in SEARCH:
            return "Organic Search"
    referrer = order.referrer.lower()
    if referrer and not referrer.startswith("/"):
        host = referrer.split("://", 1)[-1].removeprefix("www.")
        if host.startswith(tuple(f"{s}." for s in SEARCH)):
            return "Organic Search"
        if host.startswith(tuple(f"{s}." for s in SOCIAL)):
            return "Organic Social"
        return "Referral"
    if order.channel_note in SOCIAL:
        return "Organic Social"
    if order.source in ("pos", "shopify_draft_order"):
        return "Direct"
    if order.source in ("tiktok", "instagram", "facebook"):
        return "Organic Social"
    if order.discount.startswith(("affiliate", "partner", "influencer")):
        return "Affiliates"
    tags = {t.strip() for t in order.tags.split(",")}
    if tags & {"affiliate", "influencer"}:
        return "Affiliates"
    # An online-store source (web, an app id) says nothing of how the customer came: only a
    # recorded landing page without referrer or UTM tags is a direct visit.
    if order.landing and not referrer and not (source or medium):
        return "Direct"
    return "Unattributed"


def valid_mask(orders: pd.DataFrame, as_of: dt.date = AS_OF) -> pd.Series:
    """Orders that count as purchases: known customer, not cancelled, total above 0, by as_of."""
    return (
        orders.customer_id.notna()
        & ~orders.is_cancelled
        & (orders.total > 0)
        & (orders.day <= as_of)
    )


def attribute(orders: pd.DataFrame, as_of: dt.date = AS_OF) -> pd.DataFrame:
    """customer_id, first_day, first_order_id, channel: from each customer's first valid order."""
    valid = orders[valid_mask(orders, as_of)].sort_values(["customer_id", "ordered_at", "order_id"])
    firsts = valid.drop_duplicates("customer_id").copy()
    firsts["channel"] = firsts.apply(decide_channel, axis=1)
    return firsts.rename(columns={"day": "first_day", "order_id": "first_order_id"})[
        ["customer_id", "first_day", "first_order_id", "channel"]
    ].reset_index(drop=True)


def channel_figures(
    orders: pd.DataFrame, firsts: pd.DataFrame, as_of: dt.date = AS_OF
) -> pd.DataFrame:
    """Per channel: new_customers, revenue, orders, repeat_customers and, per N in HORIZONS,
    customers_{N}d (first order at least N days before as_of) and revenue_{N}d / orders_{N}d of
    their orders less than N days after the first."""
    counted = orders[orders.customer_id.notna() & ~orders.is_cancelled & (orders.day <= as_of)]
    joined = counted.merge(firsts, on="customer_id")
    joined["age"] = [(d - f).days for d, f in zip(joined.day, joined.first_day, strict=True)]
    joined["is_valid"] = joined.total > 0
    per = joined.groupby(["customer_id", "channel", "first_day"], as_index=False).agg(
        orders=("is_valid", "sum"), revenue=("net", "sum")
    )
    for days in HORIZONS:
        early = joined[joined.age < days]
        sums = early.groupby("customer_id").agg(r=("net", "sum"), o=("is_valid", "sum"))
        per[f"revenue_{days}d"] = per.customer_id.map(sums.r).fillna(0.0)
        per[f"orders_{days}d"] = per.customer_id.map(sums.o).fillna(0)
        per[f"observed_{days}d"] = per.first_day <= as_of - dt.timedelta(days=days)
    rows = {}
    for channel, group in per.groupby("channel"):
        row = {
            "new_customers": len(group),
            "revenue": group.revenue.sum(),
            "orders": group.orders.sum(),
            "repeat_customers": int((group.orders >= 2).sum()),
        }
        for days in HORIZONS:
            seen = group[group[f"observed_{days}d"]]
            row[f"customers_{days}d"] = len(seen)
            row[f"revenue_{days}d"] = seen[f"revenue_{days}d"].sum()
            row[f"orders_{days}d"] = seen[f"orders_{days}d"].sum()
        rows[channel] = row
    return pd.DataFrame.from_dict(rows, orient="index")


def read_spend(path: Path) -> pd.DataFrame:
    """The spend CSV: month (date), channel, spend (float), purpose."""
    spend = pd.read_csv(path)
    spend["month"] = pd.to_datetime(spend.month + "-01").dt.date
    return spend


def copy_with_spend(demo: tuple[Path, str], root: Path) -> Path:
    """Copy the demo dataset into a new workspace under ``root`` and load its spend CSV rows.

    Rows are inserted with bound parameters (the spend importer is not needed). Returns the
    workspace; the dataset is still called ``demo``.
    """
    workspace, name = demo
    target = store.resolve_workspace(root / "workspace")
    source = store.dataset_path(workspace, name)
    shutil.copy(source, store.dataset_path(target, name))
    spend = read_spend(files_dir(workspace) / "marketing_spend.csv")
    rows = [
        (r.month, r.channel, f"{r.spend:.2f}", r.purpose, 99) for r in spend.itertuples(index=False)
    ]
    with store.open_for_write(target, name) as con:
        con.begin()
        con.executemany(
            "INSERT INTO marketing_spend (month, channel, spend, purpose, ingest_id) "
            "VALUES (?, ?, ?, ?, ?)",
            rows,
        )
        con.commit()
    return target
