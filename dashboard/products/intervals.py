"""Confidence intervals for shares, so small counts are not over-read (docs/products.md)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def estimate_wilson_interval(
    successes: npt.ArrayLike, trials: npt.ArrayLike, z: float = 1.96
) -> tuple[np.ndarray, np.ndarray]:
    """The Wilson score interval of ``successes / trials``, element by element.

    In: counts (scalars or arrays of the same shape); ``z`` = 1.96 gives 95 %. Out: (low, high)
    as float arrays, NaN where ``trials`` is 0. The Wilson interval stays inside [0, 1] and is
    honest at 0 or all successes, where the normal approximation collapses to a point.
    """
    hits = np.asarray(successes, dtype="float64")
    n = np.asarray(trials, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        share = hits / n
        z2 = z * z
        scale = 1.0 + z2 / n
        centre = (share + z2 / (2.0 * n)) / scale
        half = z * np.sqrt(share * (1.0 - share) / n + z2 / (4.0 * n * n)) / scale
        low = np.where(n > 0, np.clip(centre - half, 0.0, 1.0), np.nan)
        high = np.where(n > 0, np.clip(centre + half, 0.0, 1.0), np.nan)
    return low, high
