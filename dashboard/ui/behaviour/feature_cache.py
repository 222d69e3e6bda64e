"""The Behaviour page's data held in the session: the feature table, its views with RFM
columns, the values of its text and list features, and which inputs are missing."""

from __future__ import annotations

import ibis.expr.types as ir
import streamlit as st

from dashboard import formatting, ui
from dashboard.behaviour.catalogue import FEATURES, SOURCES
from dashboard.behaviour.compiler import feature_view
from dashboard.behaviour.definitions import RfmSpec
from dashboard.behaviour.feature_base import FeatureBase, list_values, load_feature_base
from dashboard.behaviour.feature_table import FeatureParams
from dashboard.ui import acquisition as ui_acquisition
from dashboard.ui import customer_base, predictions, session
from dashboard.ui.text import escape_markdown

FEATURE_BASE = "bh_base"


def get_feature_base(selection: ui.Selection) -> FeatureBase:
    """Return the feature table of the selection, built once per dataset, date, counting rules
    and channel rules.

    The predicted features reuse the Predictions page's fit when this session holds it and it
    was chosen by ``auto`` (the builder's fixed model); otherwise the base fits its own once.
    """
    rules = ui_acquisition.acquisition_settings(selection).rules
    key = (
        selection.dataset,
        ui.dataset_version(selection.dataset),
        selection.as_of,
        selection.start,
        selection.rules,
        rules,
    )

    def load() -> FeatureBase:
        held = predictions.chosen_model() == "auto" and predictions.has_prediction_fit(selection)
        fit = predictions.get_prediction_fit(selection) if held else None
        with st.spinner("Computing customer features and predictions (once per dataset and date)…"):
            return load_feature_base(
                ui.workspace(),
                selection.dataset,
                as_of=selection.as_of,
                start=selection.start,
                params=FeatureParams(counting=selection.rules, channel_rules=rules),
                prediction_fit=fit,
            )

    return session.cached(FEATURE_BASE, key, load, close=FeatureBase.close)


def current_rfm(selection: ui.Selection) -> RfmSpec:
    """Return the RFM scoring of the Segments page (its scheme; custom cut points if moved)."""
    base = customer_base.get_customer_base(selection)
    scoring, cuts = customer_base.get_scoring(selection, base)
    return RfmSpec(selection.scheme.key, cuts if scoring.mode == "custom" else None)


def get_view(base: FeatureBase, spec: RfmSpec) -> ir.Table:
    """Return the feature table with the RFM columns of ``spec`` (cut points kept per spec)."""
    views = session.cached("bh_views", session.held_key(FEATURE_BASE), dict)
    if spec not in views:
        views[spec] = feature_view(base.table, spec, ui.workspace())
    return views[spec]


def known_values(view: ir.Table, feature: str) -> list[object]:
    """Return the values of a text or list feature, most common first (kept per session)."""
    # Views live in the session until the base changes, which replaces this cache too.
    cache = session.cached("bh_values", session.held_key(FEATURE_BASE), dict)
    key = (id(view), feature)
    if key not in cache:
        cache[key] = list_values(view, feature)
    return cache[key]


def show_missing_inputs(missing: dict[str, str]) -> None:
    """Say which features are empty and which file would fill them."""
    if not missing:
        return
    by_file: dict[str, list[str]] = {}
    unfitted: dict[str, list[str]] = {}
    for name, message in missing.items():
        feature = FEATURES[name]
        if feature.source == "predictions":
            unfitted.setdefault(message, []).append(feature.label.lower())
        else:
            by_file.setdefault(SOURCES[feature.source][2], []).append(feature.label.lower())
    empty = formatting.format_count_of(len(missing), "feature")
    verb = "is" if len(missing) == 1 else "are"
    cause = "until more files are loaded" if by_file else "because no model could be fitted"
    with st.expander(f"{empty} {verb} empty {cause}"):
        for file, labels in by_file.items():
            st.markdown(f"- Upload {file} to enable: {', '.join(labels)}.")
        for reason, labels in unfitted.items():
            st.markdown(
                f"- The predictions ({', '.join(labels)}) are unavailable: "
                f"{escape_markdown(reason)}"
            )
