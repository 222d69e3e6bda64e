"""Per-session state: the session's lock and the values it computed once per key.

Everything is kept in ``st.session_state`` (one per browser session), never in a process-wide
cache, so two sessions never see each other's data.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import TypeVar

import streamlit as st

SESSION_LOCK = "session_lock"

_T = TypeVar("_T")


def session_lock() -> threading.RLock:
    """Return the lock that serialises this session's runs and deferred downloads."""
    return st.session_state.setdefault(SESSION_LOCK, threading.RLock())


def cached(
    slot: str,
    key: Hashable,
    compute: Callable[[], _T],
    close: Callable[[_T], None] | None = None,
) -> _T:
    """Return the value held in ``st.session_state[slot]`` for ``key``, else compute and hold it.

    A value held for another key is dropped first, and ``close``d when given, so that a replaced
    private DuckDB connection is released before the next one opens and a failed ``compute``
    leaves nothing stale behind.
    """
    held = st.session_state.get(slot)
    if held is not None and held[0] == key:
        return held[1]
    if held is not None:
        del st.session_state[slot]
        if close is not None:
            close(held[1])
    value = compute()
    st.session_state[slot] = (key, value)
    return value


def held_key(slot: str) -> Hashable | None:
    """Return the key of the value ``cached`` holds in ``slot`` (None when it holds none)."""
    held = st.session_state.get(slot)
    return None if held is None else held[0]


def defer_in_session(make: Callable[[], bytes]) -> Callable[[], bytes]:
    """Wrap ``make`` for ``st.download_button(data=...)``: run on click, under the session lock.

    Streamlit calls a deferred download on another thread; the lock keeps it from using the
    session's private DuckDB connection while a rerun does.
    """
    lock = session_lock()

    def run_locked() -> bytes:
        with lock:
            return make()

    return run_locked
