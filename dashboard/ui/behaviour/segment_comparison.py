"""Overlap and SCALE: how the chosen segments overlap and which to work on first."""

from __future__ import annotations

import hashlib

import ibis.expr.types as ir
import pandas as pd
import streamlit as st

from dashboard import formatting, ui
from dashboard.behaviour import presets, scale, segment_store
from dashboard.behaviour.definitions import Definition, RfmSpec
from dashboard.behaviour.feature_base import FeatureBase
from dashboard.behaviour.overlap import overlap_matrix
from dashboard.ui import acquisition as ui_acquisition
from dashboard.ui.behaviour import feature_cache

DEFAULT_COMPARED = ("top_spenders", "one_time", "coupon", "newsletter")
# Each letter's score and figures; the raw numbers behind them stay in the data, off screen.
SHOWN_SCALE_COLUMNS = [
    *scale.SCALE_COLUMNS[: scale.SCALE_COLUMNS.index("share_revenue") + 1],
    *scale.CAC_COLUMNS,
]


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
    st.markdown("**SCALE**: which segment to work on first (highest score first)")
    weights, early_months = choose_scale_weights()
    love = choose_love(chosen)
    channel_cac = None
    if ui_acquisition.dataset_has_spend(selection):
        settings = ui_acquisition.acquisition_settings(selection)
        report = ui_acquisition.get_channel_report(selection, settings)
        channel_cac = scale.read_channel_cacs(report.economics)
    table = scale.scale_table(
        base.table,
        definitions,
        ui.workspace(),
        love,
        weights,
        early_months,
        channel_cac,
        selection.currency,
    )
    shown = [c for c in table.columns if c in SHOWN_SCALE_COLUMNS]
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_order=shown,
        column_config=scale_column_config(selection.currency),
        key="bh_scale",
        placeholder="—",
    )
    if channel_cac is not None:
        st.caption(
            "CAC (channel mix): each channel's CAC over all history (Channels page rules and "
            "spend mapping), weighted by the segment's members per acquisition channel; "
            "Unattributed members are left out and channels without spend cost 0."
        )


def choose_scale_weights() -> tuple[dict[str, float], int]:
    """The analyst's weight per SCALE letter (default 1 each) and the store's first months that
    count for Early adoption (default 3)."""
    cells = st.columns(len(scale.LETTERS) + 1)
    weights = {
        letter: cell.number_input(
            f"Weight: {scale.LETTER_NAMES[letter]}",
            min_value=0.0,
            max_value=10.0,
            value=1.0,
            step=0.5,
            key=f"bh_scale_weight_{letter}",
        )
        for letter, cell in zip(scale.LETTERS, cells, strict=False)
    }
    early_months = cells[-1].number_input(
        "Early: first months",
        min_value=1,
        max_value=scale.MAX_EARLY_MONTHS,
        value=scale.DEFAULT_EARLY_MONTHS,
        step=1,
        key="bh_scale_early_months",
        help="Early adoption = share of members whose first order is in the store's first "
        "months (counted from the earliest first order).",
    )
    return weights, int(early_months)


def choose_love(segments: list[str]) -> dict[str, float]:
    """The analyst's Love (0..10, default 5) per segment, kept in the session by segment name."""
    held: dict[str, float] = st.session_state.setdefault("bh_scale_love_values", {})
    rows = pd.DataFrame(
        {"segment": segments, "love": [held.get(s, scale.DEFAULT_LOVE) for s in segments]}
    )
    # The editor's edits are kept by row, so each list of segments gets its own editor.
    digest = hashlib.sha1("\n".join(segments).encode()).hexdigest()[:12]
    edited = st.data_editor(
        rows,
        hide_index=True,
        disabled=["segment"],
        column_config={
            "segment": st.column_config.TextColumn("Segment"),
            "love": st.column_config.NumberColumn(
                "Love (0-10)",
                min_value=0,
                max_value=scale.MAX_LOVE,
                step=1,
                required=True,
                help="Your own preference for working with this segment: 10 = most.",
            ),
        },
        key=f"bh_scale_love_{digest}",
    )
    held.update({str(s): float(v) for s, v in zip(edited.segment, edited.love, strict=True)})
    return {s: held[s] for s in segments}


def scale_column_config(currency: str | None) -> dict[str, object]:
    """Column labels and number formats of the SCALE table."""
    money = formatting.table_money_format(currency)
    unit = f" ({currency})" if currency else ""
    letters: dict[str, object] = {}
    for letter, name in scale.LETTER_NAMES.items():
        letters[f"{letter}_score"] = st.column_config.NumberColumn(
            f"{name[0]}: {name}",
            format="%.2f",
            help=f"{name} scored 0..1 across the compared segments (min-max: 1 = the highest).",
        )
        letters[f"{letter}_why"] = st.column_config.TextColumn(f"{name}: figures")
    return {
        "segment": st.column_config.TextColumn("Segment"),
        **letters,
        "cac_channel_mix": st.column_config.NumberColumn(f"CAC (channel mix){unit}", format=money),
        "conversion": st.column_config.NumberColumn(
            "Conversion", format="percent", help="Members who bought in the window / members."
        ),
        "revenue_per_customer": st.column_config.NumberColumn(
            f"Revenue per customer{unit}", format=money, help="Net revenue / members who bought."
        ),
        "revenue_to_cac": st.column_config.NumberColumn(
            "Revenue per customer / CAC", format="%.1f"
        ),
        "revenue_at_stake": st.column_config.NumberColumn(f"Revenue at stake{unit}", format=money),
        "share_revenue": st.column_config.NumberColumn("% of revenue", format="percent"),
        "scale_score": st.column_config.NumberColumn(
            "SCALE score",
            format="%.2f",
            help="Weighted mean of the five letters' scores with your weights (1 = best on all).",
        ),
    }
