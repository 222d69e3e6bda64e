"""Segment downloads: the members for email and ads tools, their stamp, the definition."""

from __future__ import annotations

import ibis.expr.types as ir
import streamlit as st

from dashboard import playbook, ui
from dashboard.behaviour import segment_export
from dashboard.behaviour.catalogue import FEATURES
from dashboard.behaviour.compiler import sql_for_definition
from dashboard.behaviour.definitions import Definition, definition_to_json
from dashboard.behaviour.feature_base import FeatureBase


def offer_downloads(
    selection: ui.Selection,
    base: FeatureBase,
    view: ir.Table,
    definition: Definition,
    name: str,
    key: str,
) -> None:
    """Download the members (CSV, Klaviyo, Shopify tags, Parquet) with their stamp, and the
    definition as JSON and SQL. The columns offered first carry the predicted fields when the
    models could be fitted."""
    columns = st.columns([2, 4, 2])
    fmt = columns[0].selectbox("File", segment_export.FORMATS, key=f"bh_format_{key}")
    chosen: list[str] | None = None
    tag = None
    if fmt == "shopify-tags":
        tag = columns[1].text_input("Tag to add", value=name, key=f"bh_tag_{key}")
    else:
        predicted = not any(FEATURES[name].source == "predictions" for name in base.missing)
        default = segment_export.default_columns(fmt, predicted)
        chosen = columns[1].multiselect(
            "Columns",
            list(FEATURES),
            default=list(default),
            format_func=lambda n: FEATURES[n].label,
            key=f"bh_columns_{key}_{fmt}",
        )
    dialect = columns[2].selectbox("SQL for", segment_export.DIALECTS, key=f"bh_dialect_{key}")
    include = fmt in segment_export.CONSENT_COLUMNS and st.checkbox(
        "Include customers who did not accept e-mail marketing",
        key=f"bh_consent_{key}",
        help="Off by default: a list for an e-mail tool should hold only customers who accepted. "
        "Turning it on is recorded in the file's stamp and the server log.",
    )
    kind = {"builder": "saved"}.get(key, key)
    entry = playbook.describe_named_segment(
        ui.workspace(), selection.dataset, kind, selection.scheme, name
    )
    segment_export.require_predictions(definition, base.missing)
    exported = segment_export.export_segment(
        view, definition, fmt, selection.dataset, name, base.window, chosen, tag, include, entry
    )
    consent = segment_export.describe_consent(exported.stamp)
    if consent:
        st.caption(consent)
    buttons = st.columns(4)
    buttons[0].download_button(
        f"Download {exported.stamp['row_count']:,} rows ({fmt})",
        exported.data,
        file_name=exported.file_name,
        mime=exported.mime,
        on_click="ignore",
        key=f"bh_download_{key}",
    )
    buttons[1].download_button(
        "File record (JSON)",
        exported.stamp_json(),
        file_name=exported.file_name + ".stamp.json",
        mime="application/json",
        help="The stamp of the members file: dataset, segment, analysis date and window, row "
        "count, who was left out and why, columns, time of export and the definition. Keep it "
        "beside the file to know later what it holds.",
        on_click="ignore",
        key=f"bh_stamp_{key}",
    )
    buttons[2].download_button(
        "Definition (JSON)",
        definition_to_json(definition),
        file_name=f"{exported.file_name.rsplit('-', 1)[0]}-definition.json",
        mime="application/json",
        on_click="ignore",
        key=f"bh_definition_{key}",
    )
    buttons[3].download_button(
        f"Definition (SQL, {dialect})",
        sql_for_definition(definition, dialect),
        file_name=f"{exported.file_name.rsplit('-', 1)[0]}-{dialect}.sql",
        mime="application/sql",
        help="Selects the members' customer_id and email from a table customer_features with "
        "the columns of the feature table (the Parquet download with every column).",
        on_click="ignore",
        key=f"bh_sql_{key}",
    )
