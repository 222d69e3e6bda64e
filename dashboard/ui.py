"""The Streamlit side: session state, the shared sidebar and widgets the pages reuse.

This is the only module of the engine package that imports streamlit. Everything a user loads
or computes is kept in ``st.session_state`` (one per browser session), never in a process-wide
cache, so two sessions never see each other's data.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import pandas as pd
import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from dashboard import (
    acquisition,
    analysis,
    backtest,
    channels,
    explain,
    formatting,
    ingest,
    maturity,
    migration,
    rfm,
    scheme_io,
    schemes,
    sensitivity,
    spend,
    store,
)
from dashboard.export import to_csv_bytes
from dashboard.ingest.report import IngestError, IngestReport

if TYPE_CHECKING:
    from dashboard.clustering import Clustering

DEFAULT_DATASET_ENV = "SEGMENTS_DATASET"
LOG = logging.getLogger("dashboard")
KNOWN_ERRORS = (
    store.WorkspaceError,
    IngestError,
    rfm.CutsError,
    schemes.SchemeError,
    migration.MigrationError,
)
SUGGESTED_FREQUENCY_CUTS = (2.0, 3.0, 5.0, 10.0)
ENTRY_POINT_FLAG = "entry_point_ran"
REQUESTED_PAGE = "requested_page"
SESSION_LOCK = "session_lock"


@dataclass(frozen=True)
class Selection:
    """What the sidebar chose: dataset, analysis date, window start and scheme."""

    dataset: str
    overview: analysis.DatasetOverview
    as_of: dt.date
    start: dt.date | None
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
    """Run a page body one at a time per session, showing problems as sentences.

    When a widget changes while a run is busy, Streamlit starts the new run in another thread
    before the old one reaches its next stop point; both would use the session's private DuckDB
    connection at once. The per-session lock makes the new run wait instead.
    """
    lock = st.session_state.setdefault(SESSION_LOCK, threading.RLock())
    with lock:
        try:
            yield
        except KNOWN_ERRORS as exc:
            st.error(str(exc))
        except Exception:
            LOG.exception("Unexpected error in the dashboard")
            st.error(
                "Something unexpected went wrong and the page could not finish. Nothing was "
                "changed; the details are in the server log."
            )


def dataset_version(name: str) -> int:
    """Return a number that changes whenever the dataset's file is written."""
    path = store.dataset_path(workspace(), name)
    return path.stat().st_mtime_ns if path.exists() else 0


def get_overview(name: str) -> analysis.DatasetOverview:
    """Return the dataset's headline facts, cached in this session until the file changes."""
    key = ("overview", name, dataset_version(name))
    if st.session_state.get("overview_key") != key:
        st.session_state["overview"] = analysis.describe_dataset(workspace(), name)
        st.session_state["overview_key"] = key
    return st.session_state["overview"]


def choose_dataset() -> str | None:
    """Sidebar dataset picker (the demo store preselected); None when the workspace is empty."""
    names = store.list_datasets(workspace())
    if not names:
        st.sidebar.info("No dataset yet: load a file on the Data page.")
        return None
    preferred = st.session_state.get("dataset") or os.environ.get(DEFAULT_DATASET_ENV, "demo")
    index = names.index(preferred) if preferred in names else 0
    name = st.sidebar.selectbox("Dataset", names, index=index, help="One store's data.")
    st.session_state["dataset"] = name
    return name


def render_sidebar() -> Selection | None:
    """Draw the shared sidebar (dataset, analysis date, window, scheme) and return the choice."""
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
    scheme = choose_scheme()
    if len(overview.currencies) > 1:
        st.sidebar.warning(
            "Orders are in several currencies ("
            + ", ".join(overview.currencies)
            + "); revenue figures add them up as they are."
        )
    return Selection(name, overview, as_of, start, scheme)


def get_customer_base(selection: Selection) -> analysis.CustomerBase:
    """Return the per-customer measures for the selection, computed once per session and key."""
    key = (selection.dataset, dataset_version(selection.dataset), selection.as_of, selection.start)
    if st.session_state.get("base_key") != key:
        with st.spinner("Computing per-customer measures (once per dataset and date)…"):
            previous = st.session_state.pop("base", None)
            if previous is not None:
                previous.backend.disconnect()
            st.session_state["base"] = analysis.load_customer_base(
                workspace(), selection.dataset, as_of=selection.as_of, start=selection.start
            )
            st.session_state["base_key"] = key
            st.session_state.pop("quantile_key", None)
    return st.session_state["base"]


def get_quantile_cuts(base: analysis.CustomerBase, scheme: schemes.Scheme) -> rfm.Cuts:
    """Return the quantile cut points of the base for the scheme, cached in this session."""
    key = (st.session_state.get("base_key"), scheme.key)
    if st.session_state.get("quantile_key") != key:
        st.session_state["quantile_cuts"] = analysis.resolve_cuts(base, scheme, "quantile")
        st.session_state["quantile_key"] = key
    return st.session_state["quantile_cuts"]


def _rising_defaults(values: tuple[float | None, ...], floor: float, step: float) -> list[float]:
    out: list[float] = []
    for value in values:
        candidate = floor if value is None else max(float(value), floor)
        if out and candidate <= out[-1]:
            candidate = out[-1] + step
        out.append(round(candidate / step) * step)
    return out


def cut_sliders(selection: Selection, quantile: rfm.Cuts, limits: dict[str, float]) -> rfm.Cuts:
    """Draw one slider per cut point (R, F, M in three columns) and return the chosen cuts."""
    n = selection.scheme.n_scores
    frequency_defaults = SUGGESTED_FREQUENCY_CUTS[-(n - 1) :] if n < 5 else SUGGESTED_FREQUENCY_CUTS
    specs = [
        ("recency", "R: days since last order", _rising_defaults(quantile.recency, 0, 1), 1.0),
        ("frequency", "F: orders", list(frequency_defaults), 1.0),
        ("monetary", "M: net revenue", _rising_defaults(quantile.monetary, 0, 1), 1.0),
    ]
    units = {"frequency": "orders", "monetary": selection.currency or "net revenue"}
    chosen: dict[str, tuple[float, ...]] = {}
    for column, (measure, title, defaults, step) in zip(st.columns(3), specs, strict=True):
        with column:
            st.markdown(f"**{title}**")
            upper = max(limits[measure], defaults[-1] + step)
            values = []
            for i, default in enumerate(defaults):
                score = n - i if measure == "recency" else i + 2
                label = f"{measure[0].upper()} {score}: " + (
                    "at most (days)" if measure == "recency" else f"at least ({units[measure]})"
                )
                values.append(
                    st.slider(
                        label,
                        min_value=0.0,
                        max_value=float(upper),
                        value=float(default),
                        step=step,
                        format="%.0f",
                        key=f"cut_{selection.dataset}_{n}_{measure}_{i}",
                    )
                )
            chosen[measure] = tuple(values)
    return rfm.validate_cuts(rfm.Cuts(chosen["recency"], chosen["frequency"], chosen["monetary"]))


def summary_column_config(currency: str | None) -> dict[str, object]:
    """Column labels and number formats of the segment table (shares shown as percentages)."""
    money = formatting.table_money_format(currency)
    unit = f" ({currency})" if currency else ""
    return {
        "segment": st.column_config.TextColumn("Segment"),
        "customers": st.column_config.NumberColumn("Customers", format="localized"),
        "share_customers": st.column_config.NumberColumn("% of customers", format="%.1f%%"),
        "revenue": st.column_config.NumberColumn(f"Revenue{unit}", format=money),
        "share_revenue": st.column_config.NumberColumn("% of revenue", format="%.1f%%"),
        "orders": st.column_config.NumberColumn("Orders", format="localized"),
        "aov": st.column_config.NumberColumn(f"AOV{unit}", format=money),
        "revenue_per_customer": st.column_config.NumberColumn(
            f"Value per customer{unit}", format=money
        ),
        "avg_recency_days": st.column_config.NumberColumn("Avg. recency (days)", format="%.0f"),
    }


def present_summary(summary: pd.DataFrame) -> pd.DataFrame:
    """Return the segment table for the screen: shares as percentages (0-100)."""
    return summary.assign(
        share_customers=summary.share_customers * 100, share_revenue=summary.share_revenue * 100
    )


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


def warn_collapsed_bins(base: analysis.CustomerBase, cuts: rfm.Cuts) -> None:
    """Say which scores ties made unreachable, with the one-time buyer share and a remedy."""
    collapsed = rfm.collapsed_scores(cuts)
    if not collapsed:
        return
    lost = "; ".join(
        f"a {measure} score of {' or '.join(map(str, scores))}"
        for measure, scores in collapsed.items()
    )
    one_time = rfm.share_one_time_buyers(base.measures)
    st.warning(
        f"Ties merged some quantile bins: no customer can get {lost}. "
        f"{formatting.format_percent(one_time)} of scored customers bought exactly once. "
        "Switch to custom cut points (for example frequency 2, 3, 5 and 10 orders) to separate "
        "them."
    )


def show_headline(summary: pd.DataFrame, currency: str | None) -> None:
    """Four headline figures: customers, of whom prospects, net revenue and AOV."""
    scored = summary[summary.segment != schemes.PROSPECTS]
    columns = st.columns(4)
    columns[0].metric("Customers", formatting.format_count(summary.customers.sum()))
    columns[1].metric(
        "Prospects (no valid order)",
        formatting.format_count(summary.customers.sum() - scored.customers.sum()),
    )
    columns[2].metric("Net revenue", formatting.format_money(summary.revenue.sum(), currency))
    orders = scored.orders.sum()
    columns[3].metric(
        "Average order value",
        formatting.format_money(scored.revenue.sum() / orders if orders else None, currency),
    )


def explain_computation(
    base: analysis.CustomerBase, scheme: schemes.Scheme, cuts: rfm.Cuts
) -> None:
    """An expander stating the scheme rule, what counts, the window and the cut points."""
    window = base.window
    with st.expander("How these numbers are computed"):
        st.markdown(f"**Scheme.** {scheme.rule}")
        st.markdown(f"**What counts.** {base.rules.describe()}")
        text = f"**Window.** Analysis date {window.as_of:%d %b %Y}; " + (
            f"orders since {window.start:%d %b %Y}." if window.start else "all history."
        )
        if base.customers_outside_window:
            text += (
                f" {base.customers_outside_window:,} customers bought only before the window "
                "and are left out."
            )
        st.markdown(text)
        st.markdown("**Cut points.** Each score and the rule that gives it:")
        st.dataframe(cuts.as_rows(), hide_index=True, width="stretch")


def offer_segment_download(
    selection: Selection, base: analysis.CustomerBase, cuts: rfm.Cuts, summary: pd.DataFrame
) -> None:
    """Pick a segment (or everyone) and download its customers as a formula-safe CSV."""
    st.subheader("Download customers")
    everyone = "All customers (prospects included)"
    choice = st.selectbox("Segment", [everyone, *summary.segment[summary.customers > 0]])
    segment = None if choice == everyone else choice
    members = analysis.segment_members(base, cuts, selection.scheme, segment)
    st.download_button(
        f"Download {len(members):,} customers (CSV)",
        to_csv_bytes(members),
        file_name=f"{selection.dataset}-{(segment or 'all').lower().replace(' ', '-')}.csv",
        mime="text/csv",
        on_click="ignore",
    )


FORMAT_LABELS = {
    "shopify-orders": "Shopify orders export",
    "shopify-customers": "Shopify customers export",
    "shopify-checkouts": "Shopify abandoned checkouts export",
    "woocommerce-orders": "WooCommerce order export",
    "uci-online-retail": "UCI Online Retail invoice lines",
    "generic": "Orders table (map the columns)",
    "order-lines": "Order lines table (map the columns)",
    "customers": "Customers table (map the columns)",
    "sessions": "Sessions table (map the columns)",
    "marketing-spend": "Marketing spend table (map the columns)",
    "surveys": "Survey scores table (map the columns)",
}
HISTORY_COLUMNS = {
    "ingest_id": st.column_config.NumberColumn("#", format="%d"),
    "file_name": st.column_config.TextColumn("File", width="large"),
    "file_format": st.column_config.TextColumn("Format"),
    "table_name": st.column_config.TextColumn("Into table"),
    "rows_read": st.column_config.NumberColumn("Rows read", format="localized"),
    "rows_loaded": st.column_config.NumberColumn("Loaded", format="localized"),
    "rows_rejected": st.column_config.NumberColumn("Rejected", format="localized"),
    "rows_duplicate": st.column_config.NumberColumn("Already loaded", format="localized"),
    "rows_warned": st.column_config.NumberColumn("With a warning", format="localized"),
    "loaded_at": st.column_config.DatetimeColumn("Loaded at", format="YYYY-MM-DD HH:mm"),
}


def show_dataset_overview(overview: analysis.DatasetOverview) -> None:
    """Headline counts of a dataset and what they mean."""
    columns = st.columns(4)
    columns[0].metric("Orders", formatting.format_count(overview.orders))
    columns[1].metric(
        "Customers with orders", formatting.format_count(overview.customers_in_orders)
    )
    columns[2].metric("Customers file rows", formatting.format_count(overview.customers_file_rows))
    columns[3].metric(
        "Orders without a customer", formatting.format_count(overview.orders_without_customer)
    )
    st.caption(
        f"Orders from {overview.first_order_on:%d %b %Y} to {overview.last_order_on:%d %b %Y}"
        f" · currency {', '.join(overview.currencies) or 'not given'} · customers whose only "
        "orders were cancelled or had a total of 0 count as prospects on the Segments page."
    )


def save_upload(uploaded: UploadedFile) -> Path:
    """Write an uploaded file to this session's private temporary folder and return its path."""
    folder = st.session_state.get("upload_dir")
    if folder is None or not Path(folder).exists():
        folder = tempfile.mkdtemp(prefix="segments-upload-")
        st.session_state["upload_dir"] = folder
    # The browser-supplied name is reduced to its base name; the path is ours.
    target = Path(folder) / Path(uploaded.name).name
    target.write_bytes(uploaded.getbuffer())
    return target


def mapping_editor(headers: list[str], file_format: str = "generic") -> dict[str, str]:
    """Let the analyst confirm or change the guessed column mapping of a mapped format's file."""
    guessed = ingest.guess_mapping(headers, file_format)
    st.markdown("**Confirm the columns** (guessed from the header names):")
    mapping: dict[str, str] = {}
    options = ["— not in this file —", *headers]
    columns = st.columns(3)
    for i, (field, spec) in enumerate(ingest.fields_for(file_format).items()):
        guess = guessed.get(field)
        with columns[i % 3]:
            choice = st.selectbox(
                spec.label + (" (required)" if spec.required else ""),
                options,
                index=options.index(guess) if guess in options else 0,
                help=spec.description,
                key=f"map_{file_format}_{field}",
            )
        if choice != options[0]:
            mapping[field] = choice
    return mapping


def show_report(report: IngestReport) -> None:
    """Show an ingest report: counts, rejected rows grouped by reason, issues as a table."""
    if report.rows_rejected or report.rows_warned:
        st.warning(report.summary())
    else:
        st.success(report.summary())
    for note in report.notes:
        st.info(note)
    reasons = report.reason_counts()
    if reasons:
        st.markdown("**Rows not loaded, by reason**")
        st.dataframe(
            pd.DataFrame(reasons.most_common(), columns=["Reason", "Rows"]),
            hide_index=True,
            width="stretch",
        )
    issues = report.issues_frame()
    if not issues.empty:
        with st.expander(
            f"All {len(issues):,} row issues (line numbers count the header as line 1)"
        ):
            st.dataframe(issues, hide_index=True, width="stretch")
        st.download_button(
            "Download the row issues (CSV)",
            to_csv_bytes(issues),
            file_name=f"ingest-report-{Path(report.file_name).stem}.csv",
            mime="text/csv",
        )


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
        return schemes.PRESETS[key]
    return scheme_io.load_custom_scheme(workspace(), key.removeprefix(scheme_io.CUSTOM_PREFIX))


def _cut_context(scheme: schemes.Scheme) -> tuple[object, schemes.Scheme]:
    return (st.session_state.get("base_key"), scheme)


def show_segment_changes(
    base: analysis.CustomerBase, scheme: schemes.Scheme, cuts: rfm.Cuts
) -> None:
    """Remember ``cuts`` and say how many customers changed segment at the last move of the cuts.

    The comparison is kept until the cuts move again; a new dataset, date or scheme starts over.
    """
    context = _cut_context(scheme)
    previous = st.session_state.get("last_cuts")
    if previous is None or previous[0] != context:
        st.session_state.pop("last_change", None)
    elif previous[1] != cuts:
        changes = sensitivity.segment_changes(base, previous[1], cuts, scheme)
        total = float(changes.transitions.revenue.sum())
        share = changes.revenue_changed / total if total else 0.0
        st.session_state["last_change"] = (context, changes.customers_changed, share)
    st.session_state["last_cuts"] = (context, cuts)
    change = st.session_state.get("last_change")
    if change is not None:
        customers, share = formatting.format_count(change[1]), formatting.format_percent(change[2])
        st.info(f"{customers} customers ({share} of revenue) changed segment since the last move.")


def studio_scoring(
    selection: Selection, base: analysis.CustomerBase
) -> tuple[migration.Scoring, rfm.Cuts]:
    """Return the scoring the Segments page last used (quantiles unless sliders moved) and cuts.

    The same scoring is applied at every date of the migration and the backtest.
    """
    quantile = get_quantile_cuts(base, selection.scheme)
    last = st.session_state.get("last_cuts")
    cuts = last[1] if last is not None and last[0] == _cut_context(selection.scheme) else quantile
    custom = cuts != quantile
    window_days = (selection.as_of - selection.start).days + 1 if selection.start else None
    scoring = migration.Scoring(
        selection.scheme,
        "custom" if custom else "quantile",
        cuts if custom else None,
        base.rules,
        window_days,
    )
    return scoring, cuts


def get_migration(
    selection: Selection, scoring: migration.Scoring, date_from: dt.date, date_to: dt.date
) -> migration.Migration:
    """Return the segments at both dates, computed once per session and settings."""
    key = (selection.dataset, dataset_version(selection.dataset), date_from, date_to, scoring)
    slot = st.session_state.get("migration")
    if slot is None or slot[0] != key:
        if slot is not None:
            st.session_state.pop("migration")[1].backend.disconnect()
        with st.spinner("Segmenting customers at both dates…"):
            result = migration.compare_dates(
                workspace(), selection.dataset, date_from, date_to, scoring
            )
        st.session_state["migration"] = (key, result)
    return st.session_state["migration"][1]


def get_backtest(
    selection: Selection, scoring: migration.Scoring, as_of: dt.date, horizon_days: int
) -> backtest.Backtest:
    """Return the backtest for these settings, computed once per session and settings."""
    key = (selection.dataset, dataset_version(selection.dataset), as_of, horizon_days, scoring)
    slot = st.session_state.get("backtest")
    if slot is None or slot[0] != key:
        with st.spinner("Segmenting customers at the past date…"):
            result = backtest.run_backtest(
                workspace(), selection.dataset, as_of, horizon_days, scoring
            )
        st.session_state["backtest"] = (key, result)
    return st.session_state["backtest"][1]


def get_clusters(
    base: analysis.CustomerBase, cuts: rfm.Cuts, scheme: schemes.Scheme, compute: bool
) -> Clustering | None:
    """Return the clusters for the base, cuts and scheme if computed (now when ``compute``)."""
    # scikit-learn takes seconds to import; only sessions that cluster pay for it.
    from dashboard import clustering

    key = (st.session_state.get("base_key"), cuts, scheme)
    slot = st.session_state.get("clusters")
    if compute and (slot is None or slot[0] != key):
        with st.spinner("Fitting k-means for k = 2 to 8…"):
            try:
                st.session_state["clusters"] = (
                    key,
                    clustering.cluster_customers(base, cuts, scheme),
                )
            except clustering.ClusteringError as exc:
                st.warning(str(exc))
                return None
        slot = st.session_state["clusters"]
    return slot[1] if slot is not None and slot[0] == key else None


def explain_customer(
    base: analysis.CustomerBase, cuts: rfm.Cuts, scheme: schemes.Scheme, key: str
) -> dict[str, object] | None:
    """Return the explanation of the customer with id or email ``key`` (None when unknown)."""
    return explain.explain_customer(base, cuts, scheme, key, workspace())


def read_scheme_upload(uploaded: UploadedFile | None) -> schemes.Scheme | None:
    """Return the scheme of an uploaded JSON file, or show why it cannot be used and return None."""
    if uploaded is None:
        return None
    try:
        return scheme_io.scheme_from_json(uploaded.getvalue().decode("utf-8"))
    except UnicodeDecodeError:
        st.error("The scheme file is not UTF-8 text.")
    except schemes.SchemeError as exc:
        st.error(str(exc))
    return None


def read_scheme_edits(
    edited: pd.DataFrame, shown: pd.DataFrame, scheme: schemes.Scheme
) -> schemes.Scheme | None:
    """Return the edited scheme if the table was changed and is valid; else show why, or None."""
    if edited.equals(shown):
        return None
    try:
        return scheme_io.scheme_from_table(edited, scheme, f"{scheme.name} (edited)")
    except schemes.SchemeError as exc:
        st.error(str(exc))
    return None


def save_scheme(scheme: schemes.Scheme, name: str) -> None:
    """Save ``scheme`` as custom scheme ``name`` and rerun so that the sidebar lists it."""
    scheme_io.save_custom_scheme(workspace(), scheme, name)
    # A scheme saved under an old name may have another scale: drop its cached quantile cuts.
    st.session_state.pop("quantile_key", None)
    st.session_state["saved_scheme"] = name
    st.rerun()


def backtest_column_config(currency: str | None) -> dict[str, object]:
    """Column labels and number formats of the backtest table."""
    money = formatting.table_money_format(currency)
    unit = f" ({currency})" if currency else ""
    return {
        "segment": st.column_config.TextColumn("Segment at the date"),
        "customers": st.column_config.NumberColumn("Customers", format="localized"),
        "repeat_customers": st.column_config.NumberColumn("Ordered again", format="localized"),
        "repeat_rate": st.column_config.NumberColumn("Repeat rate", format="percent"),
        "orders": st.column_config.NumberColumn("Orders in the period", format="localized"),
        "revenue": st.column_config.NumberColumn(f"Revenue in the period{unit}", format=money),
        "revenue_per_customer": st.column_config.NumberColumn(
            f"Revenue per customer{unit}", format=money
        ),
    }


def centre_column_config(currency: str | None) -> dict[str, object]:
    """Column labels and number formats of the cluster centres table."""
    money = formatting.table_money_format(currency)
    unit = f" ({currency})" if currency else ""
    return {
        "cluster": st.column_config.TextColumn("Cluster"),
        "customers": st.column_config.NumberColumn("Customers", format="localized"),
        "share_customers": st.column_config.NumberColumn("% of customers", format="percent"),
        "recency_days": st.column_config.NumberColumn(
            "Centre: days since last order", format="%.0f"
        ),
        "frequency": st.column_config.NumberColumn("Centre: orders", format="%.1f"),
        "monetary": st.column_config.NumberColumn(f"Centre: net revenue{unit}", format=money),
        "revenue": st.column_config.NumberColumn(f"Revenue{unit}", format=money),
        "share_revenue": st.column_config.NumberColumn("% of revenue", format="percent"),
    }


def show_explanation(found: dict[str, object], cuts: rfm.Cuts, currency: str | None) -> None:
    """Draw one explained customer: segment, the rule step by step, measures and cut points."""
    st.subheader(f"{found['customer_id']}: {found['segment'] or 'not scored'}")
    if len(found["matches"]) > 1:
        st.caption("Also matching: " + ", ".join(found["matches"][1:]))
    st.markdown("\n".join(f"- {line}" for line in found["reasons"]))
    measures = found["measures"]
    columns = st.columns(3)
    columns[0].metric("Days since last order", formatting.format_count(measures["recency_days"]))
    columns[1].metric("Valid orders", formatting.format_count(measures["frequency"]))
    columns[2].metric("Net revenue", formatting.format_money(measures["monetary"], currency))
    st.dataframe(cuts.as_rows(), hide_index=True, width="stretch")


def show_move_counts(counts: dict[str, float], currency: str | None) -> None:
    """Draw how many customers changed segment between the dates and their revenue."""
    columns = st.columns(2)
    columns[0].metric(
        "Customers who changed segment",
        f"{counts['customers_moved']:,} of {counts['customers']:,}",
    )
    columns[1].metric(
        "Their revenue at the second date",
        formatting.format_money(counts["revenue_moved"], currency),
        f"{counts['revenue_moved'] / counts['revenue']:.1%} of revenue"
        if counts["revenue"]
        else None,
        delta_color="off",
    )


def offer_to_save(candidate: schemes.Scheme) -> None:
    """Confirm that a checked scheme is a partition and offer to save it under a name."""
    st.success(
        f"'{candidate.name}' puts every cell in exactly one of {len(candidate.segments)} segments."
    )
    name = st.text_input("Save as (letters, digits, - and _)", key="scheme_name")
    if st.button("Save as custom scheme", disabled=not name):
        save_scheme(candidate, name)
    saved = st.session_state.pop("saved_scheme", None)
    if saved is not None:
        st.success(f"Saved '{saved}': pick '{saved} (custom)' under Segment scheme in the sidebar.")


def show_backtest_notes(result: backtest.Backtest) -> None:
    """Warn when the data ends inside the follow-up period; say how far segments differ."""
    if not result.complete:
        st.warning(
            f"The data ends on {result.data_end}, before the follow-up period does "
            f"({result.horizon_end}): the figures cover only part of it."
        )
    st.caption(backtest.describe_separation(result.table))


# ---------------------------------------------------------------- channels, cohorts, maturity

_T = TypeVar("_T")


def _keep(slot: str, key: object, compute: Callable[[], _T]) -> _T:
    """Return the value held in ``slot`` for ``key``, computing and holding it when it differs."""
    held = st.session_state.get(slot)
    if held is None or held[0] != key:
        held = (key, compute())
        st.session_state[slot] = held
    return held[1]


def _data_key(selection: Selection) -> tuple[object, ...]:
    return (selection.dataset, dataset_version(selection.dataset), selection.as_of)


def acquisition_settings(**changes: object) -> acquisition.Settings:
    """Return the channel rules and spend mapping last applied in this session, with ``changes``."""
    held = acquisition.Settings(
        rules=st.session_state.get("channel_rules", channels.DEFAULT_RULES),
        spend_mapping=st.session_state.get("spend_mapping", spend.DEFAULT_MAPPING),
    )
    return replace(held, **changes)


def _edit_table(
    slot: str,
    title: str,
    defaults: pd.DataFrame,
    validate: Callable[[pd.DataFrame], pd.DataFrame],
    column_config: dict[str, object],
    note: str,
) -> None:
    """An expander holding an editable table; "Apply" keeps the checked rows in ``slot``."""
    version = st.session_state.get(f"{slot}_version", 0)
    held = st.session_state.get(slot)
    shown = defaults if held is None else pd.DataFrame(list(held), columns=defaults.columns)
    with st.expander(title), st.form(f"{slot}_form", border=False):
        st.caption(note)
        edited = st.data_editor(
            shown,
            num_rows="dynamic",
            hide_index=True,
            width="stretch",
            column_config=column_config,
            key=f"{slot}_editor_{version}",
        )
        apply, reset = st.columns(2)
        applied = apply.form_submit_button("Apply")
        restored = reset.form_submit_button("Back to the defaults")
    if restored:
        st.session_state.pop(slot, None)
    elif applied:
        try:
            st.session_state[slot] = acquisition.rows_of(validate(edited))
        except ValueError as exc:
            st.error(str(exc))
            return
    if applied or restored:
        st.session_state[f"{slot}_version"] = version + 1


def edit_channel_rules() -> None:
    """Let the analyst edit the channel rules (applied to every page of this session)."""
    _edit_table(
        "channel_rules",
        "Channel rules (editable)",
        channels.default_rules(),
        channels.validate_rules,
        {
            "priority": st.column_config.NumberColumn("Priority", step=1, required=True),
            "field": st.column_config.SelectboxColumn(
                "Evidence", options=list(channels.RULE_FIELDS), required=True
            ),
            "match": st.column_config.SelectboxColumn(
                "Match", options=list(channels.MATCH_KINDS), required=True
            ),
            "pattern": st.column_config.TextColumn("Value (lower case)"),
            "channel": st.column_config.TextColumn("Channel", required=True),
        },
        "The first rule that matches a customer's first order decides the channel (lowest "
        "priority first). 'prefix' matches values that start with the pattern; an empty prefix "
        "matches any value. Nothing matched: Unattributed.",
    )


def edit_spend_mapping() -> None:
    """Let the analyst map the spend table's channel names to channel groups."""
    _edit_table(
        "spend_mapping",
        "Spend names -> channels (editable)",
        spend.default_mapping(),
        spend.validate_mapping,
        {
            "spend_channel": st.column_config.TextColumn("Name in the spend table", required=True),
            "channel": st.column_config.TextColumn("Channel", required=True),
        },
        "Names are matched whatever their case. TikTok Ads counts as Organic Social by default: "
        "TikTok Shop and influencer orders carry no paid UTM tags, so that is where the customers "
        "it wins are attributed.",
    )


def choose_first_order_period(selection: Selection) -> tuple[dt.date, dt.date]:
    """A slider of whole months of first orders; returns (first day, last day) of the choice."""
    first = selection.overview.first_order_on or selection.as_of
    months = pd.date_range(first.replace(day=1), selection.as_of.replace(day=1), freq="MS")
    labels = [f"{m:%b %Y}" for m in months]
    if len(labels) == 1:
        start = end = labels[0]
    else:
        start, end = st.select_slider(
            "First order between",
            options=labels,
            value=(labels[0], labels[-1]),
            key=f"first_order_period_{selection.dataset}",
            help="Only customers whose first order falls in these months are counted.",
        )
    begin = months[labels.index(start)].date()
    finish = (months[labels.index(end)] + pd.offsets.MonthEnd(0)).date()
    return begin, min(finish, selection.as_of)


def dataset_has_spend(selection: Selection) -> bool:
    """Return whether the chosen dataset holds marketing spend rows (kept in the session)."""
    return _keep(
        "has_spend",
        _data_key(selection),
        lambda: acquisition.has_spend(workspace(), selection.dataset),
    )


def get_attribution(selection: Selection, settings: acquisition.Settings) -> pd.DataFrame:
    """Return each customer's channel for the selection and rules, computed once per key."""
    return _keep(
        "attribution",
        (*_data_key(selection), settings.rules),
        lambda: acquisition.load_attribution(
            workspace(), selection.dataset, selection.as_of, settings.rules_frame()
        ),
    )


def get_cohort_cells(selection: Selection, settings: acquisition.Settings) -> pd.DataFrame:
    """Return the cohort cells per channel for the selection and rules, computed once per key."""
    attribution = get_attribution(selection, settings)
    return _keep(
        "cohort_cells",
        (*_data_key(selection), settings.rules),
        lambda: acquisition.load_cohort_cells(
            workspace(), selection.dataset, selection.as_of, attribution
        ),
    )


def get_channel_report(
    selection: Selection, settings: acquisition.Settings
) -> acquisition.ChannelReport:
    """Return the channel table and spend figures for the settings, computed once per key."""
    attribution = get_attribution(selection, settings)
    cells = get_cohort_cells(selection, settings)
    return _keep(
        "channel_report",
        (*_data_key(selection), settings),
        lambda: acquisition.load_channel_report(
            workspace(), selection.dataset, selection.as_of, settings, attribution, cells
        ),
    )


def get_maturity(
    selection: Selection, settings: acquisition.Settings
) -> acquisition.MaturityReport:
    """Return stages, effort and CLV : CAC health (all history), computed once per key."""
    economics = None
    if dataset_has_spend(selection):
        whole_history = replace(
            settings, first_from=None, first_to=None, thresholds=maturity.DEFAULT_THRESHOLDS
        )
        economics = get_channel_report(selection, whole_history).economics
    return _keep(
        "maturity",
        (*_data_key(selection), settings, economics is None),
        lambda: acquisition.load_maturity(
            workspace(), selection.dataset, selection.as_of, settings, economics
        ),
    )


def get_channel_segments(selection: Selection, attribution: pd.DataFrame) -> pd.DataFrame:
    """Return customers per channel and RFM segment (the Segments page's scoring and scheme)."""
    base = get_customer_base(selection)
    _, cuts = studio_scoring(selection, base)
    members = analysis.segment_members(base, cuts, selection.scheme)
    return channels.count_channel_segments(attribution, members, list(selection.scheme.segments))


def edit_stage_thresholds() -> maturity.StageThresholds:
    """Number inputs for the stage signals (defaults: segments.md §5); returns the thresholds."""
    d = maturity.DEFAULT_THRESHOLDS
    with st.expander("Stage thresholds (editable)"):
        cols = st.columns(4)
        per_week = cols[0].number_input(
            "Gaining traction: sales a week", 0.0, value=d.gaining_sales_per_week, step=1.0
        )
        consistent_months = cols[1].number_input(
            "Consistent: months open", 0, value=d.consistent_months
        )
        consistent_day = cols[1].number_input(
            "Consistent: sales a day", 0.0, value=d.consistent_sales_per_day, step=1.0
        )
        established_months = cols[2].number_input(
            "Established: months open", 0, value=d.established_months
        )
        established_day = cols[2].number_input(
            "Established: sales a day", 0.0, value=d.established_sales_per_day, step=1.0
        )
        well_months = cols[3].number_input(
            "Well established: months open", 0, value=d.well_established_months
        )
        well_day = cols[3].number_input(
            "Well established: sales a day", 0.0, value=d.well_established_sales_per_day, step=1.0
        )
    return maturity.StageThresholds(
        gaining_sales_per_week=float(per_week),
        consistent_months=int(consistent_months),
        consistent_sales_per_day=float(consistent_day),
        established_months=int(established_months),
        established_sales_per_day=float(established_day),
        well_established_months=int(well_months),
        well_established_sales_per_day=float(well_day),
    )


def show_clv_cac_health(level: str, text: str) -> None:
    """Show a CLV : CAC verdict in the colour of its level."""
    if level == "healthy":
        st.success(text)
    elif level in ("warning", "critical"):
        st.error(text)
    elif level == "low":
        st.warning(text)
    else:
        st.info(text)


def channel_column_config(currency: str | None) -> dict[str, object]:
    """Column labels and number formats of the per-channel table."""
    money = formatting.table_money_format(currency)
    unit = f" ({currency})" if currency else ""
    config: dict[str, object] = {
        "channel": st.column_config.TextColumn("Channel"),
        "new_customers": st.column_config.NumberColumn("New customers", format="localized"),
        "share_new_customers": st.column_config.NumberColumn(
            "% of new customers", format="percent"
        ),
        "revenue": st.column_config.NumberColumn(f"Revenue{unit}", format=money),
        "share_revenue": st.column_config.NumberColumn("% of revenue", format="percent"),
        "orders": st.column_config.NumberColumn("Orders", format="localized"),
        "aov": st.column_config.NumberColumn(f"AOV{unit}", format=money),
        "repeat_rate": st.column_config.NumberColumn("Repeat rate", format="percent"),
        "orders_per_customer": st.column_config.NumberColumn("Orders per customer", format="%.2f"),
        "revenue_per_customer": st.column_config.NumberColumn(
            f"Revenue per customer{unit}", format=money
        ),
        "orders_per_customer_365d": st.column_config.NumberColumn(
            "Orders in first 365 days", format="%.2f"
        ),
    }
    for days in channels.HORIZONS_DAYS:
        config[f"customers_{days}d"] = st.column_config.NumberColumn(
            f"Customers seen {days}+ days", format="localized"
        )
        config[f"revenue_per_customer_{days}d"] = st.column_config.NumberColumn(
            f"{days}-day revenue per customer{unit}",
            format=money,
            help=f"Only customers whose first order is at least {days} days before the analysis "
            "date count here.",
        )
    return config


def economics_column_config(currency: str | None) -> dict[str, object]:
    """Column labels and number formats of the CAC and CLV : CAC table."""
    money = formatting.table_money_format(currency)
    unit = f" ({currency})" if currency else ""
    return {
        "channel": st.column_config.TextColumn("Channel"),
        "acquisition_spend": st.column_config.NumberColumn(
            f"Acquisition spend{unit}", format=money
        ),
        "new_customers": st.column_config.NumberColumn("New customers", format="localized"),
        "cac": st.column_config.NumberColumn(f"CAC{unit}", format=money),
        "aov": st.column_config.NumberColumn(f"AOV{unit}", format=money),
        "orders_per_year": st.column_config.NumberColumn("Orders per year", format="%.2f"),
        "expected_years": st.column_config.NumberColumn("Expected years", format="%.1f"),
        "simple_clv": st.column_config.NumberColumn(f"Simple CLV{unit}", format=money),
        "observed_ltv_365d": st.column_config.NumberColumn(
            f"Observed 365-day revenue{unit}", format=money
        ),
        "clv_to_cac": st.column_config.NumberColumn("CLV : CAC", format="%.1f : 1"),
        "payback_months": st.column_config.NumberColumn(
            "Months to pay back CAC",
            format="%d",
            help="0 = the first month's orders already cover CAC; empty = not reached yet.",
        ),
        "health": st.column_config.TextColumn("Health"),
    }


def effort_column_config(currency: str | None) -> dict[str, object]:
    """Column labels and number formats of the stage and effort table."""
    money = formatting.table_money_format(currency)
    unit = f" ({currency})" if currency else ""
    return {
        "month": st.column_config.DateColumn("Month", format="MMM YYYY"),
        "stage": st.column_config.TextColumn("Stage"),
        "recommended_retention_share": st.column_config.NumberColumn(
            "Recommended retention share", format="percent"
        ),
        "orders": st.column_config.NumberColumn("Orders (known customers)", format="localized"),
        "returning_orders": st.column_config.NumberColumn(
            "Orders by returning customers", format="localized"
        ),
        "returning_share_orders": st.column_config.NumberColumn(
            "Returning share of orders", format="percent"
        ),
        "revenue": st.column_config.NumberColumn(f"Revenue{unit}", format=money),
        "returning_revenue": st.column_config.NumberColumn(
            f"Revenue from returning customers{unit}", format=money
        ),
        "returning_share_revenue": st.column_config.NumberColumn(
            "Returning share of revenue", format="percent"
        ),
        "retention_spend_share": st.column_config.NumberColumn(
            "Share of spend on retention", format="percent"
        ),
    }


def stage_column_config() -> dict[str, object]:
    """Column labels and number formats of the stage timeline table."""
    return {
        "month": st.column_config.DateColumn("Month", format="MMM YYYY"),
        "evaluated_on": st.column_config.DateColumn("Read on"),
        "months_open": st.column_config.NumberColumn("Whole months open", format="%d"),
        "orders_trailing": st.column_config.NumberColumn(
            "Sales in the last 28 days", format="localized"
        ),
        "sales_per_day": st.column_config.NumberColumn("Sales a day", format="%.1f"),
        "sales_per_week": st.column_config.NumberColumn("Sales a week", format="%.1f"),
        "stage": st.column_config.TextColumn("Stage"),
        "recommended_retention_share": st.column_config.NumberColumn(
            "Recommended retention share", format="percent"
        ),
    }
