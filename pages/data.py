"""Data: load store exports into a dataset, see what each file gave, delete a dataset."""

import streamlit as st

from dashboard import ingest, ui
from dashboard.ingest import history as ingest_history
from dashboard.ui import data as ui_data
from dashboard.workspace import store

ui.require_entry_point("pages/data.py")
st.title("Data")
st.caption(
    "Load your store's exports into a dataset: Shopify orders, customers and abandoned "
    "checkouts, WooCommerce orders, UCI-style invoice lines, or any table of orders, order lines, "
    "customers, sessions, marketing spend or survey scores (CSV/TSV, Parquet, Excel, .gz or "
    ".zip). Every file's report reconciles its records with the rows loaded, rejected (with "
    "the reason, line and value) and already loaded; pick any file in the history to see its "
    "report again and download it as CSV."
)

workspace = ui.workspace()
selection = st.session_state.get("selection")
current = selection.dataset if selection else None

with ui.friendly_errors():
    if current:
        st.subheader(f"Dataset: {current}")
        ui_data.show_dataset_overview(selection.overview)
        with store.open_for_read(workspace, current) as backend:
            history = store.read_ingest_history(backend)
        st.markdown("**Files loaded**")
        picked = ui_data.show_load_history(history)
        if picked is not None:
            with store.open_for_read(workspace, current) as backend:
                past = ingest_history.read_report(backend, picked)
            ui_data.show_report(past, key="past_report")

    st.subheader("Load a file")
    target_choice = st.radio(
        "Into",
        ([f"Dataset '{current}'"] if current else []) + ["A new dataset"],
        horizontal=True,
    )
    if target_choice == "A new dataset":
        target = st.text_input("New dataset name", placeholder="my-store", max_chars=64)
    else:
        target = current
    uploaded = st.file_uploader(
        "Export file",
        type=["csv", "tsv", "txt", "parquet", "xlsx", "gz", "zip"],
        key=f"upload_{st.session_state.get('uploads', 0)}",
    )
    if uploaded is not None and target:
        store.validate_dataset_name(target)
        path = ui_data.save_upload(uploaded)
        with st.expander("Reading options"):
            date_order = st.selectbox(
                "Date order",
                ingest.DATE_ORDERS,
                format_func={
                    "auto": "Decide from the file",
                    "day-first": "Day first (31/12/2024)",
                    "month-first": "Month first (12/31/2024)",
                }.get,
                help="How dates like 03/04/2024 read when no date in the file tells.",
            )
            decimal = st.selectbox(
                "Decimal mark",
                ingest.DECIMAL_MARKS,
                format_func={
                    "auto": "Decide from the file",
                    ".": "Point (1,234.50)",
                    ",": "Comma (1.234,50)",
                }.get,
            )
        sheet = ui_data.choose_sheet(path, uploaded.name)
        headers = ingest.read_headers(path, sheet)
        formats = [f for f in ingest.FORMATS if f != "auto"]
        file_format = st.selectbox(
            "Format",
            formats,
            index=formats.index(ingest.detect_format(headers)),
            format_func=ui_data.FORMAT_LABELS.get,
            help="Detected from the header; change it if the guess is wrong.",
        )
        mapping = (
            ui_data.mapping_editor(headers, file_format)
            if file_format in ingest.MAPPED_FORMATS
            else None
        )
        if st.button("Load file", type="primary"):
            with st.status(f"Loading {uploaded.name}…", expanded=True) as status:
                bar = st.progress(0.0)
                report = ingest.ingest_file(
                    workspace,
                    target,
                    path,
                    file_format=file_format,
                    mapping=mapping,
                    display_name=uploaded.name,
                    progress=lambda fraction, message: bar.progress(fraction, text=message),
                    date_order=date_order,
                    decimal=decimal,
                    sheet=sheet,
                )
                status.update(label=report.summary(), state="complete")
            st.session_state["last_report"] = report
            st.session_state["dataset"] = target
            # A new uploader key empties it, so the same file is not loaded twice by accident.
            st.session_state["uploads"] = st.session_state.get("uploads", 0) + 1
            st.rerun()
    if st.session_state.get("last_report") is not None:
        ui_data.show_report(st.session_state["last_report"], key="last_report")

    if current:
        with st.expander("Delete a dataset"):
            confirm = st.checkbox(f"Yes, delete '{current}' and everything loaded into it")
            if st.button("Delete dataset", disabled=not confirm):
                store.delete_dataset(workspace, current)
                st.session_state.pop("dataset", None)
                st.session_state.pop("last_report", None)
                st.rerun()
