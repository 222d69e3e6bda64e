"""The demo store's calendar and clock: two fixed years, seasonality, promotions, time zones.

Inside the generator a day is a day index since ``OPENING_DATE`` (0 .. ``N_DAYS`` - 1) and a time
is local seconds since opening-day midnight (0 .. ``LAST_SECOND``); nothing depends on today's date.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

OPENING_DATE = date(2024, 11, 1)
LAST_DATE = date(2026, 10, 31)
DAY_SECONDS = 86_400
N_DAYS = (LAST_DATE - OPENING_DATE).days + 1
LAST_SECOND = N_DAYS * DAY_SECONDS - 1
BLACK_FRIDAYS = (date(2024, 11, 29), date(2025, 11, 28))
_EPOCH = np.datetime64(OPENING_DATE.isoformat(), "s")
_HOUR_WEIGHTS = np.array(
    [1.0, 0.6, 0.4, 0.3, 0.3, 0.4, 0.8, 1.5, 2.2, 2.6, 2.8, 3.0]
    + [3.3, 3.1, 2.9, 2.8, 2.9, 3.2, 3.6, 4.0, 4.2, 3.8, 2.8, 1.7]
)
_WEEKDAY_FACTOR = (1.06, 1.02, 1.00, 0.98, 0.95, 0.92, 1.07)


def list_days() -> list[date]:
    """Every date from opening to the last day; position = day index."""
    return [OPENING_DATE + timedelta(days=d) for d in range(N_DAYS)]


def compute_season_factors() -> np.ndarray:
    """Per-day multiplier of demand: weekday rhythm, Black Friday week, December gifting."""
    factors = np.empty(N_DAYS)
    for i, day in enumerate(list_days()):
        factor = _WEEKDAY_FACTOR[day.weekday()]
        for black_friday in BLACK_FRIDAYS:
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


def flag_gifting_days() -> np.ndarray:
    """Per-day flag: the mid-November to pre-Christmas gift season."""
    return np.array(
        [(d.month == 11 and d.day >= 15) or (d.month == 12 and d.day <= 22) for d in list_days()]
    )


def find_promo_code(day: date) -> str:
    """The store-wide promotion running on ``day``, or ''."""
    for black_friday in BLACK_FRIDAYS:
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
                (start - OPENING_DATE).days * DAY_SECONDS + 7200,
                (end - OPENING_DATE).days * DAY_SECONDS + 7200,
            )
        )
    return ranges


_DST_RANGES = _compute_dst_ranges()


def format_local(seconds: np.ndarray) -> list[str]:
    """Local seconds since opening -> ``YYYY-MM-DD HH:MM:SS`` strings."""
    stamps = np.datetime_as_string(_EPOCH + np.asarray(seconds, dtype="timedelta64[s]"), unit="s")
    return [s.replace("T", " ") for s in stamps.tolist()]


def format_shopify(seconds: np.ndarray) -> list[str]:
    """Local seconds since opening -> Shopify ``YYYY-MM-DD HH:MM:SS -0700`` (-0800 in winter)."""
    seconds = np.asarray(seconds, dtype=np.int64)
    summer = np.zeros(len(seconds), dtype=bool)
    for start, end in _DST_RANGES:
        summer |= (seconds >= start) & (seconds < end)
    return [
        f"{stamp} {'-0700' if is_summer else '-0800'}"
        for stamp, is_summer in zip(format_local(seconds), summer.tolist(), strict=True)
    ]


def draw_time_of_day(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` seconds after midnight, busier at lunch and in the evening."""
    hours = rng.choice(24, size=n, p=_HOUR_WEIGHTS / _HOUR_WEIGHTS.sum())
    return hours * 3600 + rng.integers(0, 3600, size=n)
