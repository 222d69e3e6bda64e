"""Numbers formatted for people: money with its currency, percentages, thousands separators."""

from __future__ import annotations

import math
import re

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CAD": "CA$", "AUD": "A$"}
# Streamlit's NumberColumn presets for the currencies it knows; others get a printf format
# with thousands separators and two decimals.
TABLE_MONEY_FORMATS = {"USD": "dollar", "EUR": "euro", "JPY": "yen"}
# A code from the data goes into a format string only if it is three capital letters.
_ISO_CODE = re.compile(r"[A-Z]{3}")


def format_count(value: float | int | None) -> str:
    """Return ``12,345`` for a count; an em dash for a missing value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{int(round(value)):,}"


def format_money(value: float | None, currency: str | None = None) -> str:
    """Return ``$1,234.50`` (or ``1,234.50 SEK`` for a currency without a known symbol, and
    ``1,234.50`` for none or a code that is not three capital letters)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    sign = "-" if value < 0 else ""
    amount = f"{abs(value):,.2f}"
    symbol = CURRENCY_SYMBOLS.get(currency or "")
    if symbol:
        return f"{sign}{symbol}{amount}"
    code = currency if currency and _ISO_CODE.fullmatch(currency) else ""
    return f"{sign}{amount} {code}".rstrip()


def format_percent(fraction: float | None, digits: int = 1) -> str:
    """Return ``12.3%`` for the fraction 0.123."""
    if fraction is None or (isinstance(fraction, float) and math.isnan(fraction)):
        return "—"
    return f"{fraction * 100:.{digits}f}%"


def table_money_format(currency: str | None) -> str:
    """Return the table column format for money in ``currency``: a Streamlit preset name, or a
    printf format with the symbol or code, thousands separators and two decimals (``£%,.2f``,
    ``%,.2f SEK``, ``%,.2f`` when the currency is not known)."""
    code = currency or ""
    if code in TABLE_MONEY_FORMATS:
        return TABLE_MONEY_FORMATS[code]
    if code in CURRENCY_SYMBOLS:
        return f"{CURRENCY_SYMBOLS[code]}%,.2f"
    return f"%,.2f {code}" if _ISO_CODE.fullmatch(code) else "%,.2f"


def single_currency(currencies: tuple[str, ...]) -> str | None:
    """Return the dataset's one currency, or None when it has none or several."""
    return currencies[0] if len(currencies) == 1 else None


def format_count_of(value: int, singular: str, plural: str | None = None) -> str:
    """Return ``1 feature`` or ``1,234 features``: the count with its noun in the right number."""
    noun = singular if value == 1 else plural or f"{singular}s"
    return f"{format_count(value)} {noun}"
