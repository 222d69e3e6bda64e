"""Products: what customers buy and whether they stay: bright spots of a segment, gateway
products, replenishment cycles, basket affinity, retention and abandoned checkouts."""

import streamlit as st

from dashboard import ui
from dashboard.ui import products as ui_products

ui.require_entry_point("pages/products.py")
st.title("Products")
st.caption(
    "What each segment buys more than everyone else, which first products bring customers "
    "back, when each product runs out, what is bought together, and how many customers stay "
    "from one month or quarter to the next."
)

selection = ui.require_selection()

with ui.friendly_errors():
    ui_products.show_sections(selection)
