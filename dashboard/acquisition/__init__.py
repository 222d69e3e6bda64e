"""Acquisition: channel attribution, spend and CAC, cohorts, maturity stages, the store report."""
