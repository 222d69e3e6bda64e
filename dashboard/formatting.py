"""Numbers formatted for people: money with its currency, percentages, thousands separators."""

from __future__ import annotations

import math

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CAD": "CA$", "AUD": "A$"}
# Streamlit's NumberColumn presets for the currencies it knows; others use plain grouping.
TABLE_MONEY_FORMATS = {"USD": "dollar", "EUR": "euro", "JPY": "yen"}


def format_count(value: float | int | None) -> str:
    """Return ``12,345`` for a count; an em dash for a missing value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{int(round(value)):,}"


def format_money(value: float | None, currency: str | None = None) -> str:
    """Return ``$1,234.50`` (or ``1,234.50 SEK`` for a currency without a known symbol)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    sign = "-" if value < 0 else ""
    amount = f"{abs(value):,.2f}"
    symbol = CURRENCY_SYMBOLS.get(currency or "")
    if symbol:
        return f"{sign}{symbol}{amount}"
    return f"{sign}{amount} {currency or ''}".rstrip()


def format_percent(fraction: float | None, digits: int = 1) -> str:
    """Return ``12.3%`` for the fraction 0.123."""
    if fraction is None or (isinstance(fraction, float) and math.isnan(fraction)):
        return "—"
    return f"{fraction * 100:.{digits}f}%"


def table_money_format(currency: str | None) -> str:
    """Return the table column format for money in ``currency`` (a Streamlit preset name)."""
    return TABLE_MONEY_FORMATS.get(currency or "", "localized")


def single_currency(currencies: tuple[str, ...]) -> str | None:
    """Return the dataset's one currency, or None when it has none or several."""
    return currencies[0] if len(currencies) == 1 else None
