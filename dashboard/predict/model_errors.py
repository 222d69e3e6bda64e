"""The errors the prediction models raise for the user's data or settings."""

from __future__ import annotations

from dashboard.errors import UserError


class ModelFitError(UserError):
    """A model cannot be fitted to this data (nobody bought twice, one customer, one day of data,
    or the optimiser did not converge); the message is one sentence saying why and what to do."""


class PredictionSettingError(UserError):
    """A prediction setting (horizon or window in days, discount rate) is out of range."""
