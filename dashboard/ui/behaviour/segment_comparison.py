"""Overlap and SCALE: how the chosen segments overlap and which to work on first."""

from __future__ import annotations

import ibis.expr.types as ir
import streamlit as st

from dashboard import formatting, ui
from dashboard.behaviour import presets, segment_store
from dashboard.behaviour.catalogue import TREND_WINDOWS_DAYS
from dashboard.behaviour.definitions import Definition, RfmSpec
from dashboard.behaviour.feature_base import FeatureBase
from dashboard.behaviour.overlap import overlap_matrix
from dashboard.behaviour.scale import scale_table
from dashboard.ui.behaviour import feature_cache

DEFAULT_COMPARED = ("top_spenders", "one_time", "coupon", "newsletter")


def comparable_segments(
    dataset: str, view: ir.Table, missing: dict[str, str], spec: RfmSpec
) -> dict[str, Definition]:
    """Saved segments ("<name> (saved)") and the presets whose data is there (by name), with
    their default values and the most common value of a set (none: the preset is left out)."""
    found: dict[str, Definition] = {}
    for name in segment_store.list_segments(ui.workspace(), dataset):
        found[f"{name} (saved)"] = segment_store.load_segment(ui.workspace(), dataset, name)
    for preset in presets.PRESETS.values():
        if presets.missing_for_preset(preset, missing):
            continue
        values = {
            p.key: feature_cache.known_values(view, p.feature)[:1]
            for p in preset.params
            if p.kind == presets.SET_PARAM
        }
        if all(values.values()):
            found[preset.name] = presets.preset_definition(preset, values, spec)
    return found


def compare_segments(
    selection: ui.Selection, base: FeatureBase, view: ir.Table, spec: RfmSpec
) -> None:
    """Overlap matrix (counts and %) and the SCALE table of the chosen segments."""
    found = comparable_segments(selection.dataset, view, base.missing, spec)
    defaults = [
        presets.PRESETS[k].name for k in DEFAULT_COMPARED if presets.PRESETS[k].name in found
    ]
    chosen = st.multiselect("Segments to compare", list(found), default=defaults, key="bh_compare")
    if len(chosen) < 2:
        st.info("Choose at least two segments.")
        return
    definitions = {name: found[name] for name in chosen}
    counts, shares = overlap_matrix(base.table, definitions, ui.workspace())
    st.markdown("**Overlap**: customers in both the row's and the column's segment")
    st.dataframe(
        counts,
        width="stretch",
        column_config={c: st.column_config.NumberColumn(c, format="localized") for c in chosen},
        key="bh_overlap_counts",
    )
    st.markdown("**Overlap in %** of the row's segment")
    st.dataframe(
        shares,
        width="stretch",
        column_config={c: st.column_config.NumberColumn(c, format="percent") for c in chosen},
        key="bh_overlap_shares",
    )
    days = st.select_slider(
        "Early adoption: bought within (days of a product's launch)",
        options=list(TREND_WINDOWS_DAYS),
        value=30,
        key="bh_scale_days",
    )
    scale = scale_table(base.table, definitions, ui.workspace(), days)
    st.markdown("**SCALE**: which segment to work on first (highest score first)")
    st.dataframe(
        scale,
        hide_index=True,
        width="stretch",
        column_config=scale_column_config(selection.currency),
        key="bh_scale",
        placeholder="—",
    )


def scale_column_config(currency: str | None) -> dict[str, object]:
    """Column labels and number formats of the SCALE table."""
    money = formatting.table_money_format(currency)
    unit = f" ({currency})" if currency else ""
    return {
        "segment": st.column_config.TextColumn("Segment"),
        "size": st.column_config.NumberColumn("Size (customers)", format="localized"),
        "share_customers": st.column_config.NumberColumn("% of customers", format="percent"),
        "currency": st.column_config.NumberColumn(f"Currency: average spend{unit}", format=money),
        "access": st.column_config.NumberColumn("Access: reachable with consent", format="percent"),
        "love_repeat_rate": st.column_config.NumberColumn("Love: repeat rate", format="percent"),
        "love_satisfaction": st.column_config.NumberColumn(
            "Love: average survey score", format="%.1f"
        ),
        "early_adoption": st.column_config.NumberColumn(
            "Early adoption: trend-follower share", format="percent"
        ),
        "revenue_at_stake": st.column_config.NumberColumn(f"Revenue at stake{unit}", format=money),
        "share_revenue": st.column_config.NumberColumn("% of revenue", format="percent"),
        "scale_score": st.column_config.NumberColumn(
            "SCALE score",
            format="%.2f",
            help="Mean of the segment's rank on Size, Currency, Access, repeat rate and Early "
            "adoption among the compared segments (1 = best on all).",
        ),
    }
