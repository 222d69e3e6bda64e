"""Predictions: "buy till you die" models of future purchases and spend (docs/predictions.md).

``purchase_models`` (BG/NBD, Pareto/NBD) and ``spend_model`` (Gamma-Gamma) are pure numpy and
scipy on the compressed per-customer summary; ``summary``, ``validation`` and ``pipeline`` build
that summary with Ibis and score every customer.
"""
