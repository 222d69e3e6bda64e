"""Data: load store exports into a dataset, see what each file gave, delete a dataset."""

import streamlit as st

from dashboard import ui
from dashboard.ui import data as ui_data

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

selection = st.session_state.get(ui.SELECTION)
current = selection.dataset if selection else None

with ui.friendly_errors():
    if current:
        ui_data.show_dataset(selection)

    st.subheader("Load a file")
    target = ui_data.choose_target(current)
    uploaded = ui_data.upload_file()
    if uploaded is not None and target:
        ui_data.load_upload(target, uploaded)
    ui_data.show_last_report()

    if current:
        ui_data.offer_dataset_deletion(current)
