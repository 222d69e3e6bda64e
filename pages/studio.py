"""RFM studio: explain a customer, migration, backtest, clusters and the scheme's segment map."""

import streamlit as st

from dashboard import ui
from dashboard.ui import customer_base, scheme_editor
from dashboard.ui import studio as ui_studio

ui.require_entry_point("pages/studio.py")
st.title("RFM studio")
st.caption(
    "Look inside the scoring: why a customer is in a segment, how customers move between "
    "segments, whether segments predict what customers do next, and the scheme itself."
)

selection = ui.require_selection()

with ui.friendly_errors():
    base = customer_base.get_customer_base(selection)
    scoring, cuts = customer_base.get_scoring(selection, base)
    st.caption(
        f"Scheme: {selection.scheme.name}; {scoring.mode} cut points, as on the Segments page."
    )
    explain_tab, migration_tab, backtest_tab, clusters_tab, schemes_tab = st.tabs(
        ["Explain a customer", "Migration", "Backtest", "Clusters", "Schemes"],
        key="studio_tab",
        on_change="rerun",
    )
    # Only the open tab is drawn: each tab queries the data, and every widget reruns the page.
    with explain_tab:
        if explain_tab.open:
            ui_studio.explain_customer(selection, base, cuts)
    with migration_tab:
        if migration_tab.open:
            ui_studio.show_migration(selection, scoring)
    with backtest_tab:
        if backtest_tab.open:
            ui_studio.show_backtest(selection, scoring)
    with clusters_tab:
        if clusters_tab.open:
            ui_studio.show_clusters(selection, base, cuts)
    with schemes_tab:
        if schemes_tab.open:
            scheme_editor.edit_scheme(selection.scheme)
