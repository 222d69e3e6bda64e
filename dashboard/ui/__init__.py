"""The Streamlit side: the shared sidebar and the selection it makes, the entry point that
draws it, and page bodies that show problems as sentences.

With its submodules (per-session state in ``session``, each page family's widgets in its own
module), the only part of the engine that imports streamlit.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from dashboard import errors, formatting, order_rules
from dashboard.errors import UserError
from dashboard.rfm import analysis, scheme_io, schemes
from dashboard.ui import auth, session
from dashboard.ui.text import escape_markdown
from dashboard.workspace import limits, store

DEFAULT_DATASET_ENV = "SEGMENTS_DATASET"
SELECTION = "selection"
NO_DATASET = "Choose a dataset in the sidebar, or load your store's exports on the Data page."
ENTRY_POINT_FLAG = "entry_point_ran"
REQUESTED_PAGE = "requested_page"


@dataclass(frozen=True)
class Selection:
    """What the sidebar chose: dataset, analysis date, window start, counting rules and scheme."""

    dataset: str
    overview: analysis.DatasetOverview
    as_of: dt.date
    start: dt.date | None
    rules: order_rules.CountingRules
    scheme: schemes.Scheme

    @property
    def currency(self) -> str | None:
        """The dataset's single currency, or None."""
        return formatting.single_currency(self.overview.currencies)


def workspace() -> Path:
    """Return the workspace directory (from $SEGMENTS_WORKSPACE or data/workspace)."""
    return store.resolve_workspace()


@contextmanager
def friendly_errors() -> Iterator[None]:
    """Run a page body one at a time per session, showing problems as sentences (a dataset
    whose orders have no customer key as a warning: the data is missing, nothing failed).

    When a widget changes while a run is busy, Streamlit starts the new run in another thread
    before the old one reaches its next stop point; both would use the session's private DuckDB
    connection at once. The per-session lock makes the new run wait instead.
    """
    with session.session_lock():
        try:
            yield
        except analysis.NoCustomerKeyError as exc:
            st.warning(escape_markdown(exc))
        except UserError as exc:
            st.error(escape_markdown(exc))
        except limits.ENGINE_LIMIT_ERRORS as exc:
            st.error(escape_markdown(limits.explain_engine_error(exc)))
        except Exception as exc:
            st.error(errors.describe_bug(exc, "this page"))


def require_selection() -> Selection:
    """Return the sidebar's selection, or say how to get one (or why it may not be opened) and
    stop the page."""
    selection = st.session_state.get(SELECTION)
    if selection is None:
        st.info(NO_DATASET)
        st.stop()
    try:
        auth.require_role(selection.dataset)
    except UserError as exc:
        st.error(escape_markdown(exc))
        st.stop()
    return selection


def dataset_version(name: str) -> int:
    """Return a number that changes whenever the dataset's file is written.

    Every per-session loader keys its cache on it, so it is where access to a dataset is checked.
    """
    auth.require_role(name)
    path = store.dataset_path(workspace(), name)
    return path.stat().st_mtime_ns if path.exists() else 0


def get_overview(name: str) -> analysis.DatasetOverview:
    """Return the dataset's headline facts, cached in this session until the file changes."""
    return session.cached(
        "overview",
        (name, dataset_version(name)),
        lambda: analysis.describe_dataset(workspace(), name),
    )


def get_currency_warning(name: str, overview: analysis.DatasetOverview) -> str | None:
    """Return ``describe_currency_mix`` of the dataset, kept in this session per version."""
    if len(overview.currencies) < 2:
        return None

    def describe() -> str | None:
        with store.open_for_read(workspace(), name) as backend:
            return order_rules.describe_currency_mix(backend.table("orders"))

    return session.cached("currency_warning", (name, dataset_version(name)), describe)


def choose_dataset() -> str | None:
    """Sidebar dataset picker (the demo store preselected); None when the workspace is empty."""
    listed = store.list_datasets(workspace())
    names = auth.allowed_datasets(listed)
    if not names:
        st.sidebar.info(
            auth.NO_DATASET_ALLOWED if listed else "No dataset yet: load a file on the Data page."
        )
        return None
    preferred = st.session_state.get("dataset") or os.environ.get(DEFAULT_DATASET_ENV, "demo")
    index = names.index(preferred) if preferred in names else 0
    name = st.sidebar.selectbox("Dataset", names, index=index, help="One store's data.")
    st.session_state["dataset"] = name
    return name


def render_sidebar() -> Selection | None:
    """Draw the shared sidebar (dataset, date, window, counting, scheme); return the choice."""
    name = choose_dataset()
    if name is None:
        return None
    overview = get_overview(name)
    if overview.last_order_on is None:
        st.sidebar.warning("This dataset has no orders yet.")
        return None
    as_of = st.sidebar.date_input(
        "Analysis date",
        value=overview.last_order_on,
        min_value=overview.first_order_on,
        max_value=overview.last_order_on,
        key=f"as_of_{name}",
        help="Recency is counted back from this date; later orders are ignored.",
    )
    window = st.sidebar.selectbox(
        "Look-back window",
        ["All history", "Last 12 months", "Last 24 months"],
        key=f"window_{name}",
        help="Only orders inside the window count for frequency and revenue.",
    )
    months = {"Last 12 months": 12, "Last 24 months": 24}.get(window)
    start = as_of - dt.timedelta(days=round(months * 365.25 / 12) - 1) if months else None
    count_zero_value = st.sidebar.checkbox(
        "Count zero-value orders as purchases",
        value=False,
        key="count_zero_value",
        help="Orders with a total of 0 (free samples, 100% discounts, replacements) count for "
        "frequency and recency when ticked; by default they do not.",
    )
    rules = order_rules.CountingRules(exclude_zero_value=not count_zero_value)
    scheme = choose_scheme()
    currency_warning = get_currency_warning(name, overview)
    if currency_warning:
        st.sidebar.warning(escape_markdown(currency_warning))
    return Selection(name, overview, as_of, start, rules, scheme)


def require_entry_point(page: str) -> None:
    """Send a session that opened ``page`` by its address through the entry point first.

    Until ``streamlit_app.py`` has called ``st.navigation`` once in the server process,
    Streamlit treats ``pages/`` as an old-style page folder and runs a page alone, without the
    shared sidebar. The entry point then forwards to ``page`` (see ``resume_requested_page``).
    """
    if not st.session_state.get(ENTRY_POINT_FLAG):
        st.session_state[REQUESTED_PAGE] = page
        st.switch_page("streamlit_app.py")


def mark_entry_point() -> None:
    """Record that the entry point ran in this session, and forward to a page asked for first."""
    st.session_state[ENTRY_POINT_FLAG] = True
    requested = st.session_state.pop(REQUESTED_PAGE, None)
    if requested is not None:
        st.switch_page(requested)


def choose_scheme() -> schemes.Scheme:
    """Sidebar scheme picker: the presets, then the custom schemes saved in the workspace."""
    saved = [scheme_io.CUSTOM_PREFIX + name for name in scheme_io.list_custom_schemes(workspace())]
    keys = [*schemes.PRESETS, *saved]
    key = st.sidebar.selectbox(
        "Segment scheme",
        keys,
        index=keys.index(schemes.DEFAULT_SCHEME),
        format_func=lambda key: (
            schemes.PRESETS[key].name
            if key in schemes.PRESETS
            else f"{key.removeprefix(scheme_io.CUSTOM_PREFIX)} (custom)"
        ),
        key="scheme",
    )
    if key in schemes.PRESETS:
        chosen = schemes.PRESETS[key]
    else:
        chosen = scheme_io.load_custom_scheme(
            workspace(), key.removeprefix(scheme_io.CUSTOM_PREFIX)
        )
    scales = [3, 4, 5]
    scores = st.sidebar.selectbox(
        "Scores per measure",
        scales,
        index=scales.index(chosen.n_scores),
        key=f"scores_{key}",
        help="Score customers 1-3, 1-4 or 1-5; a scheme drawn on another scale reads each cell "
        "on its own table (the rule is shown under 'How these numbers are computed').",
    )
    return scheme_io.rescale_scheme(chosen, scores)
