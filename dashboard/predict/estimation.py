"""What the maximum-likelihood fits share: the covariance of the fitted log-parameters."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.optimize import OptimizeResult

HESSIAN_STEP = 1e-4
# An exact gradient this small (of the likelihood per customer) is a maximum: L-BFGS-B then
# often reports that its line search failed only because no step can improve the last digits.
CONVERGED_GRADIENT = 1e-6


def estimate_covariance(
    negative_log_likelihood: Callable[[np.ndarray], float], at: np.ndarray
) -> np.ndarray | None:
    """Covariance of the log-parameters: the inverse Hessian of the negative log-likelihood.

    In: the function of the log-parameters (summed over all customers, not averaged) and the
    maximum-likelihood log-parameters. The Hessian is taken by central differences of step
    1e-4. Out: a square matrix in parameter order, or None when the Hessian is not finite or
    not positive definite (the fit has no curvature in some direction).
    """
    size = at.size
    hessian = np.empty((size, size))
    step = np.eye(size) * HESSIAN_STEP
    with np.errstate(all="ignore"):
        for i in range(size):
            for j in range(i, size):
                hessian[i, j] = hessian[j, i] = (
                    negative_log_likelihood(at + step[i] + step[j])
                    - negative_log_likelihood(at + step[i] - step[j])
                    - negative_log_likelihood(at - step[i] + step[j])
                    + negative_log_likelihood(at - step[i] - step[j])
                ) / (4 * HESSIAN_STEP**2)
    if not np.all(np.isfinite(hessian)):
        return None
    try:
        factor = np.linalg.cholesky(hessian)
    except np.linalg.LinAlgError:
        return None
    inverse_factor = np.linalg.inv(factor)
    return inverse_factor.T @ inverse_factor


def has_converged(result: OptimizeResult) -> bool:
    """Whether an L-BFGS-B run on an exact gradient of a per-customer mean likelihood ended at
    a maximum: it says so, or its gradient is within ``CONVERGED_GRADIENT`` of 0."""
    gradient = result.get("jac")
    return bool(result.success) or (
        gradient is not None
        and np.isfinite(result.fun)
        and bool(np.all(np.abs(gradient) <= CONVERGED_GRADIENT))
    )
