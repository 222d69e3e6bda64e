"""Progress of the slow first steps of a page: a status box while they run, gone when done."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import streamlit as st


@contextmanager
def show_steps(label: str) -> Iterator[Callable[[str], None]]:
    """Show an ``st.status`` box titled ``label`` while the block runs; yield ``step(text)``.

    Each ``step`` adds a line naming what runs next. The box is removed when the block ends, so
    a rerun whose results are already held in the session shows nothing lasting.
    """
    placeholder = st.empty()
    try:
        with placeholder.status(label, expanded=True) as status:
            yield status.write
    finally:
        placeholder.empty()
