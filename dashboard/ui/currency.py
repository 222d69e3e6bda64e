"""The Data page's currency setting, for datasets whose files did not state a currency."""

from __future__ import annotations

import streamlit as st

from dashboard import formatting, ui
from dashboard.errors import UserError
from dashboard.ingest import currency
from dashboard.rfm import analysis
from dashboard.ui.text import escape_markdown

NOTICE = "currency_notice"
COMMON_CODES = ["USD", "EUR", "GBP", "CAD", "AUD", "JPY", "CHF", "SEK", "NOK", "DKK", "PLN"]


def offer_currency_setting(dataset: str, overview: analysis.DatasetOverview) -> None:
    """Let the analyst give the orders without a currency theirs: prominent when the dataset
    has no currency at all, in an expander otherwise. After a change the page reruns, so every
    figure shows the new currency."""
    notice = st.session_state.pop(NOTICE, None)
    if notice:
        st.success(notice)
    if overview.currencies:
        box = st.expander("Currency of orders loaded without one")
    else:
        st.warning(
            "The files did not say which currency the orders are in, so money shows without a "
            "symbol. Set it here (or with `python -m dashboard set-currency`)."
        )
        box = st.container(border=True)
    with box, st.form(f"currency_{dataset}", border=False):
        columns = st.columns([2, 1])
        code = columns[0].selectbox(
            "Currency (ISO 4217 code)",
            COMMON_CODES,
            index=None,
            accept_new_options=True,
            placeholder="Choose or type a code, e.g. USD",
            help="Fills only orders without a currency; a currency a file stated is kept.",
        )
        applied = columns[1].form_submit_button("Set currency")
    if applied and code:
        try:
            changed = currency.set_currency(ui.workspace(), dataset, code)
        except UserError as exc:
            st.error(escape_markdown(exc))
            return
        st.session_state[NOTICE] = (
            f"{formatting.format_count(changed)} orders without a currency are now in "
            f"{escape_markdown(code.strip().upper())}."
        )
        st.rerun()
