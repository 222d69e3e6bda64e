"""Entry point: `streamlit run streamlit_app.py` (what `make run` starts).

Draws the shared sidebar (dataset, analysis date, window, scheme) once, then the chosen page.
"""

import streamlit as st

from dashboard import ui
from dashboard.ui import auth, uploads

# No page or navigation icons: Streamlit fetches Material icons for the favicon from the internet,
# and the machines this runs on may be offline.
st.set_page_config(page_title="Customer segments", layout="wide")
auth.enforce_bind_rule()

navigation = st.navigation(
    [
        st.Page("pages/segments.py", title="Segments", default=True),
        st.Page("pages/data.py", title="Data"),
        st.Page("pages/studio.py", title="RFM studio"),
        st.Page("pages/channels.py", title="Channels"),
        st.Page("pages/cohorts.py", title="Cohorts"),
        st.Page("pages/maturity.py", title="Maturity"),
        st.Page("pages/behaviour.py", title="Behaviour"),
        st.Page("pages/products.py", title="Products"),
        st.Page("pages/predictions.py", title="Predictions"),
    ]
)
ui.mark_entry_point()
uploads.clean_stale_uploads_at_start()
st.session_state[ui.SELECTION] = None
with ui.friendly_errors():
    st.session_state[ui.SELECTION] = ui.render_sidebar()
navigation.run()
