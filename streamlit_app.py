"""Entry point: `streamlit run streamlit_app.py` (what `make run` starts).

Draws the shared sidebar (dataset, analysis date, window, scheme) once, then the chosen page.
"""

import streamlit as st

from dashboard import ui

# No page_icon: a Material icon favicon is fetched from the internet, and machines may be offline.
st.set_page_config(page_title="Customer segments", layout="wide")

navigation = st.navigation(
    [
        st.Page("pages/segments.py", title="Segments", icon=":material/donut_small:", default=True),
        st.Page("pages/data.py", title="Data", icon=":material/upload_file:"),
        st.Page("pages/studio.py", title="RFM studio", icon=":material/science:"),
        st.Page("pages/channels.py", title="Channels", icon=":material/campaign:"),
        st.Page("pages/cohorts.py", title="Cohorts", icon=":material/grid_on:"),
        st.Page("pages/maturity.py", title="Maturity", icon=":material/trending_up:"),
        st.Page("pages/behaviour.py", title="Behaviour", icon=":material/filter_alt:"),
    ]
)
ui.mark_entry_point()
st.session_state["selection"] = None
with ui.friendly_errors():
    st.session_state["selection"] = ui.render_sidebar()
navigation.run()
