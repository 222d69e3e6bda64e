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

# Each section shows its own problem, so a failed load never hides the sections after it.
if current:
    with ui.friendly_errors():
        ui_data.show_dataset(selection)

st.subheader("Load a file")
with ui.friendly_errors():
    target = ui_data.choose_target(current)
    uploaded = ui_data.upload_file()
    if uploaded is not None:
        ui_data.load_upload(target, uploaded)
with ui.friendly_errors():
    ui_data.show_last_report(current)

if current:
    with ui.friendly_errors():
        ui_data.offer_dataset_deletion(current)
