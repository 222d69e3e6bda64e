"""The per-customer measures of the sidebar's selection and the scoring the pages share.

The measures are computed once per session and key; quantile cuts, slider ranges and the
Segments page's last cut points are kept beside them.
"""

from __future__ import annotations

import streamlit as st

from dashboard import ui
from dashboard.rfm import analysis, cut_points, schemes
from dashboard.ui import session

BASE = "base"
LAST_CUTS = "last_cuts"


def get_customer_base(selection: ui.Selection) -> analysis.CustomerBase:
    """Return the per-customer measures for the selection, computed once per session and key.

    They are computed on the configured engine (DuckDB, or Spark: see ``engines``) with the
    sidebar's counting rules.
    """
    key = (
        selection.dataset,
        ui.dataset_version(selection.dataset),
        selection.as_of,
        selection.start,
        selection.rules,
    )

    def load() -> analysis.CustomerBase:
        with st.spinner("Computing per-customer measures (once per dataset and date)…"):
            return analysis.load_customer_base(
                ui.workspace(),
                selection.dataset,
                as_of=selection.as_of,
                start=selection.start,
                rules=selection.rules,
            )

    return session.cached(BASE, key, load, close=analysis.CustomerBase.close)


def get_quantile_cuts(base: analysis.CustomerBase, scheme: schemes.Scheme) -> cut_points.Cuts:
    """Return the quantile cut points of the base for the scheme, cached in this session."""
    return session.cached(
        "quantile_cuts",
        (session.held_key(BASE), scheme.key),
        lambda: cut_points.resolve_cuts(base.measures, cut_points.ScoringSpec(scheme)),
    )


def forget_quantile_cuts() -> None:
    """Drop the held quantile cuts, e.g. when a saved scheme may have changed under its key."""
    st.session_state.pop("quantile_cuts", None)


def get_measure_limits(base: analysis.CustomerBase) -> dict[str, float]:
    """Return the slider ranges of the base (``analysis.measure_limits``), once per base."""
    return session.cached(
        "measure_limits", session.held_key(BASE), lambda: analysis.measure_limits(base)
    )


def cut_context(scheme: schemes.Scheme) -> tuple[object, schemes.Scheme]:
    """Return what the Segments page's last cut points hold for: the base and the scheme."""
    return (session.held_key(BASE), scheme)


def get_scoring(
    selection: ui.Selection, base: analysis.CustomerBase
) -> tuple[cut_points.ScoringSpec, cut_points.Cuts]:
    """Return the scoring the Segments page last used (quantiles unless sliders moved) and cuts.

    The same scoring is applied at every date of the migration and the backtest.
    """
    quantile = get_quantile_cuts(base, selection.scheme)
    last = st.session_state.get(LAST_CUTS)
    cuts = last[1] if last is not None and last[0] == cut_context(selection.scheme) else quantile
    custom = cuts != quantile
    window_days = (selection.as_of - selection.start).days + 1 if selection.start else None
    scoring = cut_points.ScoringSpec(
        selection.scheme, cuts if custom else None, base.rules, window_days
    )
    return scoring, cuts
