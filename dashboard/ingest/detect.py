"""Which export a file is, from its header names and a sample of its values (docs/ingest.md §2).

``describe_detection`` says what a header (and, when given, sample rows and the file name)
looks like, how sure that is and why; ``choose_format`` is what a load with ``--format auto``
uses: it refuses, in one sentence, a file whose signals disagree (a Shopify export that could
be orders or abandoned checkouts), a known marketing file no table holds, and a report with a
preamble (title or ``#`` lines) whose columns match no known export, rather than guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dashboard.ingest import (
    ga4,
    ga4_reports,
    marketing_exports,
    shopify,
    sniff,
    uci,
    woocommerce,
)
from dashboard.ingest.mapping import guess_mapping
from dashboard.ingest.report import IngestError


@dataclass(frozen=True)
class Detection:
    """What a file looks like.

    ``format``: the best guess among the formats (never 'auto'); ``confident``: the header and
    values say so without doubt (a generic fallback or disagreeing signals are not);
    ``reason``: one sentence on why, for the analyst; ``refusal``: set when a load with 'auto'
    must not go on (signals that disagree, a marketing file no table holds): the sentence to
    show, which asks for a choice where one is possible.
    """

    format: str
    confident: bool
    reason: str
    refusal: str | None = None


def describe_detection(
    headers: list[str],
    file_name: str | None = None,
    rows: tuple[tuple[str, ...], ...] = (),
    has_preamble: bool = False,
) -> Detection:
    """Return what ``headers`` (with sample ``rows``, the file's name) most likely are.

    Exports with a known header win (Shopify orders or checkouts told apart by their values,
    customers, WooCommerce, UCI, GA4 events and acquisition reports, Meta Ads, Google Ads); then
    a mapped table whose distinctive fields the header names give (spend, a score, a session's
    start and length, a product line, a customer profile); anything else is taken for a
    generic orders table, except a report with a preamble (``has_preamble``), which is refused.
    """
    unloaded = marketing_exports.describe_unloaded(headers)
    if unloaded:
        return Detection("generic", False, unloaded, unloaded)
    if ga4_reports.is_acquisition_report(headers):
        return Detection(
            "ga4-acquisition",
            True,
            "A GA4 acquisition report: sessions, engaged sessions, key events and revenue by "
            "channel group and period, loaded into channel sessions.",
        )
    if shopify.is_orders_export(headers):
        chosen, reason = shopify.tell_orders_from_checkouts(headers, rows, file_name)
        if chosen is None:
            return Detection("shopify-orders", False, reason, reason)
        return Detection(chosen, bool(rows), reason)
    known = (
        (shopify.is_checkouts_export, "shopify-checkouts", "A Shopify abandoned checkouts export"),
        (shopify.is_customers_export, "shopify-customers", "A Shopify customers export"),
        (woocommerce.is_export, "woocommerce-orders", "A WooCommerce order export"),
        (uci.is_export, "uci-online-retail", "A UCI Online Retail invoice file"),
        (marketing_exports.is_meta_ads_export, "meta-ads", "A Meta Ads Manager export (spend)"),
        (marketing_exports.is_google_ads_export, "google-ads", "A Google Ads report (spend)"),
    )
    for matches, file_format, what in known:
        if matches(headers):
            return Detection(file_format, True, f"{what}, from its column names.")
    if ga4.is_events_export(headers):
        if ga4.holds_purchases_only(headers, rows):
            return Detection(
                "ga4-purchases",
                True,
                "A GA4 BigQuery export of purchase events: loaded as orders, one per "
                "transaction_id.",
            )
        return Detection(
            "ga4-events",
            True,
            "A GA4 BigQuery events export: its events are loaded as sessions, one per "
            "user_pseudo_id and session.",
        )
    mapped = _describe_mapped(headers)
    if has_preamble and not mapped.confident:
        refusal = (
            "This file is a report with a title or '#' lines above its header, and its columns "
            "match no known export: load a GA4 acquisition report by channel group, an ad "
            "platform's spend report, or choose the file kind."
        )
        return Detection("generic", False, refusal, refusal)
    return mapped


def detect_format(headers: list[str]) -> str:
    """Return the format ``headers`` most likely belong to (FORMATS without 'auto')."""
    return describe_detection(headers).format


def describe_file(path: Path, sheet: str | None = None, file_name: str | None = None) -> Detection:
    """Return the detection of the file at ``path``, its sample rows and name included."""
    info = sniff.inspect_file(Path(path), sheet)
    return describe_detection(
        info.headers, file_name or Path(path).name, info.sample, info.preamble > 0
    )


def choose_format(info: sniff.FileInfo, file_format: str, file_name: str) -> str:
    """Return the format a load of the file ``info`` describes reads it as.

    ``file_format`` 'auto' is resolved by ``describe_detection``; a chosen format is kept.
    Raises IngestError with the detection's sentence when 'auto' must not guess.
    """
    detection = describe_detection(info.headers, file_name, info.sample, info.preamble > 0)
    if detection.refusal and file_format == "auto":
        raise IngestError(detection.refusal)
    return detection.format if file_format == "auto" else file_format


def detect_file_format(path: Path, sheet: str | None = None) -> str:
    """Return the format ``--format auto`` loads ``path`` as (see ``choose_format``)."""
    return choose_format(sniff.inspect_file(Path(path), sheet), "auto", Path(path).name)


def _describe_mapped(headers: list[str]) -> Detection:
    """A mapped table recognised by its distinctive fields, else a generic orders table."""
    orders = guess_mapping(headers, "generic")
    if all(orders[f] for f in ("customer_id", "ordered_at", "order_total")):
        return Detection("generic", True, "An orders table: a customer, an order date and a total.")
    distinctive = {
        "marketing-spend": (("month", "channel", "spend"), ()),
        "surveys": (("customer_id", "score"), ()),
        "sessions": (("started_at",), ("duration_seconds", "pages_viewed", "added_to_cart")),
        "order-lines": (("order_id",), ("product", "sku")),
        "customers": (
            ("customer_id",),
            ("first_name", "accepts_marketing", "total_orders", "person_id"),
        ),
    }
    for file_format, (every, some) in distinctive.items():
        guessed = guess_mapping(headers, file_format)
        if all(guessed[f] for f in every) and (not some or any(guessed[f] for f in some)):
            return Detection(
                file_format, True, f"A {file_format.replace('-', ' ')} table, from its columns."
            )
    return Detection(
        "generic",
        False,
        "No known export or table matches these columns: read as an orders table; check the "
        "mapping, or choose the file kind.",
    )
