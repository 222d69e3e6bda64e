"""The Segments page's "Prioritise segments (SCALE)": the scheme's groups ranked by SCALE."""

from __future__ import annotations

import streamlit as st

from dashboard import ui
from dashboard.behaviour import scale
from dashboard.rfm import cut_points
from dashboard.ui import acquisition as ui_acquisition
from dashboard.ui.behaviour import feature_cache, segment_comparison


def show_rfm_scale(selection: ui.Selection, cuts: cut_points.Cuts) -> None:
    """An expander ranking the groups of ``selection.scheme`` under ``cuts`` by SCALE, with the
    Behaviour page's weight and Love inputs (docs/behaviour.md §6)."""
    with st.expander("Prioritise segments (SCALE)"):
        st.caption(
            "Size, Currency, Access, Love and Early adoption of each segment, scored 0..1 across "
            "the segments and averaged with your weights; the report ranks with weights 1 and "
            "Love 5."
        )
        # The feature table fits the prediction models once; build it only when asked.
        if not st.toggle("Rank the segments by SCALE", key="rfm_scale_on"):
            return
        base = feature_cache.get_feature_base(selection)
        weights, early_months = segment_comparison.choose_scale_weights()
        love = segment_comparison.choose_love(list(selection.scheme.segments))
        channel_cac = None
        if ui_acquisition.dataset_has_spend(selection):
            settings = ui_acquisition.acquisition_settings(selection)
            report = ui_acquisition.get_channel_report(selection, settings)
            channel_cac = scale.read_channel_cacs(report.economics)
        table = scale.rank_rfm_segments(
            base.table,
            selection.scheme,
            cuts,
            love,
            weights,
            early_months,
            channel_cac,
            selection.currency,
        )
        shown = [c for c in table.columns if c in segment_comparison.SHOWN_SCALE_COLUMNS]
        st.dataframe(
            table,
            hide_index=True,
            width="stretch",
            column_order=shown,
            column_config=segment_comparison.scale_column_config(selection.currency),
            key="rfm_scale",
            placeholder="—",
        )
