"""What the Behaviour page's last button did, and definition errors shown as sentences.

Button callbacks run before the page is drawn again, so they leave their message in the session
for the page to show once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from dashboard.behaviour.definitions import DefinitionError
from dashboard.ui.text import escape_markdown

NOTICE = "bh_notice"


@contextmanager
def definition_errors() -> Iterator[None]:
    """Show a DefinitionError as a sentence instead of failing the page."""
    try:
        yield
    except DefinitionError as exc:
        st.error(escape_markdown(exc))


def notify(text: str, slot: str = NOTICE) -> None:
    """Leave ``text`` in ``slot`` for the next run to show."""
    st.session_state[slot] = text


def show_notice() -> None:
    """Show (once) what the last button did."""
    text = st.session_state.pop(NOTICE, None)
    if text:
        st.success(escape_markdown(text))


def show_error(slot: str) -> None:
    """Show (once) the error a button callback left in ``slot``."""
    error = st.session_state.pop(slot, None)
    if error:
        st.error(escape_markdown(error))
